// A Norwegian pharmacy's M10 Utleveringsrapport (eResept 2.5 in MsgHead v1.2) -> Dispensation, for
// Norway as country B: the pharmacy reports the dispensing of an EU prescription the way its system
// already does, with the EU prescription id as ReseptId. The pharmacy is identified by HER-id (Utleverer)
// and org.nr (MsgHead sender), the pharmacist by the HPR-nummer in AnsattId. FEST enrichment (strength,
// EDQM form) happens later; this module only reads what the message says. The envelope is read by the
// shared MsgHead reader (src/xml/msghead.ts); this module reads the M10 payload.
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { fail, issue, ok, type Result, warning } from '../fhir/outcomes.ts';
import { CODE_SYSTEM, KITH_ID_TYPE, OID, canonicalSystem } from '../fhir/identifiers.ts';
import type { XmlElement } from '../xml/element.ts';
import { messageError } from '../xml/errors.ts';
import { coded, ident, KITH_NS, type Ident } from '../xml/kith.ts';
import { documentPayload, parseMsgHead, type MsgHead, type MsgHeadPerson } from '../xml/msghead.ts';
import type { XmlParseOptions } from '../xml/parse.ts';
import { bool, clip, decimal, double, invalidValue, optional, readResult, required, xsDate } from '../xml/read.ts';
import { checkCoding, M10_MSGID_SYSTEM, VARENUMMER_SYSTEM } from './codes.ts';
import { NS_FORSKRIVNING, NS_M1, NS_M10, NS_UTLEVERING } from './m10.ts';
import type { Coded, Dispensation, DispensedProduct, IdentifierValue, Organisation, PackageInfo, Person, Quantity, Substitution } from './model.ts';
import { MAX_QUANTITY } from './values.ts';
import { bounded, boundedText, requiredBoundedText } from './xml-text.ts';

export interface ParseM10Options extends XmlParseOptions {
  /** Identifier system of the ReseptId (the EU prescription id as Helsebro stores it); none when omitted. */
  prescriptionIdSystem?: string;
}

export function parseM10(xml: Uint8Array | string, opts: ParseM10Options = {}): Result<Dispensation> {
  const parsed = parseMsgHead(xml, { ...opts, expectType: 'ERM10' });
  if (!parsed.ok) return parsed;
  const head = parsed.value.head;
  const report = findReport(head);
  if (!report.ok) return report;
  const warnings: OperationOutcomeIssue[] = [];
  const notCarried: string[] = [];
  const read = readResult(() => readReport(head, report.value, opts, warnings, notCarried));
  if (!read.ok) return fail(read.problem);
  if (notCarried.length) {
    return fail({
      status: 422,
      issues: notCarried.map((path) =>
        issue('business-rule', `${path.split('.').at(-1)} cannot be forwarded to the NCP in the EU eDispensation, so the M10 is not accepted; leave it out`, {
          expression: [path],
          details: [checkCoding('DISP-ELEMENT-NOT-CARRIED')],
        }),
      ),
    });
  }
  return ok(read.value, warnings);
}

// ---- paths ----

const UTLEVERING_PATH = 'MsgHead.Document.RefDoc.Content.Utleveringsrapport.Utlevering';
const ITEM_PATH = `${UTLEVERING_PATH}.ReseptDokLegemiddel`;

