import { beforeAll, describe, expect, it } from 'vitest';
import type { Patient } from '@medplum/fhirtypes';
import type { Db } from '../../src/store/db.ts';
import { upsertPatient } from '../../src/store/patients.ts';
import { PERSONAS } from '../../src/demo/personas.ts';
import { personNumberSystem, storePopulationRegistry } from '../../src/registries/population.ts';
import { engines, getTestDb } from '../support/db.ts';

const FNR = 'urn:oid:2.16.578.1.12.4.1.4.1';
const DNR = 'urn:oid:2.16.578.1.12.4.1.4.2';
// Synthetic D-nummer (day + 40, month + 80) with valid check digits, used only by this test.
const TEST_DNR = '52819012369';

describe('person number systems', () => {
  it('tells a D-nummer from a fødselsnummer by the first digit', () => {
    expect(personNumberSystem(PERSONAS.addison.fnr)).toBe(FNR);
    expect(personNumberSystem(TEST_DNR)).toBe(DNR);
    expect(personNumberSystem('1234')).toBeUndefined();
    expect(personNumberSystem('1283941007X')).toBeUndefined();
  });
});

describe.each(engines)('the store-backed population registry (%s)', (engine) => {
  let db: Db;
  const hostile: Patient & { id: string } = {
    resourceType: 'Patient',
    id: 'population-test-hostile',
    identifier: [{ system: FNR, value: PERSONAS.hostile.fnr }],
    name: [{ family: PERSONAS.hostile.family, given: [...PERSONAS.hostile.given] }],
  };
  const dnrPatient: Patient & { id: string } = {
    resourceType: 'Patient',
    id: 'population-test-dnr',
    identifier: [{ system: DNR, value: TEST_DNR }],
    name: [{ family: 'Testesen', given: ['Dina'] }],
  };
  beforeAll(async () => {
    db = await getTestDb(engine);
    await upsertPatient(db, hostile);
    await upsertPatient(db, dnrPatient);
  });

  it('returns the patient by fødselsnummer, names intact', async () => {
    const p = await storePopulationRegistry(db).byPersonNumber(PERSONAS.hostile.fnr);
    expect(p?.name?.[0]?.family).toBe(PERSONAS.hostile.family);
  });

  it('returns the patient by D-nummer', async () => {
    expect((await storePopulationRegistry(db).byPersonNumber(` ${TEST_DNR} `))?.id).toBe('population-test-dnr');
  });

  it('answers undefined for an unknown or malformed number, without querying for garbage', async () => {
    const registry = storePopulationRegistry(db);
    expect(await registry.byPersonNumber('28917510093x')).toBeUndefined();
    expect(await registry.byPersonNumber("' or 1=1 --")).toBeUndefined();
    expect(await registry.byPersonNumber('01010150000')).toBeUndefined();
  });
});
