// Demo prescriptions for the demo personas, imported at demo start through the same pipeline as any M1:
// the Addison patient's hydrocortisone and fludrocortisone and the MS patient's natalizumab (exportable), and
// the knee patient's OxyContin (reseptgruppe A) and Stesolid (B), which must never reach the NCP. Two more
// show the prescription chain's word (src/demo/prescription-chain.ts): the MS patient's sumatriptan, 11 of
// its 12 dispensings made in Norway, and the knee patient's amlodipine, recalled in Norway. The M1s
// are written with dates around the day of seeding, so the demo stays dispensable; the products are the
// demo FEST extract's (src/registries/fest/demo-fest-m30.xml), which is loaded first.
import type { Config } from '../config.ts';
import { PERSONAS, type Persona } from '../demo/personas.ts';
import { DEMO_RESEPT_IDS } from '../demo/prescription-chain.ts';
import type { SeedStep } from '../demo/seed.ts';
import { escapeXml } from '../fhir/xhtml.ts';
import { loadDemoFest } from '../registries/fest/ingest.ts';
import type { Db } from '../store/db.ts';
import { importM1, storePipelineDeps } from './service.ts';
import { findImportByPrescriptionId } from './store.ts';

interface Prescriber {
  hpr: string;
  given: string;
  family: string;
  org: { name: string; orgnr: string; her: string; street: string; postalCode: string; city: string; phone: string };
  /** A hospital department the prescriber works in (MsgHead Sender/Organisation/Organisation). */
  department?: { name: string; her: string };
}

interface Drug {
  atc: [string, string];
  name: string;
  group: string;
  form: [string, string];
  varenr: string;
  packageName: string;
  size: string;
  unit: [string, string];
}

export interface DemoPrescription {
  /** Stable MsgId, so a restart finds the import. */
  msgId: string;
  persona: Persona;
  prescriber: Prescriber;
  drug: Drug;
  antall: number;
  reiterasjon: number;
  dosage: string;
  use: string;
  /** Structured doses: [amount, unit, time of day code (8325)] per day. */
  doses: [number, string, string][];
  /** Whether the M1 may leave Norway (the prescription chain may still refuse it now). */
  exportable: boolean;
  /** Days before seeding it was issued (default 14). */
  issuedDaysAgo?: number;
}

const BAKKEN: Prescriber = {
  hpr: '565501872',
  given: 'Lars Petter',
  family: 'Bakken',
  org: { name: 'Bakklandet legesenter', orgnr: '974795787', her: '8143541', street: 'Øvre Bakklandet 58', postalCode: '7013', city: 'Trondheim', phone: '73505050' },
};
const AASEN: Prescriber = {
  hpr: '565502011',
  given: 'Hilde',
  family: 'Aasen',
  org: { name: 'Haukeland universitetssjukehus', orgnr: '974557746', her: '8143890', street: 'Jonas Lies vei 65', postalCode: '5021', city: 'Bergen', phone: '55975000' },
  department: { name: 'Nevrologisk avdeling', her: '8143891' },
};
const MO: Prescriber = {
  hpr: '565502135',
  given: 'Kristian',
  family: 'Mo',
  org: { name: 'Lund legesenter', orgnr: '976722868', her: '8143677', street: 'Lundsvei 2', postalCode: '4631', city: 'Kristiansand', phone: '38001122' },
};

const TAB: [string, string] = ['53', 'Tablett'];
const STK: [string, string] = ['stk', 'stykk'];

