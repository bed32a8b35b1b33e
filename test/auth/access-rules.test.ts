import { describe, expect, it } from 'vitest';
import {
  ACCESS_RULE_SYSTEM,
  ACCESS_RULES,
  accessProblem,
  decideAccess,
  decideAccessAll,
  pharmacyOrganisation,
  pharmacyOwnDispensationRule,
  reporterOf,
  withheldIssues,
  withheldRules,
  type AccessEffect,
  type AccessRuleCode,
  type AccessTarget,
  type PatientFacts,
} from '../../src/auth/access-rules.ts';
import type { CitizenPrincipal, Principal } from '../../src/auth/principal.ts';
import { PERSONAS } from '../../src/demo/personas.ts';
import { testCitizen, testClinician, testSystem } from './principals.ts';

const gp = testClinician('user/Patient.rs user/AllergyIntolerance.rs user/Condition.rs user/MedicationStatement.rs');
const blockedGp = { ...gp, hpr: '5551234' };
const researcher = { ...gp, purposeOfUse: 'HRESCH' };
const ncp = testSystem('ncp-no', 'system/Patient.r system/MedicationRequest.rs');
const auditor = testSystem('datatilsynet-audit', 'system/AuditEvent.rs');
const citizen = (fnr: string, extra: Partial<CitizenPrincipal> = {}): CitizenPrincipal =>
  testCitizen(fnr, 'patient/Patient.r patient/AllergyIntolerance.rs patient/MedicationStatement.rs patient/AuditEvent.rs', extra);
const addisonSelf = citizen(PERSONAS.addison.fnr);
const parentOfChild = citizen(PERSONAS.knee.fnr, { actingFor: { fnr: PERSONAS.child.fnr, relation: 'guardian' } });
const proxyForMs = citizen(PERSONAS.knee.fnr, { actingFor: { fnr: PERSONAS.ms.fnr, relation: 'proxy' } });

const facts = (fnr: string, extra: Partial<PatientFacts> = {}): PatientFacts => ({
  fnr,
  kjernejournalReserved: false,
  guardianAccessReserved: false,
  restrictions: [],
  ...extra,
});
const addison = facts(PERSONAS.addison.fnr);
const reserved = facts(PERSONAS.reserved.fnr, { kjernejournalReserved: true });
const child = facts(PERSONAS.child.fnr, { guardianAccessReserved: true });
const ms = facts(PERSONAS.ms.fnr, {
  restrictions: [
    { kind: 'hpr-block', source: 'kjernejournal', hpr: ['5551234'] },
    { kind: 'source-block', source: 'medication-list' },
    { kind: 'confidential-address' },
  ],
});

const readPatient: AccessTarget = { resourceType: 'Patient', interaction: 'r', level: 'request' };
const kjAllergies: AccessTarget = { resourceType: 'AllergyIntolerance', interaction: 'r', level: 'content', source: 'kjernejournal', section: '48765-2' };
const pllMeds: AccessTarget = { resourceType: 'MedicationStatement', interaction: 'r', level: 'content', source: 'medication-list', section: '10160-0' };
const nprProblems: AccessTarget = { resourceType: 'Condition', interaction: 'r', level: 'content', source: 'npr', section: '11450-4' };
const address: AccessTarget = { resourceType: 'Patient', interaction: 'r', level: 'content', element: 'address' };
const lockedRx: AccessTarget = { resourceType: 'MedicationStatement', interaction: 'r', level: 'content', source: 'medication-list', restricted: true };
const auditSearch: AccessTarget = { resourceType: 'AuditEvent', interaction: 's', level: 'request', source: 'audit' };
const createDispense: AccessTarget = { resourceType: 'MedicationDispense', interaction: 'c', level: 'request' };

const rulesWith = (effect: AccessEffect, d: ReturnType<typeof decideAccess>): AccessRuleCode[] =>
  d.outcomes.filter((o) => o.effect === effect).map((o) => o.rule);

