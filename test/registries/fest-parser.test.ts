import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FestFormatError, parseFest, type FestEvent } from '../../src/registries/fest/m30-parser.ts';
import { DEMO_FEST_FILE } from '../../src/registries/fest/demo-file.ts';
import type { FestRecord, FestRecordOf } from '../../src/registries/fest/types.ts';

const FIXTURE = new URL('../fixtures/fest/prefixed-m30.xml', import.meta.url);
const M30 = 'http://www.kith.no/xmlstds/eresept/m30/2014-12-01';
const FS = 'http://www.kith.no/xmlstds/eresept/forskrivning/2014-12-01';

async function collect(source: Parameters<typeof parseFest>[0], opts?: Parameters<typeof parseFest>[1]): Promise<FestEvent[]> {
  const out: FestEvent[] = [];
  for await (const e of parseFest(source, opts)) out.push(e);
  return out;
}
const records = (events: FestEvent[]): FestRecord[] => events.flatMap((e) => (e.type === 'record' ? [e.record] : []));
function* chunksOf(bytes: Uint8Array, size: number): Iterable<Uint8Array> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}
async function refusal(source: string | Uint8Array, opts?: Parameters<typeof parseFest>[1]): Promise<FestFormatError> {
  try {
    await collect(source, opts);
  } catch (err) {
    if (err instanceof FestFormatError) return err;
    throw err;
  }
  throw new Error('expected the FEST file to be refused');
}
const fest = (body: string, head = ''): string =>
  `<?xml version="1.0" encoding="UTF-8"?>${head}<FEST xmlns="${M30}" xmlns:fs="${FS}"><HentetDato>2026-11-01T06:00:00</HentetDato>${body}</FEST>`;
const virkestoff = (id: string, name: string): string =>
  `<KatVirkestoff><OppfVirkestoff><Id>E_${id}</Id><Tidspunkt>2026-01-01T00:00:00</Tidspunkt><Status V="A"/>` +
  `<fs:Virkestoff><fs:Id>${id}</fs:Id><fs:Navn>${name}</fs:Navn></fs:Virkestoff></OppfVirkestoff></KatVirkestoff>`;

describe('parseFest on the demo catalogue', () => {
  const bytes = readFileSync(DEMO_FEST_FILE);

  it('reads the header and every kept entry', async () => {
    const events = await collect(bytes);
    expect(events[0]).toEqual({ type: 'header', hentetDato: '2026-11-01T06:00:00' });
    const kinds = records(events).reduce<Record<string, number>>((acc, r) => ({ ...acc, [r.kind]: (acc[r.kind] ?? 0) + 1 }), {});
    expect(kinds).toEqual({ merkevare: 23, pakning: 25, virkestoff: 23, 'virkestoff-med-styrke': 27, 'legemiddel-virkestoff': 3 });
    expect(events.some((e) => e.type === 'invalid')).toBe(false);
  });

  it('gives the same records whatever the chunk size (multi-byte characters split across chunks)', async () => {
    const whole = records(await collect(bytes));
    const small = records(await collect(chunksOf(bytes, 7)));
    expect(small).toEqual(whole);
  });

  it('extracts a package with varenummer, ATC, form, package size and unit', async () => {
    const tysabri = records(await collect(bytes)).find(
      (r): r is FestRecordOf<'pakning'> => r.kind === 'pakning' && r.data.varenr === '054362',
    );
    expect(tysabri?.data).toMatchObject({
      name: 'Tysabri Kons til inf 300 mg',
      prescriptionGroup: 'C',
      atc: { code: 'L04AG03', system: '2.16.578.1.12.4.1.1.7180' },
      doseForm: { code: '460', system: '2.16.578.1.12.4.1.1.7448', display: 'Konsentrat til infusjonsvæske' },
      packages: [{ size: '15', amount: 15, unit: { code: 'ml' }, packageType: { code: '37', display: 'Hetteglass' } }],
    });
    expect(tysabri?.meta.status).toBe('A');
  });

  it('extracts a brand with routes, ingredients in order and validity', async () => {
    const pinex = records(await collect(bytes)).find(
      (r): r is FestRecordOf<'merkevare'> => r.kind === 'merkevare' && r.data.brandName === 'Pinex Forte',
    );
    expect(pinex?.data.administration?.routes.map((c) => c.code)).toEqual(['59']);
    expect(pinex?.data.ingredients.map((i) => i.order)).toEqual([1, 2]);
    expect(pinex?.data.prescriptionValidity).toEqual([{ duration: 'P1Y' }]);
    expect(pinex?.data.manufacturer).toBe('Teva');
  });
});

