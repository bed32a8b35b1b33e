// Kjernejournal's stand-in for demo mode: the demo population's records live in the store in the API's
// own shapes and are served over the same client interface as the live API, so the demo exercises
// the same parsing and mapping code.
import { readJson } from '../../store/coalesce.ts';
import type { Db, Queryable } from '../../store/db.ts';
import type { KjAllAnswer, KjernejournalClient } from './client.ts';
import { kjDemoPopulation, type KjDemoPatient } from './demo-data.ts';
import { KJ_READ_TYPES, type KjReadType } from './types.ts';

// The status, one type's records, or both together (the adapter asks for all at once when it can). Each is
// one json value, so the reads of one summary travel to the store together (readJson).
const STATUS_SQL = 'select status from kj_demo_status where patient_fnr = $1';
const RECORDS_SQL = `select coalesce(json_agg(resource order by record_id), '[]'::json) from kj_demo_record
  where patient_fnr = $1 and resource_type = $2`;
const ALL_SQL = `select json_build_object('status', (select status from kj_demo_status where patient_fnr = $1),
    'records', coalesce((select json_agg(json_build_object('type', resource_type, 'resource', resource) order by resource_type, record_id)
      from kj_demo_record where patient_fnr = $1), '[]'::json))`;

const searchset = (resources: readonly unknown[]): unknown => ({
  resourceType: 'Bundle',
  type: 'searchset',
  total: resources.length,
  entry: resources.map((resource) => ({ resource, search: { mode: 'match' } })),
});

// A patient Kjernejournal has never heard of has no critical information (and no privacy settings).
const unknownPatient = (nin: string): unknown => ({ patientNIN: nin, hasCriticalInformation: false });

export function kjernejournalStoreClient(db: Queryable): KjernejournalClient {
  return {
    async status(nin, signal) {
      signal.throwIfAborted();
      return (await readJson(db, STATUS_SQL, [nin])) ?? unknownPatient(nin);
    },
    async read(type: KjReadType, nin, signal) {
      signal.throwIfAborted();
      return searchset((await readJson<unknown[]>(db, RECORDS_SQL, [nin, type])) ?? []);
    },
    async readAll(nin, signal): Promise<KjAllAnswer> {
      signal.throwIfAborted();
      const all = await readJson<{ status: unknown; records: { type: string; resource: unknown }[] }>(db, ALL_SQL, [nin]);
      const rows = all?.records ?? [];
      const records = Object.fromEntries(KJ_READ_TYPES.map((t) => [t, searchset(rows.filter((x) => x.type === t).map((x) => x.resource))])) as KjAllAnswer['records'];
      return { status: all?.status ?? unknownPatient(nin), records };
    },
  };
}

/** Writes one patient's records, replacing what was there: running it again changes nothing. */
export async function storeKjPatient(q: Queryable, patient: KjDemoPatient): Promise<void> {
  await q.query(
    `insert into kj_demo_status (patient_fnr, status) values ($1, $2::jsonb)
     on conflict (patient_fnr) do update set status = excluded.status`,
    [patient.fnr, JSON.stringify(patient.status)],
  );
  await q.query('delete from kj_demo_record where patient_fnr = $1', [patient.fnr]);
  for (const record of patient.records) {
    await q.query('insert into kj_demo_record (patient_fnr, record_id, resource_type, resource) values ($1, $2, $3, $4::jsonb)', [
      patient.fnr,
      record.id,
      record.resourceType,
      JSON.stringify(record),
    ]);
  }
}

/** Seeds the demo population's critical information. Idempotent. */
export async function seedDemoKjernejournal(db: Db): Promise<void> {
  await db.tx(async (q) => {
    for (const patient of kjDemoPopulation()) await storeKjPatient(q, patient);
  });
}