// who, patient, what -> overall effect, and the rule codes that produced the non-allow outcomes.
const table: [string, Principal, PatientFacts | undefined, AccessTarget, AccessEffect, AccessRuleCode[]][] = [
  ['GP reads a patient', gp, addison, readPatient, 'allow', []],
  ['GP reads KJ allergies of an ordinary patient', gp, addison, kjAllergies, 'allow', []],
  ['GP reads KJ allergies of a patient reserved against KJ', gp, reserved, kjAllergies, 'withhold', ['ACCESS-KJ-RESERVED']],
  ['GP reads NPR problems of a patient reserved against KJ (other source)', gp, reserved, nprProblems, 'allow', []],
  ['citizen reads own KJ content while reserved against KJ', citizen(PERSONAS.reserved.fnr), reserved, kjAllergies, 'withhold', ['ACCESS-KJ-RESERVED']],
  ['GP the patient blocked reads KJ', blockedGp, ms, kjAllergies, 'withhold', ['ACCESS-RESTRICTED']],
  ['another GP reads the same patient\'s KJ', gp, ms, kjAllergies, 'allow', []],
  ['blocked GP reads NPR problems (the block is for KJ only)', blockedGp, ms, nprProblems, 'allow', []],
  ['GP reads a restricted source (medication list)', gp, ms, pllMeds, 'withhold', ['ACCESS-RESTRICTED']],
  ['GP reads a confidential address', gp, ms, address, 'withhold', ['ACCESS-RESTRICTED']],
  ['citizen reads own restricted source and address', citizen(PERSONAS.ms.fnr), ms, address, 'allow', []],
  ['proxy reads the represented person\'s confidential address', proxyForMs, ms, address, 'withhold', ['ACCESS-RESTRICTED']],
  ['GP reads a locked prescription', gp, addison, lockedRx, 'withhold', ['ACCESS-RESTRICTED']],
  ['citizen reads own locked prescription', addisonSelf, addison, lockedRx, 'allow', []],
  ['citizen reads own data', addisonSelf, addison, readPatient, 'allow', []],
  ['citizen reads someone else\'s data', addisonSelf, facts(PERSONAS.ms.fnr), readPatient, 'deny', ['ACCESS-CITIZEN-OWN-ONLY']],
  ['citizen asks for no patient in particular', addisonSelf, undefined, readPatient, 'deny', ['ACCESS-CITIZEN-OWN-ONLY']],
  ['guardian reads a child with guardian-access reservation', parentOfChild, child, readPatient, 'deny', ['ACCESS-GUARDIAN-RESERVED']],
  ['guardian reads a child without reservation', parentOfChild, facts(PERSONAS.child.fnr), readPatient, 'allow', []],
  ['guardian reads own data, own reservation irrelevant', parentOfChild, facts(PERSONAS.knee.fnr), readPatient, 'allow', []],
  ['proxy reads the represented adult', proxyForMs, facts(PERSONAS.ms.fnr), readPatient, 'allow', []],
  ['GP reads a child with guardian-access reservation (not a guardian)', gp, child, readPatient, 'allow', []],
  ['GP with a research purpose reads patient data', researcher, addison, readPatient, 'deny', ['ACCESS-PURPOSE']],
  ['GP without the scope for the request', gp, addison, createDispense, 'deny', ['ACCESS-SCOPE']],
  ['NCP gateway reads a patient', ncp, addison, readPatient, 'allow', []],
  ['NCP gateway: KJ allergies are not in its scopes', ncp, addison, kjAllergies, 'withhold', ['ACCESS-SCOPE']],
  ['NCP gateway: AuditEvent search without the auditor scope', ncp, undefined, auditSearch, 'deny', ['ACCESS-SCOPE']],
  ['auditor reads the whole log', auditor, undefined, auditSearch, 'allow', []],
  ['citizen reads the log of own data', addisonSelf, addison, auditSearch, 'allow', []],
  ['citizen reads the log of another patient', addisonSelf, facts(PERSONAS.ms.fnr), auditSearch, 'deny', ['ACCESS-CITIZEN-OWN-ONLY']],
];

describe('decideAccess', () => {
  it.each(table)('%s', (_name, who, patient, what, effect, codes) => {
    const d = decideAccess(who, patient, what);
    expect(d.effect).toBe(effect);
    expect(rulesWith(effect === 'allow' ? 'deny' : effect, d).sort()).toEqual(effect === 'allow' ? [] : [...codes].sort());
    if (effect === 'allow') expect(rulesWith('withhold', d)).toEqual([]);
  });

  it('returns every applicable outcome: a denied citizen still sees the scope verdict, and several restrictions stack', () => {
    const d = decideAccess(addisonSelf, facts(PERSONAS.ms.fnr), readPatient);
    expect(d.outcomes.map((o) => `${o.rule}:${o.effect}`)).toEqual(['ACCESS-SCOPE:allow', 'ACCESS-CITIZEN-OWN-ONLY:deny']);
    const both = decideAccess(blockedGp, { ...ms, kjernejournalReserved: true }, { ...kjAllergies, restricted: true });
    expect(rulesWith('withhold', both)).toEqual(['ACCESS-KJ-RESERVED', 'ACCESS-RESTRICTED', 'ACCESS-RESTRICTED']);
  });

  it('deny wins over withhold', () => {
    expect(decideAccess(researcher, reserved, kjAllergies).effect).toBe('deny');
  });

  it('every rule code is documented', () => {
    for (const [, , , , , codes] of table) for (const c of codes) expect(ACCESS_RULES[c]).toBeTruthy();
  });

  it('reasons carry no personal data', () => {
    for (const [, who, patient, what] of table) {
      for (const o of decideAccess(who, patient, what).outcomes) {
        expect(o.reason).not.toMatch(/\d{7,}/);
      }
    }
  });
});

