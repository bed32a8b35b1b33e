// Patient locators: how a route's declaration finds the patient a request is about, before the access
// decision (decide.ts). Each loads what it needed on the way (the stored patient, resource or parsed
// body) and hands it to the handler, so nothing is read twice and nothing is read without a decision.
import type { Patient } from '@medplum/fhirtypes';
import { OID, parsePersonNumber, parseToken, personNumberOf } from '../fhir/identifiers.ts';
import { badRequest, isProblem, notFound, type Problem } from '../fhir/outcomes.ts';
import { findPatientByIdentifier, readPatient, searchPatients } from '../store/patients.ts';
import type { Queryable } from '../store/db.ts';
import { searchInput } from './search-input.ts';
import type { HelsebroOperationDefinition } from './operations/definition.ts';
import { readOperationArgs } from './operations/parameters.ts';
import { orValues, singleValue } from './search-params.ts';
import type { AuditNotes, FhirRequest, Found, PatientFrom, PatientLocator, PatientRef, RouteContext } from './types.ts';
import { euPatientIdentifier } from '../edispensation/prescription-facts.ts';
import type { PrescriptionRow } from '../edispensation/store/prescriptions.ts';

export const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

export type StoredPatient = Patient & { id: string };

/** The locator of a route that touches no person's data. */
export const noPatient: PatientLocator<undefined> = {
  from: 'none',
  find: () => Promise.resolve({ patient: undefined, loaded: undefined }),
};

/** A locator from its parts (for routes whose patient comes from their own body or stored resource). */
export const locator = <T>(from: PatientFrom, via: string, find: (req: FhirRequest, ctx: RouteContext) => Promise<Found<T> | Problem>): PatientLocator<T> => ({
  from,
  via,
  find,
});

/** The patient as the decision knows it, from a stored Patient; undefined without a person number. */
export function refOf(patient: StoredPatient): PatientRef | undefined {
  const fnr = personNumberOf(patient);
  return fnr ? { id: patient.id, fnr } : undefined;
}

/** A stored row's patient keys as a PatientRef (a row without a person number names no patient we can decide on). */
/** Notes the prescription (and an EU patient, who has no Norwegian key) for the request's AuditEvent. */
export function notePrescription(ctx: { audit: AuditNotes }, row: PrescriptionRow): void {
  ctx.audit.prescription = `MedicationRequest/${row.id}`;
  const foreign = row.patientFnr ? undefined : euPatientIdentifier(row);
  if (foreign) ctx.audit.foreignPatient = foreign;
}

export const rowPatient = (row: { patientId?: string | undefined; patientFnr?: string | undefined }): PatientRef | undefined =>
  row.patientFnr ? { id: row.patientId, fnr: row.patientFnr } : undefined;

/** The stored patient by Helsebro id, or the 404 to answer. */
export async function patientById(id: string, db: Queryable): Promise<StoredPatient | Problem> {
  if (!FHIR_ID.test(id)) return notFound(`Patient/${id} is not a valid id`, { expression: ['Patient.id'] });
  const p = await readPatient(db, id);
  return p?.id ? (p as StoredPatient) : notFound(`Patient/${id} not found`);
}

/**
 * The stored patient a `patient` search parameter names (`Patient/{id}` or a bare id), or the answer: 400 for
 * something that cannot be an id (the request is malformed, not the patient missing), else 404 when unknown.
 */
export async function patientByReference(ref: string, db: Queryable, param = 'patient'): Promise<StoredPatient | Problem> {
  const id = ref.startsWith('Patient/') ? ref.slice('Patient/'.length) : ref;
  // The value is not echoed: it is whatever the caller sent, markup included.
  if (!FHIR_ID.test(id)) return badRequest(`${param} must be a Patient reference (Patient/{id}, the id of 1-64 letters, digits, '-' and '.')`, { expression: [param] });
  return patientById(id, db);
}

/** The stored patient with this fødselsnummer or D-nummer (already validated), or the 404 to answer. */
export async function patientByPersonNumber(number: string, db: Queryable): Promise<StoredPatient | Problem> {
  const found = await findPatientByIdentifier(db, systemOf(number), number);
  return found?.id ? (found as StoredPatient) : notFound('No patient with that identifier');
}

const systemOf = (number: string): string => (parsePersonNumber(number)?.kind === 'dnr' ? OID.dnr : OID.fnr);

/** `:id` in the path is a Patient id: the stored Patient is loaded. */
export const patientFromPath: PatientLocator<StoredPatient> = {
  from: 'path-id',
  via: 'id',
  async find(req, ctx) {
    const patient = await patientById(req.params.id ?? '', ctx.db);
    if (isProblem(patient)) return patient;
    ctx.audit.resourceId = patient.id;
    return { patient: refOf(patient), loaded: patient };
  },
};

