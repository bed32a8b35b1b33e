// eHDSI eDispensation CDA (template 1.3.6.1.4.1.12559.11.10.1.3.1.1.2, LOINC 60593-1) -> Dispensation.
// One document = one dispensed product (one supply entry). The prescription is named twice, in the
// header inFulfillmentOf/order/id and in the supply's REFR substanceAdministration/id; they must agree.
// Presence of the COMP act with code SUBST means the product was substituted (as the DK connector
// reads it). Top-level codes are MyHealth@EU codes; national codes may sit in nested translations.
import { fail, ok, type Result, warning } from '../fhir/outcomes.ts';
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { CODE_SYSTEM, canonicalSystem } from '../fhir/identifiers.ts';
import { parseXml, type XmlParseOptions } from '../xml/parse.ts';
import type { XmlElement } from '../xml/element.ts';
import { messageError } from '../xml/errors.ts';
import { VARENUMMER_SYSTEM } from './codes.ts';
import type { Coded, Dispensation, DispensedProduct, IdentifierValue, Organisation, PackageInfo, Person, Quantity } from './model.ts';
import { MAX_QUANTITY, tsToIso } from './values.ts';
import { decimal, invalidValue, readResult, required } from '../xml/read.ts';
import { bounded, boundedText, descend } from './xml-text.ts';

const V3 = 'urn:hl7-org:v3';
const PHARM = 'urn:hl7-org:pharm';

export const EHDSI_ED_TEMPLATE = '1.3.6.1.4.1.12559.11.10.1.3.1.1.2';
export const EHDSI_EP_TEMPLATE = '1.3.6.1.4.1.12559.11.10.1.3.1.1.1';
const ED_SECTION_TEMPLATE = '1.3.6.1.4.1.12559.11.10.1.3.1.2.2';
const ED_SUPPLY_TEMPLATE = '1.3.6.1.4.1.12559.11.10.1.3.1.3.3';
const LOINC_OID = '2.16.840.1.113883.6.1';

/** Code-system OIDs of the MyHealth@EU catalogue, as FHIR system URIs. */
const OID_TO_URI: Record<string, string> = {
  '0.4.0.127.0.16.1.1.2.1': 'http://standardterms.edqm.eu',
  '2.16.840.1.113883.6.73': CODE_SYSTEM.atc,
  '2.16.840.1.113883.6.8': 'http://unitsofmeasure.org',
  '2.16.840.1.113883.6.1': CODE_SYSTEM.loinc,
  '2.16.840.1.113883.6.96': CODE_SYSTEM.snomed,
  '1.3.160': 'https://www.gs1.org/gtin',
};

export interface ParseCdaOptions extends XmlParseOptions {
  /**
   * Maps an OID (identifier root or code system) to the FHIR system Helsebro uses for it, for example
   * the Norwegian prescription-id root to PRESCRIPTION_ID_SYSTEM or a varenummer OID to VARENUMMER_SYSTEM.
   * Return undefined to fall back to the catalogue table, then to `urn:oid:<oid>`.
   */
  systemForOid?: (oid: string) => string | undefined;
  /** The NCP delivered this document as a discard (XDS class DISCARD-60593-1) of the dispensation it describes. */
  discard?: boolean;
}

interface Ctx {
  systemFor: (oid: string) => string;
  warnings: OperationOutcomeIssue[];
}

export function parseEhdsiDispensationCda(xml: Uint8Array | string, opts: ParseCdaOptions = {}): Result<Dispensation> {
  const parsed = parseXml(xml, opts);
  if (!parsed.ok) return parsed;
  const ctx: Ctx = {
    systemFor: (oid) => opts.systemForOid?.(oid) ?? OID_TO_URI[oid] ?? canonicalSystem(`urn:oid:${oid}`),
    warnings: [],
  };
  const read = readResult(() => readDocument(parsed.value.root, ctx, opts.discard === true));
  return read.ok ? ok(read.value, ctx.warnings) : fail(read.problem);
}

