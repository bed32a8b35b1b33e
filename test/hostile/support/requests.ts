// Hand-written request-level cases: malformed HTTP, odd methods and paths, hostile query strings and
// headers. They do not depend on one route; most go to the Patient endpoints that exist from day one.
import { OID } from '../../../src/fhir/identifiers.ts';
import { PERSONAS } from '../../../src/demo/personas.ts';
import type { HostileCase } from './corpus.ts';

const ms = `/fhir/Patient/${PERSONAS.ms.id}`;
const ROUTE = 'request level';

type Spec = Omit<HostileCase, 'route' | 'credentials' | 'payloads'> & Partial<Pick<HostileCase, 'credentials' | 'payloads'>>;

const c = (s: Spec): HostileCase => ({ credentials: 'route', payloads: [], ...s, route: ROUTE, title: `${ROUTE}: ${s.title}` });
const get = (target: string) => ({ method: 'GET', target });

export const REQUEST_CASES: HostileCase[] = [
  // Methods
  c({ title: 'DELETE on a read-only resource', request: { method: 'DELETE', target: ms }, expect: 'reject', status: 405 }),
  c({ title: 'PATCH', request: { method: 'PATCH', target: ms, headers: { 'content-type': 'application/json-patch+json' }, body: '[]' }, expect: 'reject' }),
  c({ title: 'TRACE (cross-site tracing)', request: { method: 'TRACE', target: ms }, expect: 'reject' }),
  c({ title: 'OPTIONS', request: { method: 'OPTIONS', target: ms }, expect: 'reject' }),
  c({ title: 'unknown method', request: { method: 'FOO', target: ms }, expect: 'reject' }),
  c({ title: 'X-HTTP-Method-Override: DELETE is not honoured', request: { method: 'GET', target: ms, headers: { 'x-http-method-override': 'DELETE' } }, expect: 'survive' }),
  // Paths
  c({ title: 'raw ../ out of /fhir', request: get('/fhir/../../../../etc/passwd'), expect: 'reject' }),
  c({ title: 'encoded ../ out of /fhir', request: get('/fhir/%2e%2e/%2e%2e/%2e%2e/etc/passwd'), expect: 'reject' }),
  c({ title: 'encoded slash inside a segment', request: get('/fhir/Patient%2Fms'), expect: 'reject' }),
  c({ title: 'double slash', request: get('/fhir//Patient/ms'), expect: 'survive' }),
  c({ title: 'trailing slash', request: get(`${ms}/`), expect: 'survive' }),
  c({ title: 'matrix parameter', request: get(`${ms};jsessionid=abc`), expect: 'reject' }),
  c({ title: 'unknown resource type', request: get('/fhir/Evil'), expect: 'reject', status: 404 }),
  c({ title: 'resource type with markup', request: get('/fhir/%3Cscript%3E'), expect: 'reject', payloads: ['<script>'] }),
  c({ title: 'non-ASCII bytes in the path', request: get('/fhir/Patient/\u00f8'), expect: 'reject' }),
  c({ title: 'very long path (6 KB)', request: get(`/fhir/${'Patient/'.repeat(750)}`), expect: 'reject' }),
  // Query strings
  c({ title: '_count negative', request: get('/fhir/Patient?_count=-1'), expect: 'reject' }),
  c({ title: '_count huge', request: get('/fhir/Patient?_count=99999999999999999999'), expect: 'survive' }),
  c({ title: '_count not a number', request: get('/fhir/Patient?_count=1e309'), expect: 'reject' }),
  c({ title: '_offset negative', request: get('/fhir/Patient?_offset=-5'), expect: 'reject' }),
  c({ title: 'unknown search parameter', request: get('/fhir/Patient?evil=1'), expect: 'reject' }),
  c({ title: '_sort injection', request: get('/fhir/Patient?_sort=id;drop%20table%20patient'), expect: 'reject' }),
  c({ title: 'malformed percent-encoding in the query', request: get('/fhir/Patient?identifier=%ZZ'), expect: 'reject', status: 400 }),
  c({ title: 'percent-encoded bytes that are not UTF-8', request: get('/fhir/Patient?identifier=9%ff'), expect: 'reject', status: 400 }),
  c({ title: 'percent-encoded UTF-16 surrogate', request: get('/fhir/Patient?identifier=%ED%A0%80'), expect: 'reject', status: 400 }),
  c({ title: '_id list with one that is not an id', request: get('/fhir/Patient?_id=ms,addison,%3Cx%3E'), expect: 'reject', status: 400, payloads: ['<x>'] }),
  c({ title: 'patient reference with markup', request: get('/fhir/Condition?patient=%3Cscript%3E'), expect: 'reject', status: 400, payloads: ['<script>'] }),
  c({ title: 'identifier SQL injection', request: get(`/fhir/Patient?identifier=${encodeURIComponent(`${OID.fnr}|' OR '1'='1`)}`), expect: 'survive', payloads: [`' OR '1'='1`] }),
  c({ title: 'identifier with only a bar', request: get('/fhir/Patient?identifier=%7C'), expect: 'reject' }),
  c({ title: 'identifier of 20 KB', request: get(`/fhir/Patient?identifier=${'9'.repeat(20_000)}`), expect: 'survive' }),
  c({ title: 'query with 2,000 parameters', request: get(`/fhir/Patient?${Array.from({ length: 2000 }, (_, i) => `identifier=${i}`).join('&')}`), expect: 'survive' }),
  c({ title: 'prototype pollution in the query', request: get('/fhir/Patient?__proto__[polluted]=1&constructor[prototype][polluted]=1'), expect: 'reject' }),
  c({ title: '_summary with markup', request: get('/fhir/Patient?_summary=%3Cscript%3E'), expect: 'reject', payloads: ['<script>'] }),
  c({ title: '_pretty on an error', request: get('/fhir/Patient/nope?_pretty=true'), expect: 'reject', status: 404 }),
  c({ title: 'patient reference traversal in a search', request: get('/fhir/Condition?patient=Patient%2F..%2F..%2Fetc%2Fpasswd'), expect: 'reject', status: 400, payloads: ['../../etc/passwd'] }),
  c({ title: '$summary identifier injection', request: get(`/fhir/Patient/$summary?identifier=${encodeURIComponent(`${OID.fnr}|<script>alert(1)</script>`)}`), expect: 'reject', payloads: ['<script>alert(1)</script>'] }),
  c({ title: 'AuditEvent search with SQL in patient', request: get(`/fhir/AuditEvent?patient=${encodeURIComponent("Patient/ms' OR '1'='1")}`), expect: 'survive', payloads: ["Patient/ms' OR '1'='1", "ms' OR '1'='1"] }),
  // Headers
  c({ title: 'Host header of another site', request: { method: 'GET', target: ms, headers: { host: 'evil.example' } }, expect: 'survive' }),
  c({ title: 'Host header with markup', request: { method: 'GET', target: '/fhir/Patient?_count=1', headers: { host: '"><script>x</script>' } }, expect: 'survive', payloads: ['"><script>x</script>'] }),
  c({ title: 'X-Request-Id with markup is not echoed', request: { method: 'GET', target: ms, headers: { 'x-request-id': '<script>alert(1)</script>' } }, expect: 'survive' }),
  c({ title: 'X-Forwarded-For spoofing', request: { method: 'GET', target: ms, headers: { 'x-forwarded-for': '127.0.0.1, 10.0.0.1' } }, expect: 'survive' }),
  c({ title: 'Accept-Language of 8 KB', request: { method: 'GET', target: ms, headers: { 'accept-language': 'en;q=0.1,'.repeat(800) } }, expect: 'survive' }),
  c({ title: 'Accept of 8 KB', request: { method: 'GET', target: ms, headers: { accept: 'text/x-nothing;q=0.5,'.repeat(400) } }, expect: 'reject' }),
  c({ title: 'header block over the server limit (20 KB)', request: { method: 'GET', target: ms, headers: { 'x-big': 'a'.repeat(20 * 1024) } }, expect: 'reject' }),
  c({ title: 'bare CR inside a header value', request: { method: 'GET', target: ms, rawHeaderLines: ['X-Evil: a\rSet-Cookie: pwned=1'] }, expect: 'reject' }),
  c({ title: 'header without a colon', request: { method: 'GET', target: ms, rawHeaderLines: ['NoColonHere'] }, expect: 'reject' }),
  // Bodies at the HTTP level
  c({ title: 'Content-Length not a number', request: { method: 'POST', target: '/fhir/Patient/_search', headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': 'abc' }, body: 'identifier=1' }, expect: 'reject' }),
  c({ title: 'Content-Length and Transfer-Encoding together (smuggling)', request: { method: 'POST', target: '/fhir/Patient/_search', headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': '5', 'transfer-encoding': 'chunked' }, body: '0\r\n\r\nGET /fhir/Patient/ms HTTP/1.1\r\n\r\n' }, expect: 'reject' }),
  c({ title: 'malformed chunked body', request: { method: 'POST', target: '/fhir/Patient/_search', headers: { 'content-type': 'application/x-www-form-urlencoded', 'transfer-encoding': 'chunked' }, body: 'zz\r\nidentifier=1\r\n0\r\n\r\n' }, expect: 'reject' }),
  c({ title: 'gzip Content-Encoding that is not gzip', request: { method: 'POST', target: '/fhir/Patient/_search', headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'gzip' }, body: 'identifier=1' }, expect: 'reject' }),
  c({ title: 'body on a GET is ignored', request: { method: 'GET', target: ms, headers: { 'content-type': 'application/json' }, body: '{"__proto__":{"x":1}}' }, expect: 'survive' }),
];
