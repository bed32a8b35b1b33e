// Hardened, namespace-aware XML parsing over xml2js (and its sax parser).
//
// Incoming health messages are hostile until proven otherwise. Before a byte reaches the parser we
// enforce a size limit, a supported and truthful character encoding, XML 1.0 characters only, and
// no DOCTYPE or ENTITY declaration anywhere (that alone removes XXE and entity-expansion bombs), and a
// linear pre-scan bounds attributes and namespace declarations per element, start-tag length and depth.
// Inside the parser the same declarations are refused again, nesting depth is bounded, only XML's
// five predefined entities exist, and content after the root element is an error. The result is
// an XmlElement tree with every prefix resolved to its namespace URI.
import xml2js from 'xml2js';
import { isProblem, ProblemError, type Problem, type Result, fail, ok } from '../fhir/outcomes.ts';
import { XmlElement, type XmlAttribute } from './element.ts';
import { messageProblem } from './errors.ts';
import { prescanXml, prescanXmlBytes as prescanBytes } from './prescan.ts';

export interface XmlParseOptions {
  /** Largest accepted document in bytes (UTF-8 bytes for string input). Default 5 MB. */
  maxBytes?: number;
  /** Deepest accepted element nesting, root = 1. Default 64; KITH messages need about 20. */
  maxDepth?: number;
  /** Element count limit (default DEFAULT_MAX_ELEMENTS). */
  maxElements?: number;
}

export const DEFAULT_MAX_BYTES = 5 * 1024 * 1024;
export const DEFAULT_MAX_DEPTH = 64;
/**
 * No KITH or CDA element has more than about ten attributes. sax compares each attribute of a start tag
 * with all earlier ones, so this cap also bounds that quadratic work per tag.
 */
export const MAX_ATTRIBUTES_PER_ELEMENT = 64;
/**
 * A real M1, M10 or CDA has hundreds of elements, a FEST catalogue entry fewer. A million empty elements fit
 * in 5 MB and would hold the event loop for seconds while the tree is built, so the count is capped too.
 */
export const DEFAULT_MAX_ELEMENTS = 50_000;
/** A CDA root declares a handful of namespaces; dozens on one element only serve to make the parser work. */
export const MAX_NAMESPACE_DECLARATIONS_PER_ELEMENT = 32;
/**
 * The longest start tag accepted, attribute values included. KITH and CDA keep long content in element
 * text (base64 PDFs included), never in attributes, so 64 KiB leaves a wide margin.
 */
export const MAX_START_TAG_LENGTH = 64 * 1024;

export interface XmlDocument {
  root: XmlElement;
  /** Encoding the bytes were decoded with; 'string' for string input. */
  encoding: 'utf-8' | 'iso-8859-1' | 'windows-1252' | 'string';
}

/** Parses bytes or text into a namespace-resolved element tree, or returns the Problem that refuses it. */
export function parseXml(input: Uint8Array | string, opts: XmlParseOptions = {}): Result<XmlDocument> {
  try {
    const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
    const size = typeof input === 'string' ? Buffer.byteLength(input, 'utf8') : input.byteLength;
    if (size > maxBytes) {
      return fail(messageProblem(413, 'too-costly', 'xml-too-large', `Document is ${size} bytes; the limit is ${maxBytes} bytes`));
    }
    // The tree is built recursively, so the depth bound also bounds our own stack use.
    const maxDepth = Math.min(opts.maxDepth ?? DEFAULT_MAX_DEPTH, 1000);
    // The pre-scan first, on the bytes when there are bytes: it stops at the first offending tag, before the
    // whole document is decoded or screened.
    const flood = typeof input === 'string' ? prescanXml(input, prescanLimits(maxDepth)) : prescanXmlBytes(input, maxDepth);
    if (flood) return fail(flood);
    const decoded = typeof input === 'string' ? { text: stripBom(input), encoding: 'string' as const } : decode(input);
    if (isProblem(decoded)) return fail(decoded);
    const refused = screen(decoded.text);
    if (refused) return fail(refused);
    const root = runParser(decoded.text, maxDepth, opts.maxElements ?? DEFAULT_MAX_ELEMENTS);
    if (isProblem(root)) return fail(root);
    return ok({ root, encoding: decoded.encoding });
  } catch (err) {
    if (err instanceof ProblemError) return fail(err.problem);
    // A bug of ours, not the sender's fault: say so rather than blame the document.
    return fail(messageProblem(500, 'exception', 'xml-malformed', 'The XML reader failed unexpectedly on this document'));
  }
}

const prescanLimits = (maxDepth: number) => ({
  maxAttributes: MAX_ATTRIBUTES_PER_ELEMENT,
  maxNamespaceDeclarations: MAX_NAMESPACE_DECLARATIONS_PER_ELEMENT,
  maxStartTagLength: MAX_START_TAG_LENGTH,
  maxDepth,
});

