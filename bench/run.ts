// `npm run bench [-- --quick] [--only http,m1,scale,batch,startup,memory,audit] [--engine pglite|postgres] [--fresh] [--strict]`
// Runs every case, prints the markdown table and writes it to bench/results/latest.md.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { auditCases } from './cases/audit.ts';
import { batchCase } from './cases/batch.ts';
import { httpCases } from './cases/http.ts';
import { m1Case } from './cases/m1.ts';
import { memoryCases } from './cases/memory.ts';
import { scaleCases } from './cases/scale.ts';
import { startupCase } from './cases/startup.ts';
import type { BenchContext } from './lib/context.ts';
import { describeMachine } from './lib/machine.ts';
import { acquirePostgres, type PgHandle } from './lib/postgres.ts';
import { renderMarkdown, type Row } from './lib/report.ts';

const CASES = {
  http: httpCases,
  m1: m1Case,
  scale: scaleCases,
  batch: batchCase,
  startup: startupCase,
  memory: memoryCases,
  audit: auditCases,
} as const satisfies Record<string, (ctx: BenchContext) => Promise<Row[]>>;
type CaseName = keyof typeof CASES;

const RESULTS = fileURLToPath(new URL('./results/', import.meta.url));

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      only: { type: 'string' },
      engine: { type: 'string' },
      fresh: { type: 'boolean', default: false },
      out: { type: 'string' },
      strict: { type: 'boolean', default: false },
    },
  });
  const only = values.only ? (values.only.split(',') as CaseName[]) : (Object.keys(CASES) as CaseName[]);
  const unknown = only.filter((c) => !(c in CASES));
  if (unknown.length) {
    process.stderr.write(`bench: unknown case ${unknown.join(', ')}; cases: ${Object.keys(CASES).join(', ')}\n`);
    return 2;
  }
  const started = new Date();
  const machine = describeMachine();
  const t0 = performance.now();
  const log = (line: string): void => {
    process.stderr.write(`[bench ${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${line}\n`);
  };
  const tmp = mkdtempSync(join(tmpdir(), 'helsebro-bench-'));
  const needsPg = only.includes('scale') || only.includes('audit') || ((only.includes('http') || only.includes('memory')) && values.engine !== 'pglite');
  let pg: PgHandle | undefined;
  let pgUnavailable: string | undefined;
  if (needsPg) {
    const got = await acquirePostgres({ fresh: values.fresh, log });
    if ('unavailable' in got) pgUnavailable = got.unavailable;
    else pg = got;
    log(pg ? `store: ${pg.description}` : `no PostgreSQL: ${pgUnavailable}`);
  }
  // Ctrl-C must not leave the private cluster running.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping`);
      void (pg?.stop() ?? Promise.resolve()).finally(() => {
        rmSync(tmp, { recursive: true, force: true });
        process.exit(130);
      });
    });
  }
  if (values.engine === 'postgres' && !pg) {
    process.stderr.write(`bench: --engine postgres, but ${pgUnavailable}\n`);
    return 2;
  }
  // The HTTP cases run on PostgreSQL (the production store) when there is one, else on embedded PGlite.
  const httpStore: BenchContext['httpStore'] = values.engine === 'pglite' || !pg ? 'pglite' : 'postgres';
  const ctx: BenchContext = { quick: values.quick, tmp, pg, pgUnavailable, httpStore, log };
  const rows: Row[] = [];
  try {
    for (const name of only) {
      log(`case ${name}`);
      try {
        rows.push(...(await CASES[name](ctx)));
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        log(`case ${name} failed: ${message}`);
        rows.push({ case: name, figure: '—', baseline: '—', ratio: '—', goal: '—', verdict: 'FAIL', note: `the case itself failed: ${message.split('\n')[0]}` });
      }
    }
  } finally {
    await pg?.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
  const engine = [
    only.includes('http') ? `HTTP cases on ${httpStore === 'postgres' ? pg?.description : 'PGlite (embedded, the `npm start` default)'}` : undefined,
    only.includes('scale') && pg ? `scale on ${pg.description}` : undefined,
  ].filter(Boolean).join('; ') || 'none';
  const markdown = renderMarkdown({ startedAt: started, seconds: (performance.now() - t0) / 1000, quick: values.quick, machine, engine, rows });
  process.stdout.write('\n' + markdown);
  const out = values.out ?? join(RESULTS, 'latest.md');
  mkdirSync(join(out, '..'), { recursive: true });
  writeFileSync(out, markdown);
  log(`written to ${out}`);
  // Missed goals are results, not errors; --strict makes them fail the command (for CI gates).
  return values.strict && rows.some((r) => r.verdict === 'FAIL') ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
