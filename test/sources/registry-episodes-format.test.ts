import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PERSONAS } from '../../src/demo/personas.ts';
import { MAX_LINE_CHARS, normaliseIcd10, parseEpisodeLine, splitLines, type RawLine } from '../../src/sources/registry-episodes/format.ts';

const fnr = PERSONAS.ms.fnr;
const npr = (over: Record<string, unknown> = {}) =>
  JSON.stringify({
    id: 'NPR-2024-000123',
    fnr,
    start: '2024-10-31',
    end: '2024-10-31',
    institution: { resh: '4001031', name: 'Haukeland universitetssjukehus' },
    diagnoses: ['G430'],
    procedures: [],
    ...over,
  });
const kpr = (over: Record<string, unknown> = {}) =>
  JSON.stringify({ id: 'KPR-77', fnr: PERSONAS.knee.fnr, start: '2019-11-18', practice: { orgnr: '912345670', name: 'Lund legesenter' }, diagnoses: ['k86', 'T93'], ...over });

describe('extract line parser', () => {
  it('reads an NPR episode, normalising the ICD-10 code and defaulting procedure dates to the start', () => {
    const r = parseEpisodeLine(npr({ procedures: ['ngb40', { code: 'SFY0HK', date: '2024-10-30' }] }), 7, 'npr');
    expect(r).toEqual({
      ok: true,
      episode: {
        registry: 'npr',
        id: 'NPR-2024-000123',
        fnr,
        start: '2024-10-31',
        end: '2024-10-31',
        provider: { system: 'resh', id: '4001031', name: 'Haukeland universitetssjukehus' },
        diagnoses: ['G43.0'],
        procedures: [
          { code: 'NGB40', date: '2024-10-31' },
          { code: 'SFY0HK', date: '2024-10-30' },
        ],
      },
    });
  });

  it('reads a KPR contact with ICPC-2 codes and the practice by organisation number', () => {
    const r = parseEpisodeLine(kpr(), 1, 'kpr');
    expect(r.ok && r.episode).toMatchObject({ registry: 'kpr', diagnoses: ['K86', 'T93'], provider: { system: 'orgnr', id: '912345670' } });
  });

  it.each([
    ['{"id":', 'not valid JSON'],
    ['[1,2,3]', 'not a JSON object'],
    ['null', 'not a JSON object'],
    [npr({ fnr: '05886610018' }), 'fnr: not a valid fødselsnummer'],
    [npr({ fnr: 5886610019 }), 'fnr:'],
    [npr({ start: '2023-02-29' }), 'start:'],
    [npr({ start: '31.10.2024' }), 'start:'],
    [npr({ end: '2024-10-01' }), 'end: before start'],
    [npr({ diagnoses: ['GX3'] }), 'diagnoses.0: not an ICD-10 code'],
    [npr({ diagnoses: ['G43.0'], procedures: ['<b>'] }), 'procedures.0: not an NKPK code'],
    [npr({ diagnoses: [], procedures: [] }), 'neither diagnoses nor procedures'],
    [npr({ institution: { name: 'Uten id' } }), 'institution: needs resh or orgnr'],
    [npr({ institution: undefined }), 'institution:'],
    [npr({ id: '../../etc/passwd' }), 'id:'],
    [npr({ diagnoses: Array.from({ length: 51 }, () => 'G43.0') }), 'diagnoses:'],
    [kpr({ diagnoses: ['G43.0'] }), 'diagnoses.0: not an ICPC-2 code'],
  ])('rejects %s with the line number and the field (%s)', (line, message) => {
    const r = parseEpisodeLine(line, 42, line.includes('KPR-77') ? 'kpr' : 'npr');
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.line).toBe(42);
      expect(r.error.message).toContain(message);
    }
  });

  it('never puts field values (personal data) into error messages', () => {
    const r = parseEpisodeLine(npr({ fnr: '05886610018', start: 'Ola Nordmann' }), 1, 'npr');
    expect(!r.ok && r.error.message).not.toMatch(/05886610018|Ola/);
  });

  it('keeps hostile institution names as data and ignores __proto__ keys', () => {
    const line = `{"__proto__":{"polluted":1},${npr({ institution: { resh: '1', name: '<script>alert(1)</script>' } }).slice(1)}`;
    const r = parseEpisodeLine(line, 1, 'npr');
    expect(r.ok && r.episode.provider.name).toBe('<script>alert(1)</script>');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('rejects a line over the length limit without parsing it', () => {
    const r = parseEpisodeLine(npr({ note: 'x'.repeat(MAX_LINE_CHARS) }), 3, 'npr');
    expect(!r.ok && r.error.message).toContain('longer than');
  });

  it('normalises ICD-10 spellings', () => {
    expect(['G430', 'g43.0', ' G43.0 ', 'G35', 'E271'].map(normaliseIcd10)).toEqual(['G43.0', 'G43.0', 'G43.0', 'G35', 'E27.1']);
    expect(['G4', 'GG43', 'G43.000', ''].map(normaliseIcd10)).toEqual([undefined, undefined, undefined, undefined]);
  });
});

async function collect(chunks: Array<Uint8Array | string>, max?: number): Promise<RawLine[]> {
  const out: RawLine[] = [];
  async function* gen(): AsyncGenerator<Uint8Array | string> {
    yield* chunks;
  }
  for await (const l of splitLines(gen(), max)) out.push(l);
  return out;
}

describe('line splitter', () => {
  it('handles CRLF, a BOM, a missing final newline and multi-byte characters split across chunks', async () => {
    const bytes = new TextEncoder().encode('\uFEFFa\r\nSørlandet\nlast');
    const split = [bytes.slice(0, 6), bytes.slice(6, 9), bytes.slice(9)]; // cuts inside "ø"
    expect(await collect(split)).toEqual([
      { line: 1, text: 'a', truncated: false },
      { line: 2, text: 'Sørlandet', truncated: false },
      { line: 3, text: 'last', truncated: false },
    ]);
  });

  it('cuts an endless line at the limit and carries on counting lines after it', async () => {
    const huge = Array.from({ length: 50 }, () => 'x'.repeat(1000));
    const lines = await collect(['ok\n', ...huge, '\nnext\n'], 4096);
    expect(lines.map((l) => [l.line, l.text.length, l.truncated])).toEqual([
      [1, 2, false],
      [2, 4096, true],
      [3, 4, false],
    ]);
  });

  it('gives the same lines however the input is chunked', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.string({ unit: 'grapheme' }).filter((s) => !s.includes('\n') && !s.includes('\r')), { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 10 }), async (lines, cuts) => {
        const text = lines.join('\n');
        const bytes = new TextEncoder().encode(text);
        const points = [...new Set(cuts.map((c) => (bytes.length ? c % bytes.length : 0)))].sort((a, b) => a - b);
        const chunks: Uint8Array[] = [];
        let prev = 0;
        for (const p of [...points, bytes.length]) {
          chunks.push(bytes.slice(prev, p));
          prev = p;
        }
        const got = (await collect(chunks)).map((l) => l.text);
        // A final newline ends the last line; it does not start an empty one.
        const expected = text.replace(/^\uFEFF/, '').split('\n');
        if (expected.at(-1) === '') expected.pop();
        expect(got).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });
});
