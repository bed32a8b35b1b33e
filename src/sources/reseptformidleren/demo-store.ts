// Reseptformidleren's stand-in for demo mode: per ReseptId a status and a count of dispensings, in the
// store (migration 0190), answered over the same client interface as the live RF and in RF's own message
// shapes (M9.8, M9.2), so the demo runs the same reading code as production.
//
// RF knows every prescription, because every M1 passes through it. The stand-in knows the ones Helsebro
// holds: a prescription in Helsebro's table without a row of its own is, to the stand-in, dispensable
// (status E) with no dispensings. When Helsebro's demo outbox delivers an M10, the stand-in counts it, as RF
// would (recordDemoM10), so what Helsebro reads back is consistent with what it sent.
import { randomUUID } from 'node:crypto';
import { DEMO_CHAIN_STATES, type DemoChainState } from '../../demo/prescription-chain.ts';
import { readJson } from '../../store/coalesce.ts';
import type { Db, Queryable } from '../../store/db.ts';
import { parseMsgHead, documentPayload } from '../../xml/msghead.ts';
import type { ReseptformidlerenClient } from './client.ts';
import { buildM92, buildM98, type ListedForAnswer } from './messages.ts';
import type { RfDispensings, RfSender } from './types.ts';

// One json value per read, so the reads of one request travel to the store together (readJson).
const DISPENSINGS_SQL = `select json_build_object(
    'row', (select json_build_object('status', status, 'dispensings', dispensings, 'reservation', patient_reservation)
            from rf_demo_prescription where resept_id = $1),
    'held', exists (select 1 from prescription where origin = 'NO' and prescription_id = $1))`;

// The patient's prescriptions Helsebro holds, with the stand-in's status; those the stand-in says RF does
// not know (status null) are not listed. The schema's other required elements come from what Helsebro holds.
const LIST_SQL = `select coalesce(json_agg(json_build_object(
    'reseptId', p.prescription_id,
    'status', coalesce(r.status, 'E'),
    'issued', to_char(p.created_at at time zone 'Europe/Oslo', 'YYYY-MM-DD'),
    'family', coalesce(pt.resource #>> '{name,0,family}', ''),
    'given', coalesce((select string_agg(g, ' ') from jsonb_array_elements_text(coalesce(pt.resource #> '{name,0,given}', '[]'::jsonb)) g), ''),
    'hpr', coalesce((select e #>> '{resource,identifier,0,value}' from jsonb_array_elements(coalesce(p.fhir_bundle -> 'entry', '[]'::jsonb)) e
                     where e #>> '{resource,resourceType}' = 'Practitioner' limit 1), ''))
    order by p.created_at, p.prescription_id), '[]'::json)
  from prescription p
  left join rf_demo_prescription r on r.resept_id = p.prescription_id
  left join patient pt on pt.id = p.patient_id
  where p.origin = 'NO' and p.patient_fnr = $1 and (r.resept_id is null or r.status is not null)`;

interface DispensingsRow {
  row: { status: string | null; dispensings: number; reservation: boolean } | null;
  held: boolean;
}

/** What the stand-in answers an M9.7 with. */
export function demoDispensings(found: DispensingsRow): RfDispensings {
  if (!found.row) return found.held ? { kind: 'count', count: 0 } : { kind: 'no-prescription' };
  if (found.row.status === null) return { kind: 'no-prescription' };
  if (found.row.reservation) return { kind: 'patient-reservation' };
  return { kind: 'count', count: found.row.dispensings };
}

export function reseptformidlerenStoreClient(db: Queryable, receiver: RfSender, newMsgId: () => string = randomUUID): ReseptformidlerenClient {
  const env = () => ({ msgId: newMsgId(), now: new Date() });
  return {
    async dispensings(reseptId, signal) {
      signal.throwIfAborted();
      const found = (await readJson<DispensingsRow>(db, DISPENSINGS_SQL, [reseptId])) ?? { row: null, held: false };
      return { xml: buildM98(demoDispensings(found), receiver, env()) };
    },
    async prescriptionList(nin, signal) {
      signal.throwIfAborted();
      const rows = (await readJson<{ reseptId: string; status: string; issued: string; family: string; given: string; hpr: string }[]>(db, LIST_SQL, [nin])) ?? [];
      const listed: ListedForAnswer[] = rows.map((r) => ({
        reseptId: r.reseptId,
        status: r.status,
        issued: r.issued,
        patient: { nin, given: r.given, family: r.family },
        prescriber: { hpr: r.hpr, name: '' },
      }));
      return { xml: buildM92(listed, receiver, env()) };
    },
  };
}

/** Writes one prescription's state, replacing what was there: running it again changes nothing. */
export async function storeDemoChainState(q: Queryable, s: Pick<DemoChainState, 'reseptId' | 'status' | 'dispensings' | 'patientReservation'>): Promise<void> {
  await q.query(
    `insert into rf_demo_prescription (resept_id, status, dispensings, patient_reservation) values ($1, $2, $3, $4)
     on conflict (resept_id) do update set status = excluded.status, dispensings = excluded.dispensings,
       patient_reservation = excluded.patient_reservation, updated_at = now()`,
    [s.reseptId, s.status, s.dispensings, s.patientReservation],
  );
}

/** Seeds the demo prescriptions' state in the chain. Idempotent. */
export async function seedDemoReseptformidleren(db: Db): Promise<void> {
  await db.tx(async (q) => {
    for (const s of DEMO_CHAIN_STATES) await storeDemoChainState(q, s);
  });
}

const NS_M10 = 'http://www.kith.no/xmlstds/eresept/m10/2013-10-08';
const NS_UTLEVERING = 'http://www.kith.no/xmlstds/eresept/utlevering/2013-10-08';

/**
 * The stand-in receives an M10 Helsebro's demo outbox delivered: one dispensing more on its prescription, or
 * one less for an Annullering. Counted once per MsgId. False when the message is not an M10 it can read
 * (the delivery then fails and is retried, as with a receiver that refuses it).
 */
export async function recordDemoM10(db: Db, xml: string): Promise<boolean> {
  const parsed = parseMsgHead(xml, { expectType: 'ERM10' });
  if (!parsed.ok) return false;
  const doc = parsed.value.head.documents[0];
  const payload = doc ? documentPayload(doc) : undefined;
  const report = payload?.ok && payload.value.kind === 'xml' ? payload.value.elements.find((e) => e.is(NS_M10, 'Utleveringsrapport')) : undefined;
  const utlevering = report?.child(NS_UTLEVERING, 'Utlevering');
  const reseptId = utlevering?.child(NS_UTLEVERING, 'ReseptId')?.text;
  const annullering = utlevering?.child(NS_UTLEVERING, 'Annullering')?.text;
  if (!reseptId || (annullering !== 'true' && annullering !== 'false')) return false;
  const delta = annullering === 'true' ? -1 : 1;
  await db.tx(async (q) => {
    const fresh = await q.query(`insert into rf_demo_m10 (msg_id, resept_id, annullering) values ($1, $2, $3) on conflict (msg_id) do nothing returning msg_id`, [
      parsed.value.head.msgId,
      reseptId,
      delta < 0,
    ]);
    if (fresh.rows.length === 0) return;
    await q.query(
      `insert into rf_demo_prescription (resept_id, status, dispensings) values ($1, 'E', $2)
       on conflict (resept_id) do update set dispensings = greatest(0, rf_demo_prescription.dispensings + $3), updated_at = now()`,
      [reseptId, Math.max(0, delta), delta],
    );
  });
  return true;
}
