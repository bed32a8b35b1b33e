// HL7 Europe MPD MedicationDispense (MedicationDispense-eu-mpd) -> Dispensation.
// The NCP posts one resource; what it references (Medication, PractitionerRole, Organization, Patient,
// the MedicationRequest) is either contained or resolvable through `opts.resolve` (for example from a
// Bundle sent alongside). Shape faults are 400s with locations; business refusals (statuses Helsebro
// does not take, several prescriptions in one dispense) are 422s with stable codes.
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { validateBaseResource } from '../fhir/base-validation.ts';
import { badRequest, fail, ok, unprocessable, type Result } from '../fhir/outcomes.ts';
import { CODE_SYSTEM, PRESCRIPTION_ID_SYSTEM, canonicalSystem } from '../fhir/identifiers.ts';
import { checkCoding, DISPENSE_FINGERPRINT_SYSTEM, VARENUMMER_SYSTEM } from './codes.ts';
import { dispensationFingerprint } from './identity.ts';
import { findHostileStructure, isObject, IssueLog, readArray, readObject, readString, type Json } from './json-read.ts';
import type {
  Coded,
  Dispensation,
  DispensationStatus,
  DispensedProduct,
  IdentifierValue,
  Organisation,
  Person,
  PrescriptionRef,
  Quantity,
  Substitution,
} from './model.ts';
import { MAX_QUANTITY, isValidDateTime } from './values.ts';
import { MPD_EXTENSION } from '../fhir/mpd.ts';

export interface ParseMpdOptions {
  /** Resolves a non-contained reference (`Medication/x`, `urn:uuid:...`) to a resource, if the caller has it. */
  resolve?: (reference: string) => unknown;
}

const ROOT = 'MedicationDispense';
const EXT = {
  recorded: 'http://hl7.org/fhir/5.0/StructureDefinition/extension-MedicationDispense.recorded',
  renderedDosage: 'http://hl7.org/fhir/5.0/StructureDefinition/extension-MedicationDispense.renderedDosageInstruction',
  productName: MPD_EXTENSION.productName,
  classification: MPD_EXTENSION.classification,
} as const;

const FHIR_DISPENSE_STATUSES = new Set([
  'preparation', 'in-progress', 'cancelled', 'on-hold', 'completed', 'entered-in-error', 'stopped', 'declined', 'unknown',
]);

interface Ctx {
  log: IssueLog;
  contained: Map<string, Json>;
  resolve: (reference: string) => unknown;
}

