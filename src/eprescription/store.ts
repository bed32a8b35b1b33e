// The Norwegian (origin 'NO') rows of the shared prescription table (migrations 0030, 0031) and their
// Provenance: an imported M1 with its export decision and, when exportable, its EU outputs. Every query that
// serves the NCP refuses reseptgruppe A and B in SQL and checks again in code (guard.ts).
import type { Bundle, Provenance } from '@medplum/fhirtypes';
import type { Queryable } from '../store/db.ts';
import { neverExportedGroup } from './guard.ts';
import type { Conversion } from './pipeline.ts';
import type { ExportDecision } from './rules.ts';

export interface ExportRow {
  /** The Helsebro MedicationRequest id. */
  id: string;
  /** M1 MsgId. */
  prescriptionId: string;
  patientId?: string;
  patientFnr?: string;
  exportable: boolean;
  decision: ExportDecision;
  status: string;
  dispensingsAllowed?: number;
  dispensingsDone: number;
  validUntil?: string;
  earliestDispense?: string;
  prescriptionGroup?: string;
  sourceHash: string;
  bundle?: Bundle;
  cdaXml?: string;
  /**
   * The dispensings so far the stored outputs were made for: Reseptformidleren's count plus Helsebro's own
   * undelivered dispensings at the time (0 at import). Served as stored only while that is still the count.
   */
  outputsAtDispensings?: number;
  createdAt: string;
}

interface DbRow {
  id: string;
  prescription_id: string;
  patient_id: string | null;
  patient_fnr: string | null;
  exportable: boolean;
  decision: ExportDecision;
  status: string;
  dispensings_allowed: number | null;
  dispensings_done: number;
  valid_until: string | null;
  earliest_dispense: string | null;
  prescription_group: string | null;
  source_hash: string;
  fhir_bundle: Bundle | null;
  cda_xml: string | null;
  outputs_at_dispensings: number | null;
  created_at: string;
}

const COLUMNS = `id, prescription_id, patient_id, patient_fnr, exportable, decision, status, dispensings_allowed, dispensings_done,
  valid_until::text as valid_until, earliest_dispense::text as earliest_dispense, prescription_group, source_hash, fhir_bundle, cda_xml,
  outputs_at_dispensings, to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as created_at`;

/** Without the (large) outputs, for lookups that only need the facts. */
const FACT_COLUMNS = COLUMNS.replace('fhir_bundle, cda_xml,', 'null::jsonb as fhir_bundle, null::text as cda_xml,');

function fromDb(r: DbRow): ExportRow {
  const row: ExportRow = {
    id: r.id,
    prescriptionId: r.prescription_id,
    exportable: r.exportable,
    decision: r.decision,
    status: r.status,
    dispensingsDone: r.dispensings_done,
    sourceHash: r.source_hash,
    createdAt: r.created_at,
  };
  if (r.patient_id !== null) row.patientId = r.patient_id;
  if (r.patient_fnr !== null) row.patientFnr = r.patient_fnr;
  if (r.dispensings_allowed !== null) row.dispensingsAllowed = r.dispensings_allowed;
  if (r.valid_until !== null) row.validUntil = r.valid_until;
  if (r.earliest_dispense !== null) row.earliestDispense = r.earliest_dispense;
  if (r.prescription_group !== null) row.prescriptionGroup = r.prescription_group;
  if (r.fhir_bundle !== null) row.bundle = r.fhir_bundle;
  if (r.cda_xml !== null) row.cdaXml = r.cda_xml;
  if (r.outputs_at_dispensings !== null) row.outputsAtDispensings = r.outputs_at_dispensings;
  return row;
}

export async function findImportByHash(q: Queryable, sourceHash: string): Promise<ExportRow | undefined> {
  const r = await q.query<DbRow>(`select ${FACT_COLUMNS} from prescription where source_hash = $1 and origin = 'NO' limit 1`, [sourceHash]);
  return r.rows[0] && fromDb(r.rows[0]);
}

