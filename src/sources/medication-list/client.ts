// How Helsebro asks for the medication list: SFM Basis API `POST [base]/Patient/$getMedication`. The live
// HTTP client and the demo store (demo-store.ts) share this interface and both return the raw answer;
// the adapter validates it.
import type { HumanName, Address, Patient } from '@medplum/fhirtypes';
import { OID } from '../../fhir/identifiers.ts';
import { fetchJson, joinUrl, type HeaderProvider } from '../http.ts';
import type { PatientKey } from '../source.ts';

export interface MedicationListClient {
  getMedication(patient: PatientKey, signal: AbortSignal): Promise<unknown>;
}

export interface MedicationListHttpOptions {
  baseUrl: string;
  /** Authorization (HelseID) and any other headers the deployment needs. */
  headers?: HeaderProvider;
}

/** The sfm-Patient input: SFM wants name and address besides the identifier. */
export function sfmPatient(patient: PatientKey): Patient {
  const r = patient.resource;
  const name: HumanName[] | undefined = r?.name?.length ? r.name : undefined;
  const address: Address[] | undefined = r?.address?.length ? r.address : undefined;
  return {
    resourceType: 'Patient',
    identifier: [{ system: OID.fnr, value: patient.fnr }],
    ...(name ? { name } : {}),
    ...(address ? { address } : {}),
    ...(r?.birthDate ? { birthDate: r.birthDate } : {}),
    ...(r?.gender ? { gender: r.gender } : {}),
  };
}

export function medicationListHttpClient(opts: MedicationListHttpOptions): MedicationListClient {
  return {
    async getMedication(patient, signal) {
      return fetchJson(joinUrl(opts.baseUrl, 'Patient/$getMedication'), {
        method: 'POST',
        headers: { 'content-type': 'application/fhir+json', ...(await opts.headers?.()) },
        body: { resourceType: 'Parameters', parameter: [{ name: 'patient', resource: sfmPatient(patient) }] },
        signal,
      });
    },
  };
}