export function parseMpdDispense(json: unknown, opts: ParseMpdOptions = {}): Result<Dispensation> {
  const hostile = findHostileStructure(json, ROOT);
  if (hostile) return fail(badRequest(`Refused: ${hostile.reason}`, { expression: [hostile.path] }));
  if (!isObject(json) || json.resourceType !== 'MedicationDispense') {
    const got = isObject(json) && typeof json.resourceType === 'string' ? json.resourceType : typeof json;
    return fail(badRequest(`Expected a MedicationDispense resource, got ${got.slice(0, 64)}`, { expression: ['resourceType'] }));
  }

  const log = new IssueLog();
  const ctx: Ctx = { log, contained: readContained(log, json), resolve: opts.resolve ?? (() => undefined) };

  const statusRaw = readString(log, json, 'status', ROOT, { required: true, max: 32 });
  if (statusRaw !== undefined && !FHIR_DISPENSE_STATUSES.has(statusRaw)) {
    log.error('code-invalid', `MedicationDispense.status '${statusRaw}' is not a FHIR dispense status`, `${ROOT}.status`);
  }
  const prescriptions = readArray(log, json, 'authorizingPrescription', ROOT, 10);
  const identifier = readDispenseIdentifier(ctx, json);
  const prescription = prescriptions.length === 1 ? readPrescription(ctx, prescriptions[0], `${ROOT}.authorizingPrescription[0]`) : undefined;
  if (json.authorizingPrescription === undefined || (Array.isArray(json.authorizingPrescription) && !prescriptions.length)) log.error('required', 'MedicationDispense.authorizingPrescription is required', `${ROOT}.authorizingPrescription`);
  const product = readMedicationChoice(ctx, json, ROOT);
  const quantity = readQuantity(ctx, json, statusRaw === 'completed');
  const daysSupply = readDaysSupply(ctx, json);
  const recorded = readRecorded(ctx, json);
  const whenHandedOver = readWhen(ctx, json, recorded);
  const { pharmacy, pharmacist } = readPerformers(ctx, json);
  const patient = readSubject(ctx, json);
  const substitution = readSubstitution(ctx, json, prescription?.originalProduct);
  const dosageText = readDosage(ctx, json);

  if (log.errors.length) return fail({ status: 400, issues: log.errors });
  // Elements that are not R4 at all (a misspelt or invented key) are malformed input, like a wrong type.
  const invalid = validateBaseResource(json as never).filter((i) => !unvalidatedContained(json, i)).map((i): OperationOutcomeIssue => ({ ...i, code: 'invalid', diagnostics: `${i.expression?.[0] ?? ROOT}: ${i.diagnostics ?? 'invalid'}` }));
  if (invalid.length) return fail({ status: 400, issues: invalid.slice(0, 50) });
  const dropped = uncarriedElements(json);
  if (dropped.length) return fail({ status: 422, issues: dropped });

  // Business refusals come after the shape is known to be sound.
  if (statusRaw !== 'completed' && statusRaw !== 'entered-in-error') {
    return fail(
      unprocessable(`MedicationDispense.status '${statusRaw}' is not accepted: send completed, or entered-in-error to withdraw`, {
        expression: [`${ROOT}.status`],
        details: [checkCoding('DISP-STATUS-UNSUPPORTED')],
      }),
    );
  }
  if (prescriptions.length > 1) {
    return fail(
      unprocessable('A dispensation must reference exactly one prescription item; send one MedicationDispense per item', {
        expression: [`${ROOT}.authorizingPrescription`],
        details: [checkCoding('DISP-MULTIPLE-PRESCRIPTIONS')],
      }),
    );
  }
  const status: DispensationStatus = statusRaw;
  if (status === 'entered-in-error' && !identifier) {
    return fail(
      badRequest('A withdrawn (entered-in-error) MedicationDispense must carry the identifier of the dispensation it withdraws', {
        expression: [`${ROOT}.identifier`],
      }),
    );
  }

  const d: Dispensation = {
    source: 'fhir-mpd',
    status,
    identifier: identifier ?? { system: DISPENSE_FINGERPRINT_SYSTEM, value: '' },
    prescription: prescription!.ref,
    whenHandedOver: whenHandedOver!,
    product: product!,
    quantity: quantity!,
    substitution,
    pharmacy,
  };
  if (recorded) d.recorded = recorded;
  if (status === 'entered-in-error') d.discardOf = identifier!;
  if (patient) d.patient = patient;
  if (pharmacist) d.pharmacist = pharmacist;
  if (dosageText) d.dosageText = dosageText;
  if (daysSupply) d.daysSupply = daysSupply;

  if (!identifier) {
    // Without an identifier a retry can only be recognised by its content.
    d.identifier = { system: DISPENSE_FINGERPRINT_SYSTEM, value: dispensationFingerprint(d) };
    log.warn('MedicationDispense has no identifier; retries are recognised by content only', `${ROOT}.identifier`);
  }
  return ok(d, log.warnings);
}

/**
 * The R4 definitions loaded are those of the resources the EU outputs are made of; a contained Location
 * (where the pharmacy is named that way) has none, so its issues ("Invalid resource type") are not the
 * sender's fault. The parser reads what it needs from it defensively, as from every contained resource.
 */
function unvalidatedContained(json: Json, i: OperationOutcomeIssue): boolean {
  const m = /^MedicationDispense\.contained\[(\d+)\]/.exec(i.expression?.[0] ?? '');
  const r = m && Array.isArray(json.contained) ? json.contained[Number(m[1])] : undefined;
  return isObject(r) && r.resourceType === 'Location';
}

// ---- what the bridge carries ----

/**
 * The MedicationDispense's own elements that reach the stored dispensation and what is forwarded (the M10
 * to the prescription chain, or the EU eDispensation to the NCP). `id`, `meta` and `text` are the server's
 * on create: the id is assigned, the narrative is rendered from the data kept. The resources it references
 * (contained Patient, Medication, prescriber) are read for what identifies them, as any reference target.
 */
