// Audit scale: a patient's log (`GET /fhir/AuditEvent?patient=Patient/{id}`) read one request at a time,
// with 10,000 and with 10,000,000 events in the audit table (1,000,000 under --quick; BENCH_AUDIT_ROWS
// overrides the large count). Every patient in both tables has about ten events over the last two years,
// in their monthly partitions, so the two runs read the same amount of each patient's log and differ
// only in everybody else's. Both sizes are served at once and read in alternating rounds. Goal: the larger
// p50 within 1.2 times the smaller.
import { join } from 'node:path';
import { migrate } from '../../src/store/migrate.ts';
import { openPostgres } from '../../src/store/postgres.ts';
import type { Db } from '../../src/store/db.ts';
import type { BenchContext } from '../lib/context.ts';
import { roundWindows } from '../lib/context.ts';
import { pooled, runLoad, type LoadResult } from '../lib/load.ts';
import { benchPatientId, ensurePopulation } from '../lib/population.ts';
import { fmtInt, fmtMs, fmtRatio, skipped, type Row } from '../lib/report.ts';
import { alternate, roundRatios, type Round } from '../lib/rounds.ts';
import { startBenchServer } from '../lib/server-process.ts';

const GOAL = 'p50 at the large count <= 1.2x p50 at 10k';
/** Events per patient; the patients read are the first thousand, who exist in both tables. */
const PER_PATIENT = 10;
const READ_PATIENTS = 500;
const MONTHS = 24;

async function ensureAuditRows(db: Db, rows: number): Promise<{ loaded: boolean; seconds: number }> {
  await db.exec('create table if not exists bench_audit (rows bigint not null, loaded_at timestamptz not null default now())');
  const marker = await db.query<{ rows: string }>('select rows::text from bench_audit');
  if (marker.rows.length === 1 && Number(marker.rows[0]!.rows) === rows) return { loaded: false, seconds: 0 };
  if (marker.rows.length) throw new Error(`schema holds ${marker.rows[0]!.rows} audit rows, not ${rows}: drop it (the log is append-only) or run with --fresh`);
  const t0 = performance.now();
  // Each month's partition before its events arrive (events in the default partition would stay there).
  await db.query(`select audit_event_ensure_month(date_trunc('month', now()) - (n * interval '1 month')) from generate_series(0, $1::int) as n`, [MONTHS]);
  // One statement, generated in the server: event i is about patient 1 + i % patients, at a time spread
  // over the last two years. The resource holds what the search reads and returns (agent, patient, request).
  await db.query(
    `insert into audit_event (id, recorded, patient_id, patient_fnr, action, outcome, request_id, resource)
     select id, recorded, pid, fnr, 'R', '0', rid,
       jsonb_build_object(
         'resourceType', 'AuditEvent', 'id', id, 'recorded', recorded, 'action', 'R', 'outcome', '0',
         'type', jsonb_build_object('system', 'http://terminology.hl7.org/CodeSystem/audit-event-type', 'code', 'rest'),
         'agent', jsonb_build_array(jsonb_build_object('requestor', true,
           'who', jsonb_build_object('identifier', jsonb_build_object('system', 'urn:oid:2.16.578.1.12.4.1.4.4', 'value', '9144889')))),
         'source', jsonb_build_object('observer', jsonb_build_object('display', 'Helsebro')),
         'entity', jsonb_build_array(
           jsonb_build_object('what', jsonb_build_object('reference', 'Patient/' || pid,
             'identifier', jsonb_build_object('system', 'urn:oid:2.16.578.1.12.4.1.4.1', 'value', fnr))),
           jsonb_build_object('type', jsonb_build_object('code', 'XrequestId'), 'what', jsonb_build_object('identifier', jsonb_build_object('value', rid)))))
     from (
       select gen_random_uuid() as id,
         now() - interval '1 hour' - ((i * 7919) % ($2::bigint * 30 * 86400)) * interval '1 second' as recorded,
         'bench-' || lpad((1 + i % $3::bigint)::text, 7, '0') as pid,
         -- A stand-in fødselsnummer per patient: the search matches by id or by number, never by its digits.
         lpad((1 + i % $3::bigint)::text, 11, '9') as fnr,
         'bench-' || i as rid
       from generate_series(1, $1::bigint) as i
     ) e`,
    [rows, MONTHS, Math.max(READ_PATIENTS, Math.floor(rows / PER_PATIENT))],
  );
  await db.exec('analyze audit_event');
  await db.query('insert into bench_audit (rows) values ($1)', [rows]);
  return { loaded: true, seconds: (performance.now() - t0) / 1000 };
}

/** A server over one table size, every sampled patient's log read once before any timing. */
interface Served {
  srv: Awaited<ReturnType<typeof startBenchServer>>;
  token: string;
  paths: string[];
}

