import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { derivedUuid, documentPatientId, isUuid, recordId } from '../../src/fhir/resource-id.ts';

// The rule the ids are made by (SHA-256 of the NUL-joined parts, version 8 and variant bits set), written
// out with a Hash object: ids already handed out must never change.
function byRule(...parts: string[]): string {
  const d = createHash('sha256').update(parts.join('\u0000')).digest();
  d[6] = (d[6]! & 0x0f) | 0x80;
  d[8] = (d[8]! & 0x3f) | 0x80;
  const h = d.subarray(0, 16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

describe('derived ids', () => {
  it('are the SHA-256 name-based UUIDs they have always been', () => {
    expect(recordId('ms', 'kj-allergy', 'a1')).toBe(byRule('record', 'ms', 'kj-allergy', 'a1'));
    expect(documentPatientId('ms')).toBe(byRule('document', 'patient', 'ms'));
    fc.assert(
      fc.property(fc.array(fc.string(), { maxLength: 4 }), (parts) => {
        const id = derivedUuid(...parts);
        expect(id).toBe(byRule(...parts));
        expect(isUuid(id)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
