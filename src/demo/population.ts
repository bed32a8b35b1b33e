// The demo population as FHIR Patients: the personas plus generated people so that searches page.
// Generation is deterministic, so every start (and every test) sees the same population.
import type { Patient } from '@medplum/fhirtypes';
import { checkDigits, OID } from '../fhir/identifiers.ts';
import { personaDocument } from '../registries/folkeregisteret/demo.ts';
import { addressProtection, protectedAddress } from '../registries/folkeregisteret/read.ts';
import type { PopulationRegistry } from '../registries/population.ts';
import type { Persona } from './personas.ts';
import { PERSONA_LIST } from './personas.ts';

const GIVEN_F = ['Nora', 'Emma', 'Sara', 'Ingrid', 'Kari', 'Hanne', 'Maja', 'Ida', 'Solveig', 'Thea', 'Ane', 'Live'];
const GIVEN_M = ['Jakob', 'Emil', 'Noah', 'Lars', 'Ola', 'Magnus', 'Henrik', 'Sindre', 'Knut', 'Tor', 'Aksel', 'Even'];
const FAMILY = ['Hansen', 'Johansen', 'Olsen', 'Larsen', 'Andersen', 'Pedersen', 'Nilsen', 'Kristiansen', 'Jensen', 'Karlsen', 'Johnsen', 'Pettersen', 'Eriksen', 'Berg', 'Haugen', 'Hagen'];
const CITIES: [string, string][] = [['Oslo', '0150'], ['Bergen', '5003'], ['Stavanger', '4006'], ['Bodø', '8006'], ['Lillehammer', '2609'], ['Molde', '6413']];

/**
 * A persona as the FHIR Patient Helsebro holds. The address is what the population register lets out:
 * none under strengt fortrolig adresse, so that no output built from the stored patient can carry it.
 */
export function personaPatient(p: Persona): Patient & { id: string } {
  const address = protectedAddress(personaDocument(p));
  return {
    resourceType: 'Patient',
    id: p.id,
    identifier: [{ use: 'official', system: OID.fnr, value: p.fnr }],
    active: true,
    name: [{ use: 'official', family: p.family, given: [...p.given] }],
    gender: p.gender,
    birthDate: p.birthDate,
    ...(address.length ? { address } : {}),
  };
}

/**
 * The population register convert-m1 asks in demo mode, where there is no store: the personas as the
 * server's demo register knows them, so the command and the server state the same sex and withhold the same
 * addresses for them. Anyone else is not registered here, and their address protection cannot be asked: the
 * enrichment then withholds the address (fail closed) rather than read "not protected" into a stand-in.
 */
export function personaPopulationRegistry(): PopulationRegistry {
  // Worked out once, not per file: a batch asks about every file's patient, and most are no persona. For them
  // the one refusal is made once too: a new Error per file captured a stack trace each time.
  const patients = new Map(PERSONA_LIST.map((p) => [p.fnr, personaPatient(p)]));
  const grades = new Map(PERSONA_LIST.map((p) => [p.fnr, addressProtection(personaDocument(p))]));
  const notRegistered = new Error('the demo register answers for the personas only');
  return {
    byPersonNumber: async (personNumber) => {
      const p = patients.get(personNumber.trim());
      return p ? structuredClone(p) : undefined;
    },
    addressProtection: async (personNumber) => {
      const grade = grades.get(personNumber.trim());
      if (grade === undefined) throw notRegistered;
      return grade;
    },
  };
}

/** Small deterministic PRNG (mulberry32), so generated people are stable across starts. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A synthetic fødselsnummer (Tenor range, month + 80) for a birth date, with valid check digits. */
export function syntheticFnr(birthDate: string, rand: () => number): string {
  const [y, m, d] = birthDate.split('-');
  const yy = y!.slice(2);
  const year = Number(y);
  for (;;) {
    // Individual numbers 000-499 are 1900-1999 births, 500-999 (with the right year) 2000-2039.
    const base = year >= 2000 ? 500 : 0;
    const individual = String(base + Math.floor(rand() * 500)).padStart(3, '0');
    const stem = `${d}${String(Number(m) + 80)}${yy}${individual}`;
    const k = checkDigits(stem);
    if (k) return stem + k;
  }
}

export function generatedPatients(count: number, seed = 20261123): (Patient & { id: string })[] {
  const rand = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const out: (Patient & { id: string })[] = [];
  for (let i = 1; i <= count; i++) {
    const female = rand() < 0.5;
    const year = 1935 + Math.floor(rand() * 85);
    const month = 1 + Math.floor(rand() * 12);
    const day = 1 + Math.floor(rand() * 28);
    const birthDate = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
    const [city, postalCode] = pick(CITIES);
    out.push({
      resourceType: 'Patient',
      id: `gen-${String(i).padStart(5, '0')}`,
      identifier: [{ use: 'official', system: OID.fnr, value: syntheticFnr(birthDate, rand) }],
      active: true,
      name: [{ use: 'official', family: pick(FAMILY), given: [pick(female ? GIVEN_F : GIVEN_M)] }],
      gender: female ? 'female' : 'male',
      birthDate,
      address: [{ use: 'home', city, postalCode, country: 'NO' }],
    });
  }
  return out;
}

export function demoPatients(generated: number): (Patient & { id: string })[] {
  return [...PERSONA_LIST.map(personaPatient), ...generatedPatients(generated)];
}
