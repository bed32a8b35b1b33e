// The dispensation table (migration 0040): insert, read by id or idempotency key, and the one update a
// dispensation ever gets (withdrawn by a discard). Rows are never deleted.
import type { MedicationDispense, OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { Queryable } from '../../store/db.ts';
import type { DispenseChannel } from '../checks.ts';
import type { Dispensation } from '../model.ts';

export interface DispensationRow {
  id: string;
  idemKey: string;
  fingerprint: string;
  channel: DispenseChannel;
  kind: 'dispense' | 'discard';
  source: string;
  prescriptionRow: string;
  patientFnr?: string;
  discards?: string;
  discardedBy?: string;
  quantityCounted?: number;
  model: Dispensation;
  resource: MedicationDispense;
  warnings: OperationOutcomeIssue[];
  sourceBody?: string;
  /** Channel 'pharmacy': the client (and its organisation) that reported it. */
  reporter?: { clientId: string; orgnr?: string };
  recordedAt: string;
}

interface DbRow {
  id: string;
  idem_key: string;
  fingerprint: string;
  channel: DispenseChannel;
  kind: 'dispense' | 'discard';
  source: string;
  prescription_row: string;
  patient_fnr: string | null;
  discards: string | null;
  discarded_by: string | null;
  quantity_counted: number | null;
  model: Dispensation;
  resource: MedicationDispense;
  warnings: OperationOutcomeIssue[];
  source_body: string | null;
  reporter_client: string | null;
  reporter_orgnr: string | null;
  recorded_at: string;
}

const COLUMNS = `id, idem_key, fingerprint, channel, kind, source, prescription_row, patient_fnr, discards, discarded_by,
  quantity_counted::float8 as quantity_counted, model, resource, warnings, source_body, reporter_client, reporter_orgnr,
  to_char(recorded_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as recorded_at`;

function fromDb(r: DbRow): DispensationRow {
  const row: DispensationRow = {
    id: r.id,
    idemKey: r.idem_key,
    fingerprint: r.fingerprint,
    channel: r.channel,
    kind: r.kind,
    source: r.source,
    prescriptionRow: r.prescription_row,
    model: r.model,
    resource: ordered(r.resource),
    warnings: r.warnings,
    recordedAt: r.recorded_at,
  };
  if (r.patient_fnr !== null) row.patientFnr = r.patient_fnr;
  if (r.discards !== null) row.discards = r.discards;
  if (r.discarded_by !== null) row.discardedBy = r.discarded_by;
  if (r.quantity_counted !== null) row.quantityCounted = Number(r.quantity_counted);
  if (r.source_body !== null) row.sourceBody = r.source_body;
  if (r.reporter_client !== null) row.reporter = { clientId: r.reporter_client, ...(r.reporter_orgnr !== null ? { orgnr: r.reporter_orgnr } : {}) };
  return row;
}

/** jsonb keeps keys in its own order; resourceType and id read best first. */
function ordered(r: MedicationDispense): MedicationDispense {
  const { resourceType, id, ...rest } = r;
  return { resourceType, id, ...rest };
}

export async function readDispensation(q: Queryable, id: string): Promise<DispensationRow | undefined> {
  const r = await q.query<DbRow>(`select ${COLUMNS} from dispensation where id = $1`, [id]);
  return r.rows[0] && fromDb(r.rows[0]);
}

export async function findDispensationByKey(q: Queryable, idemKey: string): Promise<DispensationRow | undefined> {
  const r = await q.query<DbRow>(`select ${COLUMNS} from dispensation where idem_key = $1`, [idemKey]);
  return r.rows[0] && fromDb(r.rows[0]);
}

/** The dispensations of a prescription not withdrawn (for an M10 annullering without AnnulleringsId), latest first. */
export async function liveDispensations(q: Queryable, prescriptionRow: string, limit = 2): Promise<DispensationRow[]> {
  const r = await q.query<DbRow>(
    `select ${COLUMNS} from dispensation where prescription_row = $1 and kind = 'dispense' and discarded_by is null
     order by recorded_at desc limit ${Math.max(1, Math.trunc(limit))}`,
    [prescriptionRow],
  );
  return r.rows.map(fromDb);
}

export type NewDispensation = Omit<DispensationRow, 'recordedAt' | 'discardedBy'>;

export async function insertDispensation(q: Queryable, d: NewDispensation): Promise<string> {
  const r = await q.query<{ recorded_at: string }>(
    `insert into dispensation (id, idem_key, fingerprint, channel, kind, source, prescription_row, patient_fnr, discards,
       quantity_counted, model, resource, warnings, source_body, reporter_client, reporter_orgnr)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12::jsonb, $13::jsonb, $14, $15, $16)
     returning to_char(recorded_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as recorded_at`,
    [
      d.id,
      d.idemKey,
      d.fingerprint,
      d.channel,
      d.kind,
      d.source,
      d.prescriptionRow,
      d.patientFnr ?? null,
      d.discards ?? null,
      d.quantityCounted ?? null,
      JSON.stringify(d.model),
      JSON.stringify(d.resource),
      JSON.stringify(d.warnings),
      d.sourceBody ?? null,
      d.reporter?.clientId ?? null,
      d.reporter?.orgnr ?? null,
    ],
  );
  return r.rows[0]!.recorded_at;
}

/** Marks a dispensation withdrawn; only once (the discard that withdrew it is kept). */
export async function markWithdrawn(q: Queryable, id: string, discardId: string, resource: MedicationDispense): Promise<boolean> {
  const r = await q.query(`update dispensation set discarded_by = $2, resource = $3::jsonb where id = $1 and discarded_by is null`, [
    id,
    discardId,
    JSON.stringify(resource),
  ]);
  return r.rowCount === 1;
}
