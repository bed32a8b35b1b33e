// The NCP's EU ePrescription as an eHDSI ePrescription CDA (template 1.3.6.1.4.1.12559.11.10.1.3.1.1.1,
// LOINC 57833-6) -> EuPrescription: the one prescription item of the document as an MPD MedicationRequest
// with the patient, the prescribed product and the prescriber contained. Coded elements keep their codes
// (EDQM, ATC, UCUM at top level after the NCP's transcoding); nothing is looked up or fetched.
import type {
  Address,
  CodeableConcept,
  Coding,
  Dosage,
  Extension,
  Identifier,
  Medication,
  MedicationRequest,
  Organization,
  Patient,
  Practitioner,
  PractitionerRole,
  Quantity,
  Ratio,
} from '@medplum/fhirtypes';
import { fail, ok, ProblemError, type Result } from '../../fhir/outcomes.ts';
import { CODE_SYSTEM, OID, parsePersonNumber } from '../../fhir/identifiers.ts';
import type { XmlElement } from '../../xml/element.ts';
import { messageError } from '../../xml/errors.ts';
import { parseXml, type XmlParseOptions } from '../../xml/parse.ts';
import { decimal, invalidValue, readResult, required } from '../../xml/read.ts';
import { EXT, MPD } from '../fhir-dispense.ts';
import { tsToIso } from '../values.ts';
import { bounded, descend } from '../xml-text.ts';
import { controlledPrescribedAtc, controlledRefusal, isPackageQuantity, prescribedAmount, type EuPrescription } from './prescription.ts';

const V3 = 'urn:hl7-org:v3';
const PHARM = 'urn:hl7-org:pharm';
const XSI = 'http://www.w3.org/2001/XMLSchema-instance';
export const EHDSI_EP_TEMPLATE = '1.3.6.1.4.1.12559.11.10.1.3.1.1.1';
const EP_SECTION_TEMPLATE = '1.3.6.1.4.1.12559.11.10.1.3.1.2.1';
const LOINC = '2.16.840.1.113883.6.1';

/** CDA code-system OIDs Helsebro writes as FHIR system URLs. */
const SYSTEM_OF_OID: Record<string, string> = {
  '0.4.0.127.0.16.1.1.2.1': 'http://standardterms.edqm.eu',
  '2.16.840.1.113883.6.73': CODE_SYSTEM.atc,
  '2.16.840.1.113883.6.8': 'http://unitsofmeasure.org',
  '2.16.840.1.113883.6.1': CODE_SYSTEM.loinc,
  '2.16.840.1.113883.6.96': CODE_SYSTEM.snomed,
  '2.16.840.1.113883.2.9.6.2.7': 'urn:oid:2.16.840.1.113883.2.9.6.2.7',
  '2.16.840.1.113883.5.1070': 'http://terminology.hl7.org/CodeSystem/v3-substanceAdminSubstitution',
};
const systemOf = (oid: string): string => SYSTEM_OF_OID[oid] ?? `urn:oid:${oid}`;

const GENDER: Record<string, Patient['gender']> = { M: 'male', F: 'female', UN: 'unknown' };
const UNITS_OF_TIME: Record<string, 's' | 'min' | 'h' | 'd' | 'wk' | 'mo' | 'a'> = { s: 's', min: 'min', h: 'h', d: 'd', wk: 'wk', mo: 'mo', a: 'a' };

export function parseEuPrescriptionCda(xml: string | Uint8Array, opts: XmlParseOptions = {}): Result<EuPrescription> {
  const parsed = parseXml(xml, opts);
  if (!parsed.ok) return parsed;
  const read = readResult(() => readDocument(parsed.value.root));
  return read.ok ? ok(read.value) : fail(read.problem);
}

