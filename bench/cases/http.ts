// HTTP load: the real stack against the same stack answering precomputed bytes, in the same run.
// Case 1: GET /fhir/Patient/{id}. Case 2: GET /fhir/Patient/{id}/$summary for the MS persona at 32
// connections (goal: ratio >= 0.5 and p99 < 50 ms). Case 3: its eHDSI PS CDA, GET
// /fhir/Patient/{id}/$ehdsi-ps (goal: ratio >= 0.35). Each when the route exists.
import { join } from 'node:path';
import { PERSONAS } from '../../src/demo/personas.ts';
import type { BenchContext } from '../lib/context.ts';
import { roundWindows } from '../lib/context.ts';
import { pooled, runLoad, type LoadResult } from '../lib/load.ts';
import { fmtInt, fmtMs, fmtRatio, notYet, type Row } from '../lib/report.ts';
import { alternate, roundRatios, type Round } from '../lib/rounds.ts';
import { findRoute, PS_PATH, SUMMARY_PATH } from '../lib/routes.ts';
import { startBenchServer, type BenchServer } from '../lib/server-process.ts';

const CONNECTIONS = 32;

const describe = (r: LoadResult): string => `${fmtInt(r.perSecond)} req/s, p50 ${fmtMs(r.p50)}, p99 ${fmtMs(r.p99)}`;

async function compare(ctx: BenchContext, srv: BenchServer, path: string, accept = 'application/fhir+json'): Promise<Round<LoadResult>[]> {
  const { seconds, warmup, rounds } = roundWindows(ctx);
  // The first window of each side warms its server up (JIT, pools, caches); later rounds need only settle.
  const spec = (origin: string, round: number) => ({
    mode: 'throughput' as const,
    origin,
    paths: [`/fhir${path}`],
    headers: { authorization: `Bearer ${srv.token}`, accept },
    connections: CONNECTIONS,
    seconds,
    warmupSeconds: round === 0 ? warmup : 1,
  });
  return alternate(
    rounds,
    (i) => runLoad(spec(srv.baselineUrl, i)),
    (i) => runLoad(spec(srv.url, i)),
  );
}

function row(name: string, goal: string, rounds: Round<LoadResult>[], p99Goal?: number, minRatio = 0.5): Row {
  const real = pooled(rounds.map((r) => r.real));
  const base = pooled(rounds.map((r) => r.base));
  const { ratio, each } = roundRatios(rounds, (r) => r.perSecond);
  const failures = real.non2xx + real.errors + base.non2xx + base.errors;
  const meets = ratio >= minRatio && (p99Goal === undefined || real.p99 < p99Goal) && failures === 0;
  const perRound = `${rounds.length} alternating rounds, ratio the median of ${each.map((x) => x.toFixed(2)).join(', ')}; p99 the worst round's`;
  return {
    case: name,
    figure: describe(real),
    baseline: describe(base),
    ratio: fmtRatio(ratio),
    goal,
    verdict: meets ? 'pass' : 'FAIL',
    note: failures
      ? `${perRound}; error responses: real ${JSON.stringify(real.statusCodes)} (+${real.errors} transport), baseline ${JSON.stringify(base.statusCodes)}`
      : perRound,
  };
}

export async function httpCases(ctx: BenchContext): Promise<Row[]> {
  const summaryServed = findRoute('GET', SUMMARY_PATH) !== undefined;
  const readPath = `/Patient/${PERSONAS.ms.id}`;
  const summaryPath = `/Patient/${PERSONAS.ms.id}/$summary`;
  const summaryName = `$summary, MS persona, ${CONNECTIONS} connections`;
  const summaryGoal = 'ratio >= 0.5, p99 < 50 ms';
  const psServed = findRoute('GET', PS_PATH) !== undefined;
  const psPath = `/Patient/${PERSONAS.ms.id}/$ehdsi-ps`;
  const psName = `$ehdsi-ps (PS CDA Level 3), MS persona, ${CONNECTIONS} connections`;
  const psGoal = 'ratio >= 0.35';
  ctx.log(`http: starting the server under test (${ctx.httpStore})`);
  const srv = await startBenchServer({
    store: ctx.httpStore,
    dataDir: join(ctx.tmp, 'http'),
    ...(ctx.httpStore === 'postgres' && ctx.pg ? { pgUrl: ctx.pg.url, pgSchema: 'bench_http' } : {}),
    precompute: [readPath, ...(summaryServed ? [summaryPath] : []), ...(psServed ? [psPath] : [])],
  });
  const rows: Row[] = [];
  try {
    ctx.log(`http: GET ${readPath}`);
    rows.push(row(`GET Patient/{id}, ${CONNECTIONS} connections`, 'ratio >= 0.5', await compare(ctx, srv, readPath)));
    if (summaryServed) {
      ctx.log(`http: GET ${summaryPath}`);
      rows.push(row(summaryName, summaryGoal, await compare(ctx, srv, summaryPath), 50));
    } else {
      rows.push(notYet(summaryName, summaryGoal, `not yet served: no ${SUMMARY_PATH} in the route table`));
    }
    if (psServed) {
      ctx.log(`http: GET ${psPath}`);
      rows.push(row(psName, psGoal, await compare(ctx, srv, psPath, 'application/xml'), undefined, 0.35));
    } else {
      rows.push(notYet(psName, psGoal, `not yet served: no ${PS_PATH} in the route table`));
    }
  } finally {
    await srv.stop();
  }
  return rows;
}
