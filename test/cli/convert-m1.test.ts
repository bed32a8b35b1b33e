// `npx helsebro convert-m1` as an operator runs it: a real process over folders of M1 files, its outputs,
// its summary and its exit codes. A reseptgruppe A or B prescription never becomes an output file.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { extractText, getDocumentProxy } from 'unpdf';
import { afterAll, describe, expect, it } from 'vitest';
import type { Bundle, OperationOutcome } from '@medplum/fhirtypes';
import { checkEhdsiCda } from '../../src/eprescription/cda-check.ts';
import { validateMpdBundle } from '../../src/eprescription/validate-fhir.ts';
import { expectSchemaValidCda } from '../support/cda-schema.ts';
import { stableText } from '../support/stable-text.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = join(ROOT, 'test/fixtures/m1');
const DATE = '2026-03-02';
const temp = mkdtempSync(join(tmpdir(), 'helsebro-convert-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['bin/helsebro.js', 'convert-m1', ...args], {
      cwd: ROOT,
      env: { ...process.env, HELSEBRO_DATA_DIR: join(temp, 'data'), LOG_LEVEL: 'silent' },
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    proc.on('error', reject);
    proc.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const counts = (summary: string): { files: number; converted: number; refused: number; failed: number } => {
  const m = /convert-m1: (\d+) files?: (\d+) converted, (\d+) refused by rule, (\d+) failed/.exec(summary);
  if (!m) throw new Error(`no summary in: ${summary}`);
  return { files: Number(m[1]), converted: Number(m[2]), refused: Number(m[3]), failed: Number(m[4]) };
};

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

describe('convert-m1', () => {
  it('converts the whole corpus: outputs for the exportable, rule codes for the refused, exit 1 because some fail', async () => {
    const out = join(temp, 'corpus');
    const r = await run([FIXTURES, '--out', out, '--date', DATE, '--format', 'both']);
    expect(r.code).toBe(1);
    const c = counts(r.stdout);
    expect(c.files).toBe(c.converted + c.refused + c.failed);
    expect(c.converted).toBeGreaterThanOrEqual(20);
    expect(c.refused).toBeGreaterThanOrEqual(20);
    expect(c.failed).toBeGreaterThanOrEqual(40);
    expect(r.stdout).toMatch(/refused by rule:\n(.*\n)*\s+NO-EXPORT-GROUP-A: \d+/);
    expect(r.stdout).toMatch(/xml-doctype: \d+/);

    const files = walk(out);
    const fhir = files.filter((f) => f.endsWith('.fhir.json'));
    const cda = files.filter((f) => f.endsWith('.cda.xml'));
    const cdaL1 = files.filter((f) => f.endsWith('.cda-l1.xml'));
    expect(fhir).toHaveLength(c.converted);
    expect(cda).toHaveLength(c.converted);
    expect(cdaL1).toHaveLength(c.converted);
    for (const f of fhir) expect(validateMpdBundle(JSON.parse(readFileSync(f, 'utf8')) as Bundle), f).toEqual([]);
    for (const f of cda) expect(checkEhdsiCda(readFileSync(f)).issues, f).toEqual([]);
    // Level 1 beside each Level 3: the same document id with .L1, a PDF in its nonXMLBody.
    for (const f of cdaL1) {
      const l1 = readFileSync(f, 'utf8');
      const l3Id = /<id root="[^"]+" extension="([^"]+)"\/>/.exec(readFileSync(f.replace(/\.cda-l1\.xml$/, '.cda.xml'), 'utf8'))?.[1];
      expect(l1, f).toContain(`extension="${l3Id}.L1"`);
      expect(l1, f).toMatch(/<nonXMLBody [^>]*>\s*<text mediaType="application\/pdf" representation="B64">JVBER/);
    }
    await expectSchemaValidCda([...cda, ...cdaL1].map((f) => readFileSync(f, 'utf8')), [...cda, ...cdaL1]);
  });

  it('never writes an output for a reseptgruppe A or B prescription, only its refusal', async () => {
    const out = join(temp, 'groups');
    const r = await run([join(FIXTURES, 'valid'), '--out', out, '--date', DATE, '--workers', '1']);
    expect(r.code).toBe(0);
    for (const name of ['12-reseptgruppe-a', '13-reseptgruppe-b', '21-mange-grunner']) {
      expect(existsSync(join(out, `${name}.fhir.json`)), name).toBe(false);
      expect(existsSync(join(out, `${name}.cda.xml`)), name).toBe(false);
      const oo = JSON.parse(readFileSync(join(out, `${name}.outcome.json`), 'utf8')) as OperationOutcome;
      expect(oo.issue.map((i) => i.details?.coding?.[0]?.code)).toEqual(expect.arrayContaining([name.includes('-b') ? 'NO-EXPORT-GROUP-B' : 'NO-EXPORT-GROUP-A']));
    }
    // Nothing written anywhere names a group A/B product of the corpus.
    const written = walk(out).filter((f) => !f.endsWith('.outcome.json')).map((f) => readFileSync(f, 'utf8'));
    for (const text of written) expect(text).not.toMatch(/OxyContin|Stesolid|Dolcontin|Metadon/);
  });

  it('fails an M1 that names its patient ambiguously or its prescriber unlike HPR, and writes no address it could not check', async () => {
    const out = join(temp, 'identity');
    const r = await run([join(FIXTURES, 'identity'), '--out', out, '--date', '2026-12-07', '--workers', '1', '--format', 'both']);
    expect(r.code).toBe(1);
    expect(counts(r.stdout)).toMatchObject({ converted: 5, refused: 0, failed: 5 });
    expect(r.stdout).toMatch(/patient-identity-conflict: 4/);
    expect(r.stdout).toMatch(/prescriber-hpr-mismatch: 1/);
    for (const name of ['a16b-d-nummer-feil-fodselsdato', 'a27-pasient-navn-avviker-fra-register', 'a28-to-fnr-identer', 'a28b-dnr-foran-fnr', 'a22b-forskriver-annet-navn-enn-hpr']) {
      expect(existsSync(join(out, `${name}.fhir.json`)), name).toBe(false);
      expect(existsSync(join(out, `${name}.cda.xml`)), name).toBe(false);
      const oo = JSON.parse(readFileSync(join(out, `${name}.outcome.json`), 'utf8')) as OperationOutcome;
      expect(oo.issue[0]?.details?.coding?.[0]?.code, name).toMatch(/^(patient-identity-conflict|prescriber-hpr-mismatch)$/);
    }
    // The strengt fortrolig persona (by the demo register) and a D-nummer patient no register here answers for.
    for (const name of ['a29-strengt-fortrolig-adresse', 'a16-d-nummer']) {
      const written = ['.fhir.json', '.cda.xml', '.cda-l1.xml'].map((s) => readFileSync(join(out, `${name}${s}`), 'utf8'));
      for (const text of written) expect(text, name).not.toMatch(/Storgata|"0155"|>0155</);
    }
    const warnings = JSON.parse(readFileSync(join(out, 'a16-d-nummer.warnings.json'), 'utf8')) as OperationOutcome;
    expect(warnings.issue.map((i) => i.details?.coding?.[0]?.code)).toContain('REG-PROTECTION-UNAVAILABLE');
    const cda = walk(out).filter((f) => /\.cda(-l1)?\.xml$/.test(f));
    await expectSchemaValidCda(cda.map((f) => readFileSync(f, 'utf8')), cda);
  });

  it('streams a large nested folder through worker threads with the same result as one thread', async () => {
    const dir = join(temp, 'many');
    const template = readFileSync(join(FIXTURES, 'valid/01-pakning-hydrokortison.xml'), 'utf8');
    for (let i = 0; i < 150; i++) {
      const sub = join(dir, `batch-${i % 7}`, `day-${i % 3}`);
      mkdirSync(sub, { recursive: true });
      const msgId = `b1f4c2a0-6d1e-4f0a-9a51-${String(i).padStart(12, '0')}`;
      writeFileSync(join(sub, `m1-${i}.xml`), template.replace(/<MsgId>[^<]+<\/MsgId>/, `<MsgId>${msgId}</MsgId>`));
    }
    writeFileSync(join(dir, 'not-an-m1.txt'), 'ignored: not .xml');
    const threaded = await run([dir, '--date', DATE, '--workers', '3', '--out', join(temp, 'many-out')]);
    const single = await run([dir, '--date', DATE, '--workers', '1']);
    expect(threaded.code).toBe(0);
    expect(single.code).toBe(0);
    expect(counts(threaded.stdout)).toEqual({ files: 150, converted: 150, refused: 0, failed: 0 });
    expect(counts(single.stdout)).toEqual(counts(threaded.stdout));
    expect(walk(join(temp, 'many-out')).filter((f) => f.endsWith('.fhir.json'))).toHaveLength(150);
    expect(existsSync(join(temp, 'many-out', 'batch-3', 'day-0'))).toBe(true);
  });

  it('writes the same bytes on two threads as on one, and a file whose outputs cannot be written fails alone', async () => {
    const dir = join(temp, 'unwritable');
    mkdirSync(dir, { recursive: true });
    for (const name of ['a', 'b', 'c']) writeFileSync(join(dir, `${name}.xml`), readFileSync(join(FIXTURES, 'valid/03-virkestoff-atorvastatin.xml')));
    const outputs: Record<string, Record<string, string>> = {};
    for (const workers of ['2', '1']) {
      const out = join(temp, `unwritable-out-${workers}`);
      // A folder where b's FHIR output should go: that file cannot be written.
      mkdirSync(join(out, 'b.fhir.json'), { recursive: true });
      const r = await run([dir, '--date', DATE, '--format', 'both', '--workers', workers, '--out', out]);
      expect(r.code, workers).toBe(1);
      expect(counts(r.stdout), workers).toEqual({ files: 3, converted: 2, refused: 0, failed: 1 });
      expect(r.stdout).toMatch(/b\.xml: writing the outputs: .*b\.fhir\.json/);
      outputs[workers] = Object.fromEntries(
        walk(out)
          .filter((f) => /[ac]\.(fhir\.json|cda\.xml|cda-l1\.xml|warnings\.json)$/.test(f))
          .map((f) => [f.slice(out.length), readFileSync(f, 'latin1')]),
      );
    }
    expect(Object.keys(outputs['2']!).sort()).toEqual(['/a.cda-l1.xml', '/a.cda.xml', '/a.fhir.json', '/a.warnings.json', '/c.cda-l1.xml', '/c.cda.xml', '/c.fhir.json', '/c.warnings.json']);
    // Byte for byte (the names carry æ, ø, å), apart from the ids and times each conversion makes afresh.
    // Which thread took which file is up to timing; convert-worker.test.ts pins down the worker's own path.
    for (const [name, text] of Object.entries(outputs['1']!)) expect(stableText(outputs['2']![name]!), name).toBe(stableText(text));
  });

  it('prints one file to stdout (CDA on request) and the summary to stderr', async () => {
    const file = join(FIXTURES, 'valid/02-merkevare-fludrokortison.xml');
    const json = await run([file, '--date', DATE]);
    expect(json.code).toBe(0);
    expect((JSON.parse(json.stdout) as Bundle).resourceType).toBe('Bundle');
    expect(counts(json.stderr)).toEqual({ files: 1, converted: 1, refused: 0, failed: 0 });
    const cda = await run([file, '--date', DATE, '--format', 'cda']);
    expect(checkEhdsiCda(cda.stdout).ok).toBe(true);
    await expectSchemaValidCda(cda.stdout);
    // Asking for threads changes nothing for one file: its output still reaches stdout.
    const threaded = await run([file, '--date', DATE, '--workers', '3']);
    expect(threaded.code).toBe(0);
    const sansIds = (text: string): string => text.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, 'ID').replace(/"timestamp": "[^"]+"/g, '');
    expect(sansIds(threaded.stdout)).toBe(sansIds(json.stdout));
  });

  it('prints a count per warning kind and writes NAME.warnings.json beside each converted file (a package FEST lacks)', async () => {
    const out = join(temp, 'warnings');
    const dir = join(FIXTURES, 'official/Utleverer sender oppgjørskrav til Helfo');
    const r = await run([dir, '--out', out, '--date', '2020-02-01', '--workers', '1']);
    expect(r.code).toBe(0);
    // Zyrtec (485342) is not in the demo FEST extract; the summary says so instead of dropping it.
    expect(r.stdout).toMatch(/warnings in converted files:\n(.*\n)*\s+FEST-UNKNOWN-PRODUCT: [1-3]\n/);
    const sidecar = JSON.parse(readFileSync(join(out, 'M1 Resept1.warnings.json'), 'utf8')) as OperationOutcome;
    const unknown = sidecar.issue.find((i) => i.details?.coding?.[0]?.code === 'FEST-UNKNOWN-PRODUCT');
    expect(unknown?.diagnostics).toContain('varenummer 485342');
    expect(existsSync(join(out, 'M1 Resept1.fhir.json'))).toBe(true);
  });

  it('writes refusal reasons in bokmål with --lang nb', async () => {
    const out = join(temp, 'lang');
    const r = await run([join(FIXTURES, 'valid/15-last-resept.xml'), '--out', out, '--date', DATE, '--lang', 'nb']);
    expect(r.code).toBe(0);
    const oo = JSON.parse(readFileSync(join(out, '15-last-resept.outcome.json'), 'utf8')) as OperationOutcome;
    expect(oo.issue.map((i) => i.diagnostics)).toContain('Låste resepter kan ikke sendes til utlandet.');
    expect((await run([FIXTURES, '--lang', 'de'])).code).toBe(2);
  });

  it('writes the Level 1 PDF in English and bokmål whatever --lang says, as the server serves it', async () => {
    const file = join(FIXTURES, 'valid/26-d-nummer.xml');
    const outs = { en: join(temp, 'l1-en'), nb: join(temp, 'l1-nb') };
    for (const [lang, out] of Object.entries(outs)) expect((await run([file, '--out', out, '--format', 'cda', '--date', DATE, '--lang', lang])).code).toBe(0);
    const texts: string[] = [];
    for (const out of [outs.en, outs.nb]) {
      const l1 = readFileSync(join(out, '26-d-nummer.cda-l1.xml'), 'utf8');
      expect(l1).toContain('languageCode code="nb-NO"');
      const pdf = Buffer.from(/representation="B64">([^<]*)</.exec(l1)![1]!, 'base64');
      const { text } = await extractText(await getDocumentProxy(new Uint8Array(pdf)), { mergePages: true });
      texts.push(text.replace(/\s+/g, ' '));
    }
    // The same words (the documents differ only in their ids and times).
    expect(texts[1]).toBe(texts[0]);
    expect(texts[0]).toContain('Patient / Pasient: Marta Kowalski');
    expect(texts[0]).toContain('Substitution / Bytte:');
  });

  it('reads an empty folder (and one with no .xml in it) as zero files: exit 0, nothing written', async () => {
    const empty = join(temp, 'empty');
    mkdirSync(join(empty, 'nested'), { recursive: true });
    writeFileSync(join(empty, 'nested', 'notes.txt'), 'not an M1');
    const r = await run([empty, '--date', DATE, '--out', join(temp, 'empty-out')]);
    expect(r.code).toBe(0);
    expect(counts(r.stdout)).toEqual({ files: 0, converted: 0, refused: 0, failed: 0 });
    expect(r.stdout).toContain('skipped: 1 entry in the folders that are not regular .xml files');
    expect(existsSync(join(temp, 'empty-out')) ? walk(join(temp, 'empty-out')) : []).toEqual([]);
  });

  it('does not follow links in a folder (a loop, or a way out of it), and says what it passed over', async () => {
    const dir = join(temp, 'links');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'm1.xml'), readFileSync(join(FIXTURES, 'valid/03-virkestoff-atorvastatin.xml')));
    symlinkSync(dir, join(dir, 'loop'));
    symlinkSync(join(FIXTURES, 'valid/01-pakning-hydrokortison.xml'), join(dir, 'elsewhere.xml'));
    const r = await run([dir, '--date', DATE, '--out', join(temp, 'links-out')]);
    expect(r.code).toBe(0);
    expect(counts(r.stdout)).toEqual({ files: 1, converted: 1, refused: 0, failed: 0 });
    expect(r.stdout).toContain('skipped: 2 entries in the folders that are not regular .xml files (links are not followed)');
  });

  it('refuses an input that is neither a file nor a folder (a device, a pipe) with exit 2, instead of reading it', async () => {
    const r = await run(['/dev/null', '--date', DATE]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('convert-m1: /dev/null: not a regular file or folder');
  });

  it('stops with exit 1 and the reason, writing nothing, when the FEST file is not an M30 catalogue: on one thread and on two', async () => {
    const fest = join(temp, 'not-m30.xml');
    writeFileSync(fest, '<?xml version="1.0"?><FEST><KatLegemiddelpakning/></FEST>');
    for (const workers of ['1', '2']) {
      const out = join(temp, `bad-fest-out-${workers}`);
      // Both threads load the catalogue; whichever fails first, the run ends, and no thread is left behind.
      const r = await run([join(FIXTURES, 'valid'), '--fest', fest, '--workers', workers, '--date', DATE, '--out', out]);
      expect(r.code, workers).toBe(1);
      expect(r.stderr, workers).toMatch(/Not a FEST M30 file: the root element is \{\}FEST/);
      expect(existsSync(out) ? walk(out) : [], workers).toEqual([]);
    }
  });

  it('exits 1 for a file that does not parse, and 2 for usage errors', async () => {
    expect((await run([join(FIXTURES, 'hostile/xxe-fil.xml'), '--date', DATE])).code).toBe(1);
    for (const args of [[], ['--format', 'pdf', FIXTURES], ['--date', '02.03.2026', FIXTURES], [join(temp, 'no-such-folder')], ['--bogus', FIXTURES]]) {
      const r = await run(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/usage: npx helsebro convert-m1|no such file or folder/);
    }
  });
});
