// `npx helsebro convert-m1 FILE_OR_DIR... [--format fhir|cda|both] [--out DIR] [--fest FILE] [--date YYYY-MM-DD]
// [--workers N] [--lang en|nb]`: converts M1 files to the EU ePrescription without a server. Directories are
// walked as a stream (one open directory per level, files handed out as they are found), a bounded number of
// files is in flight at any time, and with many files every core converts: the main thread and a worker thread
// for each further core. --workers N sets how many threads convert; with 1 the main thread converts alone.
// A progress bar on a terminal; a summary at the end (with a count per warning kind), and with --out a
// NAME.warnings.json beside each converted file's outputs. Exit code 0 when every file was read (converted or
// refused by rule), 1 when any file failed, 2 for a usage error. With --format cda or both, each converted
// file gets both CDA levels: NAME.cda.xml (Level 3) and NAME.cda-l1.xml (Level 1, its PDF in English and
// bokmål, as over HTTP; --lang chooses the language of refusal reasons only).
import { opendir, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, join, relative } from 'node:path';
import { Worker } from 'node:worker_threads';
import { SingleBar } from 'cli-progress';
import type { Config } from '../../config.ts';
import { DEMO_FEST_FILE } from '../../registries/fest/demo-file.ts';
// Types only: the pipeline (and @medplum/core with it) is loaded once the run is known to convert, after any
// relaunch (relaunch.ts), so that a usage error or a relaunched process never loads it twice.
import type { ConvertSettings, FileJob, FileResult, OutputFormat } from './convert-file.ts';
import type { ReasonLanguage } from '../rules.ts';
import type { ThreadHeap } from './relaunch.ts';
import { writeOutputs } from './write-outputs.ts';

export const CONVERT_USAGE =
  'usage: npx helsebro convert-m1 FILE_OR_DIR... [--format fhir|cda|both] [--out DIR] [--fest FILE] [--date YYYY-MM-DD] [--workers N] [--lang en|nb]';

export interface ConvertIo {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  /**
   * Called once a run is known to be long (many files), before anything is written. The command line passes
   * relaunchTuned (relaunch.ts), which may replace the process with itself under tuned memory settings; a
   * caller that is not a process of its own (a test) leaves it out.
   */
  beforeLongRun?: (heap: ThreadHeap) => void;
}

interface Options {
  inputs: string[];
  format: OutputFormat;
  out?: string;
  fest: string;
  date?: string;
  workers?: number;
  lang: ReasonLanguage;
}

function parseArgs(args: readonly string[]): Options | string {
  const opts: Options = { inputs: [], format: 'fhir', fest: DEMO_FEST_FILE, lang: 'en' };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = (): string | undefined => args[++i];
    if (a === '--format') {
      const v = value();
      if (v !== 'fhir' && v !== 'cda' && v !== 'both') return '--format is fhir, cda or both';
      opts.format = v;
    } else if (a === '--out') {
      const v = value();
      if (!v) return '--out needs a folder';
      opts.out = v;
    } else if (a === '--fest') {
      const v = value();
      if (!v) return '--fest needs a FEST M30 file';
      opts.fest = v;
    } else if (a === '--date') {
      const v = value();
      if (!v || !/^\d{4}-\d{2}-\d{2}$/.test(v) || Number.isNaN(Date.parse(v))) return '--date is YYYY-MM-DD';
      opts.date = v;
    } else if (a === '--workers') {
      const v = Number(value());
      if (!Number.isInteger(v) || v < 1 || v > 64) return '--workers is a whole number from 1 to 64';
      opts.workers = v;
    } else if (a === '--lang') {
      const v = value();
      if (v !== 'en' && v !== 'nb') return '--lang is en or nb (the language of refusal reasons; the Level 1 PDF is in both)';
      opts.lang = v;
    } else if (a.startsWith('-')) {
      return `unknown option ${a}`;
    } else {
      opts.inputs.push(a);
    }
  }
  if (!opts.inputs.length) return 'name at least one M1 file or folder';
  return opts;
}

/**
 * Every .xml file under the inputs, streamed: directories are read entry by entry, never listed whole. Other
 * entries (other files, symbolic links, pipes, devices) are passed over, and counted in `skipped` when given:
 * a link is not followed, so a link loop or a link out of the folder cannot take the run elsewhere.
 */
async function* m1Files(inputs: readonly string[], skipped?: { n: number }): AsyncGenerator<FileJob> {
  for (const input of inputs) {
    const s = await stat(input);
    if (s.isFile()) {
      yield { path: input, rel: basename(input) };
      continue;
    }
    const pending = [input];
    while (pending.length) {
      const dir = pending.pop()!;
      for await (const entry of await opendir(dir)) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) pending.push(path);
        else if (entry.isFile() && /\.xml$/i.test(entry.name)) yield { path, rel: relative(input, path) };
        else if (skipped) skipped.n++;
      }
    }
  }
}