function readDocument(doc: XmlElement): EuPrescription {
  if (!doc.is(V3, 'ClinicalDocument')) throw messageError(400, 'invalid', 'wrong-root', `Expected an HL7 CDA ClinicalDocument (urn:hl7-org:v3), got ${doc.name}`, doc.path);
  const code = doc.child(V3, 'code');
  if (code?.attr('code') === '60593-1') throw messageError(400, 'invalid', 'unsupported-message-type', 'This is an eDispensation (60593-1); send it to MedicationDispense/$import-ehdsi-cda', doc.path);
  if (code?.attr('code') !== '57833-6' || code.attr('codeSystem') !== LOINC) {
    throw messageError(400, 'invalid', 'unsupported-message-type', 'ClinicalDocument.code must be LOINC 57833-6 (ePrescription)', code?.path ?? doc.pathOf('code'));
  }
  const entry = findEntry(doc);
  const sbadm = entry;
  const id = readII(required(sbadm, V3, 'id'));
  if (!id) throw messageError(400, 'required', 'missing-element', 'The prescription item has no id', sbadm.pathOf('id'));

  const patient = readPatient(doc);
  const author = doc.child(V3, 'author');
  const prescriber = author ? readPrescriber(author) : undefined;
  const material = descend(sbadm, [V3, 'consumable'], [V3, 'manufacturedProduct'], [V3, 'manufacturedMaterial']);
  if (!material) throw messageError(400, 'required', 'missing-element', 'The prescribed product (consumable/manufacturedProduct/manufacturedMaterial) is missing', sbadm.pathOf('consumable'));
  const medication = readMaterial(material);

  const contained: MedicationRequest['contained'] = [patient, medication];
  if (prescriber) contained.push(...prescriber);
  const authored = tsOf(author?.child(V3, 'time')) ?? tsOf(doc.child(V3, 'effectiveTime'));
  const status = sbadm.child(V3, 'statusCode')?.attr('code');
  const request: MedicationRequest = {
    resourceType: 'MedicationRequest',
    meta: { profile: [MPD.request] },
    contained,
    identifier: [id],
    status: status === 'completed' ? 'completed' : 'active',
    intent: 'order',
    medicationReference: { reference: '#med', ...(nameOf(medication) ? { display: nameOf(medication)! } : {}) },
    subject: { reference: '#patient' },
  };
  if (authored) request.authoredOn = authored;
  if (prescriber) request.requester = { reference: '#role' };
  const dosage = readDosage(sbadm, doc);
  if (dosage) request.dosageInstruction = [dosage];
  const pharmacistNote = instruction(sbadm, doc, 'FINSTRUCT');
  if (pharmacistNote) request.note = [{ text: pharmacistNote }];
  const packages = readRequestedPackages(sbadm);
  if (packages) request.dispenseRequest = { quantity: packages };
  request.substitution = { allowedBoolean: substitutionAllowed(sbadm) };

  const p: EuPrescription = { prescriptionId: { ...(id.system ? { system: id.system } : {}), value: id.value! }, request, status: request.status };
  const amount = packages && !isPackageQuantity(packages) ? prescribedAmount(packages) : undefined;
  if (packages && isPackageQuantity(packages)) p.packages = packages.value!;
  // A prescribed amount (300 ml) limits dispensing by itself: partial dispensings until it is reached.
  else if (amount) p.amount = amount;
  else p.dispensingsAllowed = 1;
  const controlled = controlledPrescribedAtc(request);
  if (controlled) throw new ProblemError(controlledRefusal(controlled, material.path));
  const fnr = patient.identifier?.find((i) => (i.system === OID.fnr || i.system === OID.dnr) && i.value && parsePersonNumber(i.value));
  if (fnr?.value) p.patientFnr = fnr.value;
  return p;
}

