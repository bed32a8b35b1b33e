// The NCP's EU ePrescription as a FHIR Bundle (HL7 Europe MPD: MedicationRequest-eu-mpd with its Medication,
// Patient and prescriber) -> one EuPrescription per MedicationRequest, each with the resources it references
// contained. References resolve inside the Bundle only (fullUrl, or Type/id of an entry); anything else is
// refused, because Helsebro never fetches from an address a message gives it.
import type { Bundle, BundleEntry, Medication, MedicationRequest, OperationOutcomeIssue, Patient, Quantity, Reference, Resource } from '@medplum/fhirtypes';
import { validateBaseResource } from '../../fhir/base-validation.ts';
import { badRequest, fail, ok, unprocessable, type Result } from '../../fhir/outcomes.ts';
import { OID, canonicalSystem, parsePersonNumber } from '../../fhir/identifiers.ts';
import { findHostileStructure, isObject, type Json } from '../json-read.ts';
import { MAX_QUANTITY, isValidDateTime } from '../values.ts';
import { MPD } from '../fhir-dispense.ts';
import { controlledPrescribedAtc, controlledRefusal, isPackageQuantity, prescribedAmount, type EuPrescription } from './prescription.ts';

const PRESCRIBED_QUANTITY = 'https://profiles.ihe.net/PHARM/MPD/StructureDefinition/ihe-ext-medicationrequest-prescribedQuantity';
const MAX_ENTRIES = 200;
/**
 * A Norwegian prescription is valid for at most a year; one dispensing a day for a year is the most any
 * real prescription allows. More is a sender error, and the count is what dispensing is checked against.
 */
export const MAX_REPEATS = 365;
/** What a MedicationRequest may bring along (and so what is stored contained with it). */
const STORED_TYPES = new Set(['MedicationRequest', 'Medication', 'Patient', 'Practitioner', 'PractitionerRole', 'Organization']);

export function parseEuPrescriptionBundle(json: unknown): Result<EuPrescription[]> {
  const hostile = findHostileStructure(json, 'Bundle');
  if (hostile) return fail(badRequest(`Refused: ${hostile.reason}`, { expression: [hostile.path] }));
  if (!isObject(json) || json.resourceType !== 'Bundle') return fail(badRequest('Expected a Bundle resource', { expression: ['resourceType'] }));
  const bundle = json as unknown as Bundle;
  if (!['collection', 'document', 'message', 'transaction', 'batch'].includes(String(bundle.type))) {
    return fail(badRequest(`Bundle.type '${String(bundle.type).slice(0, 30)}' is not accepted; send a collection`, { expression: ['Bundle.type'] }));
  }
  if (bundle.entry !== undefined && !Array.isArray(bundle.entry)) return fail(badRequest('Bundle.entry must be an array of entries', { expression: ['Bundle.entry'] }));
  if (!Array.isArray(bundle.entry) || !bundle.entry.length) return fail(badRequest('The Bundle has no entries', { expression: ['Bundle.entry'] }));
  if (bundle.entry.length > MAX_ENTRIES) return fail(badRequest(`More than ${MAX_ENTRIES} entries`, { expression: ['Bundle.entry'] }));

  const entries = bundle.entry as BundleEntry[];
  for (const [i, e] of entries.entries()) {
    if (!isObject(e) || !isObject(e.resource) || typeof (e.resource as Json).resourceType !== 'string') {
      return fail(badRequest(`Bundle.entry[${i}] has no resource`, { expression: [`Bundle.entry[${i}].resource`] }));
    }
  }
  // What is stored is served back as FHIR: a value that is not valid R4 (an unknown element, a repeat count
  // below zero, 1e999 read as Infinity) would be stored changed or handed to readers as invalid JSON.
  const invalid = entries.flatMap((e, i) => (STORED_TYPES.has(e.resource!.resourceType) ? baseIssues(e.resource!, `Bundle.entry[${i}].resource`) : []));
  if (invalid.length) return fail({ status: 400, issues: invalid.slice(0, 50) });
  const requests = entries.map((e, i) => ({ r: e.resource!, i })).filter((x): x is { r: MedicationRequest; i: number } => x.r.resourceType === 'MedicationRequest');
  if (!requests.length) return fail(unprocessable('The Bundle holds no MedicationRequest (ePrescription item)', { expression: ['Bundle.entry'] }));

  const resolve = resolver(entries);
  const out: EuPrescription[] = [];
  for (const { r, i } of requests) {
    const one = normalise(r, `Bundle.entry[${i}].resource`, resolve);
    if (!one.ok) return one;
    out.push(one.value);
  }
  const ids = out.map((p) => `${p.prescriptionId.system ?? ''}|${p.prescriptionId.value}`);
  if (new Set(ids).size !== ids.length) return fail(badRequest('Two MedicationRequests in the Bundle carry the same identifier', { expression: ['Bundle.entry'] }));
  return ok(out);
}