/** The pre-scan over raw bytes, before they are decoded: what the HTTP layer runs on an XML body. */
export const prescanXmlBytes = (bytes: Uint8Array, maxDepth = DEFAULT_MAX_DEPTH): Problem | undefined =>
  wideEncoding(bytes) ?? prescanBytes(bytes, prescanLimits(maxDepth));

// ---------------------------------------------------------------------------------------------
// Bytes -> text

const XML_DECL = /^<\?xml\s+version\s*=\s*(["'])([^"']*)\1(?:\s+encoding\s*=\s*(["'])([^"']*)\3)?(?:\s+standalone\s*=\s*(["'])(yes|no)\5)?\s*\?>/;

const UTF8_LABELS = new Set(['utf-8', 'utf8']);
const LATIN1_LABELS = new Set(['iso-8859-1', 'iso8859-1', 'iso_8859-1', 'latin1', 'l1']);
const ASCII_LABELS = new Set(['us-ascii', 'ascii']);
const CP1252_LABELS = new Set(['windows-1252', 'cp1252']);

function encodingProblem(diagnostics: string): Problem {
  return messageProblem(400, 'invalid', 'xml-encoding', diagnostics);
}

/**
 * Bytes to text by the document's own declaration (UTF-8 by default; ISO-8859-1 and Windows-1252 when
 * declared), refusing anything else or a declaration the bytes contradict. The HTTP layer decodes XML
 * bodies with this, so the declared encoding is honoured (and checked) before any parser sees text.
 */
export function decode(bytes: Uint8Array): { text: string; encoding: Exclude<XmlDocument['encoding'], 'string'> } | Problem {
  const wide = wideEncoding(bytes);
  if (wide) return wide;
  const hasUtf8Bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  const body = hasUtf8Bom ? bytes.subarray(3) : bytes;
  // The declaration is ASCII in every encoding we accept, so a latin1 peek reads it safely.
  const head = Buffer.from(body.subarray(0, 256)).toString('latin1');
  const declared = XML_DECL.exec(head)?.[4]?.toLowerCase();

  if (declared === undefined || UTF8_LABELS.has(declared)) {
    try {
      return { text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body), encoding: 'utf-8' };
    } catch {
      return encodingProblem(
        declared ? 'The document declares UTF-8 but contains bytes that are not valid UTF-8' : 'The document has no encoding declaration, so it must be UTF-8, but its bytes are not valid UTF-8',
      );
    }
  }
  if (hasUtf8Bom) return encodingProblem(`The document starts with a UTF-8 byte order mark but declares encoding "${declared}"`);
  if (LATIN1_LABELS.has(declared)) return { text: Buffer.from(body).toString('latin1'), encoding: 'iso-8859-1' };
  // Older Norwegian systems still emit Windows-1252 (ISO-8859-1 plus €, “ ” and friends).
  if (CP1252_LABELS.has(declared)) return { text: new TextDecoder('windows-1252').decode(body), encoding: 'windows-1252' };
  if (ASCII_LABELS.has(declared)) {
    if (body.some((b) => b > 0x7f)) return encodingProblem('The document declares US-ASCII but contains bytes above 0x7F');
    return { text: Buffer.from(body).toString('latin1'), encoding: 'iso-8859-1' };
  }
  return encodingProblem(`Unsupported character encoding "${declared}"; send UTF-8 (ISO-8859-1 and Windows-1252 are also accepted)`);
}

/** UTF-16 and UTF-32 are refused outright; checked before the byte pre-scan, which reads single bytes. */
function wideEncoding(bytes: Uint8Array): Problem | undefined {
  const b0 = bytes[0];
  const b1 = bytes[1];
  if ((b0 === 0xfe && b1 === 0xff) || (b0 === 0xff && b1 === 0xfe) || (b0 === 0x00 && b1 === 0x00)) {
    return encodingProblem('UTF-16 and UTF-32 documents are not supported; send UTF-8');
  }
  if ((b0 === 0x3c && b1 === 0x00) || (b0 === 0x00 && b1 === 0x3c)) {
    return encodingProblem('The document looks like UTF-16 without a byte order mark; send UTF-8');
  }
  return undefined;
}

const stripBom = (s: string): string => (s.charCodeAt(0) === 0xfeff ? s.slice(1) : s);

// ---------------------------------------------------------------------------------------------
// Text screening, before the parser sees anything

// Characters XML 1.0 does not allow anywhere in a document (§2.2), even as character references.
const ILLEGAL_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const CHAR_REF = /&#(x[0-9a-fA-F]+|[0-9]+);/g;

const isXmlChar = (cp: number): boolean =>
  cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);