const CARRIED = new Set([
  'resourceType', 'id', 'meta', 'text', 'contained', 'extension', 'identifier', 'status', 'medicationCodeableConcept', 'medicationReference',
  'subject', 'performer', 'location', 'authorizingPrescription', 'quantity', 'daysSupply', 'whenHandedOver', 'dosageInstruction', 'substitution',
]);
const CARRIED_META = new Set(['profile', 'versionId', 'lastUpdated', 'source']);
const CARRIED_EXTENSIONS = new Set<string>([EXT.recorded, EXT.renderedDosage]);
// Only the dosage text reaches the M10 (DosVeiledEnkel); a structured dosage would be lost.
const CARRIED_DOSAGE = new Set(['text', 'sequence']);
const CARRIED_SUBSTITUTION = new Set(['wasSubstituted', 'type', 'reason']);

/**
 * Accepted data is never lost: an element the bridge would drop is refused (422, each named) rather than
 * answered with a 201 that silently forgets it. The sender can send it again without, knowing what the
 * Norwegian side will not see; and since everything accepted is in the dispensation, the idempotency
 * fingerprint covers it, so a resend that differs in it is the 409 it should be.
 */
function uncarriedElements(json: Json): OperationOutcomeIssue[] {
  const out: OperationOutcomeIssue[] = [];
  const refuse = (path: string, why = 'neither the M10 to the Norwegian prescription chain nor the eDispensation to the NCP has a place for it') =>
    out.push({
      severity: 'error',
      code: 'not-supported',
      diagnostics: `${path} cannot be forwarded to the Norwegian prescription chain: ${why}, and Helsebro does not keep what it cannot forward. Send the dispensation without it`,
      expression: [path],
      details: { coding: [checkCoding('DISP-ELEMENT-NOT-CARRIED')] },
    });
  for (const key of Object.keys(json)) if (!CARRIED.has(key)) refuse(`${ROOT}.${key}`);
  if (isObject(json.meta)) for (const key of Object.keys(json.meta)) if (!CARRIED_META.has(key)) refuse(`${ROOT}.meta.${key}`, 'only the profile is kept in meta');
  if (Array.isArray(json.extension)) {
    json.extension.forEach((e, i) => {
      if (isObject(e) && !CARRIED_EXTENSIONS.has(String(e.url))) refuse(`${ROOT}.extension[${i}]`, `the extension ${String(e.url).slice(0, 200)} is not one Helsebro reads`);
    });
  }
  if (Array.isArray(json.dosageInstruction)) {
    json.dosageInstruction.forEach((d, i) => {
      if (isObject(d)) for (const key of Object.keys(d)) if (!CARRIED_DOSAGE.has(key)) refuse(`${ROOT}.dosageInstruction[${i}].${key}`, 'only the dosage text reaches the M10 (DosVeiledEnkel); state the dosage in text');
    });
  }
  if (isObject(json.substitution)) for (const key of Object.keys(json.substitution)) if (!CARRIED_SUBSTITUTION.has(key)) refuse(`${ROOT}.substitution.${key}`);
  return out;
}

// ---- references ----

function readContained(log: IssueLog, json: Json): Map<string, Json> {
  const map = new Map<string, Json>();
  readArray(log, json, 'contained', ROOT, 50).forEach((r, i) => {
    const at = `${ROOT}.contained[${i}]`;
    if (!isObject(r) || typeof r.resourceType !== 'string') return log.error('invalid', `${at} must be a resource`, at);
    if (typeof r.id !== 'string' || !r.id) return log.error('required', `${at}.id is required for a contained resource`, `${at}.id`);
    map.set(`#${r.id}`, r);
  });
  return map;
}

interface Resolved {
  resource?: Json;
  display?: string;
  identifier?: IdentifierValue;
  reference?: string;
}

/** Follows a Reference to a contained or resolvable resource, keeping display and logical identifier. */
function follow(ctx: Ctx, ref: unknown, path: string, expectTypes: string[]): Resolved | undefined {
  if (!isObject(ref)) return ctx.log.error('invalid', `${path} must be a Reference`, path);
  const out: Resolved = {};
  const display = readString(ctx.log, ref, 'display', path, { max: 500 });
  if (display) out.display = display;
  const ident = readObject(ctx.log, ref, 'identifier', path);
  if (ident) {
    const id = readIdentifier(ctx, ident, `${path}.identifier`);
    if (id) out.identifier = id;
  }
  const reference = readString(ctx.log, ref, 'reference', path, { max: 500 });
  if (reference) {
    out.reference = reference;
    const target = reference.startsWith('#') ? ctx.contained.get(reference) : safeResolve(ctx, reference);
    if (reference.startsWith('#') && !target) return ctx.log.error('not-found', `${path}.reference '${reference}' names no contained resource`, `${path}.reference`);
    if (target !== undefined) {
      if (!isObject(target) || typeof target.resourceType !== 'string') {
        return ctx.log.error('invalid', `${path}.reference does not resolve to a resource`, `${path}.reference`);
      }
      if (!expectTypes.includes(target.resourceType)) {
        return ctx.log.error('invalid', `${path} must reference ${expectTypes.join(' or ')}, not ${target.resourceType}`, `${path}.reference`);
      }
      // A resolved (non-contained) resource is untrusted input too.
      const hostile = findHostileStructure(target, `${path}.reference`);
      if (hostile) return ctx.log.error('security', `Refused: ${hostile.reason}`, hostile.path);
      out.resource = target;
    }
  }
  return out;
}

