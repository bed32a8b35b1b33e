// Request bodies: size limits per kind, strict UTF-8, and JSON without prototype-pollution keys or deep nesting.
import { badRequest, fail, isProblem, ok, payloadTooLarge, unsupportedMediaType, type Result } from '../fhir/outcomes.ts';
import { decode as decodeXml, prescanXmlBytes, xmlEncodingOf } from '../xml/parse.ts';
import { charsetOf } from './negotiate.ts';
import type { BodyKind } from './types.ts';

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
// FHIR strings may not hold characters below U+0020 other than tab, CR and LF (FHIR datatypes, string);
// U+0000 in particular cannot be stored in PostgreSQL text or jsonb at all.
const CONTROL_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F]/;
// A surrogate without its partner is legal in JSON ("\ud800") but is no Unicode character: it cannot be
// written as UTF-8, and PostgreSQL's jsonb refuses it on insert, which surfaced as a 500 after the checks.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

export interface BodyLimits {
  json: number;
  xml: number;
}

const limitOf = (limits: BodyLimits, kind: BodyKind): number => (kind === 'xml' ? limits.xml : limits.json);

/** Decodes and parses a raw body already classified as JSON or XML (XML stays text for its own parser). */
export function readBody(raw: Buffer, kind: BodyKind, contentType: string | undefined, limits: BodyLimits): Result<unknown> {
  const limit = limitOf(limits, kind);
  if (raw.length > limit) {
    return fail(payloadTooLarge(`Body of ${raw.length} bytes exceeds the ${limit}-byte limit for ${kind}`));
  }
  const charset = charsetOf(contentType);
  // XML may come in ISO-8859-1 or Windows-1252 (KITH messages often do); the XML decoder below reads and checks
  // the charset against the document's own declaration. Every other kind is UTF-8 only.
  if (charset && charset !== 'utf-8' && charset !== 'utf8' && !(kind === 'xml' && xmlEncodingOf(charset))) {
    return fail(unsupportedMediaType(`charset=${charset} is not supported; send UTF-8${kind === 'xml' ? ' (or ISO-8859-1 or Windows-1252)' : ''}`));
  }
  let text: string;
  if (kind === 'xml') {
    // Attribute and namespace floods, huge tags and deep nesting are refused before any decoding or parsing.
    const flood = prescanXmlBytes(raw);
    if (flood) return fail(flood);
    // XML carries its encoding in its declaration: decode (and check) it the way the XML layer reads it, with the
    // Content-Type's charset for a document that declares none, and refused when the two disagree.
    const decoded = decodeXml(raw, charset);
    if (isProblem(decoded)) return fail(decoded);
    text = decoded.text;
  } else {
    try {
      text = utf8.decode(raw);
    } catch {
      return fail(badRequest(`Body is not valid UTF-8 (at byte ${invalidUtf8At(raw)})`));
    }
  }
  if (kind === 'form') {
    const malformed = malformedEscape(text);
    if (malformed) return fail(badRequest(`Form field '${malformed.name}' is not valid percent-encoded UTF-8`, { expression: [malformed.name] }));
    const form = new URLSearchParams(text);
    for (const [k, v] of form) if (k.includes('\u0000') || v.includes('\u0000')) return fail(badRequest('Form values may not contain NUL characters'));
    return ok(form);
  }
  if (!text.trim()) return fail(badRequest(`Body is empty; ${kind === 'json' ? 'a JSON resource' : 'an XML document'} was expected`));
  return kind === 'xml' ? ok(text) : parseJsonSafely(text);
}

/**
 * No FHIR resource Helsebro reads nests anywhere near this (a Bundle entry's contained resource's extension
 * is about 12 levels). JSON.parse with a reviver, and every walk over the result after it, recurses once per
 * level: thousands of levels exhaust the stack, so the depth is counted first, in one pass over the text.
 */
export const MAX_JSON_DEPTH = 100;

/** The offset where nesting first goes deeper than `max` (strings skipped), or -1. */
export function jsonTooDeepAt(text: string, max: number): number {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      // Skip the string: a backslash escapes the next character, whatever it is.
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 0x5c /* \ */) i++;
        else if (d === 0x22) break;
      }
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > max) return i;
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      depth--;
    }
  }
  return -1;
}

/**
 * JSON.parse, then one walk that refuses what must not reach a handler or the store: keys able to pollute
 * prototypes when a parsed object is later merged or copied, control characters and lone surrogates. Each
 * refusal names the element (`MedicationDispense.contained[2].name[0].family`), as the resource parsers do.
 */
