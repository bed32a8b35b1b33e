// HTTP load: the real stack against the same stack answering precomputed bytes, in the same run.
// Case 1: GET /fhir/Patient/{id}. Case 2: GET /fhir/Patient/{id}/$summary for the MS persona at 32
// connections (goal: ratio >= 0.5 and p99 < 50 ms). Case 3: its eHDSI PS CDA, GET
// /fhir/Patient/{id}/$ehdsi-ps (goal: ratio >= 0.35). Each when the route exists.
import { join } from 'node:path';
import { PERSONAS } from '../../src/demo/personas.ts';
import type { BenchContext } from '../lib/context.ts';
import { loadSeconds } from '../lib/context.ts';
import { runLoad, type LoadResult } from '../lib/load.ts';
import { fmtInt, fmtMs, fmtRatio, notYet, type Row } from '../lib/report.ts';
import { findRoute, PS_PATH, SUMMARY_PATH } from '../lib/routes.ts';
import { startBenchServer, type BenchServer } from '../lib/server-process.ts';

const CONNECTIONS = 32;

const describe = (r: LoadResult): string => `${fmtInt(r.perSecond)} req/s, p50 ${fmtMs(r.p50)}, p99 ${fmtMs(r.p99)}`;

async function compare(ctx: BenchContext, srv: BenchServer, path: string, accept = 'application/fhir+json'): Promise<{ real: LoadResult; base: LoadResult }> {
  const { seconds, warmup } = loadSeconds(ctx);
  const spec = (origin: string) => ({
    mode: 'throughput' as const,
    origin,
    paths: [`/fhir${path}`],
    headers: { authorization: `Bearer ${srv.token}`, accept },
    connections: CONNECTIONS,
    seconds,
    warmupSeconds: warmup,
  });
  const base = await runLoad(spec(srv.baselineUrl));
  const real = await runLoad(spec(srv.url));
  return { real, base };
}

function row(name: string, goal: string, r: { real: LoadResult; base: LoadResult }, p99Goal?: number, minRatio = 0.5): Row {
  const ratio = r.real.perSecond / r.base.perSecond;
  const failures = r.real.non2xx + r.real.errors + r.base.non2xx + r.base.errors;
  const meets = ratio >= minRatio && (p99Goal === undefined || r.real.p99 < p99Goal) && failures === 0;
  return {
    case: name,
    figure: describe(r.real),
    baseline: describe(r.base),
    ratio: fmtRatio(ratio),
    goal,
    verdict: meets ? 'pass' : 'FAIL',
    ...(failures
      ? { note: `error responses: real ${JSON.stringify(r.real.statusCodes)} (+${r.real.errors} transport), baseline ${JSON.stringify(r.base.statusCodes)}` }
      : {}),
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
