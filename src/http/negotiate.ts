// Content negotiation for FHIR routes: which representation to answer with (Accept / _format), and
// whether the request body's media type is one the route takes (Content-Type).
import { notAcceptable, unsupportedMediaType, type Problem } from '../fhir/outcomes.ts';
import type { BodyKind, Produces } from './types.ts';

const JSON_TYPES = new Set(['application/fhir+json', 'application/json', 'application/json+fhir', 'text/json']);
const XML_TYPES = new Set(['application/xml', 'text/xml', 'application/hl7-v3+xml']);
const FORMAT_ALIASES: Record<string, Produces | 'unsupported'> = {
  json: 'fhir',
  'application/json': 'fhir',
  'application/fhir+json': 'fhir',
  'application/json+fhir': 'fhir',
  xml: 'unsupported',
  'application/fhir+xml': 'unsupported',
  'application/xml': 'unsupported',
  html: 'html',
  'text/html': 'html',
};

const PRODUCED_TYPES: Record<Produces, string[]> = {
  fhir: [...JSON_TYPES],
  xml: [...XML_TYPES],
  html: ['text/html'],
  // A stored document: as itself (XML; a Level 1 document's PDF on request) or wrapped in a FHIR Binary.
  document: [...XML_TYPES, ...JSON_TYPES, 'application/pdf'],
};

const MEDIA_OF_KIND: Record<BodyKind, string> = {
  json: 'application/fhir+json',
  xml: 'application/xml',
  form: 'application/x-www-form-urlencoded',
};

export const CONTENT_TYPE: Record<Produces, string> = {
  fhir: 'application/fhir+json; charset=utf-8',
  xml: 'application/xml; charset=utf-8',
  html: 'text/html; charset=utf-8',
  document: 'text/xml; charset=utf-8',
};

interface MediaRange {
  type: string;
  q: number;
}

export function parseAccept(header: string): MediaRange[] {
  return header
    .split(',')
    .map((part) => {
      const [type = '', ...params] = part.trim().split(';');
      const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      const q = qParam ? Number(qParam.slice(2)) : 1;
      return { type: type.trim().toLowerCase(), q: Number.isFinite(q) ? q : 0 };
    })
    .filter((m) => m.type && m.q > 0);
}

function rangeMatches(range: string, type: string): boolean {
  if (range === '*/*') return true;
  if (range.endsWith('/*')) return type.startsWith(range.slice(0, -1));
  return range === type;
}

/**
 * Decides whether the route's representation is acceptable. `_format` wins over Accept (FHIR REST §3.1.0.1.9).
 * Routes produce one representation, so negotiation is "can we give you this one, or 406".
 */
export function negotiate(produces: Produces, accept: string | undefined, format: string | null): Problem | undefined {
  if (format !== null) {
    const wanted = FORMAT_ALIASES[format.trim().toLowerCase()];
    if (wanted === produces) return undefined;
    if (produces === 'xml' && format.trim().toLowerCase() === 'xml') return undefined;
    if (produces === 'document' && wanted === 'fhir') return undefined;
    return notAcceptable(`_format=${format} is not available here; this endpoint answers ${CONTENT_TYPE[produces].split(';')[0]}`);
  }
  if (!accept || !accept.trim()) return undefined;
  const version = otherFhirVersion(accept);
  if (version) return notAcceptable(`This server speaks FHIR 4.0 (R4) only; Accept asks for fhirVersion=${version}`);
  const ranges = parseAccept(accept);
  if (ranges.length === 0) return notAcceptable(`Accept header '${accept}' accepts nothing`);
  const offered = PRODUCED_TYPES[produces];
  if (ranges.some((r) => offered.some((t) => rangeMatches(r.type, t)))) return undefined;
  return notAcceptable(
    `None of the media types in Accept can be served; this endpoint answers ${CONTENT_TYPE[produces].split(';')[0]}`,
  );
}

/**
 * The FHIR version an Accept header asks for (the fhirVersion media type parameter, FHIR "Version
 * Negotiation") when every range that names one names a version other than 4.0; undefined otherwise.
 */
export function otherFhirVersion(accept: string): string | undefined {
  const asked = [...accept.matchAll(/;\s*fhirVersion\s*=\s*"?([^";,\s]+)"?/gi)].map((m) => m[1]!);
  if (!asked.length || asked.some((v) => v === '4.0' || v.startsWith('4.0.'))) return undefined;
  return asked[0]!.slice(0, 20);
}

/** Classifies a request Content-Type into a body kind, or a 415 Problem naming what the route takes. */
export function bodyKindOf(contentType: string | undefined, accepts: BodyKind[]): BodyKind | Problem {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  const kind: BodyKind | undefined = JSON_TYPES.has(type)
    ? 'json'
    : XML_TYPES.has(type)
      ? 'xml'
      : type === 'application/x-www-form-urlencoded'
        ? 'form'
        : undefined;
  if (kind && accepts.includes(kind)) return kind;
  if (!accepts.length) return unsupportedMediaType(`This endpoint takes no request body${type ? ` (got Content-Type '${type}')` : ''}`);
  const wanted = accepts.map((k) => MEDIA_OF_KIND[k]).join(' or ');
  return unsupportedMediaType(
    type ? `Content-Type '${type}' is not supported here; send ${wanted}` : `A Content-Type header is required; send ${wanted}`,
  );
}

/** Charset parameter of a Content-Type, lower-cased; undefined when none is given. */
export function charsetOf(contentType: string | undefined): string | undefined {
  const m = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType ?? '');
  return m?.[1]?.toLowerCase();
}
