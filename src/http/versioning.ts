// Versioned reads (FHIR REST: read, conditional read). Helsebro keeps no history, so a resource's
// versionId is a digest of its content: it changes exactly when the content does, on every node alike.
// meta.lastUpdated comes from the store where the repository knows it. A read answers with ETag (weak,
// W/"versionId") and Last-Modified, and a client that already has that version gets 304 Not Modified.
import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Resource } from '@medplum/fhirtypes';
import type { FhirResponse } from './types.ts';

/** The resource with meta.versionId set from its content (meta.versionId and lastUpdated left out of the digest). */
export function withVersionId<T extends Resource>(resource: T): T {
  const { versionId: _v, lastUpdated: _l, ...meta } = resource.meta ?? {};
  const content = JSON.stringify({ ...resource, meta }, sortedKeys);
  const versionId = createHash('sha256').update(content).digest('hex').slice(0, 16);
  return { ...resource, meta: { ...resource.meta, versionId } };
}

/** Keys in sorted order, so the digest does not depend on the order jsonb hands them back in. */
function sortedKeys(_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

export const etagOf = (versionId: string): string => `W/"${versionId}"`;

/** A 200 read with versionId, ETag and Last-Modified; or 304 when the client's copy is current. */
export function versionedRead(result: FhirResponse & { resource: Resource }, headers: IncomingHttpHeaders): FhirResponse {
  const resource = withVersionId(result.resource);
  const versionId = resource.meta!.versionId!;
  const lastUpdated = resource.meta?.lastUpdated ? new Date(resource.meta.lastUpdated) : undefined;
  const validators: Record<string, string> = { ETag: etagOf(versionId) };
  if (lastUpdated && !Number.isNaN(lastUpdated.getTime())) validators['Last-Modified'] = lastUpdated.toUTCString();
  if (notModified(headers, versionId, lastUpdated)) {
    return { status: 304, body: '', contentType: 'application/fhir+json; charset=utf-8', headers: { ...result.headers, ...validators } };
  }
  return { ...result, resource, headers: { ...result.headers, ...validators } };
}

/** RFC 9110 13.1.2-13.1.3: If-None-Match (weak comparison) decides when present; If-Modified-Since otherwise. */
function notModified(headers: IncomingHttpHeaders, versionId: string, lastUpdated: Date | undefined): boolean {
  const inm = headers['if-none-match'];
  if (inm !== undefined) {
    const tags = String(inm).split(',').map((t) => t.trim());
    return tags.some((t) => t === '*' || t.replace(/^W\//, '') === `"${versionId}"`);
  }
  const ims = headers['if-modified-since'];
  if (ims === undefined || !lastUpdated) return false;
  const since = Date.parse(String(ims));
  // HTTP dates have whole seconds: compare at that precision.
  return !Number.isNaN(since) && Math.floor(lastUpdated.getTime() / 1000) * 1000 <= since;
}
