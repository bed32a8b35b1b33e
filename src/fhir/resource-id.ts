// Ids of the resources Helsebro maps on each call from a national source's records (they are not stored).
// Derived, not random, so the same record of the same patient has the same id on every call; the patient
// is part of the name, so two patients never share an id even when their records look alike (the same
// ICPC-2 code aggregated from KPR, say). Helsebro's own patient id goes into the name, never the
// fødselsnummer: a digest of an 11-digit number can be reversed by trying them all.
import { hash } from 'node:crypto';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A name-based UUID (RFC 9562 version 8, from SHA-256 of the parts), so it also serves as a urn:uuid. */
export function derivedUuid(...parts: readonly string[]): string {
  // The one-shot hash straight to hex: a summary derives dozens of ids, and a Hash object, or a Buffer
  // digest, per id costs two to three times as much. The version (8) and variant (10xx) bits are set on the
  // hex digits that hold them.
  const hex = hash('sha256', parts.join('\u0000'), 'hex');
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The id of the resource mapped from one source record (`kind` names the source and resource, e.g. kj-allergy). */
export const recordId = (patientId: string, kind: string, recordKey: string): string => derivedUuid('record', patientId, kind, recordKey);

/**
 * The id of the Patient (or, with `role`, of another resource every document of this patient carries, such
 * as its author Device) inside the patient's summary documents: stable, so a receiver can match documents.
 */
export const documentPatientId = (patientId: string, role = 'patient'): string => derivedUuid('document', role, patientId);

export const isUuid = (id: string | undefined): id is string => id !== undefined && UUID.test(id);
