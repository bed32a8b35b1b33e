// The population registry (Folkeregisteret): patient details by fødselsnummer or D-nummer. Demo mode
// reads the patients Helsebro already holds (store table `patient`, seeded from the demo population);
// production plugs in a remote source behind the same interface.
import type { Patient } from '@medplum/fhirtypes';
import type { Queryable } from '../store/db.ts';
import { findPatientByIdentifier } from '../store/patients.ts';

// The identifier systems of DOMAIN.md ("Identifiers"); repeated here because registries/ sits below fhir/.
const FNR_SYSTEM = 'urn:oid:2.16.578.1.12.4.1.4.1';
const DNR_SYSTEM = 'urn:oid:2.16.578.1.12.4.1.4.2';

export interface PopulationRegistry {
  /** The person with this fødselsnummer or D-nummer, or undefined when not registered. */
  byPersonNumber(personNumber: string, opts?: { signal?: AbortSignal }): Promise<Patient | undefined>;
}

/** A D-nummer has 4-7 in its first digit (day + 40); anything else of 11 digits is read as a fødselsnummer. */
export function personNumberSystem(personNumber: string): string | undefined {
  if (!/^\d{11}$/.test(personNumber)) return undefined;
  return Number(personNumber[0]) >= 4 && Number(personNumber[0]) <= 7 ? DNR_SYSTEM : FNR_SYSTEM;
}

/** The registry over the store's patient table, by the indexed identifier (system, value). */
export function storePopulationRegistry(q: Queryable): PopulationRegistry {
  return {
    byPersonNumber: async (personNumber) => {
      const value = personNumber.trim();
      const system = personNumberSystem(value);
      if (!system) return undefined;
      return findPatientByIdentifier(q, system, value);
    },
  };
}