async function countFiles(inputs: readonly string[]): Promise<{ files: number; skipped: number }> {
  let files = 0;
  const skipped = { n: 0 };
  for await (const _ of m1Files(inputs, skipped)) files++;
  return { files, skipped: skipped.n };
}

/** A run this long uses every core (a worker thread per core) and the tuned start (relaunch.ts). */
const LONG_RUN = 40;

interface Tally {
  files: number;
  converted: number;
  refused: number;
  failed: number;
  refusedBy: Map<string, number>;
  failedBy: Map<string, number>;
  warningsBy: Map<string, number>;
  failures: { path: string; message: string }[];
}

function tally(t: Tally, r: FileResult): void {
  t.files++;
  t[r.outcome]++;
  const counts = r.outcome === 'refused' ? t.refusedBy : r.outcome === 'failed' ? t.failedBy : undefined;
  for (const code of r.codes) counts?.set(code, (counts.get(code) ?? 0) + 1);
  for (const kind of r.warnings) t.warningsBy.set(kind, (t.warningsBy.get(kind) ?? 0) + 1);
  if (r.outcome === 'failed' && t.failures.length < 20) t.failures.push({ path: r.path, message: r.message ?? r.codes.join(', ') });
}

function summary(t: Tally): string {
  const by = (m: Map<string, number>): string =>
    [...m.entries()]
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([code, n]) => `  ${code}: ${n}`)
      .join('\n');
  const lines = [`convert-m1: ${t.files} file${t.files === 1 ? '' : 's'}: ${t.converted} converted, ${t.refused} refused by rule, ${t.failed} failed`];
  if (t.refusedBy.size) lines.push('refused by rule:', by(t.refusedBy));
  if (t.failedBy.size) lines.push('failed:', by(t.failedBy));
  if (t.warningsBy.size) lines.push('warnings in converted files:', by(t.warningsBy));
  for (const f of t.failures) lines.push(`  ${f.path}: ${f.message}`);
  if (t.failed > t.failures.length) lines.push(`  ... and ${t.failed - t.failures.length} more`);
  return `${lines.join('\n')}\n`;
}

/**
 * Converts the files on `threads` threads: this one and a worker for each thread beyond it. This thread
 * walks the folders, hands out files, writes every output (write-outputs.ts says why) and converts a file
 * itself whenever it has nothing else to do, so files go to whichever thread asks first and a run on one
 * thread is this loop with no workers. Converting here rather than in one more worker saves that worker's
 * heap (the FHIR definitions, the terminology and FEST held once more) and the copy of half the outputs
 * between threads: on 8,000 files and two cores, 15.9-16.7 s and a peak RSS of 215-235 MB, against 16.4-18.2 s
 * and 250-275 MB when this thread only handed out files to a worker per core (bench/README.md). A worker holds
 * WINDOW files, so it does not run dry while this thread converts or writes.
 */
