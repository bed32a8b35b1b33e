// The audit log as a citizen reads it (Helsenorge's 'logg over bruk'): who looked at their data, named so a
// person can tell who it was, and nothing of anyone else's person number. A clinician keeps their name,
// role and organisation; a person acting for the citizen is named by the relation (guardian, power of
// attorney), never by their fødselsnummer; any other person's number and token subject are removed.
import type { AuditEvent, AuditEventAgent } from '@medplum/fhirtypes';
import { OID } from '../fhir/identifiers.ts';

const PERSON_SYSTEMS: readonly string[] = [OID.fnr, OID.dnr];

const RELATION_DISPLAY: Record<string, string> = {
  GUARD: 'guardian',
  POWATT: 'power of attorney',
};

function agentForCitizen(agent: AuditEventAgent, readerFnr: string): AuditEventAgent {
  const ident = agent.who?.identifier;
  if (!ident?.system || !PERSON_SYSTEMS.includes(ident.system) || ident.value === readerFnr) return agent;
  const relation = agent.role?.flatMap((r) => r.coding ?? []).map((c) => RELATION_DISPLAY[c.code ?? '']).find(Boolean);
  const { altId: _altId, who: _who, ...rest } = agent;
  return { ...rest, who: { display: relation ?? 'another person' } };
}

/** One event as the citizen with this person number may see it. */
export function citizenView(event: AuditEvent, readerFnr: string): AuditEvent {
  return { ...event, agent: event.agent.map((a) => agentForCitizen(a, readerFnr)) };
}