/** Where an M10 says what the intake's checks name in MedicationDispense terms (longest prefix first). */
const M10_PATHS: readonly [fhir: string, m10: (d: Dispensation, code?: string) => string][] = [
  ['MedicationDispense.authorizingPrescription', () => `${UTLEVERING_PATH}.ReseptId`],
  ['MedicationDispense.whenHandedOver', () => `${UTLEVERING_PATH}.Utleveringsdato`],
  ['MedicationDispense.quantity', (d) => `${ITEM_PATH}.${d.quantity.code === '{pack}' ? 'Antall' : 'Mengde'}`],
  ['MedicationDispense.medication', () => `${ITEM_PATH}.Forskrivning.Legemiddelpakning`],
  ['MedicationDispense.dosageInstruction', () => `${ITEM_PATH}.Forskrivning.DosVeiledEnkel`],
  ['MedicationDispense.substitution', () => `${UTLEVERING_PATH}.Intervensjon`],
  ['MedicationDispense.subject', () => 'MsgHead.MsgInfo.Patient'],
  ['MedicationDispense.performer', () => `${UTLEVERING_PATH}.Utleverer`],
  // The M10's own identifier is its MsgId; what a withdrawal withdraws is its AnnulleringsId.
  ['MedicationDispense.identifier', (d, code) => (d.status !== 'completed' && code !== 'DISP-IDENTIFIER-CONFLICT' ? `${UTLEVERING_PATH}.AnnulleringsId` : 'MsgHead.MsgInfo.MsgId')],
];

/**
 * The M10 element path for an expression the checks state in MedicationDispense terms: a pharmacy that sent
 * an M10 is told which of its elements was refused (`…Utlevering.ReseptDokLegemiddel.Antall`), not a FHIR
 * path of a resource it never sent. Expressions that are already M10 paths are kept.
 */
export function m10Expression(expression: string, d: Dispensation, code?: string): string {
  for (const [fhir, m10] of M10_PATHS) if (expression === fhir || expression.startsWith(`${fhir}.`) || expression.startsWith(`${fhir}[`)) return m10(d, code);
  return expression.startsWith('MedicationDispense') ? UTLEVERING_PATH : expression;
}

// ---- structure ----

type Slot = readonly [ns: string, name: string, max?: number];

/** The element order of the M10 XSD for the levels Helsebro reads (ER-M10 and ER-Utlevering 2013-10-08). */
const REPORT_SEQUENCE: readonly Slot[] = [
  [NS_UTLEVERING, 'Utlevering'],
  [NS_M10, 'Kanselleringskode'],
  [NS_M10, 'ReservasjonRapportFastlege'],
  [NS_M10, 'PrisLegemiddelUtenMt'],
  [NS_M10, 'AnsattId'],
  [NS_M10, 'Egenandel', 4],
  [NS_M10, 'Papirresept'],
  [NS_UTLEVERING, 'RekvirentPapir'],
];
const UTLEVERING_SEQUENCE: readonly Slot[] = [
  [NS_UTLEVERING, 'ReseptId'],
  [NS_UTLEVERING, 'Utleveringsdato'],
  [NS_UTLEVERING, 'Annullering'],
  [NS_UTLEVERING, 'Avsluttet'],
  [NS_UTLEVERING, 'ByttereservasjonKunde'],
  [NS_UTLEVERING, 'AnnulleringsId'],
  [NS_UTLEVERING, 'Batchnr'],
  [NS_M1, 'ReseptDokLegemiddel'],
  [NS_M1, 'ReseptDokHandelsvare'],
  [NS_UTLEVERING, 'Utleverer'],
  [NS_UTLEVERING, 'Intervensjon', Infinity],
];
const INTERVENSJON_SEQUENCE: readonly Slot[] = [
  [NS_UTLEVERING, 'Kode'],
  [NS_UTLEVERING, 'EndringsType'],
  [NS_UTLEVERING, 'KonfKunde'],
  [NS_UTLEVERING, 'KonfLege'],
  [NS_UTLEVERING, 'Begrunnelse'],
];

/**
 * Refuses (400) a child the schema does not allow at this level, or one out of the schema's order: what is
 * read must be where the M10 XSD puts it, or a message the prescription chain would refuse gets through here.
 */
function checkOrder(el: XmlElement, sequence: readonly Slot[]): void {
  let at = 0;
  let count = 0;
  for (const child of el.children) {
    let i = at;
    while (i < sequence.length && !(sequence[i]![0] === child.ns && sequence[i]![1] === child.name)) i++;
    if (i === sequence.length) {
      const known = sequence.some(([ns, name]) => ns === child.ns && name === child.name);
      throw messageError(
        400,
        'structure',
        'unexpected-element',
        known ? `${child.name} is out of the M10 schema's order here` : `${child.name} is not allowed in ${el.name} by the M10 schema`,
        child.path,
      );
    }
    count = i === at ? count + 1 : 1;
    at = i;
    if (count > (sequence[i]![2] ?? 1)) throw messageError(400, 'structure', 'unexpected-element', `${child.name} occurs more often than the M10 schema allows`, child.path);
  }
}

