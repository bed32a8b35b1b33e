// The linear pre-scan that refuses attribute floods, namespace floods, huge start tags and deep nesting
// before the parser buffers them. It must count exactly where it matters (inside start tags, around
// quoted values) and ignore look-alikes in text, comments, CDATA and processing instructions.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { messageErrorCode } from '../../src/xml/errors.ts';
import { parseXml, prescanXmlBytes } from '../../src/xml/parse.ts';
import { prescanXml, type PrescanLimits } from '../../src/xml/prescan.ts';

const LIMITS: PrescanLimits = { maxAttributes: 4, maxNamespaceDeclarations: 2, maxStartTagLength: 200, maxDepth: 3 };
const scan = (xml: string) => prescanXml(xml, LIMITS);
const codeOf = (xml: string) => {
  const p = scan(xml);
  return p ? messageErrorCode(p) : undefined;
};

describe('prescanXml', () => {
  it('counts attributes per start tag, namespace declarations included, and names the element', () => {
    expect(codeOf('<r a="1" b="2" c="3" d="4"/>')).toBeUndefined();
    const p = scan('<r><p:child xmlns:p="urn:x" a="1" b="2" c="3" d="4"/></r>');
    expect(p && messageErrorCode(p)).toBe('xml-too-many-attributes');
    expect(p?.issues[0]?.expression).toEqual(['r.child']);
    expect(p?.issues[0]?.diagnostics).toMatch(/more than 4 attributes.*offset 3/);
  });

  it("is not fooled by '=', '>' or quotes inside attribute values", () => {
    expect(codeOf(`<r a="x=y=z>w" b='"=""' c="'='"/>`)).toBeUndefined();
    expect(codeOf(`<r a="=" b="=" c="=" d="=" e="="/>`)).toBe('xml-too-many-attributes');
    expect(codeOf(`<r a = "1"\n b\t=\t'2' c=\r\n"3" d="4" e="5"/>`)).toBe('xml-too-many-attributes');
  });

  it("ignores '=' and tags in text, comments, CDATA sections and processing instructions", () => {
    const lookalikes = '<r>a=b=c=d=e=f <!-- <x a="1" b="2" c="3" d="4" e="5"> --><![CDATA[<x a="1" b="2" c="3" d="4" e="5">]]><?pi a="1" b="2" c="3" d="4" e="5"?></r>';
    expect(scan(lookalikes)).toBeUndefined();
  });

  it('counts namespace declarations separately, but not attributes that only start with xmlns', () => {
    expect(codeOf('<r xmlns="urn:a" xmlns:b="urn:b"/>')).toBeUndefined();
    expect(codeOf('<r xmlns="urn:a" xmlns:b="urn:b" xmlns:c="urn:c"/>')).toBe('xml-too-many-attributes');
    expect(scan('<r xmlns="urn:a" xmlns:b="urn:b" xmlns:c="urn:c"/>')?.issues[0]?.diagnostics).toMatch(/declares more than 2 namespaces/);
    expect(codeOf('<r xmlns = "urn:a" xmlns:b ="urn:b" xmlns:c= "urn:c"/>')).toBe('xml-too-many-attributes');
    expect(codeOf('<r xmlnsa="1" xmlnsb="2" xmlnsc="3"/>')).toBeUndefined();
  });

  it('refuses a start tag longer than the limit, however the length is made', () => {
    expect(codeOf(`<r a="${'x'.repeat(150)}"/>`)).toBeUndefined();
    expect(codeOf(`<r a="${'x'.repeat(250)}"/>`)).toBe('xml-tag-too-long');
    expect(codeOf(`<${'r'.repeat(250)}/>`)).toBe('xml-tag-too-long');
    expect(codeOf(`<r${' '.repeat(250)}/>`)).toBe('xml-tag-too-long');
    // Long text and comments are not start tags.
    expect(codeOf(`<r>${'x'.repeat(5000)}<!--${'y'.repeat(5000)}--></r>`)).toBeUndefined();
  });

  it('bounds depth; self-closing tags and end tags keep the count right', () => {
    expect(codeOf('<a><b><c/><c></c><c><d/></c></b></a>')).toBeUndefined();
    const p = scan('<a><b><c><d>');
    expect(p && messageErrorCode(p)).toBe('xml-too-deep');
    expect(p?.issues[0]?.expression).toEqual(['a.b.c']);
  });

  it('leaves truncated and malformed documents to the parser', () => {
    for (const xml of ['<r a="1', '<r a="1"', '<r', '<', '<r><!-- never closed', '<r><![CDATA[', '<r <x a="1">']) {
      expect(scan(xml), xml).toBeUndefined();
    }
  });

  it('refuses exactly the documents with an element over the limit (property)', () => {
    const element: fc.Memo<string> = fc.memo((n) =>
      fc
        .tuple(
          fc.integer({ min: 0, max: 6 }),
          fc.constantFrom('"', "'"),
          fc.string({ unit: fc.constantFrom('a', '=', '>', ' ', '/'), maxLength: 6 }),
          n > 1 ? fc.array(element(n - 1), { maxLength: 3 }) : fc.constant([] as string[]),
        )
        .map(([attrs, q, value, children]) => {
          const list = Array.from({ length: attrs }, (_, i) => ` a${i}=${q}${value}${q}`).join('');
          return children.length ? `<e${list}>${children.join('<!-- a="1" b="2" -->')}</e>` : `<e${list}/>`;
        }),
    );
    const limits: PrescanLimits = { maxAttributes: 4, maxNamespaceDeclarations: 2, maxStartTagLength: 10_000, maxDepth: 100 };
    fc.assert(
      fc.property(element(3), (xml) => {
        const most = Math.max(...[...xml.matchAll(/<e((?: a\d=("|')[^"']*\2)*)/g)].map((m) => (m[1]?.match(/ a\d=/g) ?? []).length));
        const p = prescanXml(xml, limits);
        expect(p ? messageErrorCode(p) : undefined).toBe(most > 4 ? 'xml-too-many-attributes' : undefined);
      }),
    );
  });
});

describe('parseXml refuses floods in the pre-scan', () => {
  it('refuses 200,000 attributes on one start tag with the attribute limit, naming the element', () => {
    const attrs: string[] = [];
    for (let i = 0; i < 200_000; i++) attrs.push(` a${i}="x"`);
    const r = parseXml(`<root${attrs.join('')}/>`);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(messageErrorCode(r.problem)).toBe('xml-too-many-attributes');
    expect(r.problem.issues[0]?.expression).toEqual(['root']);
  });

  it('still reads a CDA-like root with its usual namespace declarations and attributes', () => {
    const r = parseXml(
      '<ClinicalDocument xmlns="urn:hl7-org:v3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:pharm="urn:ihe:pharm:medication" xmlns:epsos="urn:epsos-org:ep:medication" classCode="DOCCLIN" moodCode="EVN"><id root="1.2" extension="x"/></ClinicalDocument>',
    );
    expect(r.ok).toBe(true);
  });

  it('refuses a start tag over 64 KiB with its own code', () => {
    const r = parseXml(`<r a="${'x'.repeat(70 * 1024)}"/>`);
    expect(!r.ok && messageErrorCode(r.problem)).toBe('xml-tag-too-long');
  });
});

describe('prescanXmlBytes (the HTTP layer, before decoding)', () => {
  const attrs = (n: number) => Array.from({ length: n }, (_, i) => ` æ${i}="ø=å"`).join('');
  it('counts the same in UTF-8 and ISO-8859-1 bytes as in the decoded text, and names the element', () => {
    const ok = `<?xml version="1.0" encoding="UTF-8"?><Rot${attrs(64)}><Barn/></Rot>`;
    expect(prescanXmlBytes(Buffer.from(ok, 'utf8'))).toBeUndefined();
    expect(prescanXmlBytes(Buffer.from(ok.replace('UTF-8', 'ISO-8859-1'), 'latin1'))).toBeUndefined();
    const flood = `<Rot><Bær${attrs(65)}/></Rot>`;
    for (const bytes of [Buffer.from(flood, 'utf8'), Buffer.from(flood, 'latin1')]) {
      const p = prescanXmlBytes(bytes);
      expect(p && messageErrorCode(p)).toBe('xml-too-many-attributes');
      expect(p?.issues[0]?.diagnostics).toMatch(/offset 5\)/);
    }
  });

  it('reads a view into a larger buffer from its own offset', () => {
    const whole = Buffer.from(`<junk${' a="1"'.repeat(100)}/><r a="1"/>`);
    expect(prescanXmlBytes(whole.subarray(whole.indexOf('<r ')))).toBeUndefined();
    expect(prescanXmlBytes(whole)).toBeDefined();
  });
});

