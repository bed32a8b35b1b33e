// Memory: the server's resident set after warm-up, on each store. The server process is the one the HTTP
// cases load (bench/serve.ts: the real stack plus the baseline app), warmed with $summary and Patient read
// load, then asked for its RSS. Goal on PostgreSQL: < 300 MB. PGlite is reported: it runs PostgreSQL itself
// inside the process (a WebAssembly heap with its shared buffers and catalog caches), so its figure is the
// service and its database together.
import { PERSONAS } from '../../src/demo/personas.ts';
import type { BenchContext } from '../lib/context.ts';
import { runLoad } from '../lib/load.ts';
import { fmtInt, fmtMiB, type Row } from '../lib/report.ts';
import { startBenchServer, type BenchServer } from '../lib/server-process.ts';

const LIMIT = 300 * 1024 * 1024;

type Memory = Awaited<ReturnType<BenchServer['memory']>>;

/** Where the resident set goes: V8's heap (live data, young and old generation) and the rest; the GC pauses. */
function breakdown(m: Memory): string {
  const space = (name: string): string => fmtMiB(m.spaces[name] ?? 0);
  const pauses = Object.entries(m.gc)
    .map(([kind, g]) => `${kind} ${fmtInt(g.count)} (${fmtInt(g.ms)} ms)`)
    .join(', ');
  return (
    `V8 heap ${fmtMiB(m.heapTotal)} (${fmtMiB(m.heapUsed)} live; young generation ${space('new_space')}, old ${space('old_space')}), ` +
    `outside it ${fmtMiB(m.rss - m.heapTotal)} (code, buffers, native); main-thread GC pauses since start: ${pauses || 'none'}`
  );
}

async function rssAfterWarmup(ctx: BenchContext, store: 'pglite' | 'postgres'): Promise<Memory> {
  const srv = await startBenchServer({
    store,
    dataDir: `${ctx.tmp}/memory-${store}`,
    ...(store === 'postgres' && ctx.pg ? { pgUrl: ctx.pg.url, pgSchema: 'bench_memory' } : {}),
  });
  try {
    const seconds = ctx.quick ? 2 : 10;
    await runLoad({
      mode: 'throughput',
      origin: srv.url,
      paths: [`/fhir/Patient/${PERSONAS.ms.id}/$summary`, `/fhir/Patient/${PERSONAS.addison.id}`],
      headers: { authorization: `Bearer ${srv.token}`, accept: 'application/fhir+json' },
      connections: 32,
      seconds,
      warmupSeconds: 1,
    });
    return await srv.memory();
  } finally {
    await srv.stop();
  }
}

export async function memoryCases(ctx: BenchContext): Promise<Row[]> {
  const rows: Row[] = [];
  if (ctx.pg) {
    ctx.log('memory: server on PostgreSQL');
    const m = await rssAfterWarmup(ctx, 'postgres');
    const rss = m.rss;
    rows.push({
      case: 'Server RSS after warm-up, PostgreSQL',
      figure: fmtMiB(rss),
      baseline: '—',
      ratio: '—',
      goal: 'RSS < 300 MB',
      verdict: rss < LIMIT ? 'pass' : 'FAIL',
      note: breakdown(m),
    });
  } else {
    rows.push({ case: 'Server RSS after warm-up, PostgreSQL', figure: '—', baseline: '—', ratio: '—', goal: 'RSS < 300 MB', verdict: 'skipped', ...(ctx.pgUnavailable ? { note: ctx.pgUnavailable } : {}) });
  }
  ctx.log('memory: server on PGlite');
  const lite = await rssAfterWarmup(ctx, 'pglite');
  rows.push({
    case: 'Server RSS after warm-up, PGlite',
    figure: fmtMiB(lite.rss),
    baseline: '—',
    ratio: '—',
    goal: '— (reported)',
    verdict: 'info',
    note:
      'PGlite is PostgreSQL compiled to WebAssembly inside the server process: the figure is the service and its database together (the WASM heap with shared buffers and catalog caches, outside V8\'s heap), which a PostgreSQL server keeps in its own processes. ' +
      breakdown(lite),
  });
  return rows;
}