export async function findImportByPrescriptionId(q: Queryable, prescriptionId: string): Promise<ExportRow | undefined> {
  const r = await q.query<DbRow>(`select ${FACT_COLUMNS} from prescription where origin = 'NO' and prescription_id = $1`, [prescriptionId]);
  return r.rows[0] && fromDb(r.rows[0]);
}

/** A Norwegian prescription row with its outputs, whatever its decision (for the import's own answer). */
export async function readImport(q: Queryable, id: string): Promise<ExportRow | undefined> {
  const r = await q.query<DbRow>(`select ${COLUMNS} from prescription where id = $1 and origin = 'NO'`, [id]);
  return r.rows[0] && fromDb(r.rows[0]);
}

/** The SQL side of the NCP guard: exportable, not group A or B. */
const NCP_FILTER = `origin = 'NO' and exportable and coalesce(upper(prescription_group), '') not in ('A', 'B')`;
/** Still dispensable on a day ($n): active, within its validity, not before its earliest day, dispensings left. */
const DISPENSABLE = (day: string): string =>
  `status = 'active' and (valid_until is null or valid_until >= ${day}::date) and (earliest_dispense is null or earliest_dispense <= ${day}::date)
   and (dispensings_allowed is null or dispensings_done < dispensings_allowed)`;

/** The code side of the NCP guard: a row that slipped past SQL is dropped and counted, never served. */
export function guarded(rows: ExportRow[]): { rows: ExportRow[]; blocked: number } {
  const ok = rows.filter((r) => r.exportable && !neverExportedGroup([r.prescriptionGroup]));
  return { rows: ok, blocked: rows.length - ok.length };
}

/** One prescription as the NCP may see it: exportable and not group A/B (dispensable or not). */
export async function readForNcp(q: Queryable, id: string): Promise<{ row?: ExportRow; blocked: number }> {
  const r = await q.query<DbRow>(`select ${COLUMNS} from prescription where id = $1 and ${NCP_FILTER}`, [id]);
  const { rows, blocked } = guarded(r.rows.map(fromDb));
  return rows[0] ? { row: rows[0], blocked } : { blocked };
}

export interface NcpQuery {
  patientFnr?: string | undefined;
  patientId?: string | undefined;
  /** The calendar day (Europe/Oslo) dispensability is judged on. */
  today: string;
  limit: number;
}

/** The NCP's query: a patient's exportable, still dispensable prescriptions, newest first. */
export async function searchForNcp(q: Queryable, query: NcpQuery): Promise<{ rows: ExportRow[]; blocked: number }> {
  const params: unknown[] = [query.today];
  const keys: string[] = [];
  if (query.patientFnr) {
    params.push(query.patientFnr);
    keys.push(`patient_fnr = $${params.length}`);
  }
  if (query.patientId) {
    params.push(query.patientId);
    keys.push(`patient_id = $${params.length}`);
  }
  if (!keys.length) return { rows: [], blocked: 0 };
  params.push(Math.max(1, Math.min(1000, Math.floor(query.limit))));
  const r = await q.query<DbRow>(
    `select ${COLUMNS} from prescription where (${keys.join(' or ')}) and ${NCP_FILTER} and ${DISPENSABLE('$1')}
     order by created_at desc, id limit $${params.length}`,
    params,
  );
  return guarded(r.rows.map(fromDb));
}

const storedDecision = (d: ExportDecision): ExportDecision => ({
  exportable: d.exportable,
  reasons: d.reasons.map((r) => ({ code: r.code, nb: r.nb, en: r.en, expression: r.expression, ...(r.detail ? { detail: r.detail } : {}) })),
  totalDispensings: d.totalDispensings,
  remainingDispensings: d.remainingDispensings,
  decidedFor: d.decidedFor,
});

/** Packages (or amount) over all dispensings, for the dispensation checks of the eDispensation side. */
function prescribedQuantity(c: Conversion): { value: number; unit: string } | undefined {
  const dok = c.m1.resept.reseptDok;
  if (dok.kind !== 'ReseptDokLegemiddel') return undefined;
  const total = c.decision.totalDispensings;
  if (dok.antall !== undefined) return { value: dok.antall * total, unit: 'pakning' };
  if (dok.mengde) return { value: dok.mengde.value * total, unit: dok.mengde.unit ?? '1' };
  return undefined;
}