describe('decideAccessAll: one summary, several sources', () => {
  it('withholds the reserved source and lets the others through', () => {
    const d = decideAccessAll(gp, reserved, [readPatient, kjAllergies, nprProblems]);
    expect(d.effect).toBe('withhold');
    const issues = withheldIssues(d);
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({
      severity: 'warning',
      code: 'suppressed',
      details: { coding: [{ system: ACCESS_RULE_SYSTEM, code: 'ACCESS-KJ-RESERVED' }] },
    });
    expect(issues[0]?.expression?.[0]).toContain('48765-2');
    expect(withheldRules(d)).toEqual(['ACCESS-KJ-RESERVED']);
  });

  it('one denied target denies the whole', () => {
    expect(decideAccessAll(gp, addison, [readPatient, createDispense]).effect).toBe('deny');
  });
});

describe('accessProblem', () => {
  it('is a 403 carrying every denying rule code', () => {
    const p = accessProblem(decideAccess(researcher, addison, createDispense));
    expect(p.status).toBe(403);
    expect(p.issues[0]?.code).toBe('forbidden');
    expect(p.issues[0]?.details?.coding?.map((c) => c.code).sort()).toEqual(['ACCESS-PURPOSE', 'ACCESS-SCOPE']);
    expect(p.headers?.['WWW-Authenticate']).toContain('insufficient_scope');
  });

  it('has no insufficient_scope header when the scope was not the problem', () => {
    const p = accessProblem(decideAccess(addisonSelf, facts(PERSONAS.ms.fnr), readPatient));
    expect(p.status).toBe(403);
    expect(p.headers).toBeUndefined();
    expect(p.issues[0]?.diagnostics).not.toContain(PERSONAS.ms.fnr);
  });
});

describe('pharmacy clients and their organisation (audit2 F2)', () => {
  it('registers a pharmacy with its organisation number and HER-id, never on a prefix entry', async () => {
    const { parseSystemClients, withSystemRole } = await import('../../src/auth/roles.ts');
    const clients = parseSystemClients('ncp-no=ncp,pharmacy-ski=pharmacy@983044778/8090688,pharmacy-bergen=pharmacy@912345678,pharmacy-*=pharmacy')!;
    expect(clients.slice(1, 3)).toEqual([
      { client: 'pharmacy-ski', role: 'pharmacy', orgnr: '983044778', herId: '8090688' },
      { client: 'pharmacy-bergen', role: 'pharmacy', orgnr: '912345678' },
    ]);
    expect(parseSystemClients('pharmacy-*=pharmacy@983044778')).toBeUndefined();
    expect(parseSystemClients('pharmacy-ski=pharmacy@98304477')).toBeUndefined();
    const ski = withSystemRole(testSystem('pharmacy-ski', 'system/MedicationDispense.cruds'), clients);
    expect(pharmacyOrganisation(ski)).toEqual({ orgnr: '983044778', herId: '8090688' });
    // The token's own organisation claim is the organisation; one contradicting the registration leaves none.
    expect(pharmacyOrganisation(withSystemRole(testSystem('pharmacy-other', 'system/MedicationDispense.cruds', { orgnr: '912345678' }), clients))).toEqual({ orgnr: '912345678' });
    expect(pharmacyOrganisation(withSystemRole(testSystem('pharmacy-ski', 'system/MedicationDispense.cruds', { orgnr: '912345678' }), clients))).toEqual({});
    expect(pharmacyOrganisation(withSystemRole(testSystem('pharmacy-ski', 'system/MedicationDispense.cruds', { orgnr: '974000001', parentOrgnr: '983044778' }), clients))).toMatchObject({ orgnr: '974000001' });
  });

  it('lets a pharmacy at its own dispensations only: same client, same organisation', () => {
    const target = { resourceType: 'MedicationDispense', interaction: 'u', level: 'request' } as const;
    const ski = { ...testSystem('pharmacy-ski', 'system/MedicationDispense.cruds', { orgnr: '983044778' }), role: 'pharmacy' as const };
    const own = { channel: 'pharmacy' as const, reporter: reporterOf(ski) };
    expect(pharmacyOwnDispensationRule(ski, own, target)).toEqual([]);
    expect(pharmacyOwnDispensationRule({ ...ski, orgnr: '912345678' }, own, target)[0]?.rule).toBe('ACCESS-PHARMACY-OWN-ONLY');
    expect(pharmacyOwnDispensationRule({ ...ski, clientId: 'pharmacy-bergen' }, own, target)[0]?.effect).toBe('deny');
    expect(pharmacyOwnDispensationRule(ski, { channel: 'pharmacy' }, target)[0]?.effect).toBe('deny');
    // The NCP's dispensations and other roles are other rules' business.
    expect(pharmacyOwnDispensationRule(ski, { channel: 'ncp' }, target)).toEqual([]);
    expect(pharmacyOwnDispensationRule({ ...ski, role: 'ncp' }, own, target)).toEqual([]);
  });
});
