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
      formatters: { level: (label) => ({ level: label }) },
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

export const maskPersonNumbers = (text: string): string => text.replace(/\d{11}/g, '[fnr]');
