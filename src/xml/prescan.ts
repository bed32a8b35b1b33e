// A cheap, linear pass over the document text that refuses the shapes which make the parser slow or
// memory-hungry before the parser buffers any of them. The tokenizer holds a whole start tag, every
// attribute value in it, before it resolves the tag's namespaces, and the HTTP layer runs this pass on the
// raw bytes before they are even decoded, so a flood of attributes, an endless start tag or deep nesting
// costs one look at each character and no more. This pass is not a well-formedness check: whatever it lets through still meets the parser
// and its own guards; it only has to count correctly on the documents that would hurt.
import type { Problem } from '../fhir/outcomes.ts';
import { messageProblem, type MessageErrorCode } from './errors.ts';

export interface PrescanLimits {
  /** Attributes per element, namespace declarations included. */
  maxAttributes: number;
  /** Namespace declarations (xmlns, xmlns:p) per element. */
  maxNamespaceDeclarations: number;
  /** Characters from a start tag's `<` to its `>`, attribute values included. */
  maxStartTagLength: number;
  /** Element nesting, root = 1. */
  maxDepth: number;
}

const LT = 0x3c; // <
const GT = 0x3e; // >
const SLASH = 0x2f; // /
const BANG = 0x21; // !
const QUESTION = 0x3f; // ?
const EQUALS = 0x3d; // =
const COLON = 0x3a; // :
const QUOT = 0x22; // "
const APOS = 0x27; // '

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const isNameEnd = (c: number): boolean => isSpace(c) || c === SLASH || c === GT;

/**
 * The document as the scan reads it: decoded text, or raw bytes. Every delimiter the scan looks for is
 * ASCII, and in UTF-8, ISO-8859-1 and Windows-1252 a byte below 0x80 is always that ASCII character, so
 * the bytes count exactly as their text does (offsets are then byte offsets). Reading the bytes directly
 * spares the HTTP layer a copy of the whole body before it can refuse it.
 */
interface Source {
  readonly length: number;
  code(i: number): number;
  /** Position of an ASCII `needle` at or after `from`, or -1. */
  find(needle: string, from: number): number;
  /** ASCII-safe excerpt for diagnostics. */
  excerpt(from: number, to: number): string;
}

const textSource = (text: string): Source => ({
  length: text.length,
  code: (i) => text.charCodeAt(i),
  find: (needle, from) => text.indexOf(needle, from),
  excerpt: (from, to) => text.slice(from, to),
});

const byteSource = (bytes: Buffer): Source => ({
  length: bytes.length,
  code: (i) => bytes[i] ?? Number.NaN,
  // A one-character needle as its byte: Buffer.indexOf would otherwise encode the string on every call.
  find: (needle, from) => (needle.length === 1 ? bytes.indexOf(needle.charCodeAt(0), from) : bytes.indexOf(needle, from, 'latin1')),
  excerpt: (from, to) => bytes.toString('utf8', from, to),
});

/** Where a construct ends (just past `close`), or the end when it never does: the parser reports that. */
function skipPast(src: Source, from: number, close: string): number {
  const at = src.find(close, from);
  return at === -1 ? src.length : at + close.length;
}

function startsWith(src: Source, at: number, ascii: string): boolean {
  for (let k = 0; k < ascii.length; k++) if (src.code(at + k) !== ascii.charCodeAt(k)) return false;
  return true;
}

/** The first limit the document text exceeds, as the Problem that refuses it; undefined when it exceeds none. */
export const prescanXml = (text: string, limits: PrescanLimits): Problem | undefined => prescan(textSource(text), limits);

/** The same over raw bytes (UTF-8, ISO-8859-1 or Windows-1252), before they are decoded. */
export const prescanXmlBytes = (bytes: Uint8Array, limits: PrescanLimits): Problem | undefined =>
  prescan(byteSource(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)), limits);

