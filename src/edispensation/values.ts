// Value rules shared by the three intake formats: plausible quantities and dates, and the
// conversions between CDA timestamps, FHIR dateTimes and the Norwegian calendar date an M10 carries.

/** No real dispensation hands over more than this (packs or units); larger numbers are errors or attacks. */
export const MAX_QUANTITY = 10_000;

const FHIR_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const FHIR_DATETIME = /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d)(?:\.\d{1,9})?)?(Z|[+-](?:0\d|1[0-4]):[0-5]\d)$/;

function isRealDate(y: string, m: string, d: string): boolean {
  const year = Number(y);
  const month = Number(m);
  const day = Number(d);
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day && year >= 1900;
}

/** A full date, or a dateTime with a time zone (the instant must be unambiguous). */
export function isValidDateTime(value: string): boolean {
  const d = FHIR_DATE.exec(value);
  if (d) return isRealDate(d[1]!, d[2]!, d[3]!);
  const t = FHIR_DATETIME.exec(value);
  return !!t && isRealDate(t[1]!, t[2]!, t[3]!);
}

/**
 * HL7 v3 TS ("20241125144804+0000", "20250320134355", "20190716") -> ISO 8601.
 * A TS without offset stays a local dateTime without zone only when it is a plain date; otherwise
 * `assumeOffset` is applied, because an instant without zone cannot be compared safely.
 */
export function tsToIso(ts: string, assumeOffset = 'Z'): string | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(?:(\d{2})(?:\.(\d{1,4}))?)?)?([+-]\d{4})?$/.exec(ts.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, off] = m;
  if (!isRealDate(y!, mo!, d!)) return undefined;
  if (h === undefined) return `${y}-${mo}-${d}`;
  if (Number(h) > 23 || Number(mi) > 59 || Number(s ?? '0') > 59) return undefined;
  const offset = off ? `${off.slice(0, 3)}:${off.slice(3)}` : assumeOffset;
  return `${y}-${mo}-${d}T${h}:${mi}:${s ?? '00'}${frac ? `.${frac}` : ''}${offset === '+00:00' ? 'Z' : offset}`;
}

/** Milliseconds since the epoch for comparisons; a bare date counts as its start in UTC. */
export function instantOf(value: string): number {
  return Date.parse(FHIR_DATE.test(value) ? `${value}T00:00:00Z` : value);
}

const osloDate = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Oslo', year: 'numeric', month: '2-digit', day: '2-digit' });

/** The calendar date in Norway of an instant (an M10's Utleveringsdato is a Norwegian date). */
export function norwegianDate(value: string): string {
  if (FHIR_DATE.test(value)) return value;
  return osloDate.format(new Date(value));
}

/** KITH xs:date may carry a zone ("2019-07-17+02:00"); the calendar date is the part before it. */
export function stripDateZone(value: string): string {
  return value.replace(/(Z|[+-]\d{2}:\d{2})$/, '');
}
