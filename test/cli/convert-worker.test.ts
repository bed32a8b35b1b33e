// The convert-m1 worker thread on its own: what it sends back for a file is what the main thread would have
// written had it converted the file itself. The command's own tests cannot tell which thread took a file
// (the main thread converts beside its workers and takes whatever is next), so the worker's path is pinned
// down here, with a worker started exactly as the command starts one.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { convertFile, pipelineFor, type ConvertSettings, type FileResult } from '../../src/eprescription/cli/convert-file.ts';
import { DEMO_FEST_FILE } from '../../src/registries/fest/demo-file.ts';
import { stableText } from '../support/stable-text.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = join(ROOT, 'test/fixtures/m1');

const settings: ConvertSettings = {
  mode: 'demo',
  helsebroOid: '2.16.578.1.12.4.1.7.99',
  operator: { name: 'Helsebro test' },
  festPath: DEMO_FEST_FILE,
  format: 'both',
  out: '/nowhere/out',
  date: '2026-03-02',
  maxBytes: 2_000_000,
  lang: 'nb',
};

const worker = new Worker(new URL('../../src/eprescription/cli/convert-worker.ts', import.meta.url), { workerData: settings });
const messages: unknown[] = [];
const waiters: ((m: unknown) => void)[] = [];
worker.on('message', (m: unknown) => {
  const w = waiters.shift();
  if (w) w(m);
  else messages.push(m);
});
const nextMessage = (): Promise<unknown> => (messages.length ? Promise.resolve(messages.shift()) : new Promise((resolve) => waiters.push(resolve)));
const temp = mkdtempSync(join(tmpdir(), 'helsebro-convert-worker-'));
afterAll(async () => {
  await worker.terminate();
  rmSync(temp, { recursive: true, force: true });
});

describe('convert-m1 worker thread', () => {
  it('says it is ready, then answers each file with its outputs as UTF-8 bytes, the same as a conversion on the main thread', async () => {
    expect(await nextMessage()).toBe('ready');
    const deps = await pipelineFor(settings);
    // Names with æ, ø and å: bytes that only survive the hand-over if they travel as UTF-8.
    for (const name of ['03-virkestoff-atorvastatin.xml', '02-merkevare-fludrokortison.xml']) {
      const job = { path: join(FIXTURES, 'valid', name), rel: name };
      worker.postMessage(job);
      const fromWorker = (await nextMessage()) as FileResult;
      const here = await convertFile(job, deps, settings);
      expect(fromWorker.outcome, name).toBe('converted');
      expect(fromWorker.path).toBe(job.path);
      expect(fromWorker.warnings).toEqual(here.warnings);
      expect(fromWorker.files.map((f) => f.path)).toEqual(here.files.map((f) => f.path));
      expect(fromWorker.files.map((f) => f.path)).toContain(join('/nowhere/out', name.replace('.xml', '.cda-l1.xml')));
      for (const [i, f] of fromWorker.files.entries()) {
        expect(f.data, f.path).toBeInstanceOf(Uint8Array);
        expect(stableText(new TextDecoder().decode(f.data as Uint8Array)), f.path).toBe(stableText(here.files[i]!.data as string));
      }
    }
  });

  it('answers a missing, an empty and an oversized file as failed, each with its reason and no converted output, and goes on with the next', async () => {
    const empty = join(temp, 'empty.xml');
    writeFileSync(empty, '');
    // One byte over the limit, and never read: the size is checked first.
    const huge = join(temp, 'huge.xml');
    writeFileSync(huge, Buffer.alloc(settings.maxBytes + 1, 0x20));
    // A file refused for what it is (malformed, too large) gets its OperationOutcome beside it; one that could
    // not be read at all has nothing to say it about.
    const cases: [string, string[], string[]][] = [
      [join(FIXTURES, 'no-such-file.xml'), ['exception'], []],
      [empty, ['xml-malformed'], ['/nowhere/out/x.outcome.json']],
      [huge, ['xml-too-large'], ['/nowhere/out/x.outcome.json']],
    ];
    for (const [path, codes, written] of cases) {
      worker.postMessage({ path, rel: 'x.xml' });
      const failed = (await nextMessage()) as FileResult;
      expect(failed.outcome, path).toBe('failed');
      expect(failed.codes, path).toEqual(codes);
      expect(failed.files.map((f) => f.path), path).toEqual(written);
      if (codes[0] === 'xml-too-large') {
        const oo = JSON.parse(new TextDecoder().decode(failed.files[0]!.data as Uint8Array)) as { issue: { code: string; diagnostics: string }[] };
        expect(oo.issue[0]).toMatchObject({ code: 'too-costly' });
        expect(oo.issue[0]!.diagnostics).toContain(`the limit is ${settings.maxBytes} bytes`);
      }
    }
    const name = '03-virkestoff-atorvastatin.xml';
    worker.postMessage({ path: join(FIXTURES, 'valid', name), rel: name });
    const ok = (await nextMessage()) as FileResult;
    expect(ok.outcome).toBe('converted');
    expect(ok.files.map((f) => f.path)).toContain(join('/nowhere/out', '03-virkestoff-atorvastatin.fhir.json'));
  });
});