type Resolve = (ref: string) => Resource | undefined;

function resolver(entries: BundleEntry[]): Resolve {
  const byUrl = new Map<string, Resource>();
  for (const e of entries) {
    const r = e.resource!;
    if (e.fullUrl) byUrl.set(e.fullUrl, r);
    if (r.id) byUrl.set(`${r.resourceType}/${r.id}`, r);
  }
  return (ref) => byUrl.get(ref) ?? byUrl.get(ref.replace(/^.*\/([A-Z][A-Za-z]+\/[^/]+)$/, '$1'));
}

/** Copies a referenced resource in as contained (once, under a fresh local id) and points the reference at it. */
class Container {
  readonly contained: Resource[] = [];
  private readonly seen = new Map<Resource, string>();
  private readonly resolve: Resolve;
  constructor(resolve: Resolve) {
    this.resolve = resolve;
  }

  adopt(ref: Reference | undefined, path: string, types: string[]): Result<Reference | undefined> {
    if (!ref) return ok(undefined);
    if (typeof ref !== 'object' || ref === null || Array.isArray(ref)) return fail(badRequest(`${path} must be a Reference`, { expression: [path] }));
    if (ref.reference !== undefined && typeof ref.reference !== 'string') return fail(badRequest(`${path}.reference must be a string`, { expression: [path] }));
    if (!ref.reference) return ok(ref.display || ref.identifier ? { ...ref } : undefined);
    const target = this.resolve(ref.reference);
    if (!target) return fail(badRequest(`${path}.reference '${ref.reference.slice(0, 100)}' is not in the Bundle`, { expression: [`${path}.reference`] }));
    if (!types.includes(target.resourceType)) return fail(badRequest(`${path} must reference ${types.join(' or ')}, not ${target.resourceType}`, { expression: [path] }));
    let id = this.seen.get(target);
    if (!id) {
      id = `${target.resourceType.toLowerCase()}${this.contained.length + 1}`;
      this.seen.set(target, id);
      const copy = structuredClone(target) as Resource & { contained?: unknown };
      delete copy.contained;
      this.contained.push({ ...copy, id } as Resource);
      // A PractitionerRole brings its practitioner and organisation along.
      if (copy.resourceType === 'PractitionerRole') {
        const role = this.contained[this.contained.length - 1] as Resource & { practitioner?: Reference; organization?: Reference };
        for (const key of ['practitioner', 'organization'] as const) {
          const inner = this.adopt(role[key], `${path}.${key}`, key === 'practitioner' ? ['Practitioner'] : ['Organization']);
          if (!inner.ok) return inner;
          if (inner.value) role[key] = inner.value;
          else delete role[key];
        }
      }
    }
    const local: Reference = { reference: `#${id}` };
    if (typeof ref.display === 'string') local.display = ref.display;
    return ok(local);
  }
}

