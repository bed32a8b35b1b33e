// Kjernejournal's stand-in for demo mode: the demo population's records live in the store in the API's
// own shapes and are served over the same client interface as the live API, so the demo exercises
// the same parsing and mapping code.
import type { Db, Queryable } from '../../store/db.ts';
import type { KjernejournalClient } from './client.ts';
import { kjDemoPopulation, type KjDemoPatient } from './demo-data.ts';
import type { KjReadType } from './types.ts';

export function kjernejournalStoreClient(db: Queryable): KjernejournalClient {
  return {
    async status(nin, signal) {
      signal.throwIfAborted();
      const r = await db.query<{ status: unknown }>('select status from kj_demo_status where patient_fnr = $1', [nin]);
      // A patient Kjernejournal has never heard of has no critical information (and no privacy settings).
      return r.rows[0]?.status ?? { patientNIN: nin, hasCriticalInformation: false };
    },
    async read(type: KjReadType, nin, signal) {
      signal.throwIfAborted();
      const r = await db.query<{ resource: unknown }>(
        'select resource from kj_demo_record where patient_fnr = $1 and resource_type = $2 order by record_id',
        [nin, type],
      );
      return { resourceType: 'Bundle', type: 'searchset', total: r.rows.length, entry: r.rows.map((row) => ({ resource: row.resource, search: { mode: 'match' } })) };
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
