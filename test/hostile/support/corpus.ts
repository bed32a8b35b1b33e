// The route-table-driven corpus: every route in the table gets hostile path parameters, tokens,
// Accept and Content-Type headers, and (when it takes a body) hostile bodies of every kind it accepts.
// A route added to the table is covered the next time the suite runs.
import type { BodyKind, RouteDef } from '../../../src/http/types.ts';
import { PERSONAS } from '../../../src/demo/personas.ts';
import { formVariants, jsonVariants, MEDIA, validBase, xmlVariants, type BodyVariant } from './bodies.ts';
import { PATH_PARAM_PAYLOADS } from './payloads.ts';
import type { RawRequest } from './raw-http.ts';

/** Which credentials a case is sent with; resolved against the running server by the test. */
export type Credentials =
  | 'route' // a token that passes this route's scope check (clinician or system client, found by probing)
  | 'none'
  | 'expired'
  | 'foreign-key'
  | 'tampered'
  | 'alg-none'
  | 'wrong-audience'
  | { header: string };

export interface HostileCase {
  title: string;
  route: string;
  request: RawRequest;
  credentials: Credentials;
  /** reject: a 4xx OperationOutcome. survive: no 5xx, no leak, but 2xx allowed (the input may be legitimate). */
  expect: 'reject' | 'survive';
  /** When the status is known exactly. */
  status?: number;
  /** Strings the request carries that the answer may quote back (removed before looking for leaks). */
  payloads: string[];
}

export const routeName = (r: Pick<RouteDef, 'method' | 'path'>): string => `${r.method} ${r.path}`;

const BENIGN_PARAM = PERSONAS.ms.id;

/** The route's path under /fhir with every parameter filled: the one named by `target` with `value`. */
export function pathFor(route: RouteDef, target?: string, value?: string): string {
  return `/fhir${route.path.replace(/:([A-Za-z]+)/g, (_m, name: string) => (name === target && value !== undefined ? value : BENIGN_PARAM))}`;
}

const paramsOf = (route: RouteDef): string[] => [...route.path.matchAll(/:([A-Za-z]+)/g)].map((m) => m[1]!);

/** A harmless body the route takes, so that header and parameter cases are not refused for the body. */
function benignBody(route: RouteDef): { body?: Buffer; headers: Record<string, string> } {
  const kind = route.accepts?.[0];
  if (!kind) return { headers: {} };
  return { body: validBase(route, kind), headers: { 'content-type': MEDIA[kind] } };
}

const TOKEN_CASES: { name: string; credentials: Credentials }[] = [
  { name: 'no Authorization header', credentials: 'none' },
  { name: 'empty bearer', credentials: { header: 'Bearer' } },
  { name: 'bearer of spaces', credentials: { header: 'Bearer      ' } },
  { name: 'Basic credentials', credentials: { header: 'Basic YWRtaW46YWRtaW4=' } },
  { name: 'not a JWT', credentials: { header: 'Bearer not-a-jwt' } },
  { name: 'three empty JWT parts', credentials: { header: 'Bearer ..' } },
  { name: 'JWT with a JSON-injection header', credentials: { header: `Bearer ${Buffer.from('{"alg":"ES256","kid":"../../etc/passwd"}').toString('base64url')}.e30.AAAA` } },
  { name: 'SQL injection as token', credentials: { header: "Bearer ' OR '1'='1" } },
  { name: 'oversized token (12 KB)', credentials: { header: `Bearer ${'A'.repeat(12 * 1024)}.${'B'.repeat(100)}.${'C'.repeat(100)}` } },
  { name: 'two bearer tokens', credentials: { header: 'Bearer a.b.c, Bearer d.e.f' } },
  { name: 'expired token', credentials: 'expired' },
  { name: 'token signed by an untrusted key', credentials: 'foreign-key' },
  { name: 'token with a tampered payload', credentials: 'tampered' },
  { name: 'unsigned token (alg none)', credentials: 'alg-none' },
  { name: 'token for another audience', credentials: 'wrong-audience' },
];

