// The group A/B guard every exit checks again (pipeline, store, serving, CLI), as pure functions.
import { describe, expect, it } from 'vitest';
import { assertExportableGroup, ExportGuardError, neverExportedGroup, prescriptionGroups } from '../../src/eprescription/guard.ts';
import { parseM1 } from '../../src/eprescription/m1/parse.ts';
import { fixture } from './support/pipeline.ts';

const m1 = (folder: string, file: string) => {
  const r = parseM1(fixture(folder, file));
  if (!r.ok) throw new Error(file);
  return r.value;
};

describe('the group A/B guard', () => {
  it('reads the group of the drug, of every drug in a magistral, and none for goods', () => {
    expect(prescriptionGroups(m1('valid', '12-reseptgruppe-a.xml'))).toEqual(['A']);
    expect(prescriptionGroups(m1('valid', '13-reseptgruppe-b.xml'))).toEqual(['B']);
    expect(prescriptionGroups(m1('valid', '01-pakning-hydrokortison.xml'))).toEqual(['C']);
    expect(prescriptionGroups(m1('valid', '08-handelsvare-naringsmiddel.xml'))).toEqual([]);
    // The official magistral sample names no drug component with a group; the authored one has one in group F.
    expect(prescriptionGroups(m1('official/Magistrell resept', 'M1 Magistrell resept.xml'))).toEqual([]);
    expect(prescriptionGroups(m1('valid', '07-magistral.xml'))).toEqual(['F']);
  });

  it('finds A or B in any spelling among several sources, lets only C, CF and F through, and skips unnamed groups', () => {
    expect(neverExportedGroup(['C', ' a '])).toBe('A');
    expect(neverExportedGroup([undefined, null, 'b'])).toBe('B');
    expect(neverExportedGroup(['C', 'CF', 'F', undefined, null])).toBeUndefined();
    // Never exported either: food supplements, and anything that is no group at all.
    expect(neverExportedGroup(['C', 'K'])).toBe('K');
    expect(neverExportedGroup(['\u0410'])).toBe('\u0410');
    expect(neverExportedGroup(['A\u200b'])).toBe('A\u200b');
    expect(neverExportedGroup(['  '])).toBe('(empty)');
  });

  it('throws without naming the patient or the drug', () => {
    expect(() => assertExportableGroup(['C', 'B'], 'the NCP search')).toThrow(ExportGuardError);
    expect(() => assertExportableGroup(['C', 'B'], 'the NCP search')).toThrow('A reseptgruppe "B" prescription reached the NCP search; it must never be sent to the NCP');
    expect(() => assertExportableGroup(['\u0410'], 'x')).toThrow(ExportGuardError);
    expect(() => assertExportableGroup(['C', undefined], 'x')).not.toThrow();
  });
});