function findReport(head: MsgHead): Result<XmlElement> {
  for (const doc of head.documents) {
    const payload = documentPayload(doc);
    if (!payload.ok) return payload;
    if (payload.value.kind !== 'xml') continue;
    const report = payload.value.elements.find((e) => e.name === 'Utleveringsrapport');
    if (!report) continue;
    if (report.ns !== NS_M10) {
      return fail(messageError(400, 'not-supported', 'unsupported-version', `Utleveringsrapport in namespace "${clip(report.ns, 80)}" is not supported; send eResept 2.5 (${NS_M10})`, report.path).problem);
    }
    return ok(report);
  }
  return fail(messageError(400, 'required', 'missing-element', 'No Document/RefDoc/Content holds an Utleveringsrapport', 'MsgHead.Document').problem);
}

function readReport(head: MsgHead, report: XmlElement, opts: ParseM10Options, warnings: OperationOutcomeIssue[], notCarried: string[]): Dispensation {
  checkOrder(report, REPORT_SEQUENCE);
  const utlevering = required(report, NS_UTLEVERING, 'Utlevering');
  checkOrder(utlevering, UTLEVERING_SEQUENCE);
  for (const i of utlevering.all(NS_UTLEVERING, 'Intervensjon')) checkOrder(i, INTERVENSJON_SEQUENCE);
  // Norwegian settlement and paper-prescription data: no place in the EU eDispensation, and never dropped.
  for (const name of ['Kanselleringskode', 'PrisLegemiddelUtenMt', 'Egenandel', 'Papirresept']) {
    const found = report.all(NS_M10, name)[0];
    if (found) notCarried.push(found.path);
  }
  const rekvirentPapir = report.child(NS_UTLEVERING, 'RekvirentPapir');
  if (rekvirentPapir) notCarried.push(rekvirentPapir.path);
  const reseptId = requiredBoundedText(utlevering, NS_UTLEVERING, 'ReseptId', 100);
  const annullering = bool(required(utlevering, NS_UTLEVERING, 'Annullering'));
  const annulleringsId = boundedText(utlevering, NS_UTLEVERING, 'AnnulleringsId', 100);
  const item = readItem(utlevering);

  const d: Dispensation = {
    source: 'm10',
    status: annullering ? 'discarded' : 'completed',
    identifier: { system: M10_MSGID_SYSTEM, value: bounded(head.msgId, 100, 'MsgHead.MsgInfo.MsgId') },
    prescription: { identifier: opts.prescriptionIdSystem ? { system: opts.prescriptionIdSystem, value: reseptId } : { value: reseptId } },
    whenHandedOver: xsDate(required(utlevering, NS_UTLEVERING, 'Utleveringsdato')),
    recorded: head.genDate,
    product: item.product,
    quantity: item.quantity,
    substitution: readSubstitution(utlevering),
    pharmacy: readPharmacy(utlevering, head),
    m10Parties: readParties(utlevering, head),
    pharmacist: readPharmacist(report),
  };
  if (item.dosageText) d.dosageText = item.dosageText;
  const avsluttet = optional(utlevering, NS_UTLEVERING, 'Avsluttet');
  if (avsluttet) {
    const v = avsluttet.attr('V')?.trim();
    if (v !== '1' && v !== '2') throw invalidValue(avsluttet, 'Avsluttet must be 1 (Ja) or 2 (Nei), kodeverk 1101');
    if (v === '1' && !annullering) d.prescriptionFinished = true;
  }
  const reservation = optional(utlevering, NS_UTLEVERING, 'ByttereservasjonKunde');
  if (reservation && bool(reservation)) d.customerSubstitutionReservation = true;
  const batch = boundedText(utlevering, NS_UTLEVERING, 'Batchnr', 100);
  if (batch) d.lotNumber = batch;
  const interventions = readInterventions(utlevering, notCarried);
  if (interventions.length) d.interventions = interventions;
  if (annullering) {
    if (annulleringsId) d.discardOf = { system: M10_MSGID_SYSTEM, value: annulleringsId };
    else warnings.push(warning('informational', 'Annullering without AnnulleringsId: the withdrawn M10 must be found by ReseptId', { expression: [utlevering.pathOf('AnnulleringsId')] }));
  }
  const patient = head.patient && readPatient(head.patient);
  if (patient) d.patient = patient;
  return d;
}

