// The population registry (Folkeregisteret): patient details by fødselsnummer or D-nummer, from the patients
// Helsebro holds (store table `patient`), and the person's address protection from the register itself
// (folkeregisteret/: the live register or its demo stand-in), asked every time because it can change.
import type { Patient } from '@medplum/fhirtypes';
import type { Queryable } from '../store/db.ts';
import { findPatientByIdentifier } from '../store/patients.ts';
import type { FolkeregisteretClient } from './folkeregisteret/client.ts';
import { addressProtection, readFregPerson } from './folkeregisteret/read.ts';
import type { Gradering } from './folkeregisteret/types.ts';

// The identifier systems of DOMAIN.md ("Identifiers"); repeated here because registries/ sits below fhir/.
const FNR_SYSTEM = 'urn:oid:2.16.578.1.12.4.1.4.1';
const DNR_SYSTEM = 'urn:oid:2.16.578.1.12.4.1.4.2';

export interface PopulationRegistry {
  /** The person with this fødselsnummer or D-nummer, or undefined when not registered. */
  byPersonNumber(personNumber: string, opts?: { signal?: AbortSignal }): Promise<Patient | undefined>;
  /**
   * The person's address protection; `ugradert` for a person the register does not know. Throws when the
   * register cannot be asked: callers then withhold the address. Absent on a registry that has no
   * register behind it (the offline converter), where the message's own data are all there is.
   */
  addressProtection?(personNumber: string, opts?: { signal?: AbortSignal }): Promise<Gradering>;
}

/** A D-nummer has 4-7 in its first digit (day + 40); anything else of 11 digits is read as a fødselsnummer. */
export function personNumberSystem(personNumber: string): string | undefined {
  if (!/^\d{11}$/.test(personNumber)) return undefined;
  return Number(personNumber[0]) >= 4 && Number(personNumber[0]) <= 7 ? DNR_SYSTEM : FNR_SYSTEM;
}

/** The registry over the store's patient table, by the indexed identifier (system, value), with the register's protection. */
export function storePopulationRegistry(q: Queryable, register?: FolkeregisteretClient): PopulationRegistry {
  return {
    ...(register
      ? {
          addressProtection: async (personNumber: string, opts?: { signal?: AbortSignal }) => {
            const value = personNumber.trim();
            const raw = await register.person(value, opts?.signal ?? AbortSignal.timeout(5000));
            return raw === undefined ? 'ugradert' : addressProtection(readFregPerson(raw, value));
          },
        }
      : {}),
    byPersonNumber: async (personNumber) => {
      const value = personNumber.trim();
      const system = personNumberSystem(value);
      if (!system) return undefined;
      return findPatientByIdentifier(q, system, value);
    },
  };
}
