// The patient-level facts the access rules decide on, from the sources that hold them: address protection
// and guardianship from the population register (Folkeregisteret), reservations from Kjernejournal's
// status call. Both are asked in parallel under one deadline. A source that cannot answer never turns into
// "no reservation, no restriction": the facts then fail closed (address withheld, guardians refused).
import type { PatientFacts, Restriction } from '../auth/access-rules.ts';
import type { Logger } from '../log.ts';
import { populationFacts, readFregPerson, type FolkeregisteretClient, type PopulationFacts } from '../registries/folkeregisteret/index.ts';
import type { KjernejournalClient } from '../sources/kjernejournal/client.ts';
import { parseStatus } from '../sources/kjernejournal/parse.ts';
import type { KjStatus } from '../sources/kjernejournal/types.ts';
import type { Db } from '../store/db.ts';

export interface PatientFactSources {
  population: FolkeregisteretClient;
  kjernejournal: KjernejournalClient;
  timeoutMs: number;
  log?: Logger | undefined;
}

/** What each source said: its facts, `absent` (it does not know the person), or `failed`. */
export type Answer<T> = { facts: T } | 'absent' | 'failed';

const GRADE = { strengtFortrolig: 'strengt-fortrolig', fortrolig: 'fortrolig' } as const;

/** Combines the sources' answers into the rules' facts (pure). */
export function combinePatientFacts(patient: { id: string; fnr: string }, population: Answer<PopulationFacts>, kj: Answer<KjStatus>): PatientFacts {
  const restrictions: Restriction[] = [];
  let guardians: string[] | undefined;
  if (population === 'failed') {
    restrictions.push({ kind: 'confidential-address', grade: 'unknown' });
    guardians = [];
  } else if (population === 'absent') {
    guardians = [];
  } else {
    const grade = population.facts.addressProtection;
    if (grade !== 'ugradert') restrictions.push({ kind: 'confidential-address', grade: GRADE[grade] });
    guardians = population.facts.representatives.map((r) => r.personNumber);
  }
  const privacy = typeof kj === 'object' ? kj.facts.privacySetting : undefined;
  return {
    id: patient.id,
    fnr: patient.fnr,
    kjernejournalReserved: privacy?.hasReservationKjernejournal === true,
    // Unknown is treated as reserved: a guardian sees nothing rather than what the child may have reserved.
    guardianAccessReserved: kj === 'failed' || privacy?.hasGuardianAccessReservation === true,
    restrictions,
    guardians,
  };
}

/** The AppDeps.patientFacts dependency over the two sources. */
export function patientFactsFrom(sources: PatientFactSources): (db: Db, patient: { id: string; fnr: string }) => Promise<PatientFacts> {
  return async (_db, patient) => {
    const signal = AbortSignal.timeout(sources.timeoutMs);
    const [population, kj] = await Promise.all([
      answer('population register', sources, async () => {
        const raw = await sources.population.person(patient.fnr, signal);
        return raw === undefined ? undefined : populationFacts(readFregPerson(raw, patient.fnr), patient.fnr);
      }),
      // Kjernejournal answers for anyone; a person it has never heard of has no privacy settings.
      answer('kjernejournal status', sources, async () => parseStatus(await sources.kjernejournal.status(patient.fnr, signal), patient.fnr)),
    ]);
    return combinePatientFacts(patient, population, kj);
  };
}

async function answer<T>(source: string, sources: PatientFactSources, ask: () => Promise<T | undefined>): Promise<Answer<T>> {
  try {
    const facts = await ask();
    return facts === undefined ? 'absent' : { facts };
  } catch (err) {
    // The reason, never the upstream text (it may hold personal data).
    sources.log?.warn({ source, error: err instanceof Error ? err.name : 'error' }, 'patient facts source failed; failing closed');
    return 'failed';
  }
}
