// The one XML writer for the documents Helsebro emits (eHDSI CDA, M10): a tree of plain nodes, serialised
// with every attribute value and text escaped. Elements whose content is undefined are left out, so optional
// parts of a document read as `cond ? el(...) : undefined` at the place they belong.
import { escapeXml } from '../fhir/xhtml.ts';
import { siblingSuffixes, XmlElement, type XmlAttribute } from './element.ts';

export interface XmlNode {
  name: string;
  attrs: Record<string, string>;
  children: (XmlNode | string)[];
}

export type Child = XmlNode | string | undefined | false | null | readonly Child[];

/** An element: attributes with undefined values are dropped, children are flattened. */
export function el(name: string, attrs: Record<string, string | number | boolean | undefined> = {}, ...children: Child[]): XmlNode {
  const clean: Record<string, string> = {};
  for (const k in attrs) {
    if (!Object.hasOwn(attrs, k)) continue;
    const v = attrs[k];
    if (v !== undefined) clean[k] = typeof v === 'string' ? v : String(v);
  }
  const flat: (XmlNode | string)[] = [];
  for (const c of children) addChild(flat, c);
  return { name, attrs: clean, children: flat };
}

function addChild(flat: (XmlNode | string)[], c: Child): void {
  if (c === undefined || c === null || c === false) return;
  if (Array.isArray(c)) for (const x of c as readonly Child[]) addChild(flat, x);
  else flat.push(c as XmlNode | string);
}

/** An element holding only text. */
export const textEl = (name: string, text: string | undefined, attrs: Record<string, string | undefined> = {}): XmlNode | undefined =>
  text === undefined ? undefined : el(name, attrs, text);

// One pass of string concatenation: V8 joins the pieces as ropes and flattens the document once, several
// times faster than collecting the parts in an array and joining them.
export function serialize(node: XmlNode, indent = ''): string {
  let s = `${indent}<${node.name}`;
  for (const k in node.attrs) s += ` ${k}="${escapeXml(node.attrs[k]!)}"`;
  const children = node.children;
  if (!children.length) return `${s}/>`;
  let texts = 0;
  for (const c of children) if (typeof c === 'string') texts++;
  s += '>';
  if (texts > 0) {
    // Text only, or mixed content: kept inline.
    for (const c of children) s += typeof c === 'string' ? escapeXml(c) : serialize(c);
  } else {
    // Pure element content is indented for readability.
    const inner = `${indent}  `;
    for (const c of children) s += `\n${serialize(c as XmlNode, inner)}`;
    s += `\n${indent}`;
  }
  return `${s}</${node.name}>`;
}

export const xmlDocument = (root: XmlNode): string => `<?xml version="1.0" encoding="UTF-8"?>\n${serialize(root)}\n`;

/**
 * The namespace-resolved element tree of a written document, as the XML reader would produce it from the
 * serialised text, so checks can run on a document without parsing it again. Prefixes resolve through the
 * xmlns declarations in scope.
 */
export function toXmlElement(node: XmlNode, scope: ReadonlyMap<string, string> = new Map(), parentPath = '', suffix = ''): XmlElement {
  const keys = Object.keys(node.attrs);
  // Only an element that declares namespaces gets a scope of its own; the rest share their parent's.
  let bindings = scope;
  for (const k of keys) {
    if (k !== 'xmlns' && !k.startsWith('xmlns:')) continue;
    if (bindings === scope) bindings = new Map(scope);
    (bindings as Map<string, string>).set(k === 'xmlns' ? '' : k.slice(6), node.attrs[k]!);
  }
  const colon = node.name.indexOf(':');
  const name = colon < 0 ? node.name : node.name.slice(colon + 1);
  const path = parentPath ? `${parentPath}.${name}${suffix}` : `${name}${suffix}`;
  const attributes: XmlAttribute[] = [];
  for (const k of keys) {
    if (k === 'xmlns' || k.startsWith('xmlns:')) continue;
    const at = k.indexOf(':');
    const prefix = at < 0 ? '' : k.slice(0, at);
    attributes.push({ ns: prefix ? (bindings.get(prefix) ?? '') : '', name: at < 0 ? k : k.slice(at + 1), value: node.attrs[k]! });
  }
  let rawText = '';
  const elements: XmlNode[] = [];
  for (const c of node.children) {
    if (typeof c === 'string') rawText += c;
    else elements.push(c);
  }
  const suffixes = siblingSuffixes(elements.map((c) => localName(c.name)));
  const children = elements.map((c, i) => toXmlElement(c, bindings, path, suffixes[i]!));
  return new XmlElement({ ns: bindings.get(colon < 0 ? '' : node.name.slice(0, colon)) ?? '', name, path, attributes, children, rawText });
}

const localName = (qname: string): string => {
  const at = qname.indexOf(':');
  return at < 0 ? qname : qname.slice(at + 1);
};
