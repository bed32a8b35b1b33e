// The xml2js-driven tree builder src/xml/parse.ts used before the tree was built straight from a tokenizer's
// events (sax's, now saxes's), kept here, unchanged in behaviour, as the reference test/xml/tree-builder.test.ts
// compares the builder with: same tree for every fixture, same Problem for every refused input.
import xml2js from 'xml2js';
import { ProblemError, type Problem } from '../../../src/fhir/outcomes.ts';
import { XmlElement, type XmlAttribute } from '../../../src/xml/element.ts';
import { messageProblem } from '../../../src/xml/errors.ts';
import type { TreeLimits } from '../../../src/xml/tree-builder.ts';

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

export function buildTreeViaXml2js(text: string, limits: TreeLimits): XmlElement | Problem {
  const { maxDepth, maxElements } = limits;
  const MAX_ATTRIBUTES_PER_ELEMENT = limits.maxAttributes;
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