async function convertAll(files: AsyncGenerator<FileJob>, settings: ConvertSettings, threads: number, heap: ThreadHeap, keepOutput: boolean, onResult: (r: FileResult) => void): Promise<void> {
  let exhausted = false;
  let pulling: Promise<void> = Promise.resolve();
  // One file at a time comes out of the directory walk, whichever thread asks.
  const next = (): Promise<FileJob | undefined> => {
    const p = pulling.then(async () => (exhausted ? undefined : await files.next()));
    pulling = p.then(() => undefined);
    return p.then((r) => {
      if (!r || r.done) {
        exhausted = true;
        return undefined;
      }
      return r.value;
    });
  };
  const workers = startWorkers(settings, threads - 1, heap);
  try {
    const fed = workers.map((w) => feedWorker(w, next, (r) => onResult(writeOutputs(r))));
    // A worker that fails ends the run; this thread stops converting as soon as it hears of it.
    let failed: unknown;
    const watched = Promise.all(fed).catch((err: unknown) => {
      failed = err;
    });
    const { convertFile, pipelineFor } = await import('./convert-file.ts');
    const deps = await pipelineFor(settings);
    for (let job = await next(); job && failed === undefined; job = await next()) {
      onResult(writeOutputs(await convertFile(job, deps, settings, keepOutput)));
      // A conversion runs from start to end without giving the event loop a turn, so the workers' results
      // (and their requests for the next file) are taken in here, between two of this thread's files.
      if (workers.length) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await watched;
    if (failed !== undefined) throw failed;
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

// Files a worker may hold: enough to keep it busy while this thread converts a file of its own or writes.
const WINDOW = 8;

/**
 * The heap of a converting thread. It holds the FHIR definitions, the terminology and FEST (about three times
 * the file in memory); capping it near that working set makes V8 collect early rather than grow. Workers get
 * it as resourceLimits, the relaunched main thread, which converts too, as flags (relaunch.ts).
 */
async function threadHeap(festPath: string): Promise<ThreadHeap> {
  const festMb = (await stat(festPath)).size / 1e6;
  return { oldGenerationMb: Math.ceil(128 + 4 * festMb), youngGenerationMb: 8 };
}

function startWorkers(settings: ConvertSettings, n: number, heap: ThreadHeap): Worker[] {
  const resourceLimits = { maxOldGenerationSizeMb: heap.oldGenerationMb, maxYoungGenerationSizeMb: heap.youngGenerationMb };
  return Array.from({ length: n }, () => new Worker(new URL('./convert-worker.ts', import.meta.url), { workerData: settings, resourceLimits }));
}

function feedWorker(w: Worker, next: () => Promise<FileJob | undefined>, onResult: (r: FileResult) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let inFlight = 0;
    let done = false;
    const feed = async (): Promise<void> => {
      while (!done && inFlight < WINDOW) {
        const job = await next();
        if (!job) {
          done = true;
          break;
        }
        inFlight++;
        w.postMessage(job);
      }
      if (done && inFlight === 0) {
        w.postMessage(null);
        resolve();
      }
    };
    w.on('message', (m: FileResult | 'ready') => {
      if (m !== 'ready') {
        inFlight--;
        onResult(m);
      }
      feed().catch(reject);
    });
    w.on('error', reject);
    w.on('exit', (code) => {
      if (!done || inFlight) reject(new Error(`a convert worker stopped (exit code ${code})`));
    });
  });
}

export async function convertM1Command(args: readonly string[], config: Config, io: ConvertIo): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout.write(`${CONVERT_USAGE}\n`);
    return 0;
  }
  const opts = parseArgs(args);
  if (typeof opts === 'string') {
    io.stderr.write(`convert-m1: ${opts}\n${CONVERT_USAGE}\n`);
    return 2;
  }
  for (const input of [...opts.inputs, opts.fest]) {
    const s = await stat(input).catch(() => undefined);
    if (!s) {
      io.stderr.write(`convert-m1: ${input}: no such file or folder\n`);
      return 2;
    }
    // A pipe or a device would block on read or be walked as a folder; only files and folders are inputs.
    if (!s.isFile() && !(s.isDirectory() && input !== opts.fest)) {
      io.stderr.write(`convert-m1: ${input}: not a regular file${input === opts.fest ? '' : ' or folder'}\n`);
      return 2;
    }
  }
  const settings: ConvertSettings = {
    mode: config.mode,
    helsebroOid: config.helsebroOid,
    operator: config.operator,
    festPath: opts.fest,
    format: opts.format,
    out: opts.out,
    date: opts.date,
    maxBytes: config.maxBodyBytes.xml,
    lang: opts.lang,
  };
  // One file and no output folder: the output goes to stdout, the summary to stderr.
  const single = opts.inputs.length === 1 && !opts.out && (await stat(opts.inputs[0]!)).isFile();
  const summaryTo = single ? io.stderr : io.stdout;
  // Counting first costs one directory walk and gives the progress bar its end and the run its threads.
  const { files: total, skipped } = await countFiles(opts.inputs);
  const long = total >= LONG_RUN;
  // A single file printed to stdout stays on this thread: a worker's result carries no output.
  const threads = single ? 1 : (opts.workers ?? (long ? Math.max(1, availableParallelism()) : 1));
  const heap = await threadHeap(settings.festPath);
  // A relaunched process starts the command again, so it walks the folders once more to count: a cost in
  // milliseconds against a run of at least LONG_RUN conversions.
  if (long) io.beforeLongRun?.(heap);
  const bar = io.stderr.isTTY && !single ? new SingleBar({ format: 'M1 [{bar}] {value}/{total} | {converted} converted, {refused} refused, {failed} failed', stream: io.stderr, hideCursor: true }) : undefined;
  const t: Tally = { files: 0, converted: 0, refused: 0, failed: 0, refusedBy: new Map(), failedBy: new Map(), warningsBy: new Map(), failures: [] };
  bar?.start(total, 0, { converted: 0, refused: 0, failed: 0 });
  const onResult = (r: FileResult): void => {
    tally(t, r);
    if (single && r.output) io.stdout.write(r.output);
    bar?.update(t.files, { converted: t.converted, refused: t.refused, failed: t.failed });
  };
  await convertAll(m1Files(opts.inputs), settings, threads, heap, single, onResult);
  bar?.stop();
  summaryTo.write(summary(t));
  if (skipped) summaryTo.write(`skipped: ${skipped} entr${skipped === 1 ? 'y' : 'ies'} in the folders that are not regular .xml files (links are not followed)\n`);
  return t.failed > 0 ? 1 : 0;
}
