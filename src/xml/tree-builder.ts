// The XmlElement tree built straight from the events of the saxes tokenizer, with the guards that have to run
// inside the parser.
//
// saxes is strict and namespace-aware and checks well-formedness itself (names, one root, `]]>` in text, a
// QName's single colon, repeated attributes by expanded name). The caller (parse.ts) has already applied the
// size limit, decoded and screened the text; inside the parser DOCTYPE and markup declarations are refused
// again, only XML's five predefined entities exist (saxes knows no others), depth, element count and
// attributes per element are bounded, a repeated attribute is refused, and content after the root element is
// an error. Each of those refusals is our own Problem, whether our handler or saxes notices first.
//
// Text is what XML 1.0 says a conforming parser hands on: line ends normalised to LF (§2.11) and tab, CR and
// LF in attribute values turned into spaces (§3.3.3). Every document is read by XML 1.0's rules, as
// parse.ts screens it, whatever version it declares.
import { SaxesParser, type SaxesAttributeNS, type SaxesTagNS } from 'saxes';
import { ProblemError, type Problem } from '../fhir/outcomes.ts';
import { siblingSuffixes, XmlElement, type XmlAttribute } from './element.ts';
import { messageProblem } from './errors.ts';

export interface TreeLimits {
  /** Deepest accepted nesting, root = 1. The finished tree is walked recursively, so this bounds our stack too. */
  maxDepth: number;
  maxElements: number;
  /** Attributes and namespace declarations on one element. */
  maxAttributes: number;
}

const XMLNS_URI = 'http://www.w3.org/2000/xmlns/';
const WHITESPACE_ONLY = /^\s*$/;
const OPTIONS = { xmlns: true, forceXMLVersion: true, defaultXMLVersion: '1.0' } as const;

/** An element while its children are still arriving; its path needs all its ancestors' siblings, so it comes last. */
interface Open {
  ns: string;
  name: string;
  attributes: XmlAttribute[];
  children: Open[];
  text: string;
  cdata: boolean;
}

/** An attribute as the tokenizer reports it, before its prefix is resolved. */
type RawAttribute = Pick<SaxesAttributeNS, 'name' | 'prefix' | 'local'>;

const malformed = (diagnostics: string, location?: string): Problem => messageProblem(400, 'structure', 'xml-malformed', diagnostics, location);
const doctype = (location: string | undefined): Problem => messageProblem(400, 'security', 'xml-doctype', 'DOCTYPE declarations are not accepted', location);

/** Parses screened text into the element tree, or returns the Problem that refuses it. */
export function buildTree(input: string, limits: TreeLimits): XmlElement | Problem {
  const { maxDepth, maxElements, maxAttributes } = limits;
  // One leading byte order mark is dropped here as xml2js did, after the caller dropped its own.
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const path: string[] = [];
  const where = (): string | undefined => (path.length ? path.join('.') : undefined);
  if (text.trim() === '') return malformed('Malformed XML: the document ends before the root element is closed', where());

  const parser = new SaxesParser(OPTIONS);
  const stack: Open[] = [];
  let root: Open | undefined;
  let elements = 0;
  let lastClosed = '';
  const stop = (p: Problem): never => {
    throw new ProblemError(p);
  };

  // Six handlers and no more, errors included (saxes throws them when no handler is set): saxes's parser
  // object takes one property per handler, and a seventh turns it into a dictionary-mode object in V8, which
  // makes the whole tokenizer about five times slower. test/xml/tree-builder.test.ts checks this.
  parser.on('doctype', () => stop(doctype(where())));
  // The attributes of the start tag being read, as they arrive: saxes resolves their prefixes, and finds two
  // with one expanded name, only once the tag is complete (a declaration may follow the attribute using it).
  let attributes: RawAttribute[] = [];
  parser.on('attribute', (a) => {
    if (attributes.length >= maxAttributes) {
      stop(messageProblem(400, 'too-costly', 'xml-too-many-attributes', `An element has more than ${maxAttributes} attributes or namespace declarations`, where()));
    }
    // saxes binds a namespace declaration's value trimmed; a schema validator or any other reader takes it as
    // written (Namespaces in XML §2.2), so `xmlns=" urn:hl7-org:v3 "` would be CDA to us and not to them.
    if ((a.prefix === 'xmlns' || a.name === 'xmlns') && a.value !== a.value.trim()) {
      stop(malformed(`Namespace declaration "${a.name.slice(0, 40)}" has spaces around its URI`, where()));
    }
    attributes.push(a);
  });
  parser.on('opentag', (tag) => {
    attributes = [];
    if (path.length >= maxDepth) stop(messageProblem(400, 'too-costly', 'xml-too-deep', `Elements are nested deeper than ${maxDepth} levels`, where()));
    if (++elements > maxElements) stop(messageProblem(400, 'too-costly', 'xml-too-many-elements', `The document has more than ${maxElements} elements`, where()));
    path.push(tag.local);
    stack.push({ ns: tag.uri, name: tag.local, attributes: readAttributes(tag), children: [], text: '', cdata: false });
  });
  parser.on('text', (t) => {
    const top = stack[stack.length - 1];
    if (top) top.text += t;
  });
  parser.on('cdata', (t) => {
    const top = stack[stack.length - 1];
    if (top) {
      top.text += t;
      top.cdata = true;
    }
  });
  parser.on('closetag', () => {
    const done = stack.pop();
    lastClosed = path.pop() ?? '';
    if (!done) return;
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(done);
    else root = done;
  });

  try {
    parser.write(text).close();
  } catch (e) {
    if (e instanceof ProblemError) return e.problem;
    // The first syntax error decides the answer: saxes throws it where it finds it, with its parser state as it
    // was then. Anything else is a fault of ours, for the caller to report as one.
    const syntax = e instanceof Error ? splitPosition(e.message) : undefined;
    if (!syntax) throw e;
    const { message, line, column } = syntax;
    const refusal = ownRefusal(message, text, parser, attributes, where());
    if (refusal) return refusal;
    // saxes pops the open element before it finds the close tag does not match it; the error belongs inside it.
    const at = message === 'unexpected close tag.' ? [...path, lastClosed].join('.') : where();
    return malformed(`Malformed XML: ${sentence(message)} (line ${line}, column ${column})`, at);
  }
  if (!root) return malformed('Malformed XML: the document ends before the root element is closed', where());
  return toElement(root, '', '');
}

