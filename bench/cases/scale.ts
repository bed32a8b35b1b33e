// Scale: $summary p50 with 10,000 and with 1,000,000 patients in PostgreSQL (about ten NPR/KPR episodes
// each), one request at a time, each for one of 2,000 patients drawn at random from the whole population
// (each read once before timing), the two sizes in alternating rounds. Goal: the larger p50 within 1.2 times
// the smaller. Patient read is measured alongside as a reference for the store.
import { join } from 'node:path';
import { openPostgres } from '../../src/store/postgres.ts';
import { migrate } from '../../src/store/migrate.ts';
import type { BenchContext } from '../lib/context.ts';
import { loadSeconds, roundWindows } from '../lib/context.ts';
import { pooled, runLoad, type LoadResult } from '../lib/load.ts';
import { benchPatientId, ensurePopulation } from '../lib/population.ts';
import { fmtInt, fmtMs, fmtRatio, notYet, skipped, type Row } from '../lib/report.ts';
import { alternate, roundRatios } from '../lib/rounds.ts';
import { findRoute, SUMMARY_PATH } from '../lib/routes.ts';
import { startBenchServer } from '../lib/server-process.ts';

const EPISODES = 10;
const SAMPLE = 2_000;
const GOAL = 'p50 at 1M <= 1.2x p50 at 10k';

/** A population loaded and served by its own bench server, its sampled patients read once. */
interface Served {
  size: number;
  url: string;
  token: string;
  ids: string[];
  stop(): Promise<void>;
}

async function serve(ctx: BenchContext, url: string, size: number, summaryServed: boolean): Promise<Served> {
  const schema = `bench_scale_${size}`;
  const db = await openPostgres({ connectionString: url, schema, max: 2 });
  try {
    await migrate(db);
    let last = 0;
    const r = await ensurePopulation(db, size, EPISODES, (done, total) => {
      if (done - last >= total / 10 || done === total) {
        ctx.log(`scale: loaded ${fmtInt(done)} of ${fmtInt(total)} patients`);
        last = done;
      }
    });
    ctx.log(r.loaded ? `scale: ${fmtInt(size)} patients loaded in ${r.seconds.toFixed(0)} s` : `scale: reusing the ${fmtInt(size)}-patient population`);
  } finally {
    await db.close();
  }
  const srv = await startBenchServer({ store: 'postgres', pgUrl: url, pgSchema: schema, dataDir: join(ctx.tmp, `scale-${size}`) });
  try {
    const ids = Array.from({ length: SAMPLE }, () => benchPatientId(1 + Math.floor(Math.random() * size)));
    // Every sampled patient is read once, and summarised once, before timing, as in the audit case: both
    // sizes then time the queries, not a first read of the patient's pages from disk, which depends on what
    // else the machine had in memory (cold, a million patients' episode pages read 11.8 ms against 4.4 warm).
    ctx.log(`scale: ${fmtInt(size)} patients, reading the ${fmtInt(SAMPLE)} sampled patients once`);
    for (const id of ids) {
      for (const suffix of summaryServed ? ['', '/$summary'] : ['']) {
        const res = await fetch(`${srv.url}/fhir/Patient/${id}${suffix}`, { headers: { authorization: `Bearer ${srv.token}` } });
        await res.arrayBuffer();
      }
    }
    return { size, url: srv.url, token: srv.token, ids, stop: () => srv.stop() };
  } catch (err) {
    await srv.stop();
    throw err;
  }
}

/** One window of one request at a time over a population's sampled patients. */
function load(p: Served, suffix: string, seconds: number, warmupSeconds: number): Promise<LoadResult> {
  return runLoad({
    mode: 'latency',
    origin: p.url,
    paths: p.ids.map((id) => `/fhir/Patient/${id}${suffix}`),
    headers: { authorization: `Bearer ${p.token}` },
    connections: 1,
    seconds,
    warmupSeconds,
  });
}

interface Compared {
  small: LoadResult;
  large?: LoadResult;
  /** Median of the rounds' p50 ratios, and each round's. */
  ratio?: { ratio: number; each: number[] };
}

