// EU prescriptions for products the demo FEST knows, and the Norwegian pharmacy's M10 for them, to test the
// Norwegian dispensing rules (product, substitution, reseptgruppe, quantity, validity). Ported from the
// audit's generators (audit2-view-eu, gen/ep.py and gen/m10.py; synthetic): the eP is the official OpenNCP
// Lantus sample with its product replaced, the M10 validates against the eResept 2.5 XSD.
import { randomUUID } from 'node:crypto';
import { fixture } from './fixtures.ts';

export interface EuProductOptions {
  itemId?: string;
  /** Packages prescribed (supply RQO quantity, unit "1"); a string with a unit ("300 mL") prescribes an amount. */
  packages?: number | { value: number; unit: string };
  /** SUBST observation value; 'none' leaves the observation out (substitution allowed). */
  subst?: 'N' | 'G' | 'none';
  name?: string;
  atc?: string;
  /** pharm:desc and the one active ingredient's strength (mg per unit); null: no ingredient, no desc. */
  strengthMg?: number | null;
  /** Content of one pack: value and unit ("1" = pieces). */
  content?: { value: number; unit: string };
  form?: { code: string; display: string };
  /** The day the prescription was issued (author/time); default ten days ago. */
  authored?: Date;
}

const ts = (d: Date): string => `${d.toISOString().slice(0, 10).replaceAll('-', '')}100000+0100`;

/** An eHDSI eP (one item) for the product described, by default Metformin Mylan 500 mg, 100 tablets, 2 packs, substitution allowed. */
export function euProductCda(o: EuProductOptions = {}): { xml: string; prescriptionId: string } {
  const item = o.itemId ?? `EU-${randomUUID()}`;
  const name = o.name ?? 'Metformin Mylan';
  const atc = o.atc ?? 'A10BA02';
  const strength = o.strengthMg === undefined ? 500 : o.strengthMg;
  const content = o.content ?? { value: 100, unit: '1' };
  const form = o.form ?? { code: '10221000', display: 'Film-coated tablet' };
  const authored = o.authored ?? new Date(Date.now() - 10 * 86400_000);
  let x = fixture('edispensation/eP-L3-lantus-W8.openncp.xml')
    .replace('<id extension="3000.1.1" root="2.16.17.710.850.1000.990.1"', `<id extension="${item}" root="2.16.17.710.850.1000.990.1"`)
    .replace('<id extension="3000" root="2.16.17.710.850.1000.990.1" />', `<id extension="DOC-${item}" root="2.16.17.710.850.1000.990.1" />`)
    .replaceAll('20180831162454+0200', ts(authored));
  const ingredient =
    strength === null
      ? ''
      : `<pharm:ingredient classCode="ACTI">
              <pharm:quantity>
                  <numerator xsi:type="PQ" value="${strength}" unit="mg" />
                  <denominator xsi:type="PQ" value="1" unit="1" />
              </pharm:quantity>
              <pharm:ingredientSubstance classCode="MMAT" determinerCode="KIND">
                  <pharm:code code="${atc}" displayName="${name}" codeSystem="2.16.840.1.113883.6.73"/>
                  <pharm:name>${name}</pharm:name>
              </pharm:ingredientSubstance>
          </pharm:ingredient>`;
  const consumable = `<consumable typeCode="CSM">
      <manufacturedProduct classCode="MANU">
          <templateId root="1.3.6.1.4.1.12559.11.10.1.3.1.3.29" />
          <manufacturedMaterial classCode="MMAT" determinerCode="KIND">
              <templateId root="1.3.6.1.4.1.12559.11.10.1.3.1.3.30" />
              <code code="FI-${item}" codeSystem="1.2.246.537.6.55" />
              <name>${name}</name>
              ${strength === null ? '' : `<pharm:desc>${strength} mg</pharm:desc>`}
              <pharm:formCode code="${form.code}" displayName="${form.display}" codeSystem="0.4.0.127.0.16.1.1.2.1" />
              <pharm:asContent classCode="CONT">
                  <pharm:quantity value="${content.value}" unit="${content.unit}"/>
                  <pharm:containerPackagedProduct classCode="CONT" determinerCode="KIND">
                      <pharm:code codeSystem="1.2.246.537.6.56" code="PCID-${item}" />
                      <pharm:formCode code="30007000" displayName="Blister" codeSystem="0.4.0.127.0.16.1.1.2.1" />
                  </pharm:containerPackagedProduct>
              </pharm:asContent>
              <pharm:asSpecializedKind classCode="GRIC">
                  <pharm:generalizedMaterialKind classCode="MMAT" determinerCode="KIND">
                      <pharm:code code="${atc}" codeSystem="2.16.840.1.113883.6.73" displayName="${name}"/>
                  </pharm:generalizedMaterialKind>
              </pharm:asSpecializedKind>
              ${ingredient}
          </manufacturedMaterial>
      </manufacturedProduct>
  </consumable>`;
  x = x.replace(/<consumable typeCode="CSM">[\s\S]*?<\/consumable>/, consumable);
  const packages = o.packages ?? 2;
  x = x.replace('<quantity unit="1" value="5" />', typeof packages === 'number' ? `<quantity unit="1" value="${packages}" />` : `<quantity unit="${packages.unit}" value="${packages.value}" />`);
  x = x.replace(/<doseQuantity>[\s\S]*?<\/doseQuantity>/, '<doseQuantity value="1" unit="1"/>').replace('code="20066000" displayName="Subcutaneous use"', 'code="20053000" displayName="Oral use"');
  const subst = o.subst ?? 'G';
  if (subst === 'none') x = x.replace(/<entryRelationship inversionInd="true" typeCode="SUBJ">\s*<observation[\s\S]*?<\/entryRelationship>/, '');
  else x = x.replace(/<value code="N" codeSystem="2.16.840.1.113883.5.1070" xsi:type="CE"\s*displayName="none"\/>/, `<value code="${subst}" codeSystem="2.16.840.1.113883.5.1070" xsi:type="CE" displayName="${subst === 'N' ? 'none' : 'generic'}"/>`);
  return { xml: x, prescriptionId: item };
}

