// Folkeregisteret's stand-in for demo mode: person documents in the register's own shape, so the demo runs
// the same validation and reading code as the live register. The personas' documents are written here
// (with the facts the demo needs: a strengt fortrolig address, parents with parental responsibility);
// anyone else in the demo population is answered from the store's patient table, as an ordinary resident.
import type { Patient } from '@medplum/fhirtypes';
import { PERSONA_LIST, PERSONAS, type Persona } from '../../demo/personas.ts';
import type { Queryable } from '../../store/db.ts';
import { findPatientByIdentifier } from '../../store/patients.ts';
import { personNumberSystem } from '../population.ts';
import type { FolkeregisteretClient } from './client.ts';
import type { FregPerson, Gradering } from './types.ts';

/** The mother of the confidential-address persona: in the register (she holds parental responsibility), not a patient. */
export const CONFIDENTIAL_MOTHER_FNR = '02918212003';

interface DemoExtras {
  protection?: Gradering;
  /** Holders of parental responsibility (foreldreansvar) for a minor. */
  parents?: { fnr: string; ansvar: 'felles' | 'mor' | 'far' }[];
  /** A guardian (verge) appointed for an adult. */
  verge?: string;
}

const EXTRAS: Partial<Record<string, DemoExtras>> = {
  [PERSONAS.child.fnr]: { parents: [{ fnr: PERSONAS.addison.fnr, ansvar: 'felles' }, { fnr: PERSONAS.knee.fnr, ansvar: 'felles' }] },
  [PERSONAS.confidential.fnr]: { protection: 'strengtFortrolig', parents: [{ fnr: CONFIDENTIAL_MOTHER_FNR, ansvar: 'mor' }] },
  // An adult with an appointed guardian (vergemål): the demo's guardian acting for a grown-up patient.
  [PERSONAS.addison.fnr]: { verge: PERSONAS.knee.fnr },
};

const gjeldende = { erGjeldende: true } as const;

interface Resident {
  fnr: string;
  given: readonly string[];
  family?: string | undefined;
  gender?: 'male' | 'female' | 'other' | 'unknown' | undefined;
  birthDate?: string | undefined;
  city?: string | undefined;
  postalCode?: string | undefined;
}

/** One resident as the register would answer for them (JSON, before validation). */
export function demoPersonDocument(r: Resident, extras: DemoExtras = {}): FregPerson {
  return {
    identifikasjonsnummer: [{ ...gjeldende, foedselsEllerDNummer: r.fnr, identifikatortype: personNumberSystem(r.fnr)?.endsWith('.2') ? 'dNummer' : 'foedselsnummer', status: 'iBruk' }],
    navn: [{ ...gjeldende, fornavn: r.given.join(' '), ...(r.family ? { etternavn: r.family } : {}) }],
    ...(r.gender === 'male' || r.gender === 'female' ? { kjoenn: [{ ...gjeldende, kjoenn: r.gender === 'female' ? ('kvinne' as const) : ('mann' as const) }] } : {}),
    ...(r.birthDate ? { foedsel: [{ ...gjeldende, foedselsdato: r.birthDate }] } : {}),
    ...(r.city || r.postalCode
      ? { bostedsadresse: [{ ...gjeldende, vegadresse: { poststed: { ...(r.city ? { poststedsnavn: r.city } : {}), ...(r.postalCode ? { postnummer: r.postalCode } : {}) } } }] }
      : {}),
    adressebeskyttelse: [{ ...gjeldende, graderingsnivaa: extras.protection ?? 'ugradert' }],
    ...(extras.parents ? { foreldreansvar: extras.parents.map((p) => ({ ...gjeldende, ansvar: p.ansvar, ansvarlig: p.fnr, ansvarssubjekt: r.fnr })) } : {}),
    ...(extras.verge ? { vergemaalEllerFremtidsfullmakt: [{ ...gjeldende, type: 'voksen', verge: { foedselsEllerDNummer: extras.verge, omfang: 'personligeOgOekonomiskeInteresser' } }] } : {}),
  };
}

/** A persona's register document. */
export const personaDocument = (p: Persona): FregPerson => demoPersonDocument(p, EXTRAS[p.fnr]);

const MOTHER: Resident = { fnr: CONFIDENTIAL_MOTHER_FNR, given: ['Hilde'], family: 'Vik', gender: 'female', birthDate: '1982-11-02', city: 'Narvik', postalCode: '8514' };

function residentOf(p: Patient, fnr: string): Resident {
  const name = p.name?.[0];
  const address = p.address?.[0];
  return { fnr, given: name?.given ?? [], family: name?.family, gender: p.gender, birthDate: p.birthDate, city: address?.city, postalCode: address?.postalCode };
}

/** The register over the personas' documents, then the store's patient table (ordinary residents). */
export function folkeregisteretDemoClient(db: Queryable): FolkeregisteretClient {
  const byNumber = new Map<string, FregPerson>(PERSONA_LIST.map((p) => [p.fnr, personaDocument(p)]));
  byNumber.set(MOTHER.fnr, demoPersonDocument(MOTHER, { protection: 'strengtFortrolig' }));
  return {
    async person(personNumber, signal) {
      signal.throwIfAborted();
      const known = byNumber.get(personNumber);
      if (known) return known;
      const system = personNumberSystem(personNumber);
      const patient = system ? await findPatientByIdentifier(db, system, personNumber) : undefined;
      return patient ? demoPersonDocument(residentOf(patient, personNumber)) : undefined;
    },
  };
}
