// Hardened, namespace-aware XML parsing over the saxes tokenizer (see tree-builder.ts).
//
// Incoming health messages are hostile until proven otherwise. Before a byte reaches the parser we
// enforce a size limit, a supported and truthful character encoding, XML 1.0 characters only, and
// no DOCTYPE or ENTITY declaration anywhere (that alone removes XXE and entity-expansion bombs), and a
// linear pre-scan bounds attributes and namespace declarations per element, start-tag length and depth.
// Inside the parser the same declarations are refused again, nesting depth is bounded, only XML's
// five predefined entities exist, and content after the root element is an error. The result is
// an XmlElement tree with every prefix resolved to its namespace URI.
import { isProblem, ProblemError, type Problem, type Result, fail, ok } from '../fhir/outcomes.ts';
import type { XmlElement } from './element.ts';
import { messageProblem } from './errors.ts';
import { prescanXml, prescanXmlBytes as prescanBytes } from './prescan.ts';
import { buildTree } from './tree-builder.ts';

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
 * No KITH or CDA element has more than about ten attributes. The tokenizer buffers a start tag's attributes
 * until the tag ends, so this cap also bounds what one tag can make it hold.
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
    const root = buildTree(decoded.text, { maxDepth, maxElements: opts.maxElements ?? DEFAULT_MAX_ELEMENTS, maxAttributes: MAX_ATTRIBUTES_PER_ELEMENT });
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

/** An encoding label (a declaration's or a Content-Type charset's) as the encoding it names, or undefined when Helsebro reads no such encoding. */
export function xmlEncodingOf(label: string): 'utf-8' | 'iso-8859-1' | 'windows-1252' | 'us-ascii' | undefined {
  const l = label.toLowerCase();
  if (UTF8_LABELS.has(l)) return 'utf-8';
  if (LATIN1_LABELS.has(l)) return 'iso-8859-1';
  if (CP1252_LABELS.has(l)) return 'windows-1252';
  if (ASCII_LABELS.has(l)) return 'us-ascii';
  return undefined;
}

/**
 * Bytes to text by the document's own declaration (UTF-8 by default; ISO-8859-1 and Windows-1252 when
 * declared), refusing anything else or a declaration the bytes contradict. The HTTP layer decodes XML
 * bodies with this, so the declared encoding is honoured (and checked) before any parser sees text.
 *
 * `transport` is the Content-Type's charset, if it had one. A document with neither a declaration nor a BOM
 * is read in it, as XML 1.0 (4.3.3) lets external information say. When the document says too and names
 * another encoding, the call is refused rather than either side winning: RFC 7303 makes the label
 * authoritative, but one of the two is wrong and nothing here can tell which, and reading ISO-8859-1 bytes as
 * UTF-8 or the reverse turns the æøå of a patient's name into a refusal at best and into other letters at
 * worst. The sender fixes one line instead.
 */
export function decode(bytes: Uint8Array, transport?: string): { text: string; encoding: Exclude<XmlDocument['encoding'], 'string'> } | Problem {
  const wide = wideEncoding(bytes);
  if (wide) return wide;
  const hasUtf8Bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf;
  const body = hasUtf8Bom ? bytes.subarray(3) : bytes;
  // The declaration is ASCII in every encoding we accept, so a latin1 peek reads it safely.
  const head = Buffer.from(body.subarray(0, 256)).toString('latin1');
  const inDocument = XML_DECL.exec(head)?.[4]?.toLowerCase();
  if (transport !== undefined) {
    const labelled = xmlEncodingOf(transport);
    if (labelled === undefined) return encodingProblem(`Content-Type charset=${transport} is not supported; send UTF-8 (ISO-8859-1 and Windows-1252 are also accepted)`);
    const said = hasUtf8Bom ? 'utf-8' : inDocument === undefined ? undefined : (xmlEncodingOf(inDocument) ?? inDocument);
    if (said !== undefined && said !== labelled) {
      const where = hasUtf8Bom ? 'the document starts with a UTF-8 byte order mark' : `its XML declaration says encoding="${inDocument}"`;
      return encodingProblem(`The Content-Type says charset=${transport} but ${where}; they must agree (or leave the charset out)`);
    }
  }
  const declared = inDocument ?? (hasUtf8Bom ? undefined : transport?.toLowerCase());

  if (declared === undefined || UTF8_LABELS.has(declared)) {
    try {
      return { text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body), encoding: 'utf-8' };
    } catch {
      return encodingProblem(
        inDocument
          ? 'The document declares UTF-8 but contains bytes that are not valid UTF-8'
          : declared
            ? 'The Content-Type says charset=utf-8 but the bytes are not valid UTF-8'
            : 'The document has no encoding declaration, so it must be UTF-8, but its bytes are not valid UTF-8',
      );
    }
  }
  if (hasUtf8Bom) return encodingProblem(`The document starts with a UTF-8 byte order mark but declares encoding "${declared}"`);
  // Bytes above 0x7F that all read as UTF-8 are UTF-8: real ISO-8859-1 or Windows-1252 text (Ø = D8 followed by
  // a letter) is almost never also valid UTF-8. Read as declared, "Ødegård" would become "Ã˜degÃ¥rd".
  if ((LATIN1_LABELS.has(declared) || CP1252_LABELS.has(declared)) && looksLikeUtf8(body)) {
    return encodingProblem(
      `${inDocument ? 'The document declares' : 'The Content-Type says'} ${declared} but its bytes are UTF-8 (read as ${declared}, "Ø" would become "Ã˜"); declare UTF-8`,
    );
  }
  if (LATIN1_LABELS.has(declared)) return { text: Buffer.from(body).toString('latin1'), encoding: 'iso-8859-1' };
  // Older Norwegian systems still emit Windows-1252 (ISO-8859-1 plus €, “ ” and friends).
  if (CP1252_LABELS.has(declared)) return { text: new TextDecoder('windows-1252').decode(body), encoding: 'windows-1252' };
  if (ASCII_LABELS.has(declared)) {
    if (body.some((b) => b > 0x7f)) return encodingProblem(`${inDocument ? 'The document declares' : 'The Content-Type says'} US-ASCII but the bytes include some above 0x7F`);
    return { text: Buffer.from(body).toString('latin1'), encoding: 'iso-8859-1' };
  }
  return encodingProblem(`Unsupported character encoding "${declared}"; send UTF-8 (ISO-8859-1 and Windows-1252 are also accepted)`);
}

/** Whether the bytes hold at least one multi-byte UTF-8 sequence and are valid UTF-8 throughout. */
function looksLikeUtf8(body: Uint8Array): boolean {
  if (!body.some((b) => b > 0x7f)) return false;
  try {
    new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body);
    return true;
  } catch {
    return false;
  }
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
  // Case-insensitive on purpose: `<!doctype` is bad syntax to saxes but a DOCTYPE to lenient readers (sax
  // among them). A comment or CDATA section that merely mentions these keywords is refused too; no KITH
  // message has reason to.
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
