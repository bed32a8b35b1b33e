// FEST records in the store: idempotent batch upsert and the reads enrichment needs. Every read is by an
// indexed key (FEST id, varenummer, ATC).
import type { Queryable } from '../../store/db.ts';
import type { FestKind, FestRecord, FestRecordOf } from './types.ts';

interface Row {
  record: FestRecord;
}

/**
 * Inserts or replaces records by FEST id. A record older than the stored one (by the catalogue entry's
 * Tidspunkt) does not overwrite it, so loading an old file after a new one changes nothing.
 */
export async function upsertFestRecords(q: Queryable, records: readonly FestRecord[]): Promise<number> {
  if (!records.length) return 0;
  // One statement cannot touch a row twice: the last occurrence of an id in the batch wins.
  const byId = new Map<string, FestRecord>();
  for (const r of records) byId.set(r.id, r);
  const rows = [...byId.values()].map((r) => ({
    fest_id: r.id,
    kind: r.kind,
    varenr: r.kind === 'pakning' ? r.data.varenr : null,
    atc: 'atc' in r.data ? (r.data.atc?.code ?? null) : null,
    name: 'name' in r.data ? r.data.name : '',
    status: r.meta.status,
    entry_time: r.meta.timestamp,
    record: r,
  }));
  const result = await q.query(
    `insert into fest_entry (fest_id, kind, varenr, atc, name, status, entry_time, record, loaded_at)
     select x.fest_id, x.kind, x.varenr, x.atc, x.name, x.status, x.entry_time, x.record, now()
     from jsonb_to_recordset($1::jsonb) as x(fest_id text, kind text, varenr text, atc text, name text,
                                              status text, entry_time timestamptz, record jsonb)
     on conflict (fest_id) do update set
       kind = excluded.kind, varenr = excluded.varenr, atc = excluded.atc, name = excluded.name,
       status = excluded.status, entry_time = excluded.entry_time, record = excluded.record, loaded_at = now()
     where fest_entry.entry_time is null or excluded.entry_time is null
        or excluded.entry_time >= fest_entry.entry_time`,
    [JSON.stringify(rows)],
  );
  return result.rowCount;
}

export async function getFestRecords(q: Queryable, ids: readonly string[]): Promise<Map<string, FestRecord>> {
  const unique = [...new Set(ids)];
  if (!unique.length) return new Map();
  const r = await q.query<Row>('select record from fest_entry where fest_id = any($1::text[])', [unique]);
  return new Map(r.rows.map((row) => [row.record.id, row.record]));
}

export async function getFestRecord(q: Queryable, id: string): Promise<FestRecord | undefined> {
  const r = await q.query<Row>('select record from fest_entry where fest_id = $1', [id]);
  return r.rows[0]?.record;
}

/** The package with this varenummer: an active entry before an expired one, then the newest. */
export async function findPakningByVarenr(q: Queryable, varenr: string): Promise<FestRecordOf<'pakning'> | undefined> {
  const r = await q.query<Row>(
    `select record from fest_entry where varenr = $1 and kind = 'pakning'
     order by (status = 'A') desc, entry_time desc nulls last limit 1`,
    [varenr],
  );
  return r.rows[0]?.record as FestRecordOf<'pakning'> | undefined;
}

export async function festCounts(q: Queryable): Promise<Record<string, number>> {
  const r = await q.query<{ kind: string; n: number }>('select kind, count(*)::int as n from fest_entry group by kind');
  return Object.fromEntries(r.rows.map((row) => [row.kind, row.n]));
}

export interface FestLoadRow {
  sha256: string;
  source: string;
  hentetDato: string | undefined;
  records: number;
  invalid: number;
}

export async function findFestLoad(q: Queryable, sha256: string): Promise<FestLoadRow | undefined> {
  const r = await q.query<{ sha256: string; source: string; hentet_dato: string | null; records: number; invalid: number }>(
    'select sha256, source, hentet_dato, records, invalid from fest_load where sha256 = $1',
    [sha256],
  );
  const row = r.rows[0];
  return row && { sha256: row.sha256, source: row.source, hentetDato: row.hentet_dato ?? undefined, records: row.records, invalid: row.invalid };
}

export async function recordFestLoad(q: Queryable, load: FestLoadRow): Promise<void> {
  await q.query(
    `insert into fest_load (sha256, source, hentet_dato, records, invalid) values ($1, $2, $3, $4, $5)
     on conflict (sha256) do update set source = excluded.source, hentet_dato = excluded.hentet_dato,
       records = excluded.records, invalid = excluded.invalid, loaded_at = now()`,
    [load.sha256, load.source, load.hentetDato ?? null, load.records, load.invalid],
  );
}