function safeResolve(ctx: Ctx, reference: string): unknown {
  try {
    return ctx.resolve(reference);
  } catch {
    return undefined;
  }
}

/** `MedicationRequest/x` or an absolute URL ending in it. */
function logicalType(reference: string): string | undefined {
  const m = /(?:^|\/)([A-Z][A-Za-z]+)\/[A-Za-z0-9\-.]{1,64}(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/.exec(reference);
  return m?.[1];
}

// ---- elements ----

function readIdentifier(ctx: Ctx, obj: unknown, path: string): IdentifierValue | undefined {
  if (!isObject(obj)) return ctx.log.error('invalid', `${path} must be an Identifier`, path);
  const value = readString(ctx.log, obj, 'value', path, { max: 256 });
  const system = readString(ctx.log, obj, 'system', path, { max: 256 });
  if (!value?.trim()) return undefined;
  return system ? { system: canonicalSystem(system), value: value.trim() } : { value: value.trim() };
}

function readIdentifiers(ctx: Ctx, obj: Json, path: string): IdentifierValue[] {
  const out: IdentifierValue[] = [];
  readArray(ctx.log, obj, 'identifier', path, 20).forEach((x, i) => {
    const id = readIdentifier(ctx, x, `${path}.identifier[${i}]`);
    if (id) out.push(id);
  });
  return out;
}

function readDispenseIdentifier(ctx: Ctx, json: Json): IdentifierValue | undefined {
  const ids = readIdentifiers(ctx, json, ROOT);
  return ids.find((i) => i.system) ?? ids[0];
}

function readPrescription(ctx: Ctx, raw: unknown, path: string): { ref: PrescriptionRef; originalProduct?: DispensedProduct } | undefined {
  const r = follow(ctx, raw, path, ['MedicationRequest']);
  if (!r) return undefined;
  const ref: PrescriptionRef = {};
  let originalProduct: DispensedProduct | undefined;
  if (r.resource) {
    const ids = readIdentifiers(ctx, r.resource, `${path}.reference`);
    const id = ids.find((i) => i.system === PRESCRIPTION_ID_SYSTEM) ?? ids.find((i) => i.system) ?? ids[0];
    if (id) ref.identifier = id;
    // The prescribed product only enriches the substitution record: faults in it are warnings.
    const soft: Ctx = { ...ctx, log: new IssueLog() };
    originalProduct = readMedicationChoice(soft, r.resource, `${path}.reference`, true);
    for (const e of soft.log.errors) ctx.log.warn(`Prescribed product ignored: ${e.diagnostics ?? e.code}`, e.expression?.[0] ?? path);
    ctx.log.warnings.push(...soft.log.warnings);
  }
  if (r.identifier && !ref.identifier) ref.identifier = r.identifier;
  if (r.reference && !r.reference.startsWith('#')) {
    const type = logicalType(r.reference);
    if (type !== 'MedicationRequest' && !r.resource) {
      return ctx.log.error('invalid', `${path}.reference must point at a MedicationRequest`, `${path}.reference`);
    }
    if (type === 'MedicationRequest') ref.reference = r.reference.slice(r.reference.lastIndexOf('MedicationRequest/')).replace(/\/_history\/.*$/, '');
  }
  if (!ref.identifier && !ref.reference) {
    return ctx.log.error('required', `${path} must carry the prescription identifier or a MedicationRequest reference`, path);
  }
  return originalProduct ? { ref, originalProduct } : { ref };
}

function readCodings(ctx: Ctx, cc: Json, path: string): Coded[] {
  const out: Coded[] = [];
  readArray(ctx.log, cc, 'coding', path, 20).forEach((c, i) => {
    const at = `${path}.coding[${i}]`;
    if (!isObject(c)) return ctx.log.error('invalid', `${at} must be a Coding`, at);
    const system = readString(ctx.log, c, 'system', at, { max: 256 });
    const code = readString(ctx.log, c, 'code', at, { max: 128 });
    const display = readString(ctx.log, c, 'display', at, { max: 500 });
    if (system && code) out.push(display ? { system: canonicalSystem(system), code, display } : { system: canonicalSystem(system), code });
  });
  return out;
}

function readCodeableConcept(ctx: Ctx, obj: Json, key: string, path: string): { codes: Coded[]; text?: string } | undefined {
  const cc = readObject(ctx.log, obj, key, path);
  if (!cc) return undefined;
  const at = `${path}.${key}`;
  const text = readString(ctx.log, cc, 'text', at, { max: 500 });
  const codes = readCodings(ctx, cc, at);
  return text ? { codes, text } : { codes };
}

/** medicationCodeableConcept | medicationReference of a dispense or request. */
function readMedicationChoice(ctx: Ctx, obj: Json, path: string, optional = false): DispensedProduct | undefined {
  if (obj.medicationCodeableConcept !== undefined) {
    const cc = readCodeableConcept(ctx, obj, 'medicationCodeableConcept', path);
    if (!cc) return undefined;
    return productFrom(ctx, cc.codes, [], cc.text ?? cc.codes.find((c) => c.display)?.display, `${path}.medicationCodeableConcept`);
  }
  if (obj.medicationReference !== undefined) {
    const at = `${path}.medicationReference`;
    const r = follow(ctx, obj.medicationReference, at, ['Medication']);
    if (!r) return undefined;
    if (r.resource) return readMedication(ctx, r.resource, at, r.display);
    if (r.display) {
      ctx.log.warn('Medication could not be resolved; only its display text is kept', at);
      return productFrom(ctx, [], [], r.display, at);
    }
    return ctx.log.error('not-found', `${at} cannot be resolved: contain the Medication or give a display`, at);
  }
  if (optional) return undefined;
  return ctx.log.error('required', `${path}.medication[x] is required`, `${path}.medication[x]`);
}

function readMedication(ctx: Ctx, med: Json, path: string, fallbackName?: string): DispensedProduct | undefined {
  const code = readCodeableConcept(ctx, med, 'code', path);
  const identifiers = readIdentifiers(ctx, med, path);
  let name: string | undefined;
  const classification: Coded[] = [];
  readArray(ctx.log, med, 'extension', path, 30).forEach((e, i) => {
    const at = `${path}.extension[${i}]`;
    if (!isObject(e)) return ctx.log.error('invalid', `${at} must be an Extension`, at);
    if (e.url === EXT.productName) name = readString(ctx.log, e, 'valueString', at, { max: 500 }) ?? name;
    if (e.url === EXT.classification) classification.push(...(readCodeableConcept(ctx, e, 'valueCodeableConcept', at)?.codes ?? []));
  });
  // A generic (virtual) product may have no name but its classification or substance.
  name ??= code?.text ?? code?.codes.find((c) => c.display)?.display ?? fallbackName ?? classification.find((c) => c.display)?.display;
  const p = productFrom(ctx, [...(code?.codes ?? []), ...classification], identifiers, name, path);
  if (!p) return undefined;
  const form = readCodeableConcept(ctx, med, 'form', path)?.codes[0];
  if (form) p.form = form;
  const strength = readStrength(ctx, med, path);
  if (strength) p.strength = strength;
  const amount = readObject(ctx.log, med, 'amount', path);
  const numerator = amount && readObject(ctx.log, amount, 'numerator', `${path}.amount`);
  const size = numerator && readPlainQuantity(ctx, numerator, `${path}.amount.numerator`);
  if (size) p.package = { size };
  return p;
}

function productFrom(ctx: Ctx, codings: Coded[], identifiers: IdentifierValue[], name: string | undefined, path: string): DispensedProduct | undefined {
  if (!name?.trim()) return ctx.log.error('required', `${path}: the product has no name (productName, code.text or a display)`, path);
  const atc = codings.find((c) => c.system === CODE_SYSTEM.atc);
  const codes = [
    ...codings.filter((c) => c !== atc),
    ...identifiers.filter((i) => i.system).map((i): Coded => ({ system: i.system!, code: i.value })),
  ];
  const seen = new Set<string>();
  const unique = codes.filter((c) => {
    const key = `${c.system}|${c.code}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
  const p: DispensedProduct = { name: name.trim(), codes: unique };
  if (atc) p.atc = atc;
  const varenummer = unique.find((c) => c.system === VARENUMMER_SYSTEM)?.code;
  if (varenummer) p.varenummer = varenummer;
  return p;
}

/** Strength as text from the ingredients ("750 mg/1 Vial"), because the M10 and the store keep it as text. */
function readStrength(ctx: Ctx, med: Json, path: string): string | undefined {
  const parts: string[] = [];
  readArray(ctx.log, med, 'ingredient', path, 20).forEach((ing, i) => {
    const at = `${path}.ingredient[${i}]`;
    if (!isObject(ing)) return ctx.log.error('invalid', `${at} must be an object`, at);
    const strength = readObject(ctx.log, ing, 'strength', at);
    if (!strength) return;
    const num = readObject(ctx.log, strength, 'numerator', `${at}.strength`);
    const den = readObject(ctx.log, strength, 'denominator', `${at}.strength`);
    const n = num && readPlainQuantity(ctx, num, `${at}.strength.numerator`);
    const d = den && readPlainQuantity(ctx, den, `${at}.strength.denominator`);
    if (!n) return;
    const nText = `${n.value} ${unitText(n)}`.trim();
    parts.push(d && !(d.value === 1 && (unitText(d) === '1' || unitText(d) === '')) ? `${nText}/${d.value === 1 ? '' : `${d.value} `}${unitText(d)}` : nText);
  });
  return parts.length ? parts.join(' + ') : undefined;
}

/** UCUM's code ("mg") reads better than the spelled-out unit ("milligram") in a strength text. */
const unitText = (q: Quantity): string => (q.system === 'http://unitsofmeasure.org' && q.code ? q.code : q.unit);

function readPlainQuantity(ctx: Ctx, q: Json, path: string): Quantity | undefined {
  const value = q.value;
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) return ctx.log.error('invalid', `${path}.value must be a number`, `${path}.value`);
  const unit = readString(ctx.log, q, 'unit', path, { max: 64 });
  const code = readString(ctx.log, q, 'code', path, { max: 64 });
  const system = readString(ctx.log, q, 'system', path, { max: 256 });
  const out: Quantity = { value, unit: unit ?? code ?? '' };
  if (code) out.code = code;
  if (system) out.system = system;
  return out;
}

function readQuantity(ctx: Ctx, json: Json, mustBePositive: boolean): Quantity | undefined {
  const q = readObject(ctx.log, json, 'quantity', ROOT, true);
  if (!q) return undefined;
  const at = `${ROOT}.quantity`;
  if (q.value === undefined) return ctx.log.error('required', `${at}.value is required`, `${at}.value`);
  const quantity = readPlainQuantity(ctx, q, at);
  if (!quantity) return undefined;
  if (quantity.value < 0 || (mustBePositive && quantity.value === 0)) {
    ctx.log.errors.push({
      severity: 'error',
      code: 'invalid',
      diagnostics: `${at}.value must be positive`,
      expression: [`${at}.value`],
      details: { coding: [checkCoding('DISP-QUANTITY-INVALID')] },
    });
    return undefined;
  }
  if (quantity.value > MAX_QUANTITY) return ctx.log.error('invalid', `${at}.value ${quantity.value} is not a plausible dispensed quantity`, `${at}.value`);
  return quantity;
}

/** Days are a count of days: the official MPD examples send it, and it is stored and sent on to the NCP. */
function readDaysSupply(ctx: Ctx, json: Json): Quantity | undefined {
  const q = readObject(ctx.log, json, 'daysSupply', ROOT);
  if (!q) return undefined;
  const at = `${ROOT}.daysSupply`;
  const days = readPlainQuantity(ctx, q, at);
  if (!days) return q.value === undefined ? ctx.log.error('required', `${at}.value is required`, `${at}.value`) : undefined;
  if (days.value <= 0 || days.value > MAX_QUANTITY) return ctx.log.error('invalid', `${at}.value ${days.value} is not a plausible number of days`, `${at}.value`);
  return days;
}

function readRecorded(ctx: Ctx, json: Json): string | undefined {
  let recorded: string | undefined;
  readArray(ctx.log, json, 'extension', ROOT, 30).forEach((e, i) => {
    const at = `${ROOT}.extension[${i}]`;
    if (!isObject(e)) return ctx.log.error('invalid', `${at} must be an Extension`, at);
    if (e.url !== EXT.recorded) return;
    const v = readString(ctx.log, e, 'valueDateTime', at, { required: true, max: 40 });
    if (v && !isValidDateTime(v)) return ctx.log.error('invalid', `${at}.valueDateTime is not a valid dateTime`, `${at}.valueDateTime`);
    recorded = v;
  });
  return recorded;
}

function readWhen(ctx: Ctx, json: Json, recorded: string | undefined): string | undefined {
  const at = `${ROOT}.whenHandedOver`;
  const when = readString(ctx.log, json, 'whenHandedOver', ROOT, { max: 40 });
  if (when === undefined) {
    // The MPD examples set both; a withdrawal may carry only `recorded`.
    if (json.status === 'entered-in-error' && recorded) return recorded;
    return ctx.log.error('required', `${at} is required`, at);
  }
  if (!isValidDateTime(when)) return ctx.log.error('invalid', `${at} '${when.slice(0, 40)}' is not a valid date or dateTime`, at);
  return when;
}

function readName(ctx: Ctx, res: Json, path: string): Pick<Person, 'family' | 'given'> {
  const first = readArray(ctx.log, res, 'name', path, 10)[0];
  if (first === undefined) return { given: [] };
  const at = `${path}.name[0]`;
  if (!isObject(first)) {
    ctx.log.error('invalid', `${at} must be a HumanName`, at);
    return { given: [] };
  }
  const family = readString(ctx.log, first, 'family', at, { max: 200 });
  const text = readString(ctx.log, first, 'text', at, { max: 300 });
  const given = readArray(ctx.log, first, 'given', at, 10).flatMap((g, i) => {
    if (typeof g === 'string' && g.length <= 200) return [g];
    ctx.log.error('invalid', `${at}.given[${i}] must be a short string`, `${at}.given[${i}]`);
    return [];
  });
  return family ?? text ? { family: family ?? text, given } : { given };
}

function personFrom(ctx: Ctx, r: Resolved, path: string): Person {
  const p: Person = r.resource ? { ...readName(ctx, r.resource, path), identifiers: readIdentifiers(ctx, r.resource, path) } : { given: [], identifiers: [] };
  if (!r.resource && r.display) p.family = r.display;
  if (r.identifier && !p.identifiers.length) p.identifiers.push(r.identifier);
  return p;
}

function organisationFrom(ctx: Ctx, r: Resolved, path: string): Organisation {
  const o: Organisation = { identifiers: [] };
  if (r.resource) {
    const name = readString(ctx.log, r.resource, 'name', path, { max: 300 });
    if (name) o.name = name;
    o.identifiers = readIdentifiers(ctx, r.resource, path);
    const country = readCountry(ctx, r.resource, path);
    if (country) o.country = country;
  } else if (r.display) o.name = r.display;
  if (r.identifier && !o.identifiers.length) o.identifiers.push(r.identifier);
  return o;
}

function readCountry(ctx: Ctx, res: Json, path: string): string | undefined {
  const addresses = res.resourceType === 'Location' ? [res.address].filter((a) => a !== undefined) : readArray(ctx.log, res, 'address', path, 10);
  for (const [i, a] of addresses.entries()) {
    if (!isObject(a)) continue;
    const c = readString(ctx.log, a, 'country', `${path}.address[${i}]`, { max: 60 });
    if (c && /^[A-Za-z]{2}$/.test(c.trim())) return c.trim().toUpperCase();
    if (c) ctx.log.warn('Country is not an ISO 3166 alpha-2 code and is not kept', `${path}.address[${i}].country`);
  }
  return undefined;
}

function readPerformers(ctx: Ctx, json: Json): { pharmacy: Organisation; pharmacist?: Person } {
  let pharmacy: Organisation | undefined;
  let pharmacist: Person | undefined;
  const performers = readArray(ctx.log, json, 'performer', ROOT, 10);
  if (!performers.length) ctx.log.error('required', 'MedicationDispense.performer is required', `${ROOT}.performer`);
  performers.forEach((perf, i) => {
    const at = `${ROOT}.performer[${i}]`;
    if (!isObject(perf)) return ctx.log.error('invalid', `${at} must be an object`, at);
    if (perf.actor === undefined) return ctx.log.error('required', `${at}.actor is required`, `${at}.actor`);
    const actor = follow(ctx, perf.actor, `${at}.actor`, ['PractitionerRole', 'Practitioner', 'Organization']);
    if (!actor) return;
    const type = actor.resource?.resourceType ?? (isObject(perf.actor) && typeof perf.actor.type === 'string' ? perf.actor.type : undefined);
    if (type === 'PractitionerRole' && actor.resource) {
      const role = actor.resource;
      if (role.practitioner !== undefined) {
        const pr = follow(ctx, role.practitioner, `${at}.actor.practitioner`, ['Practitioner']);
        if (pr) pharmacist ??= personFrom(ctx, pr, `${at}.actor.practitioner`);
      }
      if (role.organization !== undefined) {
        const org = follow(ctx, role.organization, `${at}.actor.organization`, ['Organization']);
        if (org) pharmacy ??= organisationFrom(ctx, org, `${at}.actor.organization`);
      }
    } else if (type === 'Organization') {
      pharmacy ??= organisationFrom(ctx, actor, `${at}.actor`);
    } else {
      pharmacist ??= personFrom(ctx, actor, `${at}.actor`);
    }
  });
  if (json.location !== undefined) {
    const loc = follow(ctx, json.location, `${ROOT}.location`, ['Location']);
    if (loc && !pharmacy) {
      pharmacy = organisationFrom(ctx, loc, `${ROOT}.location`);
      if (loc.resource?.managingOrganization !== undefined) {
        const org = follow(ctx, loc.resource.managingOrganization, `${ROOT}.location.managingOrganization`, ['Organization']);
        if (org) {
          const managing = organisationFrom(ctx, org, `${ROOT}.location.managingOrganization`);
          pharmacy = { ...managing, name: managing.name ?? pharmacy.name, country: managing.country ?? pharmacy.country };
        }
      }
    }
  }
  if (!pharmacy || (!pharmacy.name && !pharmacy.identifiers.length)) {
    ctx.log.warn('The dispensing pharmacy is not identified (no PractitionerRole.organization, Organization or Location)', `${ROOT}.performer`);
  }
  return pharmacist ? { pharmacy: pharmacy ?? { identifiers: [] }, pharmacist } : { pharmacy: pharmacy ?? { identifiers: [] } };
}

function readSubject(ctx: Ctx, json: Json): Person | undefined {
  if (json.subject === undefined) return ctx.log.error('required', 'MedicationDispense.subject is required', `${ROOT}.subject`);
  const r = follow(ctx, json.subject, `${ROOT}.subject`, ['Patient']);
  if (!r) return undefined;
  const p = personFrom(ctx, r, `${ROOT}.subject`);
  if (!r.resource && r.display) delete p.family; // a display is not a name we can compare
  return p.identifiers.length || p.family || p.given.length ? p : undefined;
}

function readSubstitution(ctx: Ctx, json: Json, originalProduct: DispensedProduct | undefined): Substitution {
  const s = readObject(ctx.log, json, 'substitution', ROOT);
  if (!s) return { substituted: false };
  const at = `${ROOT}.substitution`;
  if (typeof s.wasSubstituted !== 'boolean') {
    ctx.log.error('required', `${at}.wasSubstituted must be true or false`, `${at}.wasSubstituted`);
    return { substituted: false };
  }
  const out: Substitution = { substituted: s.wasSubstituted };
  const reasons = readArray(ctx.log, s, 'reason', at, 5).flatMap((r, i) => {
    if (!isObject(r)) return [];
    const text = readString(ctx.log, r, 'text', `${at}.reason[${i}]`, { max: 500 });
    const codes = readCodings(ctx, r, `${at}.reason[${i}]`);
    return text ? [text] : codes.map((c) => c.display ?? c.code);
  });
  const type = readCodeableConcept(ctx, s, 'type', at);
  const reason = reasons.join('; ') || type?.text || type?.codes[0]?.display;
  if (reason) out.reason = reason;
  if (s.wasSubstituted && originalProduct) out.originalProduct = originalProduct;
  return out;
}

function readDosage(ctx: Ctx, json: Json): string | undefined {
  const texts = readArray(ctx.log, json, 'dosageInstruction', ROOT, 20).flatMap((d, i) =>
    isObject(d) ? [readString(ctx.log, d, 'text', `${ROOT}.dosageInstruction[${i}]`, { max: 2000 })].filter((t): t is string => !!t) : [],
  );
  if (texts.length) return texts.join('; ');
  for (const e of Array.isArray(json.extension) ? json.extension : []) {
    if (isObject(e) && e.url === EXT.renderedDosage && typeof e.valueMarkdown === 'string') return e.valueMarkdown.slice(0, 4000);
  }
  return undefined;
}
