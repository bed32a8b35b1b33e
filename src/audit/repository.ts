// The audit_event table (migration 0010): insert and search, nothing else. There is deliberately no update
// or delete function, and the table's triggers refuse both anyway.
import { randomUUID } from 'node:crypto';
import type { AuditEvent } from '@medplum/fhirtypes';
import type { Queryable } from '../store/db.ts';
import { turnBatcher } from '../store/turn-batch.ts';
import { auditPatientKeys } from './build.ts';
import { observeAuditWrite, secondsSince } from '../metrics/registry.ts';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Stores one AuditEvent. Pass the transaction's Queryable for a write, so the event commits or rolls back
 * with the data; for a read, await it before sending the response. Returns the event with its id.
 */
export async function recordAudit(q: Queryable, event: AuditEvent): Promise<AuditEvent & { id: string }> {
  const id = event.id && UUID_RE.test(event.id) ? event.id : randomUUID();
  const stored = { ...event, id };
  const recorded = new Date(stored.recorded);
  if (Number.isNaN(recorded.getTime())) throw new Error('AuditEvent.recorded is not a valid instant');
  if (!stored.action || !stored.outcome) throw new Error('AuditEvent needs action and outcome');
  const requestId = stored.entity?.find((e) => e.type?.code === 'XrequestId')?.what?.identifier?.value;
  if (!requestId) throw new Error('AuditEvent needs the request id entity');
  const patient = auditPatientKeys(stored);
  const started = process.hrtime.bigint();
  await insertRow(q, [id, recorded.toISOString(), patient.id ?? null, patient.fnr ?? null, stored.action, stored.outcome, requestId, JSON.stringify(stored)]);
  observeAuditWrite(secondsSince(started));
  return stored;
}

// Group commit. Every request writes its event before it answers, so under load the events of the
// requests in flight at once reach the store within the same turn of the event loop. Those that share a
// Queryable (src/store/turn-batch.ts) go as one multi-row INSERT: one statement, one
// commit and one WAL flush instead of one each, which is most of what an event costs the store. Each
// caller still waits for its own row's commit; nothing is held back past the turn it was written in.
type AuditRow = [string, string, string | null, string | null, string, string, string, string];

