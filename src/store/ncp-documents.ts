// Repository of the documents made on demand for the NCP (migration 0130): stored with their size and
// SHA-1, read back by id until they expire, and only by the caller they were made for.
import type { Queryable } from './db.ts';

export interface NcpDocument {
  id: string;
  patientId: string;
  kind: 'ps';
  level: 1 | 3;
  requester: string;
  lang: string;
  contentType: string;
  content: string;
  size: number;
  /** Base64 SHA-1 of the content bytes, as FHIR Attachment.hash has it. */
  sha1: string;
  title: string;
  /** The Level 3 document a Level 1 document renders. */
  transforms?: string | undefined;
  createdAt: string;
  expiresAt: string;
}

interface Row {
  id: string;
  patient_id: string;
  kind: 'ps';
  level: number;
  requester: string;
  lang: string;
  content_type: string;
  content: string;
  size: number;
  sha1: string;
  title: string;
  transforms: string | null;
  created_at: Date | string;
  expires_at: Date | string;
}

const iso = (v: Date | string): string => (v instanceof Date ? v : new Date(v)).toISOString();

const fromRow = (r: Row): NcpDocument => ({
  id: r.id,
  patientId: r.patient_id,
  kind: r.kind,
  level: r.level === 1 ? 1 : 3,
  requester: r.requester,
  lang: r.lang,
  contentType: r.content_type,
  content: r.content,
  size: Number(r.size),
  sha1: r.sha1,
  title: r.title,
  ...(r.transforms ? { transforms: r.transforms } : {}),
  createdAt: iso(r.created_at),
  expiresAt: iso(r.expires_at),
});

/** Stores documents and drops the expired ones (keeps the table as small as the retrieval window). */
export async function storeNcpDocuments(q: Queryable, docs: readonly NcpDocument[], now: Date): Promise<void> {
  await q.query('delete from ncp_document where expires_at < $1', [now.toISOString()]);
  for (const d of docs) {
    await q.query(
      `insert into ncp_document (id, patient_id, kind, level, requester, lang, content_type, content, size, sha1, title, transforms, created_at, expires_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
      [d.id, d.patientId, d.kind, d.level, d.requester, d.lang, d.contentType, d.content, d.size, d.sha1, d.title, d.transforms ?? null, d.createdAt, d.expiresAt],
    );
  }
}

/** A document that has not expired, or undefined. */
export async function readNcpDocument(q: Queryable, id: string, now: Date): Promise<NcpDocument | undefined> {
  const r = await q.query<Row>('select * from ncp_document where id = $1 and expires_at >= $2', [id, now.toISOString()]);
  return r.rows[0] ? fromRow(r.rows[0]) : undefined;
}
