// Patient locators: how a route's declaration finds the patient a request is about, before the access
// decision (decide.ts). Each loads what it needed on the way (the stored patient, resource or parsed
// body) and hands it to the handler, so nothing is read twice and nothing is read without a decision.
import type { Parameters, Patient } from '@medplum/fhirtypes';
import { OID, parsePersonNumber, parseToken, personNumberOf } from '../fhir/identifiers.ts';
import { badRequest, isProblem, notFound, type Problem } from '../fhir/outcomes.ts';
import { findPatientByIdentifier, readPatient, searchPatients } from '../store/patients.ts';
import type { Queryable } from '../store/db.ts';
import type { FhirRequest, Found, PatientFrom, PatientLocator, PatientRef, RouteContext } from './types.ts';

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
export const rowPatient = (row: { patientId?: string | undefined; patientFnr?: string | undefined }): PatientRef | undefined =>
  row.patientFnr ? { id: row.patientId, fnr: row.patientFnr } : undefined;

/** The stored patient by Helsebro id, or the 404 to answer. */
export async function patientById(id: string, db: Queryable): Promise<StoredPatient | Problem> {
  if (!FHIR_ID.test(id)) return notFound(`Patient/${id} is not a valid id`, { expression: ['Patient.id'] });
  const p = await readPatient(db, id);
  return p?.id ? (p as StoredPatient) : notFound(`Patient/${id} not found`);
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

/** The parameters of a search: the query, plus a form body (POST _search). */
export function searchParams(req: FhirRequest): URLSearchParams {
  const query = new URLSearchParams(req.query);
  if (req.body instanceof URLSearchParams) for (const [k, v] of req.body) query.append(k, v);
  return query;
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
      const query = searchParams(req);
      const ref = query.get('patient');
      const ident = query.get('patient:identifier');
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
 * Patient search: `identifier` or `_id` name the patient; a citizen naming no one searches for themself.
 * Loads nothing: the handler runs the search itself.
 */
export const patientSearch: PatientLocator<undefined> = {
  from: 'identifier',
  via: 'identifier',
  async find(req, ctx) {
    const query = searchParams(req);
    const raw = query.get('identifier');
    const id = query.get('_id');
    if (raw !== null) {
      const token = parseToken(raw);
      if (isProblem(token)) return token;
      if (token.value && parsePersonNumber(token.value) && (!token.system || token.system === OID.fnr || token.system === OID.dnr)) {
        return { patient: await refByNumber(ctx.db, token.value), loaded: undefined };
      }
      // Another identifier: whoever holds it; the search may find no one.
      const hit = (await searchPatients(ctx.db, { identifier: { system: token.system, value: token.value }, count: 2, offset: 0 })).patients;
      const only = hit.length === 1 ? refOf(hit[0] as StoredPatient) : undefined;
      return { patient: only, loaded: undefined };
    }
    if (id !== null && FHIR_ID.test(id)) {
      const p = await readPatient(ctx.db, id);
      return { patient: p?.id ? refOf(p as StoredPatient) : undefined, loaded: undefined };
    }
    if (ctx.principal?.kind === 'citizen') return { patient: await refByNumber(ctx.db, ctx.principal.fnr), loaded: undefined };
    return { patient: undefined, loaded: undefined };
  },
};

/** `identifier=system|value` in the query, a form or a Parameters body (type-level $summary). The stored Patient is loaded. */
export const patientFromIdentifierBody: PatientLocator<StoredPatient> = {
  from: 'parameters-body',
  via: 'identifier',
  async find(req, ctx) {
    const refused = req.body instanceof URLSearchParams || req.body === undefined ? undefined : parametersProblem(req.body);
    if (refused) return refused;
    let raw = req.query.get('identifier') ?? undefined;
    if (req.body instanceof URLSearchParams) raw = req.body.get('identifier') ?? raw;
    else if (req.body !== undefined) {
      const fromBody = identifierFromParameters(req.body as Parameters);
      if (isProblem(fromBody)) return fromBody;
      raw = fromBody ?? raw;
    }
    if (!raw) return badRequest('The operation at type level needs identifier=system|value', { expression: ['identifier'] });
    const token = parseToken(raw);
    if (isProblem(token)) return token;
    if (!token.value) return badRequest('identifier needs a value', { expression: ['identifier'] });
    const found = token.system
      ? await findPatientByIdentifier(ctx.db, token.system, token.value)
      : (await searchPatients(ctx.db, { identifier: { value: token.value }, count: 2, offset: 0 })).patients[0];
    if (!found?.id) return notFound('No patient with that identifier');
    const patient = found as StoredPatient;
    ctx.audit.resourceId = patient.id;
    return { patient: refOf(patient), loaded: patient };
  },
};

/** Patient/:id with an optional Parameters body (instance-level $summary): the body is checked, the path names the patient. */
export const patientFromPathWithParameters: PatientLocator<StoredPatient> = {
  ...patientFromPath,
  async find(req, ctx) {
    const refused = req.body instanceof URLSearchParams || req.body === undefined ? undefined : parametersProblem(req.body);
    return refused ?? patientFromPath.find(req, ctx);
  },
};

const PARAMETERS_KEYS = new Set(['resourceType', 'id', 'meta', 'implicitRules', 'language', 'parameter']);

/** A JSON body of an operation must be a Parameters resource with nothing but Parameters' elements. */
function parametersProblem(body: unknown): Problem | undefined {
  const params = body as Parameters;
  if (typeof body !== 'object' || body === null || Array.isArray(body) || params.resourceType !== 'Parameters') {
    return badRequest('The body must be a Parameters resource', { expression: ['Parameters'] });
  }
  const unknown = Object.keys(body).filter((k) => !PARAMETERS_KEYS.has(k));
  if (unknown.length) return badRequest(`Parameters has no element ${unknown.slice(0, 3).join(', ')}`, { expression: ['Parameters'] });
  if (params.parameter !== undefined && !Array.isArray(params.parameter)) return badRequest('Parameters.parameter must be an array', { expression: ['Parameters.parameter'] });
  return undefined;
}

function identifierFromParameters(params: Parameters): string | undefined | Problem {
  const p = params.parameter?.find((x) => x.name === 'identifier');
  if (!p) return undefined;
  if (p.valueIdentifier?.value) return `${p.valueIdentifier.system ?? ''}|${p.valueIdentifier.value}`;
  if (typeof p.valueString === 'string') return p.valueString;
  return badRequest('Parameter identifier needs valueIdentifier or valueString', { expression: ["Parameters.parameter.where(name='identifier')"] });
}

/** A person number found in a message body, as a PatientRef (with the Helsebro id when stored). */
export const patientOfNumber = async (db: Queryable, fnr: string | undefined): Promise<PatientRef | undefined> =>
  fnr && parsePersonNumber(fnr) ? refByNumber(db, fnr) : undefined;

/** `patient=Patient/{id}` (required) of the summary's plain searches: the stored Patient is loaded. */
export const storedPatientParam: PatientLocator<StoredPatient> = {
  from: 'identifier',
  via: 'patient',
  async find(req, ctx) {
    const ref = req.query.get('patient');
    if (!ref) return badRequest('This search needs patient=Patient/{id}', { expression: ['patient'] });
    const patient = await patientById(ref.startsWith('Patient/') ? ref.slice('Patient/'.length) : ref, ctx.db);
    if (isProblem(patient)) return patient;
    return { patient: refOf(patient), loaded: patient };
  },
};