/** A person number with a Helsebro id when the patient is stored. */
async function refByNumber(db: Queryable, fnr: string): Promise<PatientRef> {
  const found = await findPatientByIdentifier(db, systemOf(fnr), fnr);
  return found?.id ? { id: found.id, fnr } : { fnr };
}

/** The parameters of a search: the query, a form body (POST _search), or what a cursor stands for. */
async function searchParams(req: FhirRequest, ctx: RouteContext): Promise<URLSearchParams | Problem> {
  const input = await searchInput(req, ctx);
  return isProblem(input) ? input : input.query;
}

function onePatient(query: URLSearchParams, name: string): string | null | Problem {
  const raw = query.get(name);
  return raw === null ? null : singleValue(raw, name, 'the search is for one patient at a time');
}

/**
 * `patient` (Patient/{id} or {id}) or `patient:identifier` (system|number) in the query or a form: one
 * patient's resources. `required`: the search is for one patient only (400 without one).
 */
export function patientParam(opts: { required: boolean; callerByDefault?: boolean }): PatientLocator<undefined> {
  return {
    from: 'identifier',
    via: 'patient',
    async find(req, ctx) {
      const query = await searchParams(req, ctx);
      if (isProblem(query)) return query;
      // One patient per search: each answer is decided and audited for that patient.
      const ref = onePatient(query, 'patient');
      const ident = onePatient(query, 'patient:identifier');
      if (isProblem(ref)) return ref;
      if (isProblem(ident)) return ident;
      if (ref !== null && ident !== null) return badRequest('Give patient or patient:identifier, not both', { expression: ['patient'] });
      if (ref !== null) {
        const id = ref.startsWith('Patient/') ? ref.slice('Patient/'.length) : ref;
        if (!FHIR_ID.test(id)) return badRequest(`patient '${ref.slice(0, 80)}' is not a Patient reference`, { expression: ['patient'] });
        const patient = await readPatient(ctx.db, id);
        const fnr = patient ? personNumberOf(patient) : undefined;
        if (!fnr) ctx.audit.patient = { id };
        return { patient: fnr ? { id, fnr } : undefined, loaded: undefined };
      }
      if (ident !== null) {
        const token = parseToken(ident, 'patient:identifier');
        if (isProblem(token)) return token;
        if (!token.value || !parsePersonNumber(token.value)) {
          return badRequest('patient:identifier needs an 11-digit fødselsnummer or D-nummer', { expression: ['patient:identifier'] });
        }
        if (token.system && token.system !== OID.fnr && token.system !== OID.dnr) {
          return badRequest(`patient:identifier system must be ${OID.fnr} or ${OID.dnr}`, { expression: ['patient:identifier'] });
        }
        return { patient: await refByNumber(ctx.db, token.value), loaded: undefined };
      }
      if (opts.callerByDefault && ctx.principal?.kind === 'citizen') {
        return { patient: await refByNumber(ctx.db, ctx.principal.fnr), loaded: undefined };
      }
      if (opts.required) return badRequest('The search needs patient or patient:identifier: it is for one patient', { expression: ['patient'] });
      return { patient: undefined, loaded: undefined };
    },
  };
}

/**
 * Patient search: `identifier` or `_id` (each with comma OR) name the patients. The decision is made about
 * the one person they name; a search naming several people is decided without one, except that a citizen's
 * is decided about the first person who is not the citizen (and so refused). A citizen naming no one
 * searches for themself. Loads nothing: the handler runs the search itself.
 */
export const patientSearch: PatientLocator<undefined> = {
  from: 'identifier',
  via: 'identifier',
  async find(req, ctx) {
    const query = await searchParams(req, ctx);
    if (isProblem(query)) return query;
    const named = await namedPatients(query, ctx.db);
    if (isProblem(named)) return named;
    const principal = ctx.principal;
    if (named.length === 0) {
      if (principal?.kind === 'citizen') return { patient: await refByNumber(ctx.db, principal.fnr), loaded: undefined };
      return { patient: undefined, loaded: undefined };
    }
    const other = principal?.kind === 'citizen' ? named.find((p) => p.fnr !== principal.fnr) : undefined;
    const distinct = new Set(named.map((p) => p.fnr));
    return { patient: other ?? (distinct.size === 1 ? named[0] : undefined), loaded: undefined };
  },
};