function readDocument(doc: XmlElement, ctx: Ctx, discard: boolean): Dispensation {
  if (!doc.is(V3, 'ClinicalDocument')) {
    throw messageError(400, 'invalid', 'wrong-root', `Expected an HL7 CDA ClinicalDocument (urn:hl7-org:v3), got ${doc.name}`, doc.path);
  }
  checkDocumentType(doc, ctx);

  const supply = findSupply(doc, ctx);
  const prescription = readPrescriptionId(doc, supply, ctx);
  const identifier = requiredII(supply, 'id', ctx);
  const performer = supply.child(V3, 'performer');
  // author is 1..*: the first one is the dispenser when the supply names no performer.
  const author = doc.child(V3, 'author')?.child(V3, 'assignedAuthor');
  const assigned = performer?.child(V3, 'assignedEntity') ?? author;

  const recorded = tsValue(doc.child(V3, 'effectiveTime'));
  const whenHandedOver = tsValue(performer?.child(V3, 'time')) ?? recorded;
  if (!whenHandedOver) throw messageError(400, 'required', 'missing-element', 'Neither supply/performer/time nor the document effectiveTime gives the dispensing time', supply.pathOf('performer'));

  const refr = supply.all(V3, 'entryRelationship').find((e) => e.attr('typeCode') === 'REFR')?.child(V3, 'substanceAdministration');
  const original = refr && descend(refr, [V3, 'consumable'], [V3, 'manufacturedProduct'], [V3, 'manufacturedMaterial']);
  const substituted = supply.all(V3, 'entryRelationship').some((e) => {
    const act = e.child(V3, 'act');
    return e.attr('typeCode') === 'COMP' && act?.child(V3, 'code')?.attr('code') === 'SUBST';
  });
  const substAct = supply.all(V3, 'entryRelationship').map((e) => e.child(V3, 'act')).find((a) => a?.child(V3, 'code')?.attr('code') === 'SUBST');

  const material = descend(supply, [V3, 'product'], [V3, 'manufacturedProduct'], [V3, 'manufacturedMaterial']);
  if (!material) throw messageError(400, 'required', 'missing-element', `${supply.path}.product.manufacturedProduct.manufacturedMaterial is missing`, supply.pathOf('product'));

  const d: Dispensation = {
    source: 'ehdsi-cda',
    status: discard ? 'discarded' : 'completed',
    identifier,
    prescription: { identifier: prescription },
    whenHandedOver,
    product: readMaterial(material, ctx),
    quantity: readSupplyQuantity(supply),
    substitution: { substituted },
    pharmacy: readOrganisation(assigned?.child(V3, 'representedOrganization'), ctx),
  };
  if (discard) d.discardOf = identifier;
  if (recorded) d.recorded = recorded;
  const patient = readPatient(doc, ctx);
  if (patient) d.patient = patient;
  const pharmacist = assigned && readPerson(assigned, [V3, 'assignedPerson'], ctx);
  if (pharmacist) d.pharmacist = pharmacist;
  if (substituted) {
    const reason = substAct && narrative(substAct.child(V3, 'text'));
    if (reason) d.substitution.reason = reason;
    if (original) d.substitution.originalProduct = readMaterial(original, ctx);
  }
  const dosage = refr && narrative(refr.child(V3, 'text'));
  if (dosage) d.dosageText = dosage;
  return d;
}

function checkDocumentType(doc: XmlElement, ctx: Ctx): void {
  const templates = doc.all(V3, 'templateId').map((t) => t.attr('root'));
  const code = doc.child(V3, 'code');
  if (templates.includes(EHDSI_EP_TEMPLATE) || code?.attr('code') === '57833-6') {
    throw messageError(400, 'invalid', 'unsupported-message-type', 'This is an eHDSI ePrescription (57833-6), not an eDispensation', doc.path);
  }
  if (code?.attr('code') !== '60593-1' || code.attr('codeSystem') !== LOINC_OID) {
    throw messageError(400, 'invalid', 'unsupported-message-type', 'ClinicalDocument.code must be LOINC 60593-1 (eDispensation)', code?.path ?? doc.pathOf('code'));
  }
  if (!templates.includes(EHDSI_ED_TEMPLATE)) {
    ctx.warnings.push(warning('informational', `The eDispensation templateId ${EHDSI_ED_TEMPLATE} is missing`, { expression: [doc.pathOf('templateId')] }));
  }
}

/** The one supply entry; a document with more than one dispensed product is refused. */
function findSupply(doc: XmlElement, ctx: Ctx): XmlElement {
  const body = descend(doc, [V3, 'component'], [V3, 'structuredBody']);
  if (!body) throw messageError(400, 'required', 'missing-element', 'component/structuredBody is missing', doc.pathOf('component'));
  const supplies = body
    .all(V3, 'component')
    .flatMap((c) => c.all(V3, 'section'))
    .filter((s) => s.all(V3, 'templateId').some((t) => t.attr('root') === ED_SECTION_TEMPLATE) || s.child(V3, 'code')?.attr('code') === '60590-7')
    .flatMap((s) => s.all(V3, 'entry'))
    .map((e) => e.child(V3, 'supply'))
    .filter((s): s is XmlElement => s !== undefined);
  if (supplies.length === 0) throw messageError(400, 'required', 'missing-element', 'The dispensed-medicine section (60590-7) has no supply entry', body.path);
  if (supplies.length > 1) throw messageError(400, 'invalid', 'unexpected-element', 'An eDispensation carries exactly one dispensed product; this one has several supply entries', body.path);
  const supply = supplies[0]!;
  if (supply.attr('moodCode') !== 'EVN') throw invalidValue(supply, 'a dispensation is a supply in moodCode EVN');
  if (!supply.all(V3, 'templateId').some((t) => t.attr('root') === ED_SUPPLY_TEMPLATE)) {
    // The schematron requires it, but the content is unambiguous without it: accept, and say so.
    ctx.warnings.push(warning('informational', `The supply templateId ${ED_SUPPLY_TEMPLATE} is missing`, { expression: [supply.path] }));
  }
  return supply;
}