interface Pack {
  atc: string;
  name: string;
  group: string;
  form: string;
  formDn: string;
  size: string;
  unit: string;
  brand: string;
}

/** Packs of the demo FEST (src/registries/fest/demo-fest-m30.xml), as a pharmacy system names them. */
export const PACKS: Record<string, Pack> = {
  '181457': { atc: 'A10BA02', name: 'Metformin Mylan Tab 500 mg', group: 'C', form: '53', formDn: 'Tablett', size: '100', unit: 'STK', brand: 'Metformin Mylan' },
  '138545': { atc: 'H02AB09', name: 'Hydrokortison Orifarm Tab 10 mg', group: 'C', form: '53', formDn: 'Tablett', size: '100', unit: 'STK', brand: 'Hydrokortison Orifarm' },
  '541409': { atc: 'R05DA01', name: 'Cosylan Mikst 1,7 mg/ml', group: 'B', form: '9', formDn: 'Mikstur', size: '125', unit: 'ML', brand: 'Cosylan' },
  '317612': { atc: 'N07BC02', name: 'Metadon NYP Tab 20 mg', group: 'A', form: '53', formDn: 'Tablett', size: '100', unit: 'STK', brand: 'Metadon NYP' },
  '017426': { atc: 'N02BE01', name: 'Paracet Tab 500 mg', group: 'C', form: '53', formDn: 'Tablett', size: '10 x 100', unit: 'STK', brand: 'Paracet' },
  '017454': { atc: 'N02BE01', name: 'Paracet Tab 500 mg', group: 'C', form: '53', formDn: 'Tablett', size: '20', unit: 'STK', brand: 'Paracet' },
  '441907': { atc: 'G03AA07', name: 'Microgynon Tab', group: 'C', form: '53', formDn: 'Tablett', size: '3 x 21', unit: 'STK', brand: 'Microgynon' },
  // Not in the demo FEST: what the M10 says is all Helsebro knows.
  '999001': { atc: 'J01DC02', name: 'Cefuroxim Fresenius Pulv til inj 1500 mg', group: 'C', form: '103', formDn: 'Pulver til injeksjonsvæske', size: '10', unit: 'HGL', brand: 'Cefuroxim Fresenius' },
  '999002': { atc: 'A10BA02', name: 'Metformin Annet Tab 500 mg', group: 'C', form: '53', formDn: 'Tablett', size: '200', unit: 'STK', brand: 'Metformin Annet' },
  '054362': { atc: 'L04AG03', name: 'Tysabri Kons til inf 300 mg', group: 'C', form: '460', formDn: 'Konsentrat til infusjonsvæske', size: '15', unit: 'ML', brand: 'Tysabri' },
};