function acceptCases(route: RouteDef): { name: string; target: string; accept?: string }[] {
  const path = pathFor(route);
  const sep = path.includes('?') ? '&' : '?';
  const wrong = route.produces === 'xml' ? 'application/fhir+json' : 'application/fhir+xml';
  return [
    { name: `Accept: ${wrong}`, target: path, accept: wrong },
    { name: 'Accept: image/png', target: path, accept: 'image/png' },
    { name: 'Accept with only q=0 ranges', target: path, accept: '*/*;q=0' },
    { name: '_format=xml', target: `${path}${sep}_format=${route.produces === 'xml' ? 'json' : 'xml'}` },
    { name: '_format with a traversal', target: `${path}${sep}_format=..%2F..%2Fetc%2Fpasswd` },
  ];
}

function contentTypeCases(route: RouteDef): { name: string; contentType: string | undefined; body: Buffer }[] {
  const body = route.accepts?.length ? validBase(route, route.accepts[0]!) : Buffer.from('{"resourceType":"Parameters"}');
  const offered = new Set((route.accepts ?? []).map((k) => MEDIA[k]));
  const wrong = ['text/plain', 'application/octet-stream', 'multipart/form-data; boundary=x', 'application/fhir+json', 'application/xml'].filter((t) => !offered.has(t));
  return [
    ...wrong.map((t) => ({ name: `Content-Type: ${t}`, contentType: t, body })),
    { name: 'no Content-Type', contentType: undefined, body },
    { name: 'Content-Type of garbage', contentType: ';;;/\\x', body },
  ];
}

export interface CorpusOptions {
  /** Most one-field-at-a-time injection cases per route and body kind. */
  perFieldLimit?: number;
}

export function buildCorpus(routes: readonly RouteDef[], opts: CorpusOptions = {}): HostileCase[] {
  const limit = opts.perFieldLimit ?? 60;
  const out: HostileCase[] = [];
  for (const route of routes) {
    const name = routeName(route);
    const add = (c: Omit<HostileCase, 'route' | 'title'> & { title: string }): void => {
      out.push({ ...c, route: name, title: `${name}: ${c.title}` });
    };
    const benign = benignBody(route);

    for (const param of paramsOf(route)) {
      for (const p of PATH_PARAM_PAYLOADS) {
        add({
          title: `:${param} = ${p.name}`,
          request: { method: route.method, target: pathFor(route, param, p.value), headers: benign.headers, ...(benign.body ? { body: benign.body } : {}) },
          credentials: 'route',
          expect: 'reject',
          payloads: [p.value, decodeSafely(p.value)],
        });
      }
    }

    if (route.access !== 'public') {
      for (const t of TOKEN_CASES) {
        add({
          title: `token: ${t.name}`,
          request: { method: route.method, target: pathFor(route), headers: benign.headers, ...(benign.body ? { body: benign.body } : {}) },
          credentials: t.credentials,
          expect: 'reject',
          status: 401,
          payloads: [],
        });
      }
    }

    for (const a of acceptCases(route)) {
      add({
        title: a.name,
        request: { method: route.method, target: a.target, headers: { ...benign.headers, ...(a.accept ? { accept: a.accept } : {}) }, ...(benign.body ? { body: benign.body } : {}) },
        credentials: 'route',
        expect: 'reject',
        payloads: ['../../etc/passwd'],
      });
    }

    if (route.method !== 'GET') {
      for (const c of contentTypeCases(route)) {
        add({
          title: c.name,
          request: { method: route.method, target: pathFor(route), headers: c.contentType ? { 'content-type': c.contentType } : {}, body: c.body },
          credentials: 'route',
          expect: 'reject',
          payloads: [],
        });
      }
    }

    for (const kind of route.accepts ?? []) {
      for (const b of variantsFor(route, kind, limit)) {
        add({
          title: `${kind} body: ${b.name}`,
          request: { method: route.method, target: pathFor(route), headers: { 'content-type': b.contentType }, body: b.body },
          credentials: 'route',
          expect: b.expect,
          payloads: b.payloads,
        });
      }
    }
  }
  return out;
}

function variantsFor(route: RouteDef, kind: BodyKind, limit: number): BodyVariant[] {
  if (kind === 'json') return jsonVariants(route, limit);
  if (kind === 'xml') return xmlVariants(route, limit);
  return formVariants();
}

function decodeSafely(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
