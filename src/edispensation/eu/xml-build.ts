// A minimal XML writer for the documents Helsebro emits: elements are built as values and serialised in one
// place, where every attribute value and text passes escapeXml. Nothing from input can add markup.
import { escapeXml } from '../../fhir/xhtml.ts';

export interface XmlNode {
  name: string;
  attrs: [string, string][];
  children: (XmlNode | string)[];
}

type Attrs = Record<string, string | number | undefined>;
type Child = XmlNode | string | undefined | false | null | Child[];

/** An element; undefined attributes and empty children are left out. */
export function x(name: string, attrs: Attrs = {}, ...children: Child[]): XmlNode {
  const a = Object.entries(attrs).filter((e): e is [string, string | number] => e[1] !== undefined).map(([k, v]): [string, string] => [k, String(v)]);
  return { name, attrs: a, children: flatten(children) };
}

function flatten(children: Child[]): (XmlNode | string)[] {
  const out: (XmlNode | string)[] = [];
  for (const c of children) {
    if (c === undefined || c === false || c === null) continue;
    if (Array.isArray(c)) out.push(...flatten(c));
    else out.push(c);
  }
  return out;
}

// A lone UTF-16 surrogate (possible in JSON input) has no UTF-8 form.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const text = (s: string): string => escapeXml(s.replace(LONE_SURROGATE, '\uFFFD'));
const attr = (s: string): string => text(s).replace(/\r/g, '&#13;').replace(/\n/g, '&#10;').replace(/\t/g, '&#9;');

export function serialise(node: XmlNode, indent = ''): string {
  const attrs = node.attrs.map(([k, v]) => ` ${k}="${attr(v)}"`).join('');
  if (!node.children.length) return `${indent}<${node.name}${attrs}/>`;
  if (node.children.every((c) => typeof c === 'string')) return `${indent}<${node.name}${attrs}>${node.children.map((c) => text(c as string)).join('')}</${node.name}>`;
  const inner = node.children.map((c) => (typeof c === 'string' ? `${indent}  ${text(c)}` : serialise(c, `${indent}  `))).join('\n');
  return `${indent}<${node.name}${attrs}>\n${inner}\n${indent}</${node.name}>`;
}

export const xmlDocument = (root: XmlNode): string => `<?xml version="1.0" encoding="UTF-8"?>\n${serialise(root)}\n`;
