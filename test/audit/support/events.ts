// Audit events for the store tests: audit rows can never be deleted, so every test makes its own keys.
import { randomInt, randomUUID } from 'node:crypto';
import { buildAuditEvent, type AuditInput } from '../../../src/audit/build.ts';
import { checkDigits } from '../../../src/fhir/identifiers.ts';
import { testClinician } from '../../auth/principals.ts';

/** A fresh synthetic fødselsnummer (month + 80) per call: audit rows cannot be cleaned up, so keys must be unique. */
export function syntheticFnr(): string {
  for (;;) {
    const day = String(randomInt(1, 29)).padStart(2, '0');
    const month = String(80 + randomInt(1, 13)).padStart(2, '0');
    const stem = `${day}${month}${String(randomInt(0, 100)).padStart(2, '0')}${String(randomInt(0, 500)).padStart(3, '0')}`;
    const k = checkDigits(stem);
    if (k) return stem + k;
  }
}

const gp = testClinician();

export const event = (patient: { id?: string; fnr?: string }, at: string, extra: Partial<AuditInput> = {}) =>
  buildAuditEvent({
    principal: gp,
    patient,
    action: 'R',
    interaction: 'read',
    resourceType: 'Patient',
    resourceId: patient.id,
    outcome: '0',
    requestId: `req-${randomUUID()}`,
    at: new Date(at),
    ...extra,
  });

