import { describe, expect, it } from 'vitest';
import { buildAuditEvent } from '../../src/audit/build.ts';
import { citizenView } from '../../src/audit/citizen-view.ts';
import { PERSONAS } from '../../src/demo/personas.ts';
import { OID } from '../../src/fhir/identifiers.ts';
import { testCitizen, testClinician } from '../auth/principals.ts';

const addison = PERSONAS.addison;
const event = (principal: Parameters<typeof buildAuditEvent>[0]['principal']) =>
  buildAuditEvent({ principal, patient: { id: addison.id, fnr: addison.fnr }, action: 'R', interaction: 'read', resourceType: 'Patient', resourceId: addison.id, outcome: '0', requestId: 'r-1', at: new Date('2026-12-06T10:00:00Z') });

describe('the audit log as a citizen reads it', () => {
  it('keeps the clinician: HPR number, role and organisation', () => {
    const seen = citizenView(event(testClinician()), addison.fnr);
    const person = seen.agent.find((a) => a.who?.identifier?.system === OID.hpr)!;
    expect(person.role?.[0]?.coding?.[0]?.code).toBe('LE');
    expect(seen.agent.some((a) => a.who?.identifier?.system === OID.orgnr && a.who.identifier.value === '312345676')).toBe(true);
  });

  it('names a guardian and a holder of power of attorney by relation, never by fødselsnummer or token subject', () => {
    for (const [relation, display] of [['guardian', 'guardian'], ['proxy', 'power of attorney']] as const) {
      const guardian = testCitizen(PERSONAS.knee.fnr, 'patient/Patient.r', { actingFor: { fnr: addison.fnr, relation }, subject: 'knee-subject' });
      const seen = citizenView(event(guardian), addison.fnr);
      const text = JSON.stringify(seen);
      expect(text).not.toContain(PERSONAS.knee.fnr);
      expect(text).not.toContain('knee-subject');
      expect(seen.agent.some((a) => a.who?.display === display)).toBe(true);
    }
  });

  it("names another citizen's attempt as another person, and keeps the reader's own entries", () => {
    const seen = citizenView(event(testCitizen(PERSONAS.ms.fnr, 'patient/Patient.r')), addison.fnr);
    expect(JSON.stringify(seen)).not.toContain(PERSONAS.ms.fnr);
    expect(seen.agent.some((a) => a.who?.display === 'another person')).toBe(true);
    const own = citizenView(event(testCitizen(addison.fnr, 'patient/Patient.r')), addison.fnr);
    expect(own.agent.some((a) => a.who?.identifier?.value === addison.fnr)).toBe(true);
    expect(own.entity?.find((e) => e.role?.code === '1')?.what?.identifier?.value).toBe(addison.fnr);
  });
});