async function serve(ctx: BenchContext, url: string, rows: number): Promise<Served> {
  const schema = `bench_audit_${rows}`;
  const db = await openPostgres({ connectionString: url, schema, max: 2 });
  try {
    await migrate(db);
    await ensurePopulation(db, READ_PATIENTS, 1, () => undefined);
    ctx.log(`audit: ${fmtInt(rows)} events`);
    const r = await ensureAuditRows(db, rows);
    ctx.log(r.loaded ? `audit: ${fmtInt(rows)} events written in ${r.seconds.toFixed(0)} s` : `audit: reusing the ${fmtInt(rows)} events`);
  } finally {
    await db.close();
  }
  const srv = await startBenchServer({ store: 'postgres', pgUrl: url, pgSchema: schema, dataDir: join(ctx.tmp, `audit-${rows}`) });
  try {
    // The audit log is the auditor's to read (the demo registration's auditor client).
    const token = await srv.tokenFor('system/AuditEvent.rs', 'auditor');
    const paths = Array.from({ length: READ_PATIENTS }, (_, i) => `/fhir/AuditEvent?patient=Patient/${benchPatientId(i + 1)}`);
    // Every patient's log is read once before the clock starts, in both tables: the figure is the cost of
    // the query (indexes, partitions), not of the first read of a page from disk, which the small table
    // never pays (it is all in memory) and the large one pays once per page at any size.
    for (const path of paths) {
      const res = await fetch(srv.url + path, { headers: { authorization: `Bearer ${token}` } });
      await res.arrayBuffer();
    }
    return { srv, token, paths };
  } catch (err) {
    await srv.stop();
    throw err;
  }
}

/** One window of one request at a time over the sampled patients' logs. */
const load = (s: Served, seconds: number, warmupSeconds: number): Promise<LoadResult> =>
  runLoad({ mode: 'latency', origin: s.srv.url, paths: s.paths, headers: { authorization: `Bearer ${s.token}` }, connections: 1, seconds, warmupSeconds });

export async function auditCases(ctx: BenchContext): Promise<Row[]> {
  const large = Number(process.env.BENCH_AUDIT_ROWS ?? (ctx.quick ? 1_000_000 : 10_000_000));
  const name = `Audit: AuditEvent?patient= p50, 10,000 vs ${fmtInt(large)} events`;
  if (!ctx.pg) return [skipped(name, GOAL, `needs PostgreSQL: ${ctx.pgUnavailable ?? 'none'}`)];
  // Both sizes up at once and read in alternating rounds (bench/lib/rounds.ts), as the scale case does: the
  // machine's speed drifts over minutes, and one window a side read 1.09x and then 1.22x with the same code.
  const smallServed = await serve(ctx, ctx.pg.url, 10_000);
  const bigServed = await serve(ctx, ctx.pg.url, large).catch(async (err: unknown) => {
    await smallServed.srv.stop();
    throw err;
  });
  let each: Round<LoadResult>[];
  try {
    const { rounds, seconds, warmup } = roundWindows(ctx);
    each = await alternate(
      rounds,
      (i) => load(smallServed, seconds, i === 0 ? warmup : 1),
      (i) => load(bigServed, seconds, i === 0 ? warmup : 1),
    );
  } finally {
    await smallServed.srv.stop();
    await bigServed.srv.stop();
  }
  const small = pooled(each.map((r) => r.base));
  const big = pooled(each.map((r) => r.real));
  const { ratio, each: perRound } = roundRatios(each, (r) => r.p50);
  const failures = (r: LoadResult): number => r.non2xx + r.errors;
  const describe = (r: LoadResult): string => `p50 ${fmtMs(r.p50)}, p99 ${fmtMs(r.p99)} (${fmtInt(r.requests)} requests)`;
  const errors = failures(small) + failures(big);
  return [
    {
      case: 'Audit: AuditEvent?patient= p50, 10,000 events',
      figure: describe(small),
      baseline: '—',
      ratio: '—',
      goal: '— (the reference)',
      verdict: failures(small) ? 'FAIL' : 'info',
      ...(failures(small) ? { note: `error responses ${JSON.stringify(small.statusCodes)}` } : {}),
    },
    {
      case: `Audit: AuditEvent?patient= p50, ${fmtInt(large)} events`,
      figure: describe(big),
      baseline: `p50 ${fmtMs(small.p50)} at 10,000`,
      ratio: fmtRatio(ratio),
      goal: GOAL,
      verdict: ratio <= 1.2 && !errors ? 'pass' : 'FAIL',
      note:
        `${PER_PATIENT} events per patient over ${MONTHS} months in both tables (monthly partitions), patients read at random from the first ${fmtInt(READ_PATIENTS)}, each read once before timing; ` +
        `${each.length} alternating rounds, ratio the median of ${perRound.map((x) => x.toFixed(2)).join(', ')}; p50 the median round's, p99 the worst round's` +
        (failures(big) ? `; error responses ${JSON.stringify(big.statusCodes)}` : ''),
    },
  ];
}
