// The compiled checks must accept exactly what the zod shapes accept: the shapes stay the definition,
// the compiled form is only a faster way to apply them that does not copy.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { compileShape } from '../../src/sources/check-shape.ts';
import { kjDemoPopulation } from '../../src/sources/kjernejournal/demo-data.ts';
import * as kj from '../../src/sources/kjernejournal/types.ts';
import { pllDemoPopulation } from '../../src/sources/medication-list/demo-data.ts';
import * as sfm from '../../src/sources/medication-list/types.ts';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const kjRecords = kjDemoPopulation().flatMap((p) => p.records) as unknown as Json[];
const kjStatuses = kjDemoPopulation().map((p) => p.status) as unknown as Json[];
const pllAnswers = pllDemoPopulation().map((p) => p.answer) as unknown as Json[];
const pllBundles = pllAnswers.map((a) => ((a as { parameter: { resource: Json }[] }).parameter[0]!.resource));
const pllResources = pllBundles.flatMap((b) => ((b as { entry: { resource: Json }[] }).entry ?? []).map((e) => e.resource));

const of = (type: string, from: Json[]): Json[] => from.filter((r) => (r as { resourceType?: unknown }).resourceType === type);

const SHAPES: [string, z.ZodType, Json[]][] = [
  ['kjAllergyIntolerance', kj.kjAllergyIntolerance, of('AllergyIntolerance', kjRecords)],
  ['kjCondition', kj.kjCondition, of('Condition', kjRecords)],
  ['kjProcedure', kj.kjProcedure, of('Procedure', kjRecords)],
  ['kjDeviceUseStatement', kj.kjDeviceUseStatement, of('DeviceUseStatement', kjRecords)],
  ['kjFlag', kj.kjFlag, of('Flag', kjRecords)],
  ['kjStatus', kj.kjStatus, kjStatuses],
  ['kjSearchset', kj.kjSearchset, [{ resourceType: 'Bundle', type: 'searchset', entry: kjRecords.slice(0, 3).map((resource) => ({ resource })) }]],
  ['sfmParameters', sfm.sfmParameters, pllAnswers],
  ['sfmBundle', sfm.sfmBundle, pllBundles],
  ['sfmMedication', sfm.sfmMedication, of('Medication', pllResources)],
  ['sfmMedicationStatement', sfm.sfmMedicationStatement, of('MedicationStatement', pllResources)],
];

/** Values a mutation puts in place of a member: the kinds of wrong (and right) an upstream may send. */
const replacement: fc.Arbitrary<Json | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom<Json>(null, '', ' ', '\t\n', 'x', 'active', '2020-01-02', '2020-13', 'not a date', 0, -1, 1.5, true, [], {}, [{}], { text: ' ' }),
  fc.constantFrom<Json>({ coding: [{ code: ' ' }] }, { coding: [{ display: 'Penicillin' }] }, { coding: [] }, { text: 'Penicillin' }),
  fc.string({ maxLength: 12 }),
  fc.string({ minLength: 201, maxLength: 260 }),
);

/** Every path to a member or element inside a value. */
function pathsOf(value: Json, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (Array.isArray(value)) value.forEach((v, i) => (out.push([...at, i]), pathsOf(v, [...at, i], out)));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) (out.push([...at, k]), pathsOf(v, [...at, k], out));
  return out;
}

/** A deep copy of `value` with the member at `path` replaced (or removed, for undefined). */
function mutate(value: Json, path: (string | number)[], to: Json | undefined): Json {
  const copy = structuredClone(value);
  let parent: Json = copy;
  for (const step of path.slice(0, -1)) parent = (parent as Record<string, Json>)[step]!;
  const last = path[path.length - 1]!;
  if (to === undefined) {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete (parent as Record<string, Json>)[last];
  } else (parent as Record<string, Json>)[last] = to;
  return copy;
}

describe('compileShape', () => {
  it.each(SHAPES)('%s has valid fixtures to start from', (_name, _schema, fixtures) => {
    expect(fixtures.length).toBeGreaterThan(0);
  });

  it.each(SHAPES)('%s: accepts and refuses exactly what the zod shape does, and returns the value itself', (_name, schema, fixtures) => {
    const check = compileShape(schema);
    const sample = fc
      .tuple(fc.constantFrom(...fixtures), fc.array(fc.tuple(fc.nat(), replacement), { minLength: 1, maxLength: 3 }))
      .map(([fixture, edits]) => {
        let value = fixture;
        for (const [n, to] of edits) {
          const paths = pathsOf(value);
          if (paths.length) value = mutate(value, paths[n % paths.length]!, to);
        }
        return value;
      });
    fc.assert(
      fc.property(sample, (value) => {
        const expected = schema.safeParse(value);
        const got = check(value);
        expect(got.success).toBe(expected.success);
        if (got.success) {
          expect(got.data).toBe(value);
          expect(got.data).toEqual(expected.data);
        }
      }),
      { numRuns: 400 },
    );
    for (const fixture of fixtures) expect(check(fixture).success).toBe(true);
  });

  it('names where the first problem is and what kind, never the value', () => {
    const check = compileShape(kj.kjFlag);
    const flag = { resourceType: 'Flag', id: 'f1', status: 'active', code: { text: 'Smittefare' } };
    expect(check(flag)).toEqual({ success: true, data: flag });
    expect(check({ ...flag, status: 'Ola Nordmann' })).toEqual({ success: false, error: { path: 'status', code: 'enum' } });
    expect(check({ ...flag, id: undefined })).toEqual({ success: false, error: { path: 'id', code: 'required' } });
    // A named concept needs something to name it by: whitespace is not a name.
    const unnamed = check({ ...flag, code: { text: '  ', coding: [{ code: ' ', display: '' }] } });
    expect(unnamed.success).toBe(false);
    expect(JSON.stringify(unnamed)).not.toContain('Ola');
  });
});