/**
 * Both sizes in alternating rounds (bench/lib/rounds.ts), both servers up at once: the machine's speed
 * drifts over minutes, and measuring one size after the other let that drift land on one side (the plain
 * Patient read, untouched code, read 0.51x and then 1.97x at 1M in two runs of one night).
 */
async function compare(ctx: BenchContext, small: Served, large: Served | undefined, suffix: string): Promise<Compared> {
  if (!large) {
    const { seconds, warmup } = loadSeconds(ctx);
    return { small: await load(small, suffix, seconds, warmup) };
  }
  const { rounds, seconds, warmup } = roundWindows(ctx);
  const each = await alternate(
    rounds,
    (i) => load(small, suffix, seconds, i === 0 ? warmup : 1),
    (i) => load(large, suffix, seconds, i === 0 ? warmup : 1),
  );
  return {
    small: pooled(each.map((r) => r.base)),
    large: pooled(each.map((r) => r.real)),
    ratio: roundRatios(each, (r) => r.p50),
  };
}

const failures = (r: LoadResult): number => r.non2xx + r.errors;

function rows(label: string, c: Compared, smallSize: number, largeSize: number | undefined): Row[] {
  const { small, large } = c;
  const out: Row[] = [
    {
      case: `Scale: ${label} p50, ${fmtInt(smallSize)} patients`,
      figure: `p50 ${fmtMs(small.p50)}, p99 ${fmtMs(small.p99)} (${fmtInt(small.requests)} requests)`,
      baseline: '—',
      ratio: '—',
      goal: '— (the reference for 1M)',
      verdict: failures(small) ? 'FAIL' : 'info',
      ...(failures(small) ? { note: `error responses ${JSON.stringify(small.statusCodes)}` } : {}),
    },
  ];
  if (large && largeSize && c.ratio) {
    const { ratio, each } = c.ratio;
    out.push({
      case: `Scale: ${label} p50, ${fmtInt(largeSize)} patients`,
      figure: `p50 ${fmtMs(large.p50)}, p99 ${fmtMs(large.p99)} (${fmtInt(large.requests)} requests)`,
      baseline: `p50 ${fmtMs(small.p50)} at ${fmtInt(smallSize)}`,
      ratio: fmtRatio(ratio),
      goal: GOAL,
      verdict: ratio <= 1.2 && !failures(large) ? 'pass' : 'FAIL',
      note: failures(large)
        ? `error responses ${JSON.stringify(large.statusCodes)}`
        : `${fmtInt(SAMPLE)} patients drawn at random from each population, each read and summarised once before timing; ` +
          `${each.length} alternating rounds, ratio the median of ${each.map((x) => x.toFixed(2)).join(', ')}; p50 the median round's, p99 the worst round's`,
    });
  }
  return out;
}

export async function scaleCases(ctx: BenchContext): Promise<Row[]> {
  const summaryServed = findRoute('GET', SUMMARY_PATH) !== undefined;
  const name = 'Scale: $summary p50, 10k vs 1M patients';
  if (!ctx.pg) return [skipped(name, GOAL, `needs PostgreSQL: ${ctx.pgUnavailable ?? 'none'}`)];
  const small = await serve(ctx, ctx.pg.url, 10_000, summaryServed);
  let large: Served | undefined;
  try {
    large = ctx.quick ? undefined : await serve(ctx, ctx.pg.url, 1_000_000, summaryServed);
    ctx.log('scale: Patient read');
    const read = await compare(ctx, small, large, '');
    const summary = summaryServed ? (ctx.log('scale: $summary'), await compare(ctx, small, large, '/$summary')) : undefined;
    const out: Row[] = [];
    if (summary) out.push(...rows('$summary', summary, small.size, large?.size));
    else out.push(notYet(name, GOAL, `not yet served: no ${SUMMARY_PATH} in the route table`));
    if (ctx.quick) out.push(skipped(`${name} (1M)`, GOAL, 'the 1,000,000-patient population is skipped under --quick'));
    out.push(...rows('Patient read (reference)', read, small.size, large?.size));
    return out;
  } finally {
    await small.stop();
    await large?.stop();
  }
}