interface PendingRow {
  row: AuditRow;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Rows per statement: a busy turn's worth, small enough that one statement never holds many up. */
const MAX_ROWS = 64;

const INSERT_ONE = `insert into audit_event (id, recorded, patient_id, patient_fnr, action, outcome, request_id, resource)
  values ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)`;

// Columns travel as text arrays (both engines serialise those the same way) and are cast back here.
const INSERT_MANY = `insert into audit_event (id, recorded, patient_id, patient_fnr, action, outcome, request_id, resource)
  select r.id::uuid, r.recorded::timestamptz, r.patient_id, r.patient_fnr, r.action, r.outcome, r.request_id, r.resource::jsonb
  from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
    as r(id, recorded, patient_id, patient_fnr, action, outcome, request_id, resource)`;

function insertRow(q: Queryable, row: AuditRow): Promise<void> {
  return new Promise((resolve, reject) => enqueue(q, { row, resolve, reject }));
}

const enqueue = turnBatcher<PendingRow>((q, batch) => {
  for (let i = 0; i < batch.length; i += MAX_ROWS) void insertRows(q, batch.slice(i, i + MAX_ROWS));
});

async function insertAlone(q: Queryable, p: PendingRow): Promise<void> {
  try {
    await q.query(INSERT_ONE, p.row, { prepare: true });
    p.resolve();
  } catch (err) {
    p.reject(err);
  }
}

async function insertRows(q: Queryable, batch: PendingRow[]): Promise<void> {
  if (batch.length === 1) return insertAlone(q, batch[0]!);
  const columns = batch[0]!.row.map((_, c) => batch.map((p) => p.row[c]));
  try {
    await q.query(INSERT_MANY, columns, { prepare: true });
    for (const p of batch) p.resolve();
  } catch {
    // The statement is all or nothing: one row the table refuses must not fail the events that travelled
    // with it, so each is written again alone and only the bad one fails.
    for (const p of batch) void insertAlone(q, p);
  }
}

export interface AuditQuery {
  /** Events about this patient, matched by fødselsnummer or by Helsebro id (either matches when both are given). */
  patientFnr?: string | undefined;
  patientId?: string | undefined;
  /** Inclusive lower bound on `recorded`. */
  since?: Date | undefined;
  /** Exclusive upper bound on `recorded`. */
  until?: Date | undefined;
  /**
   * Snapshot bound (inclusive) on `recorded`: pages of one search all see the log as it was when its first
   * page was read, so events written meanwhile (reading the log writes one) neither shift pages nor `total`.
   */
  asOf?: Date | undefined;
  /** Keyset position: only events older than this one, in (recorded, id) order. */
  after?: AuditPosition | undefined;
  count: number;
  offset: number;
}

export interface AuditPosition {
  recorded: Date;
  id: string;
}

export interface AuditPage {
  /** Number of matching events; only computed for a patient's log (counting the whole log is not cheap). */
  total?: number;
  events: AuditEvent[];
}

export const MAX_AUDIT_COUNT = 1000;

/** Newest first. A patient's log uses the (patient, recorded) indexes; without a patient, the recorded index. */
export async function searchAudit(q: Queryable, query: AuditQuery): Promise<AuditPage> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (value: unknown): string => {
    params.push(value);
    return `$${params.length}`;
  };
  const byPatient = query.patientFnr !== undefined || query.patientId !== undefined;
  if (query.patientFnr !== undefined && query.patientId !== undefined) {
    where.push(`(patient_fnr = ${add(query.patientFnr)} or patient_id = ${add(query.patientId)})`);
  } else if (query.patientFnr !== undefined) {
    where.push(`patient_fnr = ${add(query.patientFnr)}`);
  } else if (query.patientId !== undefined) {
    where.push(`patient_id = ${add(query.patientId)}`);
  }
  if (query.since) where.push(`recorded >= ${add(query.since.toISOString())}`);
  if (query.until) where.push(`recorded < ${add(query.until.toISOString())}`);
  if (query.asOf) where.push(`recorded <= ${add(query.asOf.toISOString())}`);
  const clause = where.length ? `where ${where.join(' and ')}` : '';
  const totalParams = [...params];
  const count = Math.max(0, Math.min(MAX_AUDIT_COUNT, Math.floor(query.count)));
  const offset = Math.max(0, Math.floor(query.offset));
  const keyset = query.after
    ? `${clause ? `${clause} and` : 'where'} (recorded, id) < (${add(query.after.recorded.toISOString())}::timestamptz, ${add(query.after.id)}::uuid)`
    : clause;

  // A patient's first page counts the log in the same pass (the window sees every match before the limit),
  // so the patient's rows are read once, in one round trip; a keyset page or a page past the end counts apart.
  const together = byPatient && !query.after;
  const rows = await q.query<{ resource: AuditEvent; total?: number }>(
    `select resource${together ? ', count(*) over ()::int as total' : ''} from audit_event ${keyset}
     order by recorded desc, id desc limit ${add(count)} offset ${add(offset)}`,
    params,
    // A handful of shapes (which filters are present), each planned once per connection instead of on
    // every read: planning over every monthly partition costs more than reading a patient's rows.
    { prepare: true },
  );
  const page: AuditPage = { events: rows.rows.map((r) => r.resource) };
  if (together && rows.rows[0]?.total !== undefined) page.total = rows.rows[0].total;
  else if (byPatient) {
    const total = await q.query<{ n: number }>(`select count(*)::int as n from audit_event ${clause}`, totalParams, { prepare: true });
    page.total = total.rows[0]?.n ?? 0;
  }
  return page;
}