export const DEMO_PRESCRIPTIONS: readonly DemoPrescription[] = [
  {
    msgId: '6f1d2a80-3c4b-4e5f-9a01-addison00hc01',
    persona: PERSONAS.addison,
    prescriber: BAKKEN,
    drug: { atc: ['H02AB09', 'Hydrokortison'], name: 'Hydrokortison Orifarm Tab 10 mg', group: 'C', form: TAB, varenr: '138545', packageName: 'Hydrokortison Orifarm', size: '100', unit: STK },
    antall: 1,
    reiterasjon: 3,
    dosage: '1 tablett morgen og ½ tablett ettermiddag. Dobbel dose ved feber.',
    use: 'MOT BINYREBARKSVIKT',
    doses: [[1, 'tablett', '1'], [0.5, 'tablett', '4']],
    exportable: true,
  },
  {
    msgId: '6f1d2a80-3c4b-4e5f-9a01-addison00fc02',
    persona: PERSONAS.addison,
    prescriber: BAKKEN,
    drug: { atc: ['H02AA02', 'Fludrokortison'], name: 'Florinef Tab 0,1 mg', group: 'C', form: TAB, varenr: '395561', packageName: 'Florinef', size: '100', unit: STK },
    antall: 1,
    reiterasjon: 2,
    dosage: '1 tablett om morgenen',
    use: 'MOT BINYREBARKSVIKT',
    doses: [[1, 'tablett', '1']],
    exportable: true,
  },
  {
    msgId: '6f1d2a80-3c4b-4e5f-9a01-ms000000nt03',
    persona: PERSONAS.ms,
    prescriber: AASEN,
    drug: {
      atc: ['L04AG03', 'Natalizumab'],
      name: 'Tysabri Kons til inf 300 mg',
      group: 'C',
      form: ['460', 'Konsentrat til infusjonsvæske, oppløsning'],
      varenr: '054362',
      packageName: 'Tysabri',
      size: '1',
      unit: ['stk', 'stykk'],
    },
    antall: 1,
    reiterasjon: 5,
    dosage: '300 mg som intravenøs infusjon hver 4. uke, gis på sykehus',
    use: 'MOT MULTIPPEL SKLEROSE',
    doses: [],
    exportable: true,
  },
  {
    msgId: '6f1d2a80-3c4b-4e5f-9a01-knee0000ox04',
    persona: PERSONAS.knee,
    prescriber: MO,
    drug: { atc: ['N02AA05', 'Oksykodon'], name: 'OxyContin Depottab 10 mg', group: 'A', form: ['25', 'Depottablett'], varenr: '068921', packageName: 'OxyContin', size: '28', unit: STK },
    antall: 1,
    reiterasjon: 0,
    dosage: '1 tablett morgen og kveld ved sterke smerter etter kneoperasjonen',
    use: 'MOT SMERTER',
    doses: [[1, 'tablett', '1'], [1, 'tablett', '5']],
    exportable: false,
  },
  {
    msgId: '6f1d2a80-3c4b-4e5f-9a01-knee0000st05',
    persona: PERSONAS.knee,
    prescriber: MO,
    drug: { atc: ['N05BA01', 'Diazepam'], name: 'Stesolid Tab 5 mg', group: 'B', form: TAB, varenr: '012690', packageName: 'Stesolid', size: '25', unit: STK },
    antall: 1,
    reiterasjon: 0,
    dosage: '1 tablett ved behov, høyst 2 tabletter per døgn',
    use: 'MOT ANGST',
    doses: [],
    exportable: false,
  },
  {
    // 11 of its 12 dispensings made in Norway (the prescription chain's stand-in says so): 1 of 12 abroad.
    msgId: DEMO_RESEPT_IDS.msSumatriptan,
    persona: PERSONAS.ms,
    prescriber: AASEN,
    drug: { atc: ['N02CC01', 'Sumatriptan'], name: 'Sumatriptan Teva Tab 50 mg', group: 'C', form: TAB, varenr: '096143', packageName: 'Sumatriptan Teva', size: '18', unit: STK },
    antall: 1,
    reiterasjon: 11,
    dosage: '1 tablett ved migreneanfall, kan gjentas etter 2 timer, høyst 6 tabletter per døgn',
    use: 'MOT MIGRENE',
    doses: [],
    exportable: true,
    issuedDaysAgo: 300,
  },
  {
    // Recalled in Norway after two dispensings (the stand-in's status T): never available abroad.
    msgId: DEMO_RESEPT_IDS.kneeAmlodipin,
    persona: PERSONAS.knee,
    prescriber: MO,
    drug: { atc: ['C08CA01', 'Amlodipin'], name: 'Amlodipin Sandoz Tab 5 mg', group: 'C', form: TAB, varenr: '054887', packageName: 'Amlodipin Sandoz', size: '100', unit: STK },
    antall: 1,
    reiterasjon: 3,
    dosage: '1 tablett om morgenen',
    use: 'MOT HØYT BLODTRYKK',
    doses: [[1, 'tablett', '1']],
    exportable: true,
    issuedDaysAgo: 120,
  },
];

