// Batch conversion with the CLI: `helsebro convert-m1 --format both` over a directory of 100,000 M1 files (300 with
// --quick) made from the corpus: once over all of them with both cores, then a folder at a time in alternating
// rounds with both cores and pinned to one (taskset); peak RSS sampled from /proc.
// Goals: peak RSS < 300 MB; throughput with both cores >= 1.8x one core's (issue 16).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchContext } from '../lib/context.ts';
import { m1Corpus } from '../lib/corpus.ts';
import { peakRss } from '../lib/machine.ts';
import { fmtInt, fmtMiB, fmtRatio, notYet, skipped, type Row } from '../lib/report.ts';
import { alternate, median } from '../lib/rounds.ts';

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
  mkdirSync(out, { recursive: true });
  // The previous run's 400,000 files are written back (and, on a file system mounted with discard, their
  // blocks trimmed) by kernel threads that no taskset pins: flushed first, so that no run pays for another's.
  spawnSync('sync');
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

/**
 * Rounds a side: each side converts the whole corpus over them (a quarter each in a full run), so a round is
 * long enough that start-up (the FEST extract, the workers) is a few percent of it.
 */
const roundsOf = (ctx: BenchContext): number => (ctx.quick ? 2 : 4);

export async function batchCase(ctx: BenchContext): Promise<Row[]> {
  if (!cliHasConvertM1()) return [notYet(NAME, GOAL, 'not yet: src/cli.ts has no convert-m1 command')];
  if (availableParallelism() < 2) return [skipped(NAME, GOAL, 'one core only: the two-core comparison needs two')];
  const count = ctx.quick ? 300 : 100_000;
  const rounds = roundsOf(ctx);
  const corpus = m1Corpus();
  const dir = join(ctx.tmp, 'batch-in');
  rmSync(dir, { recursive: true, force: true });
  ctx.log(`batch: writing ${fmtInt(count)} M1 files in ${rounds} folders`);
  const parts = Array.from({ length: rounds }, (_, r) => join(dir, `part-${r}`));
  for (const part of parts) mkdirSync(part, { recursive: true });
  for (let i = 0; i < count; i++) {
    const m = corpus[i % corpus.length]!;
    writeFileSync(join(parts[i % rounds]!, `m1-${String(i).padStart(6, '0')}.xml`), m.bytes);
  }
  const dataDir = join(ctx.tmp, 'batch-data');
  // Every run writes into a folder of its own, removed only at the end: deleting one run's output before the
  // next had the kernel still freeing it while the next was timed.
  const outs = join(ctx.tmp, 'batch-out');
  rmSync(outs, { recursive: true, force: true });
  const env = { HELSEBRO_DATA_DIR: dataDir, LOG_LEVEL: 'warn' };
  try {
    // Peak memory and the two-core rate over one run of every file, as an operator would start it.
    ctx.log(`batch: both cores, ${fmtInt(count)} files in one run`);
    const whole = await convert(dir, join(outs, 'whole'), env, undefined);
    // The ratio from alternating rounds, one folder each (bench/lib/rounds.ts): over the minutes a side takes,
    // this machine's speed drifts by more than the goal's margin, and one run a side let it land on one side.
    const each = await alternate(
      rounds,
      (r) => (ctx.log(`batch: round ${r + 1}, one core`), convert(parts[r]!, join(outs, `one-${r}`), env, '0')),
      (r) => (ctx.log(`batch: round ${r + 1}, both cores`), convert(parts[r]!, join(outs, `both-${r}`), env, undefined)),
    );
    const runs = [whole, ...each.flatMap((r) => [r.base, r.real])];
    // The corpus holds valid messages only, so anything but exit 0 means the run itself went wrong.
    const broken = runs.find((r) => r.exitCode !== 0);
    const rate = (side: 'base' | 'real'): number => count / each.reduce((t, r) => t + r[side].seconds, 0);
    // Both sides of a round convert the same folder, so the ratio of their rates is that of their times.
    const perRound = each.map((r) => r.base.seconds / r.real.seconds);
    const ratio = median(perRound);
    const peak = Math.max(...runs.map((r) => r.peakRss));
    return [
      {
        case: `${NAME}, ${fmtInt(count)} files`,
        figure: `${fmtInt(rate('real'))} files/s on 2 cores, peak RSS ${fmtMiB(peak)}`,
        baseline: `${fmtInt(rate('base'))} files/s on 1 core (taskset -c 0)`,
        ratio: fmtRatio(ratio),
        goal: GOAL,
        verdict: !broken && peak < 300 * 1024 * 1024 && ratio >= 1.8 ? 'pass' : 'FAIL',
        note: broken
          ? `convert-m1 exited ${broken.exitCode}: ${broken.stderr.trim().split('\n').slice(-3).join(' / ')}`
          : `one run over all ${fmtInt(count)} files on 2 cores: ${fmtInt(count / whole.seconds)} files/s, peak RSS ${fmtMiB(whole.peakRss)}; ` +
            `then ${rounds} alternating rounds of ${fmtInt(Math.ceil(count / rounds))} files a side, ratio the median of ${perRound.map((x) => x.toFixed(2)).join(', ')}; ` +
            'the rates are over all rounds, the peak over every run',
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(outs, { recursive: true, force: true });
    if (existsSync(dataDir)) rmSync(dataDir, { recursive: true, force: true });
  }
}
