import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeXml } from '../../src/fhir/xhtml.ts';
import { XmlElement } from '../../src/xml/element.ts';
import { parseXml } from '../../src/xml/parse.ts';
import { el, serialize, toXmlElement, xmlDocument, type XmlNode } from '../../src/xml/write.ts';

// The writer's rules stated plainly (escape everything, text-only and mixed content inline, element-only
// content indented two spaces per level): the one-pass writer must produce exactly these bytes.
function plainEscape(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
function plainSerialize(node: XmlNode, indent = ''): string {
  const attrs = Object.entries(node.attrs).map(([k, v]) => ` ${k}="${plainEscape(v)}"`).join('');
  if (!node.children.length) return `${indent}<${node.name}${attrs}/>`;
  if (node.children.some((c) => typeof c === 'string')) {
    return `${indent}<${node.name}${attrs}>${node.children.map((c) => (typeof c === 'string' ? plainEscape(c) : plainSerialize(c))).join('')}</${node.name}>`;
  }
  return `${indent}<${node.name}${attrs}>\n${node.children.map((c) => plainSerialize(c as XmlNode, `${indent}  `)).join('\n')}\n${indent}</${node.name}>`;
}

const text = fc.oneof(fc.string(), fc.constantFrom('', 'a & b', '<x>', '"q"', "'", '\u0001bell', 'Ærø', '\uFFFE'));
const name = fc.constantFrom('a', 'b', 'pharm:c', 'text');
const node: fc.Arbitrary<XmlNode> = fc.letrec((tie) => ({
  node: fc.record({
    name,
    attrs: fc.dictionary(fc.constantFrom('code', 'value', 'xmlns', 'ID'), text, { maxKeys: 3 }),
    children: fc.array(fc.oneof({ depthSize: 'small' }, text, tie('node') as fc.Arbitrary<XmlNode>), { maxLength: 4 }),
  }),
})).node as fc.Arbitrary<XmlNode>;

describe('the XML writer', () => {
  it('writes any tree exactly as the plain rules say', () => {
    fc.assert(
      fc.property(node, fc.constantFrom('', '  '), (n, indent) => {
        expect(serialize(n, indent)).toBe(plainSerialize(n, indent));
      }),
      { numRuns: 1500 },
    );
  });

  it('escapes any text as the plain rule does, and returns clean text as it is', () => {
    fc.assert(
      fc.property(text, (t) => {
        expect(escapeXml(t)).toBe(plainEscape(t));
      }),
      { numRuns: 3000 },
    );
    const clean = 'Hydrokortison 10 mg tabletter';
    expect(escapeXml(clean)).toBe(clean);
  });

  it('drops undefined attributes and false, null and undefined children, and flattens arrays', () => {
    const doc = el('a', { x: 1, y: undefined, z: true }, [el('b'), [undefined, 'text']], false, null, el('c', {}, 'd'));
    expect(doc).toEqual({ name: 'a', attrs: { x: '1', z: 'true' }, children: [{ name: 'b', attrs: {}, children: [] }, 'text', { name: 'c', attrs: {}, children: ['d'] }] });
    expect(xmlDocument(el('r', {}, el('s'), el('t', {}, 'u')))).toBe('<?xml version="1.0" encoding="UTF-8"?>\n<r>\n  <s/>\n  <t>u</t>\n</r>\n');
  });
});

describe('toXmlElement', () => {
  // What the checks read instead of parsing the written text again must be what the reader makes of that text.
  const plain = (e: XmlElement): unknown => ({
    ns: e.ns,
    name: e.name,
    path: e.path,
    attributes: e.attributes.map((a) => ({ ...a })),
    rawText: e.rawText,
    children: e.children.map(plain),
  });
  const word = fc.constantFrom('x', 'a & b', '<y>', 'Ærø', '12');
  const qname = fc.constantFrom('a', 'b', 'p:a', 'q:c', 'p:b');
  const declarations = fc.constantFrom<Record<string, string>>({}, { xmlns: 'urn:d' }, { 'xmlns:p': 'urn:p2' }, { xmlns: '' }, { 'xmlns:q': 'urn:q2', xmlns: 'urn:e' });
  const attrs = fc.constantFrom<Record<string, string>>({}, { code: '1' }, { 'p:code': '2', value: 'v' }, { 'q:x': '&', ID: 'i' });
  const tree: fc.Arbitrary<XmlNode> = fc.letrec((tie) => ({
    node: fc
      .tuple(qname, declarations, attrs, fc.array(fc.oneof({ depthSize: 'small' }, word, tie('node') as fc.Arbitrary<XmlNode>), { maxLength: 5 }))
      .map(([name, d, a, children]): XmlNode => ({ name, attrs: { ...d, ...a }, children })),
  })).node as fc.Arbitrary<XmlNode>;

  it('gives the tree the XML reader builds from the serialised document: namespaces, paths, attributes, text', () => {
    fc.assert(
      fc.property(tree, (node) => {
        const root: XmlNode = { name: 'r', attrs: { 'xmlns:p': 'urn:p', 'xmlns:q': 'urn:q' }, children: [node, node] };
        const parsed = parseXml(xmlDocument(root));
        if (!parsed.ok) throw new Error(JSON.stringify(parsed.problem));
        expect(plain(toXmlElement(root))).toEqual(plain(parsed.value.root));
      }),
      { numRuns: 400 },
    );
  });
});
