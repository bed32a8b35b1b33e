// GET /fhir/AuditEvent: who may read which part of the log. A citizen reads the log of their own data
// (Helsenorge's 'logg over bruk'), with or without naming themselves; a principal holding a user/ or
// system/ AuditEvent search scope (the auditor scope) reads any patient's log, or the whole log.
import type { Principal } from '../auth/principal.ts';
import { accessRuleCoding } from '../auth/access-rules.ts';
import { hasScope, requiredScope } from '../auth/scopes.ts';
import { OID, parseToken } from '../fhir/identifiers.ts';
import { badRequest, forbidden, isProblem, type Problem } from '../fhir/outcomes.ts';
import type { AuditQuery } from './repository.ts';

/** Search parameters this module reads (declare them on the route; paging is the routing layer's). */
export const AUDIT_SEARCH_PARAMS = ['patient', 'patient:identifier', 'date'] as const;

export interface ResolvedPatient {
  id: string;
  fnr?: string | undefined;
}

/** Looks a patient up by Helsebro id or by identifier; undefined when unknown. */
export type PatientResolver = (
  ref: { id: string } | { identifier: { system?: string | undefined; value: string } },
) => Promise<ResolvedPatient | undefined>;

const PERSON_SYSTEMS: readonly string[] = [OID.fnr, OID.dnr];

const denyOtherPatient = (): Problem =>
  forbidden('A citizen may read only the log of their own data', { details: [accessRuleCoding('ACCESS-CITIZEN-OWN-ONLY')] });

/** Turns the request into a query of the audit table, or the Problem that refuses it. */
export async function planAuditSearch(
  principal: Principal,
  query: URLSearchParams,
  paging: { count: number; offset: number },
  resolvePatient: PatientResolver,
): Promise<AuditQuery | Problem> {
  if (!hasScope(principal, { resourceType: 'AuditEvent', interaction: 's' })) {
    return forbidden(`The access token lacks the scope ${requiredScope({ resourceType: 'AuditEvent', interaction: 's' })}`, {
      details: [accessRuleCoding('ACCESS-SCOPE')],
    });
  }
  const range = parseDateRange(query.getAll('date'));
  if (isProblem(range)) return range;

  const target = await requestedPatient(query, resolvePatient);
  if (isProblem(target)) return target;

  if (principal.kind === 'citizen') {
    // Without a patient parameter a citizen gets their own log; naming anyone else is refused, including a
    // patient id Helsebro cannot resolve (its owner cannot be shown to be the citizen).
    if (target && target.fnr !== principal.fnr) return denyOtherPatient();
    // Events recorded with only the Helsebro id must show up too: look the citizen's id up.
    const own = target ?? (await resolvePatient({ identifier: { system: OID.fnr, value: principal.fnr } }));
    return { patientFnr: principal.fnr, patientId: own?.id, ...range, ...paging };
  }
  return { patientFnr: target?.fnr, patientId: target?.id, ...range, ...paging };
}

async function requestedPatient(
  query: URLSearchParams,
  resolvePatient: PatientResolver,
): Promise<{ id?: string | undefined; fnr?: string | undefined } | undefined | Problem> {
  const ref = query.get('patient');
  const ident = query.get('patient:identifier');
  if (ref !== null && ident !== null) return badRequest('Give patient or patient:identifier, not both', { expression: ['patient'] });
  if (ref !== null) {
    const id = ref.startsWith('Patient/') ? ref.slice('Patient/'.length) : ref;
    if (!/^[A-Za-z0-9\-.]{1,64}$/.test(id)) return badRequest('patient must be a Patient id or Patient/{id}', { expression: ['patient'] });
    const found = await resolvePatient({ id });
    return { id, fnr: found?.fnr };
  }
  if (ident !== null) {
    const token = parseToken(ident, 'patient:identifier');
    if (isProblem(token)) return token;
    if (token.system !== undefined && token.system !== '' && !PERSON_SYSTEMS.includes(token.system)) {
      return badRequest('patient:identifier takes a fødselsnummer or D-nummer', { expression: ['patient:identifier'] });
    }
    if (!token.value) return badRequest('patient:identifier needs a value', { expression: ['patient:identifier'] });
    const found = await resolvePatient({ identifier: { system: token.system || undefined, value: token.value } });
    return { id: found?.id, fnr: token.value };
  }
  return undefined;
}

const DATE_RE = /^(ge|gt|le|lt|eq)?(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?)?)?$/;

/**
 * FHIR date search on `recorded`: each value is a period at its own precision (a year, a month, a day, a
 * second); ge/gt/le/lt/eq compare against it. Dates without a time zone are taken as UTC days.
 */
export function parseDateRange(values: readonly string[]): { since?: Date; until?: Date } | Problem {
  let since: Date | undefined;
  let until: Date | undefined;
  for (const raw of values) {
    const m = DATE_RE.exec(raw);
    const period = m ? periodOf(m) : undefined;
    if (!m || !period) return badRequest(`date '${raw}' is not a FHIR date or dateTime with a time zone`, { expression: ['date'] });
    const [start, end] = period;
    const lower = (d: Date) => (since = since && since > d ? since : d);
    const upper = (d: Date) => (until = until && until < d ? until : d);
    switch (m[1] ?? 'eq') {
      case 'ge':
        lower(start);
        break;
      case 'gt':
        lower(end);
        break;
      case 'lt':
        upper(start);
        break;
      case 'le':
        upper(end);
        break;
      default:
        lower(start);
        upper(end);
    }
  }
  return { ...(since ? { since } : {}), ...(until ? { until } : {}) };
}

/** [start, end) of the period a date value denotes, or undefined when it is not a real date. */
function periodOf(m: RegExpExecArray): [Date, Date] | undefined {
  const [, , y, mo, d, hh, mi, ss, tz] = m;
  const year = Number(y);
  if (hh !== undefined && tz === undefined) return undefined;
  if (mo === undefined) return [utc(year, 0, 1), utc(year + 1, 0, 1)];
  const month = Number(mo) - 1;
  if (month < 0 || month > 11) return undefined;
  if (d === undefined) return [utc(year, month, 1), utc(year, month + 1, 1)];
  const day = Number(d);
  const start = utc(year, month, day);
  if (start.getUTCMonth() !== month || start.getUTCDate() !== day) return undefined;
  if (hh === undefined) return [start, utc(year, month, day + 1)];
  const iso = `${y}-${mo}-${d}T${hh}:${mi}:${ss ?? '00'}${tz}`;
  const at = new Date(iso);
  if (Number.isNaN(at.getTime()) || Number(hh) > 23 || Number(mi) > 59 || Number(ss ?? 0) > 59) return undefined;
  return [at, new Date(at.getTime() + (ss === undefined ? 60_000 : 1000))];
}

const utc = (y: number, m: number, d: number): Date => new Date(Date.UTC(y, m, d));
