// Realistic incoming messages for a given stored prescription: the NCP's MPD MedicationDispense and eHDSI
// eDispensation CDA (Norway as country A, from the fixtures in test/fixtures/edispensation/), and a
// Norwegian pharmacy's M10 for an EU prescription (country B, from the official sample M10s). Each call
// gets fresh identifiers, so tests sharing a database never collide.
import { randomUUID } from 'node:crypto';
import { euProductCda } from './eu-dispense.ts';
import { ADDISON_RX, fixture, fixtureJson } from './fixtures.ts';

const hoursAgo = (h: number): string => new Date(Date.now() - h * 3600_000).toISOString().replace(/\.\d{3}Z$/, 'Z');

export interface MpdOptions {
  identifier?: string;
  quantity?: number;
  status?: string;
  pharmacyName?: string;
  whenHandedOver?: string;
  patientFnr?: string;
}

/** The German pharmacy's MPD MedicationDispense (contained resources) for the given Norwegian prescription id. */
export function mpdDispense(prescriptionId: string, o: MpdOptions = {}): Record<string, unknown> {
  const text = fixture('edispensation/no-addison-de-mpd-dispense.json').replaceAll(ADDISON_RX, prescriptionId);
  const json = JSON.parse(text) as Record<string, any>;
  json.identifier[0].value = o.identifier ?? `AAM-${randomUUID()}`;
  json.whenHandedOver = o.whenHandedOver ?? hoursAgo(1);
  json.extension[0].valueDateTime = o.whenHandedOver ?? hoursAgo(1);
  if (o.quantity !== undefined) json.quantity.value = o.quantity;
  if (o.status) json.status = o.status;
  if (o.pharmacyName) json.contained.find((r: any) => r.resourceType === 'Organization').name = o.pharmacyName;
  if (o.patientFnr) json.contained.find((r: any) => r.resourceType === 'Patient').identifier[0].value = o.patientFnr;
  return json;
}

export interface CdaOptions {
  supplyId?: string;
  quantity?: number;
}