// ---- identifiers and codes ----

/** Only the id types Helsebro has a FHIR system for are kept (HER, ENH, FNR, DNR, HPR). */
function identifierOf(i: Ident, path: string): IdentifierValue | undefined {
  const system = KITH_ID_TYPE[i.type.code];
  return system ? { system, value: bounded(i.id, 60, `${path}.Ident.Id`) } : undefined;
}

function codedOf(el: XmlElement | undefined, fallbackSystem: string): Coded | undefined {
  if (!el) return undefined;
  const c = coded(el);
  const out: Coded = { system: c.oid ? canonicalSystem(`urn:oid:${c.oid}`) : fallbackSystem, code: bounded(c.code, 64, el.path) };
  if (c.display) out.display = bounded(c.display, 300, el.path);
  return out;
}

// ---- parts ----

function readItem(utlevering: XmlElement): { product: DispensedProduct; quantity: Quantity; dosageText?: string } {
  const goods = optional(utlevering, NS_M1, 'ReseptDokHandelsvare');
  if (goods) {
    throw messageError(422, 'business-rule', 'unexpected-element', 'Medical devices and other goods (ReseptDokHandelsvare) are outside the EU eDispensation', goods.path);
  }
  const dok = optional(utlevering, NS_M1, 'ReseptDokLegemiddel');
  if (!dok) {
    throw messageError(400, 'required', 'missing-element', 'The dispensed item (ReseptDokLegemiddel) is required to report the dispensation to the EU', utlevering.pathOf('ReseptDokLegemiddel'));
  }
  const forskrivning = required(dok, NS_FORSKRIVNING, 'Forskrivning');
  const dosageText = boundedText(forskrivning, NS_FORSKRIVNING, 'DosVeiledEnkel', 2000)?.replace(/\s*\n\s*/g, '\n');
  const product = readDrug(forskrivning);
  const quantity = readQuantity(dok);
  return dosageText ? { product, quantity, dosageText } : { product, quantity };
}

function readDrug(forskrivning: XmlElement): DispensedProduct {
  const drug =
    optional(forskrivning, NS_FORSKRIVNING, 'Legemiddelpakning') ??
    optional(forskrivning, NS_FORSKRIVNING, 'LegemiddelMerkevare') ??
    optional(forskrivning, NS_FORSKRIVNING, 'LegemiddelVirkestoff');
  if (!drug) {
    const other = forskrivning.child(NS_FORSKRIVNING, 'Legemiddelblanding') ?? forskrivning.child(NS_FORSKRIVNING, 'Legemiddeldose');
    if (other) throw messageError(422, 'business-rule', 'unexpected-element', `${other.name} is outside the EU eDispensation (authorised medicinal products only)`, other.path);
    throw messageError(400, 'required', 'missing-element', 'Forskrivning names no medicinal product', forskrivning.path);
  }
  const p: DispensedProduct = { name: requiredBoundedText(drug, NS_FORSKRIVNING, 'NavnFormStyrke', 300), codes: [] };
  const atc = codedOf(optional(drug, NS_FORSKRIVNING, 'Atc'), CODE_SYSTEM.atc);
  if (atc) p.atc = atc;
  const form = codedOf(optional(drug, NS_FORSKRIVNING, 'LegemiddelformKort'), CODE_SYSTEM.volven(7448));
  if (form) p.form = form;
  const gruppe = codedOf(optional(drug, NS_FORSKRIVNING, 'Reseptgruppe'), CODE_SYSTEM.volven(7421));
  if (gruppe) p.reseptgruppe = bounded(gruppe.code, 4, `${drug.path}.Reseptgruppe`);
  const festId = boundedText(drug, NS_FORSKRIVNING, 'Id', 100);
  if (festId) p.codes.push({ system: 'http://ehelse.no/fhir/CodeSystem/FEST', code: festId });
  if (drug.name === 'Legemiddelpakning') {
    const varenrEl = required(drug, NS_FORSKRIVNING, 'Varenr');
    // Keep it a string: leading zeros are part of the number ("026721").
    if (!/^\d{1,8}$/.test(varenrEl.text)) throw invalidValue(varenrEl, `"${clip(varenrEl.text)}" is not a varenummer`);
    p.varenummer = varenrEl.text;
    p.codes.unshift({ system: VARENUMMER_SYSTEM, code: varenrEl.text });
    const pack = readPackInfo(drug.all(NS_FORSKRIVNING, 'PakningsinfoResept')[0]);
    if (pack) p.package = pack;
  }
  return p;
}

