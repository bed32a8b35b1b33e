// Batch conversion with the CLI: `helsebro convert-m1 --format both` over a directory of 100,000 M1 files (300 with
// --quick) made from the corpus, with both cores and pinned to one (taskset), peak RSS sampled from /proc.
// Goals: peak RSS < 300 MB; throughput with both cores >= 1.8x one core's (issue 16).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchContext } from '../lib/context.ts';
import { m1Corpus } from '../lib/corpus.ts';
import { peakRss } from '../lib/machine.ts';
import { fmtInt, fmtMiB, fmtRatio, notYet, skipped, type Row } from '../lib/report.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(ROOT, 'bin', 'helsebro.js');
const NAME = 'Batch: helsebro convert-m1';
const GOAL = 'peak RSS < 300 MB; 2 cores >= 1.8x 1 core';

/** Whether the CLI has the command (its usage lists it). */
export function cliHasConvertM1(): boolean {
  return /\bconvert-m1\b/.test(readFileSync(join(ROOT, 'src', 'cli.ts'), 'utf8'));
}

interface BatchRun {
  seconds: number;
  peakRss: number;
  exitCode: number | null;
  stderr: string;
}

async function convert(dir: string, out: string, env: Record<string, string>, pin: string | undefined): Promise<BatchRun> {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const args = [CLI, 'convert-m1', dir, '--format', 'both', '--out', out];
  const [cmd, argv] = pin ? ['taskset', ['-c', pin, process.execPath, ...args]] : [process.execPath, args];
  const t0 = performance.now();
  const child = spawn(cmd, argv, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  // taskset execs node in place, so the pid is node's either way; so does convert-m1 when it relaunches itself
  // (execve, src/eprescription/cli/relaunch.ts). VmHWM starts again at an exec, hence the maximum over samples.
  let peak = 0;
  const timer = setInterval(() => {
    void peakRss(child.pid!).then((v) => {
      if (v) peak = Math.max(peak, v);
    });
  }, 100);
  const exitCode = await new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  clearInterval(timer);
  return { seconds: (performance.now() - t0) / 1000, peakRss: peak, exitCode, stderr };
}

export async function batchCase(ctx: BenchContext): Promise<Row[]> {
  if (!cliHasConvertM1()) return [notYet(NAME, GOAL, 'not yet: src/cli.ts has no convert-m1 command')];
  if (availableParallelism() < 2) return [skipped(NAME, GOAL, 'one core only: the two-core comparison needs two')];
  const count = ctx.quick ? 300 : 100_000;
  const corpus = m1Corpus();
  const dir = join(ctx.tmp, 'batch-in');
  mkdirSync(dir, { recursive: true });
  ctx.log(`batch: writing ${fmtInt(count)} M1 files`);
  for (let i = 0; i < count; i++) {
    const m = corpus[i % corpus.length]!;
    writeFileSync(join(dir, `m1-${String(i).padStart(6, '0')}.xml`), m.bytes);
  }
  const dataDir = join(ctx.tmp, 'batch-data');
  const env = { HELSEBRO_DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
  try {
    ctx.log('batch: one core');
    const one = await convert(dir, join(ctx.tmp, 'batch-out-1'), env, '0');
    ctx.log('batch: both cores');
    const two = await convert(dir, join(ctx.tmp, 'batch-out-2'), env, undefined);
    // The corpus holds valid messages only, so anything but exit 0 means the run itself went wrong.
    const broken = [one, two].find((r) => r.exitCode !== 0);
    const fps = (r: BatchRun): number => count / r.seconds;
    const ratio = fps(two) / fps(one);
    const peak = Math.max(one.peakRss, two.peakRss);
    return [
      {
        case: `${NAME}, ${fmtInt(count)} files`,
        figure: `${fmtInt(fps(two))} files/s on 2 cores, peak RSS ${fmtMiB(peak)}`,
        baseline: `${fmtInt(fps(one))} files/s on 1 core (taskset -c 0)`,
        ratio: fmtRatio(ratio),
        goal: GOAL,
        verdict: !broken && peak < 300 * 1024 * 1024 && ratio >= 1.8 ? 'pass' : 'FAIL',
        ...(broken ? { note: `convert-m1 exited ${broken.exitCode}: ${broken.stderr.trim().split('\n').slice(-3).join(' / ')}` } : {}),
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
    if (existsSync(dataDir)) rmSync(dataDir, { recursive: true, force: true });
  }
}