const day = (d: Date, plusDays: number): string => new Date(d.getTime() + plusDays * 86_400_000).toISOString().slice(0, 10);
const x = escapeXml;

function sender(p: Prescriber): string {
  const hp = `<HealthcareProfessional>
          <TypeHealthcareProfessional V="LE" DN="Lege"/>
          <FamilyName>${x(p.family)}</FamilyName>
          <GivenName>${x(p.given)}</GivenName>
          <Ident><Id>${p.hpr}</Id><TypeId V="HPR" S="2.16.578.1.12.4.1.1.8116" DN="HPR-nummer"/></Ident>
        </HealthcareProfessional>`;
  const inner = p.department
    ? `<Organisation>
          <OrganisationName>${x(p.department.name)}</OrganisationName>
          <Ident><Id>${p.department.her}</Id><TypeId V="HER" S="2.16.578.1.12.4.1.1.9051" DN="HER-id"/></Ident>
          ${hp}
        </Organisation>`
    : hp;
  return `<Sender>
      <Organisation>
        <OrganisationName>${x(p.org.name)}</OrganisationName>
        <Ident><Id>${p.org.orgnr}</Id><TypeId V="ENH" S="2.16.578.1.12.4.1.1.9051" DN="Organisasjonsnummeret i Enhetsregister"/></Ident>
        <Ident><Id>${p.org.her}</Id><TypeId V="HER" S="2.16.578.1.12.4.1.1.9051" DN="HER-id"/></Ident>
        <Address><Type V="RES" DN="Besøksadresse"/><StreetAdr>${x(p.org.street)}</StreetAdr><PostalCode>${p.org.postalCode}</PostalCode><City>${x(p.org.city)}</City></Address>
        <TeleCom><TypeTelecom V="HP" DN="Hovedtelefon"/><TeleAddress V="tel:${p.org.phone}"/></TeleCom>
        ${inner}
      </Organisation>
    </Sender>`;
}