describe('parseFest on other valid shapes', () => {
  it('resolves namespaces by URI, not by prefix, keeps CDATA and markup as text, skips foreign catalogues', async () => {
    const events = await collect(readFileSync(FIXTURE));
    const rs = records(events);
    expect(rs.map((r) => r.kind)).toEqual(['merkevare', 'pakning', 'virkestoff', 'virkestoff-med-styrke']);
    const brand = rs[0] as FestRecordOf<'merkevare'>;
    expect(brand.data.name).toBe('Pa<r>acet "Junior" Mikst 24 mg/ml');
    expect(brand.data.brandName).toBe('Paracet Junior <script>alert(1)</script> \u202Etnemom\u202C');
    const vms = rs[3] as FestRecordOf<'virkestoff-med-styrke'>;
    expect(vms.data).toMatchObject({ strength: { value: 24, unit: 'mg' }, denominator: { value: 1, unit: 'ml' } });
  });

  it('reports an entry that breaks the schema with its path and line, and carries on', async () => {
    const events = await collect(readFileSync(FIXTURE));
    const invalid = events.filter((e) => e.type === 'invalid');
    expect(invalid).toHaveLength(1);
    expect(invalid[0]).toMatchObject({
      entry: 'OppfLegemiddelpakning',
      path: 'OppfLegemiddelpakning/Legemiddelpakning/Varenr',
      message: 'OppfLegemiddelpakning/Legemiddelpakning/Varenr is required',
    });
    expect((invalid[0] as { line: number }).line).toBeGreaterThan(40);
    expect(records(events).some((r) => r.kind === 'virkestoff')).toBe(true); // entries after it are read
  });

  it('accepts a catalogue with only some catalogues, a comma decimal and a withdrawn entry', async () => {
    const xml = fest(
      `<KatVirkestoff><OppfVirkestoff><Id>E1</Id><Tidspunkt>2026-01-01T00:00:00</Tidspunkt><Status V="A"/>` +
        `<fs:VirkestoffMedStyrke><fs:Id>VMS1</fs:Id><fs:Styrke V="1,7" U="mg"/><fs:RefVirkestoff>VS1</fs:RefVirkestoff>` +
        `<fs:Styrkeoperator V="L"/></fs:VirkestoffMedStyrke></OppfVirkestoff>` +
        `<OppfVirkestoff><Id>E2</Id><Tidspunkt>2026-01-01T00:00:00</Tidspunkt><Status V="U"/></OppfVirkestoff></KatVirkestoff>`,
    );
    const rs = records(await collect(xml));
    expect(rs).toHaveLength(1);
    expect((rs[0] as FestRecordOf<'virkestoff-med-styrke'>).data.strength).toEqual({ value: 1.7, unit: 'mg' });
  });

  it('reports a non-numeric amount as an invalid entry', async () => {
    const xml = fest(
      `<KatVirkestoff><OppfVirkestoff><Id>E1</Id><Tidspunkt>2026-01-01T00:00:00</Tidspunkt><Status V="A"/>` +
        `<fs:VirkestoffMedStyrke><fs:Id>VMS1</fs:Id><fs:Styrke V="ti" U="mg"/><fs:RefVirkestoff>VS1</fs:RefVirkestoff>` +
        `<fs:Styrkeoperator V="L"/></fs:VirkestoffMedStyrke></OppfVirkestoff></KatVirkestoff>`,
    );
    const events = await collect(xml);
    expect(events.find((e) => e.type === 'invalid')).toMatchObject({ message: expect.stringContaining("not a number: 'ti'") });
  });
});

