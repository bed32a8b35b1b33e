// The XmlElement tree built straight from sax's events, with the guards that have to run inside the parser.
//
// sax is the tokenizer xml2js drives (same options: strict, namespace-aware, no trimming or normalising), so
// names, namespaces, attributes and text come out exactly as they did through xml2js; what is skipped is
// xml2js's own object tree and the copy of it into ours. The caller (parse.ts) has already applied the size
// limit, decoded and screened the text; inside the parser DOCTYPE and markup declarations are refused again,
// only XML's five predefined entities exist, depth, element count and attributes per element are bounded,
// a repeated attribute is refused, and content after the root element is an error.
import sax, { type QualifiedAttribute, type QualifiedTag } from 'sax';
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

const XML_ENTITIES: Record<string, string> = Object.assign(Object.create(null) as Record<string, string>, {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
});

const XMLNS_URI = 'http://www.w3.org/2000/xmlns/';
const WHITESPACE_ONLY = /^\s*$/;

/** An element while its children are still arriving; its path needs all its ancestors' siblings, so it comes last. */
interface Open {
  ns: string;
  name: string;
  attributes: XmlAttribute[];
  children: Open[];
  text: string;
  cdata: boolean;
}

/** Thrown out of sax's error callback: the first syntax error decides the answer, the rest is not parsed. */
const STOP = Symbol('stop');

const malformed = (diagnostics: string, location?: string): Problem => messageProblem(400, 'structure', 'xml-malformed', diagnostics, location);

/** Parses screened text into the element tree, or returns the Problem that refuses it. */
export function buildTree(input: string, limits: TreeLimits): XmlElement | Problem {
  const { maxDepth, maxElements, maxAttributes } = limits;
  // One leading byte order mark is dropped here as xml2js did, after the caller dropped its own.
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const path: string[] = [];
  const where = (): string | undefined => (path.length ? path.join('.') : undefined);
  if (text.trim() === '') return malformed('Malformed XML: the document ends before the root element is closed', where());

  const parser = sax.parser(true, { trim: false, normalize: false, xmlns: true });
  const stack: Open[] = [];
  let root: Open | undefined;
  let elements = 0;
  let syntaxError: Error | undefined;
  let errorPath: string | undefined;
  const stop = (p: Problem): never => {
    throw new ProblemError(p);
  };

  parser.ENTITIES = XML_ENTITIES;
  parser.ondoctype = () => stop(messageProblem(400, 'security', 'xml-doctype', 'DOCTYPE declarations are not accepted', where()));
  parser.onsgmldeclaration = (decl) =>
    stop(messageProblem(400, 'security', 'xml-doctype', `Markup declaration <!${decl.slice(0, 20)}> is not accepted`, where()));
  // sax (1.6, namespace mode) keeps the last of two equal attributes; XML says the document is not
  // well-formed, and letting two readers see different values is how parser-differential attacks work.
  let attributesSeen = new Set<string>();
  parser.onopentagstart = () => {
    attributesSeen = new Set();
  };
  parser.onattribute = (attr) => {
    const a = attr as QualifiedAttribute;
    if (attributesSeen.size >= maxAttributes) {
      stop(messageProblem(400, 'too-costly', 'xml-too-many-attributes', `An element has more than ${maxAttributes} attributes or namespace declarations`, where()));
    }
    const key = `{${a.uri ?? ''}}${a.local ?? a.name}`;
    if (attributesSeen.has(key)) stop(malformed(`Attribute "${a.name.slice(0, 40)}" occurs twice on one element`, where()));
    attributesSeen.add(key);
  };
  parser.onopentag = (tag) => {
    const node = tag as QualifiedTag;
    if (root) stop(malformed('Content after the root element'));
    if (path.length >= maxDepth) stop(messageProblem(400, 'too-costly', 'xml-too-deep', `Elements are nested deeper than ${maxDepth} levels`, where()));
    if (++elements > maxElements) stop(messageProblem(400, 'too-costly', 'xml-too-many-elements', `The document has more than ${maxElements} elements`, where()));
    const name = typeof node.local === 'string' ? node.local : node.name;
    path.push(name);
    stack.push({ ns: typeof node.uri === 'string' ? node.uri : '', name, attributes: readAttributes(node.attributes), children: [], text: '', cdata: false });
  };
  parser.ontext = (t) => {
    const top = stack[stack.length - 1];
    if (top) top.text += t;
  };
  parser.oncdata = (t) => {
    const top = stack[stack.length - 1];
    if (top) {
      top.text += t;
      top.cdata = true;
    }
  };
  parser.onclosetag = () => {
    const done = stack.pop();
    path.pop();
    if (!done) return;
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(done);
    else root = done;
  };
  parser.onerror = (e) => {
    errorPath = where() ?? '';
    syntaxError = e;
    throw STOP;
  };

  try {
    parser.write(text).close();
  } catch (e) {
    if (e instanceof ProblemError) return e.problem;
    if (e !== STOP) syntaxError = e instanceof Error ? e : new Error(String(e));
  }
  if (syntaxError) {
    // sax re-initialises itself when it closes, so the position is read from its message.
    const first = syntaxError.message.split('\n')[0] ?? 'syntax error';
    const at = /Line: (\d+)\s+Column: (\d+)/.exec(syntaxError.message);
    const position = at ? ` (line ${Number(at[1]) + 1}, column ${at[2]})` : '';
    return malformed(`Malformed XML: ${first}${position}`, errorPath || undefined);
  }
  if (!root) return malformed('Malformed XML: the document ends before the root element is closed', where());
  return toElement(root, '', '');
}

function readAttributes(raw: Record<string, QualifiedAttribute>): XmlAttribute[] {
  const out: XmlAttribute[] = [];
  for (const key of Object.keys(raw)) {
    const a = raw[key];
    if (a === undefined || typeof a.value !== 'string') continue;
    const uri = typeof a.uri === 'string' ? a.uri : '';
    if (uri === XMLNS_URI || a.name === 'xmlns') continue; // declarations, not data
    out.push({ ns: uri, name: typeof a.local === 'string' && a.local ? a.local : key, value: a.value });
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
