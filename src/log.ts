// Structured JSON logs. Personal data never reaches a log line: known fields are redacted by pino's
// path configuration, and URLs are logged with identifying query values and any 11-digit number masked.
import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** Paths pino censors wherever they appear in a log object. */
export const REDACT_PATHS = [
  'authorization',
  'headers.authorization',
  'headers.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'fnr',
  '*.fnr',
  'name',
  '*.name',
  'given',
  '*.given',
  'family',
  '*.family',
  'birthDate',
  '*.birthDate',
  'patient',
  '*.patient',
  'identifier',
  '*.identifier',
  'body',
  '*.body',
  'token',
  '*.token',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'helsebro' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }), log: maskStrings },
    },
    destination,
  );
}

const SENSITIVE_PARAMS = /^(identifier|patient|patient:identifier|subject|name|family|given|birthdate|fnr|code)$/i;

/** The request target as it may be logged: sensitive query values and 11-digit runs (fødselsnummer) masked. */
export function loggableUrl(originalUrl: string): string {
  const q = originalUrl.indexOf('?');
  const path = maskPersonNumbers(q < 0 ? originalUrl : originalUrl.slice(0, q));
  if (q < 0) return path;
  const params = new URLSearchParams(originalUrl.slice(q + 1));
  const masked = [...params.entries()].map(([k, v]) =>
    `${encodeURIComponent(k)}=${SENSITIVE_PARAMS.test(k) ? '[redacted]' : encodeURIComponent(maskPersonNumbers(v))}`,
  );
  return `${path}?${masked.join('&')}`;
}

// A fødselsnummer is 11 digits, also written DDMMYY-NNNNN or DDMMYY NNNNN, and may reach a log
// percent-encoded (%30..%39 for digits, %2D for the dash, %20 or + for a space).
const PERSON_NUMBER = /\d{6}[-\s.]?\d{5}/g;
const ENCODED = /%3[0-9]|%2D|%20|%2E/gi;

/** Masks every fødselsnummer-like number, plain, percent-encoded or with a separator after the birth date. */
export function maskPersonNumbers(text: string): string {
  const decoded = text.replace(ENCODED, (e) => decodeURIComponent(e));
  return decoded.replace(/(\d{6})\+(\d{5})/g, '$1 $2').replace(PERSON_NUMBER, '[fnr]');
}

/** Masks person numbers in every string of a log object (two levels deep: messages and error texts). */
function maskStrings(obj: Record<string, unknown>, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (typeof v === 'string') out[k] = maskPersonNumbers(v);
    else if (v && Object.getPrototypeOf(v) === Object.prototype && depth < 2) out[k] = maskStrings(v as Record<string, unknown>, depth + 1);
    else out[k] = v;
  }
  return out;
}
