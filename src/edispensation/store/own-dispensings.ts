// Helsebro's own dispensations of Norwegian prescriptions (channel ncp) and how far their M10s have got to
// Reseptformidleren (the outbox, migration 0040), for the count of dispensings so far
// (dispensings-so-far.ts). "Before RF was asked" is judged on the store's clock, the clock the outbox
// records deliveries by, so the app's clock drifting from the database's cannot move a delivery across it.
import type { Queryable } from '../../store/db.ts';
import type { OwnDispensing } from '../dispensings-so-far.ts';

/** The store's clock now, as an ISO instant: take it before asking RF. */
export async function storeClock(q: Queryable): Promise<string> {
  const r = await q.query<{ now: string }>(`select to_char(clock_timestamp() at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as now`);
  return r.rows[0]!.now;
}

interface Row {
  prescription_row: string;
  delivered_before: boolean;
  withdrawn: boolean;
  annullering_delivered: boolean;
}

/** Per prescription row id, its own dispensations (only rows that have any appear). */
export async function ownDispensings(q: Queryable, rowIds: readonly string[], askedAt: string): Promise<Map<string, OwnDispensing[]>> {
  const out = new Map<string, OwnDispensing[]>();
  if (!rowIds.length) return out;
  const r = await q.query<Row>(
    `select d.prescription_row,
       coalesce(o.state = 'delivered' and o.delivered_at < $2::timestamptz, false) as delivered_before,
       d.discarded_by is not null as withdrawn,
       coalesce(w.state = 'delivered', false) as annullering_delivered
     from dispensation d
     left join outbox o on o.dispensation_id = d.id and o.channel = 'm10'
     left join outbox w on w.dispensation_id = d.discarded_by and w.channel = 'm10'
     where d.prescription_row = any($1::text[]) and d.channel = 'ncp' and d.kind = 'dispense'`,
    [[...rowIds], askedAt],
  );
  for (const x of r.rows) {
    const list = out.get(x.prescription_row) ?? [];
    list.push(x.withdrawn ? { deliveredBeforeAsked: x.delivered_before, withdrawn: { annulleringDelivered: x.annullering_delivered } } : { deliveredBeforeAsked: x.delivered_before });
    out.set(x.prescription_row, list);
  }
  return out;
}
