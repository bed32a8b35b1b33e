// GET /fhir/AuditEvent's own parameters: `date` as a FHIR date search on `recorded`. Who reads which
// patient's log is the route's declaration (src/http/handlers/audit.ts) and the access rules.
import { badRequest, type Problem } from '../fhir/outcomes.ts';

/** Search parameters this module reads (declare them on the route; paging is the routing layer's). */
export const AUDIT_SEARCH_PARAMS = ['patient', 'patient:identifier', 'date'] as const;

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