export function parseJsonSafely(text: string): Result<unknown> {
  const deep = jsonTooDeepAt(text, MAX_JSON_DEPTH);
  if (deep !== -1) return fail(badRequest(`JSON is nested deeper than ${MAX_JSON_DEPTH} levels (at offset ${deep})`));
  let value: unknown;
  try {
    // Without a reviver JSON.parse makes "__proto__" an own data property, never the prototype: the walk
    // below finds it as an ordinary key.
    value = JSON.parse(text);
  } catch (err) {
    return fail(badRequest(`Body is not valid JSON: ${(err as Error).message.slice(0, 200)}`));
  }
  const unsafe = findUnsafeJson(value, rootName(value), 0);
  return unsafe ? fail(badRequest(unsafe.reason, { expression: [unsafe.path] })) : ok(value);
}

const rootName = (v: unknown): string => {
  const type = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>).resourceType : undefined;
  return typeof type === 'string' && /^[A-Z][A-Za-z]{0,63}$/.test(type) ? type : '$this';
};

// A key that is not a plain name is quoted FHIRPath-style, escaped, so the expression never carries the
// offending character itself.
const step = (key: string): string => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `.${key}` : `.\`${JSON.stringify(key).slice(1, -1).replace(/`/g, '\\`')}\``);

const codePoint = (s: string, re: RegExp): string => `U+${(re.exec(s)![0].charCodeAt(0)).toString(16).toUpperCase().padStart(4, '0')}`;

function stringProblem(s: string, what: string): string | undefined {
  if (CONTROL_CHARS.test(s)) return `${what} contains the control character ${codePoint(s, CONTROL_CHARS)}; JSON strings may not contain control characters other than tab, CR and LF`;
  if (LONE_SURROGATE.test(s)) return `${what} contains a lone UTF-16 surrogate (${codePoint(s, LONE_SURROGATE)}), which is not a Unicode character`;
  return undefined;
}

/** The first unsafe key or string in document order; recursion is bounded by MAX_JSON_DEPTH, checked before. */
function findUnsafeJson(v: unknown, path: string, depth: number): { path: string; reason: string } | undefined {
  if (typeof v === 'string') {
    const reason = stringProblem(v, 'The string');
    return reason ? { path, reason } : undefined;
  }
  if (typeof v !== 'object' || v === null || depth > MAX_JSON_DEPTH) return undefined;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const found = findUnsafeJson(v[i], `${path}[${i}]`, depth + 1);
      if (found) return found;
    }
    return undefined;
  }
  for (const key of Object.keys(v)) {
    const at = `${path}${step(key)}`;
    if (FORBIDDEN_KEYS.has(key)) return { path: at, reason: `JSON key '${key}' is not allowed` };
    const keyReason = stringProblem(key, 'A JSON key');
    if (keyReason) return { path: at, reason: keyReason };
    const found = findUnsafeJson((v as Record<string, unknown>)[key], at, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/**
 * Byte offset of the first byte that does not start a well-formed UTF-8 sequence (Unicode table 3-7:
 * no overlong forms, no surrogates, nothing above U+10FFFF), or -1. Only run once the strict decoder
 * has refused the body, to tell the sender where.
 */
export function invalidUtf8At(b: Uint8Array): number {
  for (let i = 0; i < b.length; ) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    const n = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : 0;
    if (!n) return i;
    const lo = c === 0xe0 ? 0xa0 : c === 0xf0 ? 0x90 : 0x80;
    const hi = c === 0xed ? 0x9f : c === 0xf4 ? 0x8f : 0xbf;
    for (let k = 1; k <= n; k++) {
      const d = b[i + k];
      if (d === undefined || d < (k === 1 ? lo : 0x80) || d > (k === 1 ? hi : 0xbf)) return i;
    }
    i += n + 1;
  }
  return -1;
}

/**
 * The first name=value pair of an application/x-www-form-urlencoded string (a query or a form body) whose
 * percent escapes are malformed (`%zz`) or decode to bytes that are not UTF-8 (`%ff`, an encoded surrogate).
 * URLSearchParams would quietly turn those into U+FFFD and the search would run for a value nobody sent.
 */
export function malformedEscape(encoded: string): { name: string } | undefined {
  for (const pair of encoded.split('&')) {
    if (!pair.includes('%')) continue;
    const eq = pair.indexOf('=');
    const name = eq < 0 ? pair : pair.slice(0, eq);
    for (const part of eq < 0 ? [pair] : [name, pair.slice(eq + 1)]) {
      try {
        decodeURIComponent(part.replace(/\+/g, ' '));
      } catch {
        // The name as far as it decodes, for the expression; never the raw bytes.
        return { name: new URLSearchParams(`${name}=`).keys().next().value?.replace(/\uFFFD/g, '?').slice(0, 80) ?? '?' };
      }
    }
  }
  return undefined;
}
