// The XSD validator every schema check in the suite goes through (test/support/xsd.ts), tested on the
// official samples: what the NCP and the prescription chain accept must pass, and a broken copy must not.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateXml, validateXmlAll } from './support/xsd.ts';

const dir = (path: string): URL => new URL(path, import.meta.url);
const samples = (folder: string, re: RegExp): { name: string; xml: string }[] =>
  readdirSync(dir(folder))
    .filter((f) => re.test(f))
    .map((f) => ({ name: f, xml: readFileSync(dir(folder + f), 'utf8') }));

const officialCda = [...samples('fixtures/eu-cda/', /^PS-L3-.*\.xml$/), ...samples('fixtures/edispensation/', /^e[PD]-.*\.xml$/)];

describe('the eHDSI CDA schema (CDA_Pharma.xsd) in schemas/eu/cda-schema', () => {
  it('accepts every official PS, eP and eD sample, in one run', async () => {
    expect(officialCda.map((s) => s.name.slice(0, 2)).sort()).toEqual(['PS', 'PS', 'eD', 'eD', 'eD', 'eD', 'eP', 'eP']);
    const results = await validateXmlAll(
      officialCda.map((s) => s.xml),
      'cda',
    );
    results.forEach((r, i) => expect(r.errors, officialCda[i]!.name).toEqual([]));
    expect(results.every((r) => r.valid)).toBe(true);
  });

  it('refuses a PS whose header elements are out of order, naming the line', async () => {
    const ps = officialCda.find((s) => s.name === 'PS-L3-W8-minimal.openncp.xml')!.xml;
    const broken = ps.replace(/<templateId /, '<bogus ');
    const r = await validateXml(broken, 'cda');
    expect(r.valid).toBe(false);
    expect(r.errors.join('\n')).toMatch(/^line \d+: .*bogus/m);
  });

  it('tells which document of a batch is invalid', async () => {
    const good = officialCda[0]!.xml;
    const bad = good.replace(/<code /, '<kode ');
    const [a, b, c] = await validateXmlAll([good, bad, good], 'cda');
    expect([a!.valid, b!.valid, c!.valid]).toEqual([true, false, true]);
  });

  it('answers invalid, not a crash, for a document that is not well-formed', async () => {
    const r = await validateXml('<ClinicalDocument xmlns="urn:hl7-org:v3"><unclosed></ClinicalDocument>', 'cda');
    expect(r.valid).toBe(false);
    expect(r.errors.length).toBeGreaterThan(0);
  });
});

describe('the eResept M10 schema (MsgHead v1.2 + ER-M10) in schemas/kith', () => {
  it('accepts the official sample M10s without a network or an XML catalog', async () => {
    const m10s = samples('fixtures/m10/', /\.xml$/);
    expect(m10s.length).toBe(2);
    for (const r of await validateXmlAll(m10s.map((m) => m.xml), 'm10')) expect(r.errors).toEqual([]);
  });
});