const malformed = (diagnostics: string): Problem => messageProblem(400, 'structure', 'xml-malformed', diagnostics);

function screen(text: string): Problem | undefined {
  if (LONE_SURROGATE.test(text)) return encodingProblem('The text contains unpaired UTF-16 surrogates');
  // Case-insensitive on purpose: sax itself matches DOCTYPE that way. A comment or CDATA section
  // that merely mentions these keywords is refused too; no KITH message has reason to.
  if (/<!DOCTYPE/i.test(text)) {
    return messageProblem(400, 'security', 'xml-doctype', 'DOCTYPE declarations are not accepted (external and internal entities are refused)');
  }
  if (/<!ENTITY/i.test(text)) {
    return messageProblem(400, 'security', 'xml-doctype', 'ENTITY declarations are not accepted');
  }
  if (text.trim() === '') return malformed('The document is empty');
  const bad = ILLEGAL_CHAR.exec(text);
  if (bad) {
    const code = bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
    return malformed(`Character U+${code} at offset ${bad.index} is not allowed in XML 1.0`);
  }
  for (const ref of text.matchAll(CHAR_REF)) {
    const digits = ref[1] ?? '';
    const cp = digits.startsWith('x') ? Number.parseInt(digits.slice(1), 16) : Number.parseInt(digits, 10);
    if (!isXmlChar(cp)) return malformed(`Character reference ${ref[0].slice(0, 16)} names a character not allowed in XML 1.0`);
  }
  if (/^\s+<\?xml[\s?]/i.test(text)) return malformed('Nothing may precede the XML declaration, not even whitespace');
  const decl = XML_DECL.exec(text);
  if (!decl && /^<\?xml[\s?]/i.test(text)) return malformed('Malformed XML declaration');
  if (decl && !/^1\.[0-9]+$/.test(decl[2] ?? '')) return malformed(`Unsupported XML version "${(decl[2] ?? '').slice(0, 10)}"`);
  if (/<\?xml[\s?]/i.test(text.slice(1))) return malformed('An XML declaration may only appear at the very start of the document');
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// The parser run

// Keys chosen so that no XML name can collide with them ('@' and '#' cannot occur in names).
const ATTRS = '@';
const NS = '@ns';
const CHILDREN = '@@';
const TEXT = '#text';

const PARSER_OPTIONS = {
  xmlns: true,
  explicitChildren: true,
  preserveChildrenOrder: true,
  explicitArray: true,
  charsAsChildren: false,
  includeWhiteChars: false,
  trim: false,
  normalize: false,
  explicitRoot: false,
  strict: true,
  async: false,
  attrkey: ATTRS,
  charkey: TEXT,
  childkey: CHILDREN,
} as const;

const XML_ENTITIES: Record<string, string> = Object.assign(Object.create(null) as Record<string, string>, {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
});

/** The parts of the sax parser inside xml2js that the guards hook into. */
interface SaxHooks {
  ENTITIES: Record<string, string>;
  onopentag: (node: { local?: string; name: string }) => void;
  onclosetag: (name: string) => void;
  ondoctype: (doctype: string) => void;
  onsgmldeclaration: (decl: string) => void;
  onopentagstart: (node: { name: string }) => void;
  onattribute: (attr: { name: string; local?: string; uri?: string }) => void;
  onerror: (error: Error) => void;
}

interface Xml2jsNode {
  [key: string]: unknown;
}

function runParser(text: string, maxDepth: number, maxElements: number): XmlElement | Problem {
  let elements = 0;
  const parser = new xml2js.Parser(PARSER_OPTIONS);
  const sax = (parser as unknown as { saxParser: SaxHooks }).saxParser;
  const path: string[] = [];
  let rootClosed = false;
  const stop = (p: Problem): never => {
    throw new ProblemError(p);
  };
  const where = (): string | undefined => (path.length ? path.join('.') : undefined);

  sax.ENTITIES = XML_ENTITIES;
  sax.ondoctype = () =>
    stop(messageProblem(400, 'security', 'xml-doctype', 'DOCTYPE declarations are not accepted', where()));
  sax.onsgmldeclaration = (decl) =>
    stop(messageProblem(400, 'security', 'xml-doctype', `Markup declaration <!${decl.slice(0, 20)}> is not accepted`, where()));
  // sax (1.6, namespace mode) keeps the last of two equal attributes; XML says the document is not
  // well-formed, and letting two readers see different values is how parser-differential attacks work.
  let attributesSeen = new Set<string>();
  sax.onopentagstart = () => {
    attributesSeen = new Set();
  };
  sax.onattribute = (a) => {
    if (attributesSeen.size >= MAX_ATTRIBUTES_PER_ELEMENT) {
      stop(messageProblem(400, 'too-costly', 'xml-too-many-attributes', `An element has more than ${MAX_ATTRIBUTES_PER_ELEMENT} attributes or namespace declarations`, where()));
    }
    const key = `{${a.uri ?? ''}}${a.local ?? a.name}`;
    if (attributesSeen.has(key)) {
      stop(messageProblem(400, 'structure', 'xml-malformed', `Attribute "${a.name.slice(0, 40)}" occurs twice on one element`, where()));
    }
    attributesSeen.add(key);
  };
  const open = sax.onopentag;
  sax.onopentag = (node) => {
    if (rootClosed) stop(messageProblem(400, 'structure', 'xml-malformed', 'Content after the root element'));
    if (path.length >= maxDepth) {
      stop(messageProblem(400, 'too-costly', 'xml-too-deep', `Elements are nested deeper than ${maxDepth} levels`, where()));
    }
    if (++elements > maxElements) {
      stop(messageProblem(400, 'too-costly', 'xml-too-many-elements', `The document has more than ${maxElements} elements`, where()));
    }
    path.push(node.local ?? node.name);
    open(node);
  };
  // sax resumes after an error, so the element path is captured when the error happens.
  let errorPath: string | undefined;
  const onError = sax.onerror;
  sax.onerror = (e) => {
    errorPath ??= where() ?? '';
    onError(e);
  };
  const close = sax.onclosetag;
  sax.onclosetag = (name) => {
    close(name);
    path.pop();
    if (path.length === 0) rootClosed = true;
  };

  let result: Xml2jsNode | undefined;
  let error: unknown;
  parser.on('end', (r: Xml2jsNode) => {
    result = r;
  });
  parser.on('error', (e: unknown) => {
    error ??= e;
  });
  try {
    parser.parseString(text);
  } catch (e) {
    error ??= e;
  }
  if (error instanceof ProblemError) return error.problem;
  if (error !== undefined) {
    // sax re-initialises itself when it closes, so the position is read from its message.
    const message = error instanceof Error ? error.message : String(error);
    const first = message.split('\n')[0] ?? 'syntax error';
    const at = /Line: (\d+)\s+Column: (\d+)/.exec(message);
    const position = at ? ` (line ${Number(at[1]) + 1}, column ${at[2]})` : '';
    return messageProblem(400, 'structure', 'xml-malformed', `Malformed XML: ${first}${position}`, errorPath || undefined);
  }
  if (!result || !rootClosed) {
    return messageProblem(400, 'structure', 'xml-malformed', 'Malformed XML: the document ends before the root element is closed', where());
  }
  return toElement(result, '');
}

function toElement(node: Xml2jsNode, parentPath: string, suffix = ''): XmlElement {
  const ns = node[NS] as { uri?: unknown; local?: unknown } | undefined;
  const name = typeof ns?.local === 'string' ? ns.local : String(node['#name']);
  const path = parentPath ? `${parentPath}.${name}${suffix}` : `${name}${suffix}`;
  const rawChildren = Array.isArray(node[CHILDREN]) ? (node[CHILDREN] as Xml2jsNode[]) : [];
  const counts = new Map<string, number>();
  const localOf = (c: Xml2jsNode): string => String((c[NS] as { local?: unknown } | undefined)?.local ?? c['#name']);
  for (const c of rawChildren) counts.set(localOf(c), (counts.get(localOf(c)) ?? 0) + 1);
  const seen = new Map<string, number>();
  const children = rawChildren.map((c) => {
    const local = localOf(c);
    const i = seen.get(local) ?? 0;
    seen.set(local, i + 1);
    return toElement(c, path, (counts.get(local) ?? 0) > 1 ? `[${i}]` : '');
  });
  return new XmlElement({
    ns: typeof ns?.uri === 'string' ? ns.uri : '',
    name,
    path,
    attributes: readAttributes(node[ATTRS]),
    children,
    rawText: typeof node[TEXT] === 'string' ? node[TEXT] : '',
  });
}

const XMLNS_URI = 'http://www.w3.org/2000/xmlns/';

function readAttributes(raw: unknown): XmlAttribute[] {
  if (typeof raw !== 'object' || raw === null) return [];
  const out: XmlAttribute[] = [];
  for (const key of Object.keys(raw)) {
    const a = (raw as Record<string, unknown>)[key] as { value?: unknown; local?: unknown; uri?: unknown; name?: unknown } | undefined;
    if (typeof a !== 'object' || a === null || typeof a.value !== 'string') continue;
    const uri = typeof a.uri === 'string' ? a.uri : '';
    if (uri === XMLNS_URI || a.name === 'xmlns') continue; // declarations, not data
    out.push({ ns: uri, name: typeof a.local === 'string' && a.local ? a.local : key, value: a.value });
  }
  return out;
}