export interface PharmacyM10Options {
  msgId?: string;
  varenr?: string;
  /** Overrides of the pack's data (an unknown varenr takes 181457's, as the audit's generator did). */
  atc?: string;
  name?: string;
  group?: string;
  size?: string;
  antall?: string;
  /** An Intervensjon of type V (another item than prescribed). */
  substituted?: boolean;
  date?: string;
  annulleringsId?: string;
  /** The patient the M10 names (default Robert Schuman, the Lantus sample's EU patient). */
  patient?: { family: string; given: string; birthDate?: string };
}

/** The patient the M10 names: the EU prescription's (Robert Schuman of the Lantus sample unless told otherwise). */
const patientOf = (o: PharmacyM10Options): { family: string; given: string; birthDate?: string } =>
  o.patient ?? { family: 'Schuman', given: 'Robert' };

/** The patient of the MPD cefuroxime scenario Bundle (euPrescriptionBundle). */
export const ENGINE = { family: 'Engine', given: 'Thomas', birthDate: '1950-09-15' } as const;

/** The M10 a Norwegian pharmacy system sends for the dispensing of an EU prescription. */
export function productM10(reseptId: string, o: PharmacyM10Options = {}): { xml: string; msgId: string } {
  const msgId = o.msgId ?? randomUUID();
  const varenr = o.varenr ?? '181457';
  const p = PACKS[varenr] ?? PACKS['181457']!;
  const annul = o.annulleringsId !== undefined;
  const subst = o.substituted
    ? '<Intervensjon><Kode V="1" S="2.16.578.1.12.4.1.1.7412" DN="Generisk bytte"/><EndringsType V="V" DN="Annen vare"/><KonfKunde>true</KonfKunde><Begrunnelse>Generisk bytte</Begrunnelse></Intervensjon>'
    : '';
  const xml = `<?xml version="1.0" encoding="utf-8"?>
<MsgHead xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns="http://www.kith.no/xmlstds/msghead/2006-05-24">
  <MsgInfo>
    <Type V="ERM10" DN="Utleveringsrapport reseptbanken"/>
    <MIGversion>v1.2 2006-05-24</MIGversion>
    <GenDate>${new Date().toISOString()}</GenDate>
    <MsgId>${msgId}</MsgId>
    <Sender>
      <Organisation>
        <OrganisationName>Apotek 1 Ski Storsenter</OrganisationName>
        <Ident><Id>983044778</Id><TypeId V="ENH" S="2.16.578.1.12.4.1.1.9051" DN="Organisasjonsnummeret i Enhetsregister (Brønnøysund)"/></Ident>
        <Ident><Id>1463</Id><TypeId V="AKO" S="2.16.578.1.12.4.1.1.9051" DN="Apotekets konsesjonsnummer"/></Ident>
        <Ident><Id>8090688</Id><TypeId V="HER" S="2.16.578.1.12.4.1.1.9051" DN="HER-id"/></Ident>
        <TeleCom><TypeTelecom V="HP" DN="Hovedtelefon"/><TeleAddress V="tel:23 20 41 00"/></TeleCom>
      </Organisation>
    </Sender>
    <Receiver>
      <Organisation>
        <OrganisationName>Reseptformidleren</OrganisationName>
        <Ident><Id>982528011</Id><TypeId V="ENH" S="2.16.578.1.12.4.1.1.9051" DN="Organisasjonsnummeret i Enhetsregister (Brønnøysund)"/></Ident>
        <Ident><Id>2397.1</Id><TypeId V="HER" S="2.16.578.1.12.4.1.1.9051" DN="HER-id"/></Ident>
      </Organisation>
    </Receiver>
    <Patient>
      <FamilyName>${patientOf(o).family}</FamilyName>
      <GivenName>${patientOf(o).given}</GivenName>${patientOf(o).birthDate ? `\n      <DateOfBirth>${patientOf(o).birthDate}</DateOfBirth>` : ''}
    </Patient>
  </MsgInfo>
  <Document>
    <DocumentConnection V="H" DN="Hoveddokument"/>
    <RefDoc>
      <MsgType V="XML" DN="XML-instans"/>
      <Content>
        <Utleveringsrapport xmlns="http://www.kith.no/xmlstds/eresept/m10/2013-10-08">
          <Utlevering xmlns="http://www.kith.no/xmlstds/eresept/utlevering/2013-10-08">
            <ReseptId>${reseptId}</ReseptId>
            <Utleveringsdato>${o.date ?? new Date().toISOString().slice(0, 10)}</Utleveringsdato>
            <Annullering>${annul}</Annullering>
            <Avsluttet V="2" DN="Nei"/>
            ${annul ? `<AnnulleringsId>${o.annulleringsId}</AnnulleringsId>` : ''}
            <ByttereservasjonKunde>false</ByttereservasjonKunde>
            <ReseptDokLegemiddel xmlns="http://www.kith.no/xmlstds/eresept/m1/2013-10-08">
              <Varegruppekode V="L" DN="Legemiddel"/>
              <Antall>${o.antall ?? '1'}</Antall>
              <Reiterasjon>0</Reiterasjon>
              <Forskrivning xmlns="http://www.kith.no/xmlstds/eresept/forskrivning/2013-10-08">
                <DosVeiledEnkel>1 tablett 2 ganger daglig</DosVeiledEnkel>
                <Legemiddelpakning>
                  <Atc V="${o.atc ?? p.atc}" S="2.16.578.1.12.4.1.1.7180" DN="${o.atc ?? p.atc}"/>
                  <NavnFormStyrke>${o.name ?? p.name}</NavnFormStyrke>
                  <Reseptgruppe V="${o.group ?? p.group}" DN="Reseptgruppe ${o.group ?? p.group}"/>
                  <LegemiddelformKort V="${p.form}" S="2.16.578.1.12.4.1.1.7448" DN="${p.formDn}"/>
                  <Varenr>${varenr}</Varenr>
                  <PakningsinfoResept>
                    <Varenavn>${p.brand}</Varenavn>
                    <Pakningsstr>${o.size ?? p.size}</Pakningsstr>
                    <EnhetPakning V="${p.unit}" S="2.16.578.1.12.4.1.1.7484" DN="${p.unit}"/>
                  </PakningsinfoResept>
                </Legemiddelpakning>
              </Forskrivning>
            </ReseptDokLegemiddel>
            <Utleverer>
              <HerId>
                <Id xmlns="http://www.kith.no/xmlstds/felleskomponent1">8090688</Id>
                <TypeId xmlns="http://www.kith.no/xmlstds/felleskomponent1" V="HER" S="2.16.578.1.12.4.1.1.9051" DN="HER-id"/>
              </HerId>
              <Navn>Apotek 1 Ski Storsenter</Navn>
            </Utleverer>
            ${subst}
          </Utlevering>
          <ReservasjonRapportFastlege>false</ReservasjonRapportFastlege>
          <AnsattId>565502372</AnsattId>
        </Utleveringsrapport>
      </Content>
    </RefDoc>
  </Document>
</MsgHead>
`;
  return { xml, msgId };
}