/** The Czech pharmacy's eHDSI eDispensation (substituted product) for the given Norwegian prescription id. */
export function czechCda(prescriptionId: string, o: CdaOptions = {}): { xml: string; supplyId: string } {
  const supplyId = o.supplyId ?? `CZ-${randomUUID()}`;
  let xml = fixture('edispensation/no-addison-cz-substituted.xml').replaceAll(ADDISON_RX, prescriptionId).replaceAll('CZ-DISP-2026-000731', supplyId);
  if (o.quantity !== undefined) xml = xml.replace(/(<supply classCode="SPLY" moodCode="EVN">[\s\S]*?<quantity[^>]*value=")[^"]+"/, `$1${o.quantity}"`);
  return { xml, supplyId };
}

export { fixtureJson };

// ---- Norway as country B ----

/**
 * An official eHDSI ePrescription sample (OpenNCP mock data) under a fresh prescription item id. The Lantus
 * sample was issued in 2018 and states no validity, so under the Norwegian rule it can no longer be
 * dispensed; `metformin` is the same document for Metformin Mylan 500 mg (100 tablets, 5 packs, substitution
 * not allowed), issued ten days ago, which the demo FEST knows and a Norwegian pharmacy can dispense.
 */
export function euPrescriptionCda(sample: 'lantus' | 'canesten' | 'metformin' = 'lantus', itemId = `EU-${randomUUID()}`): { xml: string; prescriptionId: string; root: string } {
  if (sample === 'metformin') return { ...euProductCda({ itemId, packages: 5, subst: 'N' }), root: '2.16.17.710.850.1000.990.1' };
  const file = sample === 'lantus' ? 'edispensation/eP-L3-lantus-W8.openncp.xml' : 'edispensation/eP-L3-canesten-multipart-W7.openncp.xml';
  const xml = fixture(file).replace('<id extension="3000.1.1" root="2.16.17.710.850.1000.990.1"', `<id extension="${itemId}" root="2.16.17.710.850.1000.990.1"`);
  return { xml, prescriptionId: itemId, root: '2.16.17.710.850.1000.990.1' };
}

/** The MPD cefuroxime scenario Bundle (hand-converted from the IG examples) as the NCP's ePrescription, with a fresh id. */
export function euPrescriptionBundle(prescriptionId = `EU-${randomUUID()}`, packages?: number): { bundle: Record<string, any>; prescriptionId: string } {
  const bundle = fixtureJson('edispensation/Bundle-mpd-400-cefuroxime-scenario.converted.json') as Record<string, any>;
  // The NCP sends the prescription and what it references; the dispensations of the IG scenario stay out.
  bundle.entry = bundle.entry.filter((e: any) => e.resource.resourceType !== 'MedicationDispense');
  const request = bundle.entry.find((e: any) => e.resource.resourceType === 'MedicationRequest').resource;
  request.identifier = [{ system: 'urn:oid:2.16.17.710.850.1000.990.1', value: prescriptionId }];
  if (packages !== undefined) request.dispenseRequest.quantity = { value: packages, unit: 'package', system: 'http://unitsofmeasure.org', code: '1' };
  request.dispenseRequest.validityPeriod = { start: '2024-12-06', end: '2099-12-31' };
  return { bundle, prescriptionId };
}

export interface M10Options {
  sample?: 'ekspedering' | 'godkjenningsfritak';
  /** The sample dispenses Cosylan (reseptgruppe B, outside the EU scope); `metformin` makes it Metformin Mylan 500 mg, 100 tablets. */
  product?: 'metformin';
  msgId?: string;
  annullering?: boolean;
  annulleringsId?: string;
  antall?: string;
  ansattId?: string;
  /** The pharmacy's HER-id (Utleverer and MsgHead sender). */
  herId?: string;
  /** The organisation number (ENH) of the MsgHead sender (the samples: 983044778, Apotek 1 Ski Storsenter). */
  senderOrgnr?: string;
  utleveringsdato?: string;
  /**
   * MsgHead Patient. Default: the patient of the official eHDSI Lantus sample (Robert Schuman, born 1886-06-29),
   * with no Norwegian number, as a pharmacy names an EU patient. `sample` keeps the sample's own (Ottar Knutsen, FNR).
   */
  patient?: { family: string; given: string; fnr?: string; birthDate?: string } | 'sample';
  /** Avsluttet V: 1 the prescription is finished, 2 not (the samples). */
  avsluttet?: '1' | '2';
  byttereservasjonKunde?: boolean;
  batchnr?: string;
  /** Raw Intervensjon elements, after Utleverer. */
  intervensjon?: string;
  /** Raw Utleveringsrapport elements between ReservasjonRapportFastlege's predecessor and it (Kanselleringskode). */
  kanselleringskode?: string;
}

export const SCHUMAN = { family: 'Schuman', given: 'Robert', birthDate: '1886-06-29' } as const;

/** An official sample M10 Utleveringsrapport adapted to report the dispensing of an EU prescription. */
export function pharmacyM10(euPrescriptionId: string, o: M10Options = {}): { xml: string; msgId: string } {
  const file = o.sample === 'godkjenningsfritak' ? 'm10/sample-godkjenningsfritak.xml' : 'm10/sample-ekspedering-utlevering.xml';
  const msgId = o.msgId ?? randomUUID();
  let xml = fixture(file)
    .replace(/<ReseptId>[^<]*<\/ReseptId>/, `<ReseptId>${euPrescriptionId}</ReseptId>`)
    .replace(/<MsgId>[^<]*<\/MsgId>/, `<MsgId>${msgId}</MsgId>`)
    // The sample's XML signature no longer matches once adapted, and Helsebro does not verify M10 signatures.
    .replace(/<Signature xmlns="http:\/\/www.w3.org\/2000\/09\/xmldsig#">[\s\S]*<\/Signature>/, '');
  if (o.product === 'metformin') {
    xml = xml
      .replace(/<Atc [^>]*\/>/, '<Atc V="A10BA02" S="2.16.578.1.12.4.1.1.7180" DN="metformin"/>')
      .replace(/<NavnFormStyrke>[^<]*<\/NavnFormStyrke>/, '<NavnFormStyrke>Metformin Mylan Tab 500 mg</NavnFormStyrke>')
      .replace(/<Reseptgruppe [^>]*\/>/, '<Reseptgruppe V="C" DN="Reseptgruppe C"/>')
      .replace(/<LegemiddelformKort [^>]*\/>/, '<LegemiddelformKort V="53" S="2.16.578.1.12.4.1.1.7448" DN="Tablett"/>')
      .replace(/<Varenr>[^<]*<\/Varenr>/, '<Varenr>181457</Varenr>')
      .replace(/<Varenavn>[^<]*<\/Varenavn>/, '<Varenavn>Metformin Mylan</Varenavn>')
      .replace(/<Pakningsstr>[^<]*<\/Pakningsstr>/, '<Pakningsstr>100</Pakningsstr>')
      .replace(/<EnhetPakning [^>]*\/>/, '<EnhetPakning V="STK" S="2.16.578.1.12.4.1.1.7484" DN="STK"/>')
      .replace(/<DosVeiledEnkel>[^<]*<\/DosVeiledEnkel>/, '<DosVeiledEnkel>1 tablett 2 ganger daglig</DosVeiledEnkel>');
  }
  if (o.annullering) {
    xml = xml.replace('<Annullering>false</Annullering>', '<Annullering>true</Annullering>');
    if (o.annulleringsId) xml = xml.replace(/(<Avsluttet[^>]*\/>)/, `$1\n            <AnnulleringsId>${o.annulleringsId}</AnnulleringsId>`).replace(/(<AnnulleringsId>[^<]*<\/AnnulleringsId>)\s*(<ByttereservasjonKunde>[^<]*<\/ByttereservasjonKunde>)/, '$2\n            $1');
  }
  if (o.antall) xml = xml.replace(/<Antall>[^<]*<\/Antall>/, `<Antall>${o.antall}</Antall>`);
  if (o.ansattId) xml = xml.replace(/<AnsattId>[^<]*<\/AnsattId>/, `<AnsattId>${o.ansattId}</AnsattId>`);
  if (o.herId) xml = xml.replaceAll('>8090688<', `>${o.herId}<`);
  // The sample was dispensed in 2019; a product of today's tests is dispensed today.
  const day = o.utleveringsdato ?? (o.product ? new Date().toISOString().slice(0, 10) : undefined);
  if (day) xml = xml.replace(/<Utleveringsdato>[^<]*<\/Utleveringsdato>/, `<Utleveringsdato>${day}</Utleveringsdato>`);
  if (o.senderOrgnr) xml = xml.replace('<Id>983044778</Id>', `<Id>${o.senderOrgnr}</Id>`);
  const patient = o.patient ?? SCHUMAN;
  if (patient !== 'sample') {
    const p = patient as { family: string; given: string; fnr?: string; birthDate?: string };
    const block = [
      '<Patient>',
      `<FamilyName>${p.family}</FamilyName>`,
      `<GivenName>${p.given}</GivenName>`,
      p.birthDate ? `<DateOfBirth>${p.birthDate}</DateOfBirth>` : '',
      p.fnr ? `<Ident><Id>${p.fnr}</Id><TypeId V="FNR" S="2.16.578.1.12.4.1.1.8116" DN="Fødselsnummer"/></Ident>` : '',
      '</Patient>',
    ].join('\n');
    xml = xml.replace(/<Patient>[\s\S]*?<\/Patient>/, block);
  }
  if (o.avsluttet) xml = xml.replace(/<Avsluttet [^>]*\/>/, `<Avsluttet V="${o.avsluttet}" DN="${o.avsluttet === '1' ? 'Ja' : 'Nei'}"/>`);
  if (o.byttereservasjonKunde) xml = xml.replace('<ByttereservasjonKunde>false</ByttereservasjonKunde>', '<ByttereservasjonKunde>true</ByttereservasjonKunde>');
  if (o.batchnr) xml = xml.replace(/(\s*<ReseptDokLegemiddel )/, `\n<Batchnr>${o.batchnr}</Batchnr>$1`);
  if (o.intervensjon) xml = xml.replace(/(<\/Utleverer>)/, `$1\n${o.intervensjon}`);
  if (o.kanselleringskode) xml = xml.replace(/(\s*<ReservasjonRapportFastlege>)/, `\n${o.kanselleringskode}$1`);
  return { xml, msgId };
}
