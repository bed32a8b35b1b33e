import { describe, expect, it } from 'vitest';
import {
  DEMO_HPR,
  chainPrescriberRegistries,
  demoHprRegistry,
  hprRegistryFromTable,
  normaliseHpr,
  prescribingAuthorization,
  type HprPerson,
  type PrescriberRegistry,
} from '../../src/registries/hpr.ts';

describe('HPR numbers', () => {
  it('normalises the padded numbers messages carry and refuses anything else', () => {
    expect(normaliseHpr('009144889')).toBe('9144889');
    expect(normaliseHpr(' 431002737 ')).toBe('431002737');
    expect(normaliseHpr('000000000')).toBeUndefined();
    expect(normaliseHpr('12345678901')).toBeUndefined();
    expect(normaliseHpr('43100273X')).toBeUndefined();
    expect(normaliseHpr('<script>')).toBeUndefined();
    expect(normaliseHpr('')).toBeUndefined();
  });
});

describe('the demo HPR registry', () => {
  const hpr = demoHprRegistry();

  it('knows the prescriber of the official sample M1 (Anja Fos Eidsvik, 431002737)', async () => {
    const p = await hpr.byHpr('431002737');
    expect(p).toMatchObject({ family: 'Eidsvik', given: ['Anja', 'Fos'] });
    expect(p?.authorizations[0]?.category.code).toBe('LE');
  });

  it('finds the zero-padded HPR number of the M96 sample', async () => {
    expect((await hpr.byHpr('009144889'))?.family).toBe('Koman');
  });

  it('answers undefined for an unknown or malformed number', async () => {
    expect(await hpr.byHpr('111111111')).toBeUndefined();
    expect(await hpr.byHpr("1' or '1'='1")).toBeUndefined();
  });

  it('keeps hostile names as data', async () => {
    const p = await hpr.byHpr('565502510');
    expect(p?.family).toContain('<script>');
    expect(p?.workplaces[0]?.name).toBe('Ålesund <legesenter> & co');
  });

  it('has unique HPR numbers, each already normalised', () => {
    const numbers = DEMO_HPR.map((p) => p.hpr);
    expect(new Set(numbers).size).toBe(numbers.length);
    for (const n of numbers) expect(normaliseHpr(n)).toBe(n);
  });
});

describe('prescribing rights', () => {
  it('finds the authorisation valid on the prescription date', async () => {
    const nurse = await demoHprRegistry().byHpr('565502496');
    if (!nurse) throw new Error('demo person missing');
    // Her doctor authorisation ended 2019-12-31; after that only the nurse's limited right remains.
    expect(prescribingAuthorization(nurse, '2019-06-01')?.prescribingRight).toBe('limited');
    expect(prescribingAuthorization(nurse, '2026-11-23T10:00:00+01:00')?.category.code).toBe('SP');
    const doctorOnly: HprPerson = { ...nurse, authorizations: nurse.authorizations.filter((a) => a.category.code === 'LE') };
    expect(prescribingAuthorization(doctorOnly, '2019-12-31')?.prescribingRight).toBe('full');
    expect(prescribingAuthorization(doctorOnly, '2020-01-01')).toBeUndefined();
  });

  it('gives a pharmacist no prescribing right', async () => {
    const pharmacist = await demoHprRegistry().byHpr('565502372');
    expect(pharmacist && prescribingAuthorization(pharmacist, '2026-01-01')).toBeUndefined();
  });
});

describe('chained registries', () => {
  const remoteKnows = (numbers: string[]): PrescriberRegistry & { calls: string[] } => {
    const calls: string[] = [];
    return {
      calls,
      byHpr: async (hpr) => {
        calls.push(hpr);
        return numbers.includes(hpr) ? { hpr, given: ['Remote'], family: 'Person', authorizations: [], specialities: [], workplaces: [] } : undefined;
      },
    };
  };

  it('asks the remote source first and falls back to the table', async () => {
    const remote = remoteKnows(['7777777']);
    const chain = chainPrescriberRegistries(remote, hprRegistryFromTable(DEMO_HPR));
    expect((await chain.byHpr('7777777'))?.given).toEqual(['Remote']);
    expect((await chain.byHpr('431002737'))?.family).toBe('Eidsvik');
    expect(remote.calls).toEqual(['7777777', '431002737']);
  });

  it('passes a failing source on as a failure, not as "unknown"', async () => {
    const failing: PrescriberRegistry = { byHpr: () => Promise.reject(new Error('HPR service unavailable')) };
    await expect(chainPrescriberRegistries(failing, demoHprRegistry()).byHpr('431002737')).rejects.toThrow('unavailable');
  });
});