/** Everyone a Patient search names by person number, by other identifier (when it is one person's) or by id. */
async function namedPatients(query: URLSearchParams, db: Queryable): Promise<PatientRef[] | Problem> {
  const named: PatientRef[] = [];
  const rawIdentifier = query.get('identifier');
  for (const raw of rawIdentifier === null ? [] : splitOr(rawIdentifier, 'identifier')) {
    if (isProblem(raw)) return raw;
    const token = parseToken(raw);
    if (isProblem(token)) return token;
    if (token.value && parsePersonNumber(token.value) && (!token.system || token.system === OID.fnr || token.system === OID.dnr)) {
      named.push(await refByNumber(db, token.value));
      continue;
    }
    // Another identifier: whoever holds it; the search may find no one.
    const hit = (await searchPatients(db, { identifiers: [{ system: token.system, value: token.value }], count: 2, offset: 0 })).patients;
    const only = hit.length === 1 ? refOf(hit[0] as StoredPatient) : undefined;
    if (only) named.push(only);
  }
  const rawId = query.get('_id');
  for (const id of rawId === null ? [] : splitOr(rawId, '_id')) {
    if (isProblem(id)) return id;
    if (!FHIR_ID.test(id)) continue;
    const p = await readPatient(db, id);
    const ref = p?.id ? refOf(p as StoredPatient) : undefined;
    if (ref) named.push(ref);
  }
  return named;
}

function splitOr(raw: string, name: string): Array<string | Problem> {
  const values = orValues(raw, name);
  return isProblem(values) ? [values] : values;
}

/**
 * `identifier=system|value` in the query, a form or a Parameters body (type-level $summary, $ehdsi-ps). All
 * of the call's parameters are read here, by the operation's definition, before anyone is looked up: the
 * access decision is made about the patient this finds, so a second identifier, or any parameter the
 * operation does not take, is a 400 rather than a value skipped. The stored Patient is loaded.
 */
export function patientFromIdentifierParameter(def: HelsebroOperationDefinition): PatientLocator<StoredPatient> {
  return {
    from: 'parameters-body',
    via: 'identifier',
    async find(req, ctx) {
      const args = readOperationArgs(def, req);
      if (isProblem(args)) return args;
      const ident = args.identifier('identifier');
      if (!ident?.value) return badRequest(`$${def.code} at type level needs identifier=system|value`, { expression: ['identifier'] });
      let found: Patient | undefined;
      if (ident.system) found = await findPatientByIdentifier(ctx.db, ident.system, ident.value);
      else {
        // Without a system the value may be held by more than one patient: naming one of them would be a guess.
        const hits = (await searchPatients(ctx.db, { identifiers: [{ value: ident.value }], count: 2, offset: 0 })).patients;
        if (hits.length > 1) return badRequest('identifier without a system matches more than one patient; give system|value', { expression: ['identifier'] });
        found = hits[0];
      }
      if (!found?.id) {
        // Whom the caller asked about, for the audit and for the decision on what a miss may tell them (decide.ts).
        if (parsePersonNumber(ident.value)) ctx.audit.patient = { fnr: ident.value };
        return notFound('No patient with that identifier');
      }
      const patient = found as StoredPatient;
      ctx.audit.resourceId = patient.id;
      return { patient: refOf(patient), loaded: patient };
    },
  };
}

/**
 * Patient/:id/$op, by GET or by POST with an optional Parameters body: the call's parameters are read by the
 * operation's definition (unknown, repeated and malformed ones are a 400), and the path names the patient.
 * An identifier as well is refused, even one naming the same patient: comparing the two would tell a caller
 * not yet allowed to see the patient whether a number is theirs, and choosing either one would leave the
 * other unanswered.
 */
export function patientFromPathOperation(def: HelsebroOperationDefinition): PatientLocator<StoredPatient> {
  return {
    ...patientFromPath,
    async find(req, ctx) {
      const args = readOperationArgs(def, req);
      if (isProblem(args)) return args;
      if (args.all('identifier').length) {
        return badRequest(`Patient/{id}/$${def.code} names the patient by its path; identifier is taken only at type level (Patient/$${def.code})`, {
          expression: ['identifier'],
        });
      }
      return patientFromPath.find(req, ctx);
    },
  };
}

/** A person number found in a message body, as a PatientRef (with the Helsebro id when stored). */
export const patientOfNumber = async (db: Queryable, fnr: string | undefined): Promise<PatientRef | undefined> =>
  fnr && parsePersonNumber(fnr) ? refByNumber(db, fnr) : undefined;

/** `patient=Patient/{id}` (required) of the summary's plain searches: the stored Patient is loaded. */
export const storedPatientParam: PatientLocator<StoredPatient> = {
  from: 'identifier',
  via: 'patient',
  async find(req, ctx) {
    const raw = req.query.get('patient');
    if (!raw) return badRequest('This search needs patient=Patient/{id}', { expression: ['patient'] });
    // One patient per search: the sources are asked, and access decided, for that patient.
    const ref = singleValue(raw, 'patient', 'the national sources are asked for one patient at a time');
    if (isProblem(ref)) return ref;
    const patient = await patientByReference(ref, ctx.db);
    if (isProblem(patient)) return patient;
    return { patient: refOf(patient), loaded: patient };
  },
};