describe('parseFest refuses hostile and malformed files', () => {
  it('refuses a DOCTYPE with an external entity (XXE)', async () => {
    const err = await refusal(fest(virkestoff('V1', '&xxe;'), '<!DOCTYPE FEST [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'));
    expect(err.problem).toMatchObject({ status: 400, issues: [{ code: 'security' }] });
  });

  it('refuses the billion laughs', async () => {
    const laughs =
      '<!DOCTYPE FEST [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
      '<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">]>';
    const err = await refusal(fest(virkestoff('V1', '&lol2;'), laughs));
    expect(err.problem.issues[0]?.code).toBe('security');
  });

  it('refuses a DOCTYPE that arrives split over chunks', async () => {
    const xml = new TextEncoder().encode(`<?xml version="1.0"?>\n<!DOCTYPE FEST SYSTEM "http://evil.example/fest.dtd">${fest('')}`);
    await expect(collect(chunksOf(xml, 3))).rejects.toMatchObject({ problem: { issues: [{ code: 'security' }] } });
  });

  it('refuses an undefined entity reference', async () => {
    const err = await refusal(fest(virkestoff('V1', 'A &nbsp; B')));
    expect(err.problem).toMatchObject({ status: 400, issues: [{ code: 'structure' }] });
  });

  it('refuses another encoding and invalid UTF-8', async () => {
    const latin1 = await refusal(`<?xml version="1.0" encoding="ISO-8859-1"?><FEST xmlns="${M30}"/>`);
    expect(latin1.message).toMatch(/only UTF-8/);
    const bad = new Uint8Array([...new TextEncoder().encode(fest(virkestoff('V1', 'X'))).slice(0, 200), 0xff, 0xfe, 0x3c]);
    expect((await refusal(bad)).message).toMatch(/not valid UTF-8/);
  });

  it('refuses a file that is not FEST, or FEST of another version, naming the root', async () => {
    expect((await refusal('<MsgHead xmlns="http://www.kith.no/xmlstds/msghead/2006-05-24"/>')).message).toMatch(/root element is .*MsgHead/);
    const old = await refusal('<FEST xmlns="http://www.kith.no/xmlstds/eresept/m30/2013-10-08"><HentetDato>2020-01-01T00:00:00</HentetDato></FEST>');
    expect(old.problem.issues[0]).toMatchObject({ code: 'not-supported' });
    expect(old.message).toContain('2013-10-08');
  });

  it('refuses truncated, unbalanced and empty files with the line', async () => {
    const demo = readFileSync(DEMO_FEST_FILE, 'utf8');
    const truncated = await refusal(demo.slice(0, Math.floor(demo.length / 2)));
    expect(truncated.problem.issues[0]?.code).toBe('structure');
    const unbalanced = await refusal(fest('<KatVirkestoff><OppfVirkestoff></KatVirkestoff>'));
    expect(unbalanced.line).toBe(1);
    expect((await refusal('')).message).toMatch(/empty/);
    expect((await refusal('   \n')).message).toMatch(/empty/);
  });

  it('refuses excessive nesting', async () => {
    const deep = `${'<a>'.repeat(100)}${'</a>'.repeat(100)}`;
    const err = await refusal(fest(`<KatVirkestoff><OppfVirkestoff>${deep}</OppfVirkestoff></KatVirkestoff>`));
    expect(err.problem).toMatchObject({ status: 413, issues: [{ code: 'too-costly' }] });
  });

  it('refuses an oversized entry instead of holding it in memory', async () => {
    const huge = virkestoff('V1', 'x'.repeat(50_000));
    const err = await refusal(fest(huge), { maxEntryChars: 10_000 });
    expect(err.problem.status).toBe(413);
    const many = `<KatVirkestoff><OppfVirkestoff><Id>E</Id>${'<fs:RefVirkestoff>x</fs:RefVirkestoff>'.repeat(200)}</OppfVirkestoff></KatVirkestoff>`;
    expect((await refusal(fest(many), { maxEntryElements: 100 })).problem.status).toBe(413);
  });

  it('streams past large catalogues it does not keep without limits applying to them', async () => {
    const interactions = `<KatInteraksjon>${'<OppfInteraksjon><Id>I</Id><Tidspunkt>2026-01-01T00:00:00</Tidspunkt><Status V="A"/></OppfInteraksjon>'.repeat(2000)}</KatInteraksjon>`;
    const events = await collect(fest(virkestoff('V1', 'Paracetamol') + interactions), { maxEntryElements: 50 });
    expect(records(events)).toHaveLength(1);
  });
});