function readPackInfo(el: XmlElement | undefined): PackageInfo | undefined {
  if (!el) return undefined;
  const name = boundedText(el, NS_FORSKRIVNING, 'Varenavn', 300);
  const size = boundedText(el, NS_FORSKRIVNING, 'Pakningsstr', 60);
  const unit = codedOf(optional(el, NS_FORSKRIVNING, 'EnhetPakning'), CODE_SYSTEM.volven(7484));
  const info: PackageInfo = {};
  const description = [name, size, unit?.display ?? unit?.code].filter(Boolean).join(' ');
  if (description) info.description = description;
  // "2x7x1" and "2 x 150" are kept as text only; a plain number is the pack content.
  if (size && /^\d+([.,]\d+)?$/.test(size)) {
    const q: Quantity = { value: Number(size.replace(',', '.')), unit: unit?.display ?? unit?.code ?? '' };
    if (unit) {
      q.system = unit.system;
      q.code = unit.code;
    }
    info.size = q;
  }
  if (unit) info.form = unit;
  return info;
}

function readQuantity(dok: XmlElement): Quantity {
  const antall = optional(dok, NS_M1, 'Antall');
  if (antall) {
    const value = checkAmount(antall, decimal(antall));
    return { value, unit: 'pakning', system: 'http://unitsofmeasure.org', code: '{pack}' };
  }
  const mengde = optional(dok, NS_M1, 'Mengde');
  if (mengde) {
    const value = checkAmount(mengde, double(mengde, mengde.attr('V')?.trim() ?? ''));
    return { value, unit: bounded(mengde.attr('U') ?? '', 30, mengde.path) };
  }
  throw messageError(400, 'required', 'missing-element', 'The dispensed amount (Antall or Mengde) is missing', dok.pathOf('Antall'));
}

function checkAmount(el: XmlElement, value: number): number {
  if (value <= 0) throw invalidValue(el, 'the dispensed amount must be positive');
  if (value > MAX_QUANTITY) throw invalidValue(el, `${value} is not a plausible dispensed amount`);
  return value;
}

/** Intervention types (kodeverk 7413) besides V (another product, read as the substitution). */
const INTERVENTION_TYPE: Record<string, string> = { D: 'Dosering endret', R: 'Refusjonsgrunnlag endret', P: 'Persondata endret' };

/**
 * Interventions other than the choice of another product, as note text the EU eDispensation carries
 * ("Dosering endret (konferert med lege 1234567): ..."). One whose type is unknown, or that says nothing, is
 * refused rather than dropped.
 */
