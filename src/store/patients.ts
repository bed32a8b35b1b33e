// Patient repository: the Patient resource plus its identifiers as token-searchable rows.
import type { Patient } from '@medplum/fhirtypes';
import { readJson } from './coalesce.ts';
import type { Queryable } from './db.ts';

export async function upsertPatient(q: Queryable, patient: Patient & { id: string }): Promise<void> {
  await q.query(
    `insert into patient (id, resource, updated_at) values ($1, $2::jsonb, now())
     on conflict (id) do update set resource = excluded.resource,
       updated_at = case when patient.resource = excluded.resource then patient.updated_at else now() end`,
    [patient.id, JSON.stringify(patient)],
  );
  await q.query('delete from patient_identifier where patient_id = $1', [patient.id]);
  for (const ident of patient.identifier ?? []) {
    if (!ident.system || !ident.value) continue;
    await q.query(
      `insert into patient_identifier (system, value, patient_id) values ($1, $2, $3)
       on conflict (system, value) do update set patient_id = excluded.patient_id`,
      [ident.system, ident.value, patient.id],
    );
  }
}

interface PatientRow {
  resource: Patient;
  updated_at: Date | string;
}

/**
 * jsonb stores keys in its own order; put resourceType and id first again for readable output. The row's
 * updated_at (moved only when the content changes) is the resource's meta.lastUpdated.
 */
function ordered(row: PatientRow): Patient {
  const { resourceType, id, meta, ...rest } = row.resource;
  return { resourceType, id, meta: { ...meta, lastUpdated: new Date(row.updated_at).toISOString() }, ...rest };
}

// One json value each, so a read travels with whatever else is asked in the same round of the event loop (readJson).
export async function readPatient(q: Queryable, id: string): Promise<Patient | undefined> {
  const row = await readJson<PatientRow>(q, `select json_build_object('resource', resource, 'updated_at', updated_at) from patient where id = $1`, [id]);
  return row ? ordered(row) : undefined;
}

export async function findPatientByIdentifier(q: Queryable, system: string, value: string): Promise<Patient | undefined> {
  const row = await readJson<PatientRow>(
    q,
    `select json_build_object('resource', p.resource, 'updated_at', p.updated_at) from patient_identifier i join patient p on p.id = i.patient_id
     where i.system = $1 and i.value = $2`,
    [system, value],
  );
  return row ? ordered(row) : undefined;
}

export interface IdentifierToken {
  /** undefined matches any system. */
  system?: string | undefined;
  /** undefined matches any value. */
  value?: string | undefined;
}

export interface PatientQuery {
  /** Token search: a patient matches when any of its identifiers matches any of these (FHIR comma OR). */
  identifiers?: readonly IdentifierToken[] | undefined;
  /** Helsebro ids, any of them. */
  ids?: readonly string[] | undefined;
  /** Only the patient with this identifier, whatever else the search asks (a citizen searching finds at most themself). */
  confinedTo?: { system: string; value: string } | undefined;
  count: number;
  offset: number;
}

export interface PatientPage {
  total: number;
  patients: Patient[];
}

export async function searchPatients(q: Queryable, query: PatientQuery): Promise<PatientPage> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (v: unknown): string => {
    params.push(v);
    return `$${params.length}`;
  };
  if (query.ids !== undefined) where.push(`p.id = any(${add([...query.ids])}::text[])`);
  if (query.identifiers !== undefined) {
    const alternatives = query.identifiers.map((t) => {
      const cond = ['true'];
      if (t.system !== undefined) cond.push(`i.system = ${add(t.system)}`);
      if (t.value !== undefined) cond.push(`i.value = ${add(t.value)}`);
      return `(${cond.join(' and ')})`;
    });
    where.push(`exists (select 1 from patient_identifier i where i.patient_id = p.id and (${alternatives.join(' or ') || 'false'}))`);
  }
  if (query.confinedTo !== undefined) {
    where.push(`exists (select 1 from patient_identifier c where c.patient_id = p.id and c.system = ${add(query.confinedTo.system)} and c.value = ${add(query.confinedTo.value)})`);
  }
  const clause = where.length ? `where ${where.join(' and ')}` : '';
  const total = await q.query<{ n: number }>(`select count(*)::int as n from patient p ${clause}`, params);
  const page = await q.query<PatientRow>(
    `select p.resource, p.updated_at from patient p ${clause} order by p.id limit $${params.length + 1} offset $${params.length + 2}`,
    [...params, query.count, query.offset],
  );
  return { total: total.rows[0]?.n ?? 0, patients: page.rows.map(ordered) };
}
