import fc from 'fast-check';
import type { Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { cleanStrings } from '../../src/summary/resources.ts';
import { rewriteReferences } from '../../src/summary/assemble.ts';

// The rule as a plain deep copy: every string without control characters, whitespace-only strings
// dropped, and object members left empty (arrays, objects) dropped. cleanStrings must answer the same.
function byCopy(value: unknown): unknown {
  if (typeof value === 'string') {
    // eslint-disable-next-line no-control-regex
    const s = value.replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '');
    return s.trim() ? s : undefined;
  }
  if (Array.isArray(value)) return value.map(byCopy).filter((v) => v !== undefined);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const c = byCopy(v);
      if (c === undefined || (Array.isArray(c) && c.length === 0)) continue;
      if (typeof c === 'object' && c !== null && !Array.isArray(c) && Object.keys(c).length === 0) continue;
      Object.defineProperty(out, k, { value: c, enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}

const text = fc.oneof(fc.string(), fc.constantFrom('', ' ', '\t\n', 'a\u0000b', '\u0007', 'ok', '\uFFFE', ' x '));
const json = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, text, fc.integer(), fc.boolean(), fc.constant(null), tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 4 }),
  object: fc.dictionary(fc.constantFrom('a', 'b', 'reference', '__proto__', 'text'), tie('value'), { maxKeys: 4 }),
})).value;

describe('cleanStrings', () => {
  it('answers what a deep copy under the same rule answers, for any JSON value', () => {
    fc.assert(
      fc.property(json, (v) => {
        const before = JSON.stringify(v);
        expect(cleanStrings(v)).toEqual(byCopy(v));
        expect(JSON.stringify(v)).toBe(before);
      }),
      { numRuns: 2000 },
    );
  });

  it('returns clean values as they are instead of copying them', () => {
    const resource = { resourceType: 'Condition', code: { coding: [{ system: 's', code: 'G35' }] }, note: [{ text: 'MS' }] };
    expect(cleanStrings(resource)).toBe(resource);
  });

  it('copies only the path to what it changes, and keeps "__proto__" a data member', () => {
    const coding = [{ system: 's', code: 'G35' }];
    const resource = JSON.parse('{"resourceType":"Condition","code":{"coding":[]},"note":[{"text":"a\\u0000b"},{"text":"  "}],"__proto__":{"x":"1"}}') as Record<string, unknown>;
    (resource.code as { coding: unknown }).coding = coding;
    const cleaned = cleanStrings(resource);
    expect(cleaned).not.toBe(resource);
    expect(cleaned.code).toBe(resource.code);
    expect(cleaned.note).toEqual([{ text: 'ab' }, {}]);
    expect(Object.getPrototypeOf(cleaned)).toBe(Object.prototype);
    expect(Object.hasOwn(cleaned, '__proto__')).toBe(true);
    expect((resource.note as { text: string }[])[0]!.text).toBe('a\u0000b');
  });
});

describe('rewriteReferences', () => {
  it('rewrites local references to their urn, copies only the paths to them and keeps "__proto__" a data member', () => {
    const resource = JSON.parse(
      '{"resourceType":"MedicationStatement","id":"s1","subject":{"reference":"Patient/p1","display":"A"},"note":[{"text":"n"}],"__proto__":{"reference":"Patient/p1"},"informationSource":{"reference":"Practitioner/x","display":"Dr"}}',
    ) as Record<string, unknown> & { resourceType: 'MedicationStatement'; id: string };
    let dropped = 0;
    const out = rewriteReferences(resource as unknown as Resource, new Map([['Patient/p1', 'u-1']]), () => dropped++) as unknown as Record<string, unknown>;
    expect(out).not.toBe(resource);
    expect(out.subject).toEqual({ reference: 'urn:uuid:u-1', display: 'A' });
    expect(out.note).toBe(resource.note);
    // A reference to something not in the document goes; its display stays.
    expect(out.informationSource).toEqual({ display: 'Dr' });
    expect(dropped).toBe(1);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect(Object.getOwnPropertyDescriptor(out, '__proto__')?.value).toEqual({ reference: 'urn:uuid:u-1' });
    // The input is unchanged.
    expect((resource.subject as { reference: string }).reference).toBe('Patient/p1');
  });
});
