import { describe, expect, it } from 'vitest';
import { inFhirOrder } from '../../src/http/respond.ts';

describe('inFhirOrder', () => {
  it('says whether every resource, nested ones too, has resourceType as its first key', () => {
    expect(inFhirOrder({ resourceType: 'Bundle', entry: [{ resource: { resourceType: 'Patient', id: 'a' } }] })).toBe(true);
    expect(inFhirOrder({ resourceType: 'Bundle', entry: [{ resource: { id: 'a', resourceType: 'Patient' } }] })).toBe(false);
    expect(inFhirOrder({ id: 'x', contained: [{ resourceType: 'Medication' }], resourceType: 'MedicationRequest' })).toBe(false);
    expect(inFhirOrder({ resourceType: 'Patient', contained: [{ code: { text: 'x' }, resourceType: 'Medication' }] })).toBe(false);
    // An object without a resourceType (a Coding, a Reference) may have any key first.
    expect(inFhirOrder({ resourceType: 'Patient', name: [{ family: 'N', given: ['A'] }], meta: { versionId: '1' } })).toBe(true);
    expect(inFhirOrder([1, 'a', null, { resourceType: 'Basic' }])).toBe(true);
  });
});