/** saxes words its errors `line:column: message` (line from 1, column of the character after the offending one from 0). */
function splitPosition(raw: string): { message: string; line: string; column: string } | undefined {
  const m = /^(\d+):(\d+): ([^\n]*)/.exec(raw);
  return m ? { line: m[1]!, column: m[2]!, message: m[3]! } : undefined;
}

/** `unexpected close tag.` -> `Unexpected close tag`, the shape our diagnostics had with sax. */
const sentence = (message: string): string => (message.charAt(0).toUpperCase() + message.slice(1)).replace(/\.$/, '');

/**
 * The refusals that are ours even when saxes notices first: a markup declaration (`<!ELEMENT`, `<!ATTLIST` ...)
 * is a security refusal, a repeated attribute names the repeat as the sender wrote it, and a second element
 * after the root is content after the root. The message texts are those of saxes 6.0.0 (pinned); the tests
 * of these refusals fail if an update rewords them.
 */
function ownRefusal(
  message: string,
  text: string,
  parser: SaxesParser<typeof OPTIONS>,
  attributes: RawAttribute[],
  location: string | undefined,
): Problem | undefined {
  if (message === 'incorrect syntax.') {
    const decl = markupDeclaration(text, parser.position);
    // saxes knows DOCTYPE in capitals only; sax, and parse.ts's screen, in any case.
    if (decl !== undefined && /^doctype/i.test(decl)) return doctype(location);
    if (decl !== undefined) return messageProblem(400, 'security', 'xml-doctype', `Markup declaration <!${decl.slice(0, 20)}> is not accepted`, location);
  }
  if (message === 'documents may contain only one root.') return malformed('Content after the root element');
  if (message.startsWith('duplicate attribute: ')) {
    const repeat = repeatedAttribute(attributes, (prefix) => parser.resolve(prefix));
    if (repeat) return malformed(`Attribute "${repeat.slice(0, 40)}" occurs twice on one element`, location);
  }
  return undefined;
}

/**
 * The declaration whose `<!` precedes `position`, from after `<!` to its closing `>` (quoted `>` skipped), when
 * it starts with a letter as ELEMENT, ATTLIST, ENTITY and NOTATION do and is closed; otherwise plain bad syntax.
 */
function markupDeclaration(text: string, position: number): string | undefined {
  const start = text.lastIndexOf('<!', position);
  if (start < 0 || !/[A-Za-z]/.test(text.charAt(start + 2))) return undefined;
  let quote = '';
  for (let i = start + 2; i < text.length; i++) {
    const c = text.charAt(i);
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '>') return text.slice(start + 2, i);
  }
  return undefined;
}

/** The name, as written, of the first attribute whose expanded name an earlier one on the same tag has. */
function repeatedAttribute(attributes: RawAttribute[], resolve: (prefix: string) => string | undefined): string | undefined {
  const seen = new Set<string>();
  for (const a of attributes) {
    const uri = a.prefix ? (resolve(a.prefix) ?? a.prefix) : a.name === 'xmlns' ? XMLNS_URI : '';
    const key = `{${uri}}${a.local}`;
    if (seen.has(key)) return a.name;
    seen.add(key);
  }
  return undefined;
}

function readAttributes(tag: SaxesTagNS): XmlAttribute[] {
  const out: XmlAttribute[] = [];
  for (const key of Object.keys(tag.attributes)) {
    const a = tag.attributes[key]!;
    if (a.uri === XMLNS_URI) continue; // declarations, not data
    out.push({ ns: a.uri, name: a.local || key, value: a.value });
  }
  return out;
}

function toElement(open: Open, parentPath: string, suffix: string): XmlElement {
  const path = parentPath ? `${parentPath}.${open.name}${suffix}` : `${open.name}${suffix}`;
  const suffixes = siblingSuffixes(open.children.map((c) => c.name));
  const children = open.children.map((c, i) => toElement(c, path, suffixes[i]!));
  return new XmlElement({
    ns: open.ns,
    name: open.name,
    path,
    attributes: open.attributes,
    children,
    // Whitespace-only text between child elements is layout, not content; CDATA is kept as written.
    rawText: open.cdata || !WHITESPACE_ONLY.test(open.text) ? open.text : '',
  });
}
