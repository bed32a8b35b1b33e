import { describe, expect, it } from 'vitest';
import { checkDigits, OID, parsePersonNumber, parseToken } from '../../src/fhir/identifiers.ts';
import { isProblem } from '../../src/fhir/outcomes.ts';
import { PERSONA_LIST } from '../../src/demo/personas.ts';
import { generatedPatients } from '../../src/demo/population.ts';

describe('fødselsnummer validation', () => {
  it('accepts every persona number as a synthetic fnr with the right birth date', () => {
    for (const p of PERSONA_LIST) {
      expect(parsePersonNumber(p.fnr), p.id).toEqual({ kind: 'fnr', synthetic: true, birthDate: p.birthDate });
    }
  });

  it('computes the mod-11 check digits (worked example)', () => {
    // Stem 010190123: k1 = 11 - (0*3+1*7+0*6+1*1+9*8+0*9+1*4+2*5+3*2) mod 11 = 11 - 100 mod 11 = 10 -> no valid k1.
    expect(checkDigits('010190123')).toBeUndefined();
    // Stem 010190125: sum 104, 104 mod 11 = 5, k1 = 6; k2 = 11 - (0*5+1*4+0*3+1*2+9*7+0*6+1*5+2*4+5*3+6*2) mod 11
    // = 11 - 109 mod 11 = 1.
    expect(checkDigits('010190125')).toBe('61');
    expect(parsePersonNumber('01019012561')).toEqual({ kind: 'fnr', synthetic: false, birthDate: '1990-01-01' });
  });

  it('rejects a number when any single digit is changed', () => {
    const fnr = PERSONA_LIST[1]!.fnr;
    for (let i = 0; i < 11; i++) {
      const d = Number(fnr[i]);
      const changed = fnr.slice(0, i) + String((d + 1) % 10) + fnr.slice(i + 1);
      expect(parsePersonNumber(changed), `digit ${i}`).toBeUndefined();
    }
  });

  it('rejects wrong length, letters and impossible dates', () => {
    expect(parsePersonNumber('0588661001')).toBeUndefined();
    expect(parsePersonNumber('058866100199')).toBeUndefined();
    expect(parsePersonNumber('0588661001x')).toBeUndefined();
    expect(parsePersonNumber('')).toBeUndefined();
    // 31 February never exists, whatever the check digits say.
    const stem = '310290123';
    const k = checkDigits(stem);
    if (k) expect(parsePersonNumber(stem + k)).toBeUndefined();
    else expect(k).toBeUndefined();
  });

  it('recognises D-numbers (day + 40)', () => {
    const stem = ['410190125', '410190126', '410190127', '410190128'].find((s) => checkDigits(s))!;
    expect(parsePersonNumber(stem + checkDigits(stem))).toEqual({ kind: 'dnr', synthetic: false, birthDate: '1990-01-01' });
  });

  it('generates only valid synthetic numbers for the demo population', () => {
    const people = generatedPatients(300);
    const fnrs = people.map((p) => p.identifier![0]!.value!);
    expect(new Set(fnrs).size).toBe(fnrs.length);
    for (const p of people) {
      expect(parsePersonNumber(p.identifier![0]!.value!)).toEqual({ kind: 'fnr', synthetic: true, birthDate: p.birthDate });
    }
  });
});

describe('token parameters', () => {
  it('splits system|value', () => {
    expect(parseToken(`${OID.fnr}|05886610019`)).toEqual({ system: OID.fnr, value: '05886610019' });
  });
  it('treats a bare value as any system and |value as no system', () => {
    expect(parseToken('05886610019')).toEqual({ value: '05886610019' });
    expect(parseToken('|05886610019')).toEqual({ system: '', value: '05886610019' });
  });
  it('normalises accepted aliases to the canonical system', () => {
    expect(parseToken('http://hl7.no/fhir/NamingSystem/FNR|1')).toEqual({ system: OID.fnr, value: '1' });
  });
  it('reads system| as every value in that system', () => {
    expect(parseToken(`${OID.fnr}|`)).toEqual({ system: OID.fnr });
  });
  it('refuses an empty token', () => {
    expect(isProblem(parseToken('|'))).toBe(true);
    expect(isProblem(parseToken(''))).toBe(true);
  });
});