export interface InsertOptions {
  /** Row id for a refused import (a converted one uses its MedicationRequest id). */
  id: string;
  sourceXml: string;
  patientId?: string | undefined;
}

/** Stores one import (and its Provenance when converted). Throws on a duplicate prescription id. */
export async function insertImport(q: Queryable, c: Conversion, opts: InsertOptions): Promise<ExportRow> {
  const id = c.exportable ? c.ids.medicationRequest : opts.id;
  const patient = c.m1.patient;
  const quantity = prescribedQuantity(c);
  const group = neverExportedGroup([...c.groups, c.exportable ? c.enrichment.product?.prescriptionGroup : undefined]) ?? c.groups[0] ?? null;
  await q.query(
    `insert into prescription (id, prescription_id, origin, patient_id, patient_fnr, exportable, decision, status, dispensings_allowed,
       quantity_prescribed, quantity_unit, valid_until, earliest_dispense, source_hash, source_xml, fhir_bundle, cda_xml, prescription_group,
       outputs_at_dispensings)
     values ($1, $2, 'NO', $3, $4, $5, $6::jsonb, 'active', $7, $8, $9, $10, $11, $12, $13, $14::jsonb, $15, $16, $17)`,
    [
      id,
      c.m1.prescriptionId,
      opts.patientId ?? null,
      patient?.fnr ?? patient?.dnr ?? null,
      c.exportable,
      JSON.stringify(storedDecision(c.decision)),
      c.decision.totalDispensings,
      quantity?.value ?? null,
      quantity?.unit ?? null,
      c.m1.resept.utloper,
      c.m1.resept.tidligsteUtlevering ?? null,
      c.sourceHash,
      opts.sourceXml,
      c.exportable ? JSON.stringify(c.bundle) : null,
      c.exportable ? c.cda : null,
      group,
      c.exportable ? 0 : null,
    ],
  );
  if (c.exportable) await insertProvenance(q, id, c.provenance);
  const row = await readImport(q, id);
  if (!row) throw new Error('the prescription row vanished inside its own transaction');
  return row;
}

export async function insertProvenance(q: Queryable, rowId: string, p: Provenance): Promise<void> {
  await q.query(`insert into prescription_provenance (id, prescription_row, recorded, resource) values ($1, $2, $3, $4::jsonb)`, [
    p.id,
    rowId,
    p.recorded,
    JSON.stringify(p),
  ]);
}

export async function provenanceOf(q: Queryable, rowId: string): Promise<Provenance[]> {
  const r = await q.query<{ resource: Provenance }>(`select resource from prescription_provenance where prescription_row = $1 order by recorded, id`, [rowId]);
  return r.rows.map((x) => x.resource);
}

/** Outputs made again (the dispensings remaining changed), with the Provenance of the new conversion. */
export async function replaceOutputs(
  q: Queryable,
  id: string,
  outputs: { bundle: Bundle; cda: string; atDispensings: number; decision: ExportDecision; provenance: Provenance },
): Promise<void> {
  await q.query(
    `update prescription set fhir_bundle = $2::jsonb, cda_xml = $3, outputs_at_dispensings = $4, decision = $5::jsonb, updated_at = now()
     where id = $1 and origin = 'NO'`,
    [id, JSON.stringify(outputs.bundle), outputs.cda, outputs.atDispensings, JSON.stringify(storedDecision(outputs.decision))],
  );
  await insertProvenance(q, id, outputs.provenance);
}

/** The stored M1 of a row (for a re-conversion). */
export async function sourceXmlOf(q: Queryable, id: string): Promise<string | undefined> {
  const r = await q.query<{ source_xml: string | null }>(`select source_xml from prescription where id = $1 and origin = 'NO'`, [id]);
  return r.rows[0]?.source_xml ?? undefined;
}