function readPrescriptionId(doc: XmlElement, supply: XmlElement, ctx: Ctx): IdentifierValue {
  const order = descend(doc, [V3, 'inFulfillmentOf'], [V3, 'order']);
  const fromHeader = order ? requiredII(order, 'id', ctx) : undefined;
  const refr = supply.all(V3, 'entryRelationship').find((e) => e.attr('typeCode') === 'REFR')?.child(V3, 'substanceAdministration');
  const fromEntry = refr?.child(V3, 'id') ? requiredII(refr, 'id', ctx) : undefined;
  if (fromHeader && fromEntry && (fromHeader.value !== fromEntry.value || fromHeader.system !== fromEntry.system)) {
    throw messageError(400, 'invalid', 'invalid-value', 'inFulfillmentOf/order/id and the REFR substanceAdministration/id name different prescriptions', refr!.pathOf('id'));
  }
  const id = fromHeader ?? fromEntry;
  if (!id) throw messageError(400, 'required', 'missing-element', 'The prescription id (inFulfillmentOf/order/id) is missing', doc.pathOf('inFulfillmentOf'));
  return id;
}

// ---- data types ----

/** II -> identifier: root + extension, or a root that is itself the identifier. */
function readII(el: XmlElement, ctx: Ctx): IdentifierValue | undefined {
  if (el.attr('nullFlavor')) return undefined;
  const root = el.attr('root')?.trim();
  const ext = el.attr('extension')?.trim();
  if (!root) return undefined;
  bounded(root, 128, el.path);
  if (ext) bounded(ext, 256, el.path);
  if (!/^([0-2](\.(0|[1-9]\d*))+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$/.test(root)) {
    throw invalidValue(el, `root "${root.slice(0, 40)}" is neither an OID nor a UUID`);
  }
  if (!ext) return { system: 'urn:ietf:rfc:3986', value: /^\d/.test(root) && root.includes('.') ? `urn:oid:${root}` : `urn:uuid:${root.toLowerCase()}` };
  return { system: ctx.systemFor(root), value: ext };
}

function requiredII(parent: XmlElement, name: string, ctx: Ctx): IdentifierValue {
  const el = required(parent, V3, name);
  const id = readII(el, ctx);
  if (!id) throw messageError(400, 'required', 'missing-element', `${el.path} has no usable root/extension`, el.path);
  return id;
}

function readCode(el: XmlElement | undefined, ctx: Ctx): Coded | undefined {
  if (!el || el.attr('nullFlavor')) return undefined;
  const code = el.attr('code')?.trim();
  const system = el.attr('codeSystem')?.trim();
  if (!code || !system) return undefined;
  bounded(code, 128, el.path);
  bounded(system, 128, el.path);
  const display = el.attr('displayName')?.trim();
  const c: Coded = { system: ctx.systemFor(system), code };
  if (display) c.display = display.slice(0, 500);
  return c;
}

/** A code and every translation nested under it (any namespace: senders re-bind the pharm prefix). */
function readCodeWithTranslations(el: XmlElement | undefined, ctx: Ctx, depth = 0): Coded[] {
  if (!el || depth > 5) return [];
  const own = readCode(el, ctx);
  const nested = el.children.filter((c) => c.name === 'translation').flatMap((t) => readCodeWithTranslations(t, ctx, depth + 1));
  return own ? [own, ...nested] : nested;
}

function tsValue(el: XmlElement | undefined): string | undefined {
  const v = el?.attr('value');
  if (!el || !v) return undefined;
  const iso = tsToIso(v);
  if (!iso) throw invalidValue(el, `"${v.slice(0, 30)}" is not an HL7 timestamp`);
  return iso;
}

function narrative(el: XmlElement | undefined): string | undefined {
  if (!el || el.child(V3, 'reference')) return undefined;
  const text = el.text.replace(/\s+/g, ' ').trim();
  return text ? text.slice(0, 2000) : undefined;
}

// ---- parts ----

function readSupplyQuantity(supply: XmlElement): Quantity {
  const q = required(supply, V3, 'quantity');
  if (q.attr('nullFlavor')) throw messageError(400, 'required', 'missing-element', `${q.path}: the dispensed quantity is required`, q.path);
  const value = decimal(q, q.attr('value')?.trim() ?? '');
  if (value <= 0) throw invalidValue(q, 'the dispensed quantity must be positive');
  if (value > MAX_QUANTITY) throw invalidValue(q, `${value} is not a plausible number of packs`);
  const unit = q.attr('unit')?.trim() || '1';
  return unit === '1' ? { value, unit, system: 'http://unitsofmeasure.org', code: '1' } : { value, unit };
}

function readMaterial(material: XmlElement, ctx: Ctx): DispensedProduct {
  const name = boundedText(material, V3, 'name', 500);
  if (!name) throw messageError(400, 'required', 'missing-element', `${material.pathOf('name')}: the product name is required`, material.pathOf('name'));
  const codes = readCodeWithTranslations(material.child(V3, 'code'), ctx);
  const p: DispensedProduct = { name, codes };
  const strength = boundedText(material, PHARM, 'desc', 200);
  if (strength) p.strength = strength;
  const form = readCode(material.child(PHARM, 'formCode'), ctx);
  if (form) p.form = form;
  const atc = material
    .all(PHARM, 'asSpecializedKind')
    .filter((k) => k.attr('classCode') === 'GRIC')
    .map((k) => readCode(descend(k, [PHARM, 'generalizedMaterialKind'], [PHARM, 'code']), ctx))
    .find((c) => c?.system === CODE_SYSTEM.atc);
  if (atc) p.atc = atc;
  const pack = readPackage(material, ctx, p.codes);
  if (pack) p.package = pack;
  const varenummer = p.codes.find((c) => c.system === VARENUMMER_SYSTEM)?.code;
  if (varenummer) p.varenummer = varenummer;
  return p;
}

/** asContent chain: outermost quantity is the pack content; the innermost container is the pack itself. */
function readPackage(material: XmlElement, ctx: Ctx, codes: Coded[]): PackageInfo | undefined {
  let content = material.child(PHARM, 'asContent');
  if (!content) return undefined;
  const info: PackageInfo = {};
  const q = content.child(PHARM, 'quantity');
  if (q && !q.attr('nullFlavor') && q.attr('value') !== undefined) {
    const value = decimal(q, q.attr('value')?.trim() ?? '');
    const original = q.child(V3, 'translation')?.child(V3, 'originalText')?.text;
    const unit = q.attr('unit')?.trim() || '1';
    info.size = unit === '1' && original ? { value, unit: original.slice(0, 60) } : { value, unit };
  }
  for (let level = 0; content && level < 3; level++) {
    const container = content.child(PHARM, 'containerPackagedProduct');
    if (!container) break;
    codes.push(...readCodeWithTranslations(container.child(PHARM, 'code'), ctx));
    const name = boundedText(container, PHARM, 'name', 500);
    if (name) info.description = name.replace(/\s+/g, ' ');
    const form = readCode(container.child(PHARM, 'formCode'), ctx);
    if (form) info.form = form;
    content = container.child(PHARM, 'asContent');
  }
  return info.size || info.description || info.form ? info : undefined;
}

function readPerson(parent: XmlElement, personStep: [string, string], ctx: Ctx): Person | undefined {
  const identifiers = parent.all(V3, 'id').map((i) => readII(i, ctx)).filter((i): i is IdentifierValue => i !== undefined);
  const name = descend(parent, personStep, [V3, 'name']);
  const p: Person = { given: [], identifiers };
  if (name && !name.attr('nullFlavor')) {
    const family = name.all(V3, 'family').map((f) => f.text).filter(Boolean).join(' ');
    if (family) p.family = family.slice(0, 200);
    p.given = name.all(V3, 'given').map((g) => g.text.slice(0, 200)).filter(Boolean).slice(0, 10);
    if (!family && !p.given.length && name.text) p.family = name.text.slice(0, 200);
  }
  return p.family || p.given.length || p.identifiers.length ? p : undefined;
}

function readPatient(doc: XmlElement, ctx: Ctx): Person | undefined {
  const role = descend(doc, [V3, 'recordTarget'], [V3, 'patientRole']);
  return role ? readPerson(role, [V3, 'patient'], ctx) : undefined;
}

function readOrganisation(org: XmlElement | undefined, ctx: Ctx): Organisation {
  if (!org) {
    ctx.warnings.push(warning('informational', 'The dispensing pharmacy (representedOrganization) is not given', { expression: ['ClinicalDocument.supply.performer'] }));
    return { identifiers: [] };
  }
  const o: Organisation = { identifiers: org.all(V3, 'id').map((i) => readII(i, ctx)).filter((i): i is IdentifierValue => i !== undefined) };
  const name = org.child(V3, 'name');
  if (name && !name.attr('nullFlavor') && name.text) o.name = name.text.slice(0, 300);
  const country = org
    .all(V3, 'addr')
    .map((a) => a.child(V3, 'country')?.text)
    .find((c) => c && /^[A-Za-z]{2}$/.test(c));
  if (country) o.country = country.toUpperCase();
  return o;
}
