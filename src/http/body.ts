// Request bodies: size limits per kind, strict UTF-8, and JSON without prototype-pollution keys or deep nesting.
import { badRequest, fail, isProblem, ok, payloadTooLarge, unsupportedMediaType, type Result } from '../fhir/outcomes.ts';
import { decode as decodeXml, prescanXmlBytes, xmlEncodingOf } from '../xml/parse.ts';
import { charsetOf } from './negotiate.ts';
import type { BodyKind } from './types.ts';

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
// FHIR strings may not hold characters below U+0020 other than tab, CR and LF (FHIR datatypes, string);
// U+0000 in particular cannot be stored in PostgreSQL text or jsonb at all.
const CONTROL_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F]/;
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
      return fail(badRequest('Body is not valid UTF-8'));
    }
  }
  if (kind === 'form') {
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

/** JSON.parse that refuses keys able to pollute prototypes when a parsed object is later merged or copied. */
export function parseJsonSafely(text: string): Result<unknown> {
  const deep = jsonTooDeepAt(text, MAX_JSON_DEPTH);
  if (deep !== -1) return fail(badRequest(`JSON is nested deeper than ${MAX_JSON_DEPTH} levels (at offset ${deep})`));
  try {
    return ok(
      JSON.parse(text, (key, value: unknown) => {
        if (FORBIDDEN_KEYS.has(key)) throw new ForbiddenKey(key);
        if (CONTROL_CHARS.test(key) || (typeof value === 'string' && CONTROL_CHARS.test(value))) throw new ControlCharacter();
        return value;
      }),
    );
  } catch (err) {
    if (err instanceof ForbiddenKey) return fail(badRequest(`JSON key '${err.key}' is not allowed`));
    if (err instanceof ControlCharacter) return fail(badRequest('JSON strings may not contain control characters other than tab, CR and LF'));
    return fail(badRequest(`Body is not valid JSON: ${(err as Error).message.slice(0, 200)}`));
  }
}

class ForbiddenKey extends Error {
  readonly key: string;
  constructor(key: string) {
    super(key);
    this.key = key;
  }
}

class ControlCharacter extends Error {}