function readInterventions(utlevering: XmlElement, notCarried: string[]): string[] {
  const out: string[] = [];
  for (const i of utlevering.all(NS_UTLEVERING, 'Intervensjon')) {
    const type = i.child(NS_UTLEVERING, 'EndringsType')?.attr('V')?.trim();
    if (type === 'V') continue;
    const label = type ? INTERVENTION_TYPE[type] : undefined;
    const reason = boundedText(i, NS_UTLEVERING, 'Begrunnelse', 1000);
    const kode = i.child(NS_UTLEVERING, 'Kode');
    const what = [reason, kode?.attr('DN') ?? kode?.attr('V')].filter(Boolean);
    if (!label || !what.length) {
      notCarried.push(i.child(NS_UTLEVERING, 'EndringsType')?.path ?? i.path);
      continue;
    }
    const konfLege = i.child(NS_UTLEVERING, 'KonfLege');
    const lege = konfLege ? ident(konfLege, KITH_NS.felleskomponent1).id : undefined;
    const konfKunde = optional(i, NS_UTLEVERING, 'KonfKunde');
    const with_ = [lege ? `konferert med lege ${clip(lege, 20)}` : '', konfKunde && bool(konfKunde) ? 'konferert med kunden' : ''].filter(Boolean).join(', ');
    out.push(`Intervensjon: ${label}${with_ ? ` (${with_})` : ''}: ${what.join('; ')}`);
  }
  return out;
}

function readSubstitution(utlevering: XmlElement): Substitution {
  const other = utlevering.all(NS_UTLEVERING, 'Intervensjon').find((i) => i.child(NS_UTLEVERING, 'EndringsType')?.attr('V') === 'V');
  if (!other) return { substituted: false };
  const s: Substitution = { substituted: true };
  const reason = boundedText(other, NS_UTLEVERING, 'Begrunnelse', 1000) ?? other.child(NS_UTLEVERING, 'Kode')?.attr('DN');
  if (reason) s.reason = reason;
  return s;
}

function readPharmacy(utlevering: XmlElement, head: MsgHead): Organisation {
  const utleverer = required(utlevering, NS_UTLEVERING, 'Utleverer');
  const herEl = required(utleverer, NS_UTLEVERING, 'HerId');
  const her = identifierOf(ident(herEl, KITH_NS.felleskomponent1), utleverer.path);
  if (her?.system !== OID.her) throw invalidValue(herEl, "the pharmacy's HER-id (TypeId HER) is required");
  const o: Organisation = { name: requiredBoundedText(utleverer, NS_UTLEVERING, 'Navn', 300), identifiers: [her], country: 'NO' };
  for (const id of head.sender.idents.map((i) => identifierOf(i, head.sender.path))) {
    if (id && !o.identifiers.some((x) => x.system === id.system && x.value === id.value)) o.identifiers.push(id);
  }
  return o;
}

function readParties(utlevering: XmlElement, head: MsgHead): NonNullable<Dispensation['m10Parties']> {
  const herEl = required(required(utlevering, NS_UTLEVERING, 'Utleverer'), NS_UTLEVERING, 'HerId');
  const utleverer = identifierOf(ident(herEl, KITH_NS.felleskomponent1), herEl.path)!;
  const sender = head.sender.idents.map((i) => identifierOf(i, head.sender.path)).filter((i): i is IdentifierValue => i !== undefined);
  return { sender, utleverer };
}

/** "Farmasøyter skal benytte HPR-nummer": a number is an HPR-nummer, anything else stays unqualified. */
function readPharmacist(report: XmlElement): Person {
  const ansattId = requiredBoundedText(report, NS_M10, 'AnsattId', 60);
  return { given: [], identifiers: [/^\d{1,9}$/.test(ansattId) ? { system: OID.hpr, value: ansattId } : { value: ansattId }] };
}

function readPatient(p: MsgHeadPerson): Person | undefined {
  const person: Person = {
    given: [p.givenName, p.middleName].filter((g): g is string => !!g).map((g) => bounded(g, 200, p.path)),
    identifiers: p.idents.map((i) => identifierOf(i, p.path)).filter((i): i is IdentifierValue => i !== undefined),
  };
  if (p.familyName) person.family = bounded(p.familyName, 200, p.path);
  if (p.dateOfBirth && /^\d{4}-\d{2}-\d{2}/.test(p.dateOfBirth)) person.birthDate = p.dateOfBirth.slice(0, 10);
  return person.family || person.given.length || person.identifiers.length ? person : undefined;
}