/** The one prescription entry; an eP document carries exactly one item. */
function findEntry(doc: XmlElement): XmlElement {
  const body = descend(doc, [V3, 'component'], [V3, 'structuredBody']);
  if (!body) throw messageError(400, 'required', 'missing-element', 'component/structuredBody is missing', doc.pathOf('component'));
  const items = body
    .all(V3, 'component')
    .flatMap((c) => c.all(V3, 'section'))
    .filter((s) => s.all(V3, 'templateId').some((t) => t.attr('root') === EP_SECTION_TEMPLATE) || s.child(V3, 'code')?.attr('code') === '57828-6')
    .flatMap((s) => s.all(V3, 'entry'))
    .map((e) => e.child(V3, 'substanceAdministration'))
    .filter((s): s is XmlElement => s !== undefined);
  if (!items.length) throw messageError(400, 'required', 'missing-element', 'The Prescriptions section (57828-6) has no substanceAdministration entry', body.path);
  if (items.length > 1) throw messageError(400, 'invalid', 'unexpected-element', 'An eHDSI ePrescription carries exactly one prescription item; split it into one document per item', body.path);
  const item = items[0]!;
  if (item.attr('moodCode') !== 'INT') throw invalidValue(item, 'a prescription item is a substanceAdministration in moodCode INT');
  return item;
}

// ---- data types ----