function prescan(src: Source, limits: PrescanLimits): Problem | undefined {
  const n = src.length;
  // Where the open elements' start tags begin: a refusal names them (as the parser's own refusals do),
  // read only then, so a document that passes costs no string per element.
  const open: number[] = [];
  const where = (): string[] => open.map((at) => localNameAt(src, at));
  let i = src.find('<', 0);
  while (i !== -1 && i < n) {
    const next = src.code(i + 1);
    if (next === BANG) {
      // Comments and CDATA may hold '<' and '>' freely; anything else after '<!' the screen or the parser refuses.
      if (startsWith(src, i, '<!--')) i = skipPast(src, i + 4, '-->');
      else if (startsWith(src, i, '<![CDATA[')) i = skipPast(src, i + 9, ']]>');
      else i = skipPast(src, i + 2, '>');
    } else if (next === QUESTION) {
      i = skipPast(src, i + 2, '?>');
    } else if (next === SLASH) {
      open.pop();
      i = skipPast(src, i + 2, '>');
    } else {
      const tag = scanStartTag(src, i, limits);
      if ('refusal' in tag) {
        return messageProblem(400, 'too-costly', tag.refusal.code, `${tag.refusal.message} (start tag at offset ${i})`, [...where(), localNameAt(src, i)].join('.'));
      }
      if (!tag.selfClosing) {
        if (open.length >= limits.maxDepth) {
          return messageProblem(400, 'too-costly', 'xml-too-deep', `Elements are nested deeper than ${limits.maxDepth} levels (at offset ${i})`, where().join('.'));
        }
        open.push(i);
      }
      i = tag.end;
    }
    i = src.find('<', i);
  }
  return undefined;
}

type StartTag = { end: number; selfClosing: boolean } | { refusal: { code: MessageErrorCode; message: string } };

/** The local name of the element whose start tag begins at `start` (clipped: it is echoed in diagnostics). */
function localNameAt(src: Source, start: number): string {
  let end = start + 1;
  const limit = Math.min(src.length, start + 1 + 100);
  while (end < limit && !isNameEnd(src.code(end))) end++;
  const qname = src.excerpt(start + 1, end);
  return qname.slice(qname.indexOf(':') + 1);
}

/** One start tag from its '<': counts its attributes and namespace declarations, and finds its end. */
function scanStartTag(src: Source, start: number, limits: PrescanLimits): StartTag {
  const n = src.length;
  const stopAt = Math.min(n, start + limits.maxStartTagLength);
  let attributes = 0;
  let declarations = 0;
  // Where the latest name (the element's, then each attribute's) begins; -1 after a value or an '='.
  let nameStart = start + 1;
  let i = start + 1;
  for (; i < stopAt; i++) {
    const c = src.code(i);
    if (c === QUOT || c === APOS) {
      const close = src.find(c === QUOT ? '"' : "'", i + 1);
      if (close === -1 || close >= stopAt) {
        i = stopAt;
        break;
      }
      i = close;
      nameStart = -1;
    } else if (c === GT) {
      return { end: i + 1, selfClosing: src.code(i - 1) === SLASH };
    } else if (c === LT) {
      // Not well-formed; the parser says where. Counting stops so the next tag is scanned on its own.
      return { end: i, selfClosing: true };
    } else if (c === EQUALS) {
      if (++attributes > limits.maxAttributes) {
        return { refusal: { code: 'xml-too-many-attributes', message: `An element has more than ${limits.maxAttributes} attributes or namespace declarations` } };
      }
      if (nameStart !== -1 && isNamespaceDeclaration(src, nameStart) && ++declarations > limits.maxNamespaceDeclarations) {
        return { refusal: { code: 'xml-too-many-attributes', message: `An element declares more than ${limits.maxNamespaceDeclarations} namespaces` } };
      }
      nameStart = -1;
    } else if (!isSpace(c) && (nameStart === -1 || isSpace(src.code(i - 1)))) {
      nameStart = i;
    }
  }
  if (stopAt < n && i >= stopAt) {
    return { refusal: { code: 'xml-tag-too-long', message: `A start tag is longer than ${limits.maxStartTagLength} characters` } };
  }
  // The text ended inside the tag (or inside a quoted value): the parser reports the truncation.
  return { end: n, selfClosing: true };
}

/** `xmlns` or `xmlns:prefix` (then '=' or white space), not an attribute that merely starts with those letters. */
function isNamespaceDeclaration(src: Source, from: number): boolean {
  if (!startsWith(src, from, 'xmlns')) return false;
  const after = src.code(from + 5);
  return after === EQUALS || after === COLON || isSpace(after);
}