/** The M1 of a demo prescription, issued `issuedDaysAgo` before `today`. */
export function demoM1(p: DemoPrescription, today: Date, issuedDaysAgo = 14): string {
  const issued = day(today, -issuedDaysAgo);
  const expires = day(today, 365 - issuedDaysAgo);
  const given = p.persona.given.join(' ');
  const doses = p.doses
    .map(
      ([amount, unit, tid]) => `<DoseFastTidspunkt><Mengde V="${amount}" U="${unit}"/><Intervall V="1" U="Døgn"/><Tidsomrade V="${tid}"/><GisEksakt>false</GisEksakt></DoseFastTidspunkt>`,
    )
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>
<MsgHead xmlns="http://www.kith.no/xmlstds/msghead/2006-05-24">
  <MsgInfo>
    <Type V="ERM1" DN="Resept"/>
    <MIGversion>v1.2 2006-05-24</MIGversion>
    <GenDate>${issued}T09:00:00+01:00</GenDate>
    <MsgId>${p.msgId}</MsgId>
    ${sender(p.prescriber)}
    <Receiver>
      <Organisation>
        <OrganisationName>Reseptformidleren</OrganisationName>
        <Ident><Id>915933149</Id><TypeId V="ENH" S="2.16.578.1.12.4.1.1.9051" DN="Organisasjonsnummeret i Enhetsregister"/></Ident>
        <Ident><Id>80624</Id><TypeId V="HER" S="2.16.578.1.12.4.1.1.9051" DN="HER-id"/></Ident>
      </Organisation>
    </Receiver>
    <Patient>
      <FamilyName>${x(p.persona.family)}</FamilyName>
      <GivenName>${x(given)}</GivenName>
      <Ident><Id>${p.persona.fnr}</Id><TypeId V="FNR" S="2.16.578.1.12.4.1.1.8116" DN="Fødselsnummer"/></Ident>
      <Address><Type V="H" DN="Bostedsadresse"/><PostalCode>${p.persona.postalCode}</PostalCode><City>${x(p.persona.city)}</City></Address>
    </Patient>
  </MsgInfo>
  <Document>
    <RefDoc>
      <MsgType V="XML" DN="XML-instans"/>
      <Content>
        <Resept xmlns="http://www.kith.no/xmlstds/eresept/m1/2013-10-08">
          <Forskrivningsdato>${issued}</Forskrivningsdato>
          <Utloper>${expires}</Utloper>
          <ReseptDokLegemiddel>
            <Varegruppekode V="L" DN="Legemiddel"/>
            <Antall>${p.antall}</Antall>
            <Reiterasjon>${p.reiterasjon}</Reiterasjon>
            <Forskrivning xmlns="http://www.kith.no/xmlstds/eresept/forskrivning/2013-10-08">
              <Bruksomrade>${x(p.use)}</Bruksomrade>
              <DosVeiledEnkel>${x(p.dosage)}</DosVeiledEnkel>
              ${doses ? `<Dosering><Starttidspunkt V="${issued}"/>${doses}</Dosering>` : ''}
              <Legemiddelpakning>
                <Atc V="${p.drug.atc[0]}" S="2.16.578.1.12.4.1.1.7180" DN="${x(p.drug.atc[1])}"/>
                <NavnFormStyrke>${x(p.drug.name)}</NavnFormStyrke>
                <Reseptgruppe V="${p.drug.group}" DN="Reseptgruppe ${p.drug.group}"/>
                <LegemiddelformKort V="${p.drug.form[0]}" S="2.16.578.1.12.4.1.1.7448" DN="${x(p.drug.form[1])}"/>
                <Varenr>${p.drug.varenr}</Varenr>
                <PakningsinfoResept>
                  <Varenavn>${x(p.drug.packageName)}</Varenavn>
                  <Pakningsstr>${p.drug.size}</Pakningsstr>
                  <EnhetPakning V="${p.drug.unit[0]}" S="2.16.578.1.12.4.1.1.7452" DN="${x(p.drug.unit[1])}"/>
                </PakningsinfoResept>
              </Legemiddelpakning>
            </Forskrivning>
          </ReseptDokLegemiddel>
          <OppdatertFest>${issued}T06:00:00</OppdatertFest>
        </Resept>
      </Content>
    </RefDoc>
  </Document>
</MsgHead>
`;
}

/**
 * Loads the demo FEST extract (a no-op when loaded before) and imports the demo prescriptions that are not
 * stored yet. Fast on restart: one lookup per prescription.
 */
export async function seedDemoPrescriptions(db: Db, config: Pick<Config, 'mode' | 'helsebroOid' | 'operator'>, today = new Date()): Promise<void> {
  await loadDemoFest(db);
  const deps = storePipelineDeps(db, config);
  for (const p of DEMO_PRESCRIPTIONS) {
    if (await findImportByPrescriptionId(db, p.msgId)) continue;
    const outcome = await importM1(db, demoM1(p, today, p.issuedDaysAgo), deps, { now: today });
    if (outcome.kind === 'problem') throw new Error(`demo prescription ${p.msgId} did not import: ${outcome.problem.issues.map((i) => i.diagnostics).join('; ')}`);
  }
}

export const demoPrescriptionSeedStep = (config: Pick<Config, 'mode' | 'helsebroOid' | 'operator'>): SeedStep => ({
  name: 'eprescriptions',
  run: (db) => seedDemoPrescriptions(db, config),
});