function readII(el: XmlElement | undefined): Identifier | undefined {
  if (!el || el.attr('nullFlavor')) return undefined;
  const root = el.attr('root')?.trim();
  const ext = el.attr('extension')?.trim();
  if (!root) return undefined;
  bounded(root, 128, el.path);
  if (ext) bounded(ext, 100, el.path);
  if (!/^([0-2](\.(0|[1-9]\d*))+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$/.test(root)) {
    throw invalidValue(el, `root "${root.slice(0, 40)}" is neither an OID nor a UUID`);
  }
  if (!ext) return { system: 'urn:ietf:rfc:3986', value: root.includes('.') ? `urn:oid:${root}` : `urn:uuid:${root.toLowerCase()}` };
  const system = root === '2.16.578.1.12.4.1.4.1' ? OID.fnr : root === '2.16.578.1.12.4.1.4.2' ? OID.dnr : `urn:oid:${root}`;
  return { system, value: ext };
}

function codingOf(el: XmlElement | undefined): Coding | undefined {
  if (!el || el.attr('nullFlavor')) return undefined;
  const code = el.attr('code')?.trim();
  const system = el.attr('codeSystem')?.trim();
  if (!code || !system) return undefined;
  bounded(code, 128, el.path);
  const c: Coding = { system: systemOf(system), code };
  const display = el.attr('displayName')?.trim();
  if (display) c.display = display.slice(0, 300);
  return c;
}

/** A code and its nested translations (national codes the NCP kept), EU code first. */
function conceptOf(el: XmlElement | undefined, depth = 0): CodeableConcept | undefined {
  if (!el || depth > 5) return undefined;
  const own = codingOf(el);
  const nested = el.children.filter((c) => c.name === 'translation').flatMap((t) => conceptOf(t, depth + 1)?.coding ?? []);
  const coding = own ? [own, ...nested] : nested;
  if (!coding.length) return undefined;
  return { coding, ...(own?.display ? { text: own.display } : {}) };
}

function tsOf(el: XmlElement | undefined): string | undefined {
  const v = el?.attr('value');
  if (!el || !v) return undefined;
  const iso = tsToIso(v);
  if (!iso) throw invalidValue(el, `"${v.slice(0, 30)}" is not an HL7 timestamp`);
  return iso;
}

/** A birth date (yyyyMMdd, any time part ignored): older than the dates a dispensing may carry. */
function birthDateOf(el: XmlElement | undefined): string | undefined {
  const v = el?.attr('value')?.trim();
  if (!el || !v) return undefined;
  const m = /^(\d{4})(\d{2})(\d{2})/.exec(v);
  const date = m && new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  if (!m || !date || date.getUTCMonth() !== Number(m[2]) - 1 || date.getUTCDate() !== Number(m[3]) || Number(m[1]) < 1850) {
    throw invalidValue(el, `"${v.slice(0, 30)}" is not a birth date`);
  }
  return `${m[1]}-${m[2]}-${m[3]}`;
}

function pqOf(el: XmlElement | undefined): Quantity | undefined {
  if (!el || el.attr('nullFlavor') || el.attr('value') === undefined) return undefined;
  const value = decimal(el, el.attr('value')!.trim());
  const unit = el.attr('unit')?.trim() || '1';
  const original = el.child(V3, 'translation')?.child(V3, 'originalText')?.text;
  const q: Quantity = { value, unit: unit === '1' && original ? original.slice(0, 60) : unit, system: 'http://unitsofmeasure.org', code: unit };
  return q;
}

const textOf = (el: XmlElement | undefined, max = 300): string | undefined => {
  const t = el?.text.replace(/\s+/g, ' ').trim();
  return t ? t.slice(0, max) : undefined;
};

function nameOf(m: Medication): string | undefined {
  return m.extension?.find((e) => e.url === EXT.productName)?.valueString ?? m.code?.text;
}

// ---- parts ----

function readAddress(el: XmlElement | undefined): Address | undefined {
  if (!el || el.attr('nullFlavor')) return undefined;
  const a: Address = {};
  const lines = el.all(V3, 'streetAddressLine').map((l) => textOf(l)).filter((l): l is string => !!l);
  if (lines.length) a.line = lines;
  const city = textOf(el.child(V3, 'city'));
  if (city) a.city = city;
  const postal = textOf(el.child(V3, 'postalCode'));
  if (postal) a.postalCode = postal;
  const country = textOf(el.child(V3, 'country'));
  if (country) a.country = country;
  return Object.keys(a).length ? a : undefined;
}

function readName(parent: XmlElement): { family?: string; given?: string[] } | undefined {
  const name = parent.child(V3, 'name');
  if (!name || name.attr('nullFlavor')) return undefined;
  const family = name.all(V3, 'family').map((f) => textOf(f, 200)).filter(Boolean).join(' ');
  const given = name.all(V3, 'given').map((g) => textOf(g, 200)).filter((g): g is string => !!g);
  if (!family && !given.length) return undefined;
  return { ...(family ? { family } : {}), ...(given.length ? { given } : {}) };
}

function readPatient(doc: XmlElement): Patient {
  const role = descend(doc, [V3, 'recordTarget'], [V3, 'patientRole']);
  if (!role) throw messageError(400, 'required', 'missing-element', 'recordTarget/patientRole is missing', doc.pathOf('recordTarget'));
  const person = role.child(V3, 'patient');
  const p: Patient = { resourceType: 'Patient', id: 'patient' };
  const ids = role.all(V3, 'id').map(readII).filter((i): i is Identifier => i !== undefined);
  if (!ids.length) throw messageError(400, 'required', 'missing-element', 'The patient has no identifier', role.pathOf('id'));
  p.identifier = ids;
  const name = person && readName(person);
  if (name) p.name = [name];
  const gender = person?.child(V3, 'administrativeGenderCode')?.attr('code');
  if (gender && GENDER[gender]) p.gender = GENDER[gender];
  const birth = birthDateOf(person?.child(V3, 'birthTime'));
  if (birth) p.birthDate = birth;
  const addr = readAddress(role.child(V3, 'addr'));
  if (addr) p.address = [addr];
  return p;
}

function readPrescriber(author: XmlElement): [Practitioner, Organization, PractitionerRole] | [Practitioner, PractitionerRole] | undefined {
  const assigned = author.child(V3, 'assignedAuthor');
  if (!assigned) return undefined;
  const practitioner: Practitioner = { resourceType: 'Practitioner', id: 'practitioner' };
  const ids = assigned.all(V3, 'id').map(readII).filter((i): i is Identifier => i !== undefined);
  if (ids.length) practitioner.identifier = ids;
  const person = assigned.child(V3, 'assignedPerson');
  const name = person && readName(person);
  if (name) practitioner.name = [name];
  const role: PractitionerRole = { resourceType: 'PractitionerRole', id: 'role', practitioner: { reference: '#practitioner' } };
  const fn = conceptOf(author.child(V3, 'functionCode'));
  if (fn) role.code = [fn];
  const orgEl = assigned.child(V3, 'representedOrganization');
  if (!orgEl) return [practitioner, role];
  const org: Organization = { resourceType: 'Organization', id: 'organization' };
  const orgIds = orgEl.all(V3, 'id').map(readII).filter((i): i is Identifier => i !== undefined);
  if (orgIds.length) org.identifier = orgIds;
  const orgName = textOf(orgEl.child(V3, 'name'));
  if (orgName) org.name = orgName;
  const addr = readAddress(orgEl.child(V3, 'addr'));
  if (addr) org.address = [addr];
  role.organization = { reference: '#organization' };
  return [practitioner, org, role];
}

function readMaterial(material: XmlElement): Medication {
  const name = textOf(material.child(V3, 'name'), 500);
  if (!name) throw messageError(400, 'required', 'missing-element', 'The prescribed product has no name', material.pathOf('name'));
  const extension: Extension[] = [{ url: EXT.productName, valueString: name }];
  const atc = material
    .all(PHARM, 'asSpecializedKind')
    .filter((k) => k.attr('classCode') === 'GRIC')
    .map((k) => codingOf(descend(k, [PHARM, 'generalizedMaterialKind'], [PHARM, 'code'])))
    .find((c) => c?.system === CODE_SYSTEM.atc);
  if (atc) extension.push({ url: EXT.classification, valueCodeableConcept: { coding: [atc] } });
  const m: Medication = { resourceType: 'Medication', id: 'med', meta: { profile: [MPD.medication] }, extension };
  const code = conceptOf(material.child(V3, 'code'));
  const strength = textOf(material.child(PHARM, 'desc'), 200);
  m.code = { ...(code?.coding ? { coding: code.coding } : {}), text: [name, strength].filter(Boolean).join(' ') };
  const form = conceptOf(material.child(PHARM, 'formCode'));
  if (form) m.form = form;
  const ingredients = material.all(PHARM, 'ingredient').filter((i) => i.attr('classCode') === 'ACTI');
  if (ingredients.length) {
    m.ingredient = ingredients.map((ing) => {
      const substance = ing.child(PHARM, 'ingredientSubstance');
      const item: CodeableConcept = conceptOf(substance?.child(PHARM, 'code')) ?? {};
      const sName = textOf(substance?.child(PHARM, 'name'));
      if (sName) item.text = sName;
      const q = ing.child(PHARM, 'quantity');
      const num = pqOf(q?.child(V3, 'numerator'));
      const den = pqOf(q?.child(V3, 'denominator'));
      const strengthRatio: Ratio | undefined = num ? { numerator: num, ...(den ? { denominator: den } : {}) } : undefined;
      return { itemCodeableConcept: item, isActive: true, ...(strengthRatio ? { strength: strengthRatio } : {}) };
    });
  }
  const content = material.child(PHARM, 'asContent');
  const size = pqOf(content?.child(PHARM, 'quantity'));
  if (size) m.amount = { numerator: size, denominator: { value: 1 } };
  return m;
}

/** The requested number of packages (entryRelationship COMP / supply RQO / quantity). */
function readRequestedPackages(sbadm: XmlElement): Quantity | undefined {
  const supply = sbadm
    .all(V3, 'entryRelationship')
    .map((e) => e.child(V3, 'supply'))
    .find((s) => s?.attr('moodCode') === 'RQO');
  const q = pqOf(supply?.child(V3, 'quantity'));
  if (!q) return undefined;
  if (!(q.value! > 0) || q.value! > 10_000) throw invalidValue(supply!.child(V3, 'quantity')!, 'the prescribed quantity is not plausible');
  return isPackageQuantity(q) ? { value: q.value!, unit: 'package', system: 'http://unitsofmeasure.org', code: '1' } : q;
}

/** Substitution is allowed unless the SUBST observation says N (ART-DECOR 3.3.2). */
function substitutionAllowed(sbadm: XmlElement): boolean {
  const obs = sbadm
    .all(V3, 'entryRelationship')
    .map((e) => e.child(V3, 'observation'))
    .find((o) => o?.child(V3, 'code')?.attr('code') === 'SUBST');
  return obs?.child(V3, 'value')?.attr('code') !== 'N';
}

/** PINSTRUCT / FINSTRUCT text: literal, or the section narrative element the reference points at. */
function instruction(sbadm: XmlElement, doc: XmlElement, code: 'PINSTRUCT' | 'FINSTRUCT'): string | undefined {
  const act = sbadm
    .all(V3, 'entryRelationship')
    .map((e) => e.child(V3, 'act'))
    .find((a) => a?.child(V3, 'code')?.attr('code') === code);
  return narrativeText(act?.child(V3, 'text'), doc);
}

function narrativeText(text: XmlElement | undefined, doc: XmlElement): string | undefined {
  if (!text) return undefined;
  const ref = text.child(V3, 'reference')?.attr('value');
  if (!ref) return textOf(text, 2000);
  if (!ref.startsWith('#')) return undefined;
  const target = findById(doc, ref.slice(1), 0);
  return target ? textOf(target, 2000) : undefined;
}

function findById(el: XmlElement, id: string, depth: number): XmlElement | undefined {
  if (depth > 40) return undefined;
  if (el.attr('ID') === id) return el;
  for (const c of el.children) {
    const found = findById(c, id, depth + 1);
    if (found) return found;
  }
  return undefined;
}

function readDosage(sbadm: XmlElement, doc: XmlElement): Dosage | undefined {
  const d: Dosage = {};
  const patientText = instruction(sbadm, doc, 'PINSTRUCT');
  if (patientText) d.patientInstruction = patientText;
  const literal = sbadm.child(V3, 'text');
  const text = literal && !literal.child(V3, 'reference') ? textOf(literal, 2000) : undefined;
  if (text) d.text = text;
  const route = conceptOf(sbadm.child(V3, 'routeCode'));
  if (route) d.route = route;
  const times = sbadm.all(V3, 'effectiveTime');
  const repeat: NonNullable<NonNullable<Dosage['timing']>['repeat']> = {};
  for (const t of times) {
    const type = t.attr('type', XSI)?.replace(/^.*:/, '');
    if (type === 'IVL_TS') {
      const start = tsOf(t.child(V3, 'low'));
      const end = tsOf(t.child(V3, 'high'));
      if (start || end) repeat.boundsPeriod = { ...(start ? { start } : {}), ...(end ? { end } : {}) };
    } else if (type === 'PIVL_TS') {
      const period = t.child(V3, 'period');
      const unit = period?.attr('unit');
      if (period?.attr('value') && unit && UNITS_OF_TIME[unit]) {
        repeat.frequency = 1;
        repeat.period = decimal(period, period.attr('value')!);
        repeat.periodUnit = UNITS_OF_TIME[unit];
      }
    }
  }
  if (Object.keys(repeat).length) d.timing = { repeat };
  const dose = sbadm.child(V3, 'doseQuantity');
  if (dose && !dose.attr('nullFlavor')) {
    const low = pqOf(dose.child(V3, 'low'));
    const high = pqOf(dose.child(V3, 'high'));
    const single = pqOf(dose);
    if (single) d.doseAndRate = [{ doseQuantity: single }];
    else if (low && high && low.value === high.value) d.doseAndRate = [{ doseQuantity: low }];
    else if (low || high) d.doseAndRate = [{ doseRange: { ...(low ? { low } : {}), ...(high ? { high } : {}) } }];
  }
  return Object.keys(d).length ? d : undefined;
}
