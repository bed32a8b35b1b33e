// EU prescriptions as the EU import stores them (table `prescription`, origin 'EU', column fhir_bundle):
// the official HL7 Europe MPD example run through src/edispensation's own Bundle parser.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Bundle, MedicationRequest } from '@medplum/fhirtypes';
import { parseEuPrescriptionBundle } from '../../../src/edispensation/eu/parse-prescription-bundle.ts';
import type { Queryable } from '../../../src/store/db.ts';

const FIXTURE = new URL('../../fixtures/edispensation/Bundle-mpd-400-cefuroxime-scenario.converted.json', import.meta.url);

export const mpdBundle = (): Bundle => JSON.parse(readFileSync(FIXTURE, 'utf8')) as Bundle;

/** The first prescription item of the example: a MedicationRequest with Patient, Medication and prescriber contained. */
export function storedMpdRequest(id = 'eu-rx-1'): MedicationRequest {
  const parsed = parseEuPrescriptionBundle(mpdBundle());
  if (!parsed.ok) throw new Error('the MPD example did not parse');
  return { ...parsed.value[0]!.request, id };
}

/** Inserts an EU prescription row with a fresh id and prescription id; returns both. */
export async function insertEuPrescription(
  q: Queryable,
  o: { request?: MedicationRequest; patientFnr?: string; validUntil?: string } = {},
): Promise<{ id: string; prescriptionId: string }> {
  const id = randomUUID();
  const prescriptionId = `EP-${randomUUID().slice(0, 8)}`;
  const request = { ...(o.request ?? storedMpdRequest(id)), id, identifier: [{ system: 'urn:oid:1.2.208.176.7.2.1', value: prescriptionId }] };
  await q.query(
    `insert into prescription (id, prescription_id, origin, patient_fnr, exportable, status, dispensings_allowed, dispensings_done,
       quantity_prescribed, quantity_unit, valid_until, earliest_dispense, source_hash, fhir_bundle)
     values ($1, $2, 'EU', $3, false, 'active', 1, 0, 21, 'Vial', $4, '2024-12-06', $5, $6::jsonb)`,
    [id, prescriptionId, o.patientFnr ?? null, o.validUntil ?? '2099-12-31', `test-${id}`, JSON.stringify(request)],
  );
  return { id, prescriptionId };
}