function normalise(raw: MedicationRequest, path: string, resolve: Resolve): Result<EuPrescription> {
  const idents = (raw.identifier ?? []).filter((i) => isObject(i) && typeof i.value === 'string' && i.value.trim());
  const id = idents[0];
  if (!id) return fail(unprocessable('The MedicationRequest has no identifier: the prescription id is what the pharmacy reports against', { expression: [`${path}.identifier`] }));
  if (id.value!.length > 100) return fail(badRequest('The prescription identifier is longer than 100 characters', { expression: [`${path}.identifier`] }));
  if (raw.intent !== 'order') return fail(unprocessable(`MedicationRequest.intent must be order, not ${String(raw.intent).slice(0, 20)}`, { expression: [`${path}.intent`] }));
  if (!raw.subject) return fail(badRequest('MedicationRequest.subject is required', { expression: [`${path}.subject`] }));
  if (!raw.medicationCodeableConcept && !raw.medicationReference) return fail(badRequest('MedicationRequest.medication[x] is required', { expression: [`${path}.medication[x]`] }));
  if (raw.authoredOn !== undefined && (typeof raw.authoredOn !== 'string' || !isValidDateTime(raw.authoredOn))) {
    return fail(badRequest('MedicationRequest.authoredOn is not a valid date', { expression: [`${path}.authoredOn`] }));
  }

  const implausible = implausibleAmounts(raw, path);
  if (implausible) return fail(implausible);

  const c = new Container(resolve);
  const subject = c.adopt(raw.subject, `${path}.subject`, ['Patient']);
  if (!subject.ok) return subject;
  const medication = c.adopt(raw.medicationReference, `${path}.medicationReference`, ['Medication']);
  if (!medication.ok) return medication;
  const requester = c.adopt(raw.requester, `${path}.requester`, ['PractitionerRole', 'Practitioner', 'Organization']);
  if (!requester.ok) return requester;

  const { id: _id, contained: _contained, meta: _meta, ...rest } = raw;
  const request: MedicationRequest = {
    ...rest,
    resourceType: 'MedicationRequest',
    meta: { profile: [MPD.request] },
    identifier: idents.map((i) => ({ ...i, value: i.value!.trim(), ...(i.system ? { system: canonicalSystem(i.system) } : {}) })),
    subject: subject.value as Reference<Patient>,
  };
  if (medication.value) request.medicationReference = medication.value as Reference<Medication>;
  if (requester.value) request.requester = requester.value as MedicationRequest['requester'];
  else delete request.requester;
  if (c.contained.length) request.contained = c.contained;

  const prescribed = prescribedQuantity(raw);
  const validity = raw.dispenseRequest?.validityPeriod;
  const p: EuPrescription = {
    prescriptionId: { ...(id.system ? { system: canonicalSystem(id.system) } : {}), value: id.value!.trim() },
    request,
    status: raw.status === 'active' ? 'active' : String(raw.status ?? 'unknown'),
  };
  if (prescribed && isPackageQuantity(prescribed) && typeof prescribed.value === 'number' && prescribed.value > 0) p.packages = prescribed.value;
  else if (prescribed) {
    const amount = prescribedAmount(prescribed);
    if (amount) p.amount = amount;
  }
  const repeats = raw.dispenseRequest?.numberOfRepeatsAllowed;
  if (typeof repeats === 'number' && Number.isInteger(repeats) && repeats >= 0) p.dispensingsAllowed = repeats + 1;
  // A prescribed quantity limits dispensing by itself: partial dispensings until it is reached.
  else if (p.packages === undefined && p.amount === undefined) p.dispensingsAllowed = 1;
  const controlled = controlledPrescribedAtc(request);
  if (controlled) return fail(controlledRefusal(controlled, `${path}.${request.medicationReference ? 'medicationReference' : 'medicationCodeableConcept'}`));
  if (validity?.end && isValidDateTime(validity.end)) p.validUntil = validity.end.slice(0, 10);
  if (validity?.start && isValidDateTime(validity.start)) p.earliestDispense = validity.start.slice(0, 10);
  const patient = c.contained.find((r) => r.resourceType === 'Patient');
  const fnr = patient?.resourceType === 'Patient' ? patient.identifier?.find((i) => (i.system === OID.fnr || i.system === OID.dnr) && i.value && parsePersonNumber(i.value)) : undefined;
  if (fnr?.value) p.patientFnr = fnr.value;
  return ok(p);
}

/** The entry's R4 errors, their expressions rooted at the entry (`Bundle.entry[3].resource.dispenseRequest...`). */
function baseIssues(resource: Resource, path: string): OperationOutcomeIssue[] {
  return validateBaseResource(resource).map((issue) => {
    const expression = (issue.expression ?? []).map((e) => (e.startsWith(resource.resourceType) ? `${path}${e.slice(resource.resourceType.length)}` : `${path}.${e}`));
    return { ...issue, code: 'invalid', diagnostics: `${expression[0] ?? path}: ${issue.diagnostics ?? 'invalid'}`, expression };
  });
}

/**
 * R4 allows any unsignedInt repeat count and any decimal quantity; dispensing is counted against both, so
 * values no prescription carries are refused as the dispensation intake refuses its quantities (400).
 */
function implausibleAmounts(r: MedicationRequest, path: string) {
  const at = `${path}.dispenseRequest`;
  const repeats = r.dispenseRequest?.numberOfRepeatsAllowed;
  if (typeof repeats === 'number' && repeats > MAX_REPEATS) {
    return badRequest(`${at}.numberOfRepeatsAllowed ${repeats} is not a plausible number of repeats (at most ${MAX_REPEATS})`, { expression: [`${at}.numberOfRepeatsAllowed`] });
  }
  const quantities: [Quantity | undefined, string][] = [[r.dispenseRequest?.quantity, `${at}.quantity`]];
  r.dispenseRequest?.extension?.forEach((e, i) => {
    if (e.url === PRESCRIBED_QUANTITY) quantities.push([e.valueQuantity, `${at}.extension[${i}].valueQuantity`]);
  });
  for (const [q, where] of quantities) {
    if (typeof q?.value !== 'number') continue;
    if (q.value <= 0) return badRequest(`${where}.value must be positive`, { expression: [`${where}.value`] });
    if (q.value > MAX_QUANTITY) return badRequest(`${where}.value ${q.value} is not a plausible prescribed quantity`, { expression: [`${where}.value`] });
  }
  return undefined;
}

function prescribedQuantity(r: MedicationRequest): Quantity | undefined {
  const ext = r.dispenseRequest?.extension?.find((e) => e.url === PRESCRIBED_QUANTITY)?.valueQuantity;
  return r.dispenseRequest?.quantity ?? ext;
}
