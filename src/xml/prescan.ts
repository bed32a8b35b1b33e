// A cheap, linear pass over the document text that refuses the shapes which make the parser slow or
// memory-hungry before the parser buffers any of them. sax keeps a start tag's attributes in a list and
// checks each new one against all earlier ones, so one tag with 200,000 attributes costs seconds of the
// event loop before any per-attribute guard of ours can fire. Counting here costs one look at each
// character. This pass is not a well-formedness check: whatever it lets through still meets the parser
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
const QUOT = 0x22; // "
const APOS = 0x27; // '

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/** Where a construct ends (just past `close`), or the text's end when it never does: the parser reports that. */
function skipPast(text: string, from: number, close: string): number {
  const at = text.indexOf(close, from);
  return at === -1 ? text.length : at + close.length;
}

/** The first limit the document exceeds, as the Problem that refuses it; undefined when it exceeds none. */
export function prescanXml(text: string, limits: PrescanLimits): Problem | undefined {
  const n = text.length;
  // Local names of the open elements, so a refusal names where (as the parser's own refusals do).
  const open: string[] = [];
  let i = text.indexOf('<');
  while (i !== -1 && i < n) {
    const next = text.charCodeAt(i + 1);
    if (next === BANG) {
      // Comments and CDATA may hold '<' and '>' freely; anything else after '<!' the screen or the parser refuses.
      if (text.startsWith('<!--', i)) i = skipPast(text, i + 4, '-->');
      else if (text.startsWith('<![CDATA[', i)) i = skipPast(text, i + 9, ']]>');
      else i = skipPast(text, i + 2, '>');
    } else if (next === QUESTION) {
      i = skipPast(text, i + 2, '?>');
    } else if (next === SLASH) {
      open.pop();
      i = skipPast(text, i + 2, '>');
    } else {
      const tag = scanStartTag(text, i, limits);
      const path = [...open, tag.name].join('.');
      if ('refusal' in tag) return messageProblem(400, 'too-costly', tag.refusal.code, `${tag.refusal.message} (start tag at offset ${i})`, path);
      if (!tag.selfClosing) {
        if (open.length >= limits.maxDepth) {
          return messageProblem(400, 'too-costly', 'xml-too-deep', `Elements are nested deeper than ${limits.maxDepth} levels (at offset ${i})`, open.join('.'));
        }
        open.push(tag.name);
      }
      i = tag.end;
    }
    i = text.indexOf('<', i);
  }
  return undefined;
}

type StartTag = { name: string } & ({ end: number; selfClosing: boolean } | { refusal: { code: MessageErrorCode; message: string } });

const NAME_END = /[\s/>]/g;

/** The local name of the element whose start tag begins at `start` (clipped: it is echoed in diagnostics). */
function localNameAt(text: string, start: number): string {
  NAME_END.lastIndex = start + 1;
  const end = Math.min(NAME_END.exec(text)?.index ?? text.length, start + 1 + 100);
  const qname = text.slice(start + 1, end);
  return qname.slice(qname.indexOf(':') + 1);
}

/** One start tag from its '<': counts its attributes and namespace declarations, and finds its end. */
function scanStartTag(text: string, start: number, limits: PrescanLimits): StartTag {
  const n = text.length;
  const name = localNameAt(text, start);
  const stopAt = Math.min(n, start + limits.maxStartTagLength);
  let attributes = 0;
  let declarations = 0;
  // Where the latest name (the element's, then each attribute's) begins; -1 after a value or an '='.
  let nameStart = start + 1;
  let i = start + 1;
  for (; i < stopAt; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOT || c === APOS) {
      const close = text.indexOf(c === QUOT ? '"' : "'", i + 1);
      if (close === -1 || close >= stopAt) {
        i = stopAt;
        break;
      }
      i = close;
      nameStart = -1;
    } else if (c === GT) {
      return { name, end: i + 1, selfClosing: text.charCodeAt(i - 1) === SLASH };
    } else if (c === LT) {
      // Not well-formed; the parser says where. Counting stops so the next tag is scanned on its own.
      return { name, end: i, selfClosing: true };
    } else if (c === EQUALS) {
      if (++attributes > limits.maxAttributes) {
        return { name, refusal: { code: 'xml-too-many-attributes', message: `An element has more than ${limits.maxAttributes} attributes or namespace declarations` } };
      }
      if (nameStart !== -1 && isNamespaceDeclaration(text, nameStart) && ++declarations > limits.maxNamespaceDeclarations) {
        return { name, refusal: { code: 'xml-too-many-attributes', message: `An element declares more than ${limits.maxNamespaceDeclarations} namespaces` } };
      }
      nameStart = -1;
    } else if (!isSpace(c) && (nameStart === -1 || isSpace(text.charCodeAt(i - 1)))) {
      nameStart = i;
    }
  }
  if (stopAt < n && i >= stopAt) {
    return { name, refusal: { code: 'xml-tag-too-long', message: `A start tag is longer than ${limits.maxStartTagLength} characters` } };
  }
  // The text ended inside the tag (or inside a quoted value): the parser reports the truncation.
  return { name, end: n, selfClosing: true };
}

/** `xmlns` or `xmlns:prefix` (then '=' or white space), not an attribute that merely starts with those letters. */
function isNamespaceDeclaration(text: string, from: number): boolean {
  if (!text.startsWith('xmlns', from)) return false;
  const after = text.charCodeAt(from + 5);
  return after === EQUALS || after === 0x3a /* : */ || isSpace(after);
}
