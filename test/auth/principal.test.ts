import { describe, expect, it } from 'vitest';
import { CLAIM } from '../../src/auth/claims.ts';
import { describePrincipal, isInvalidClaims, principalFromClaims, type Principal } from '../../src/auth/principal.ts';
import { PERSONAS } from '../../src/demo/personas.ts';
import { citizenClaims, clinicianClaims, ISSUER, systemClaims } from './tokens.ts';

const verified = (claims: Record<string, unknown>) => ({ iss: ISSUER, exp: 2_000_000_000, ...claims });
const principal = (claims: Record<string, unknown>): Principal => {
  const p = principalFromClaims(verified(claims));
  if (isInvalidClaims(p)) throw new Error(p.invalid);
  return p;
};
const invalid = (claims: Record<string, unknown>): string => {
  const p = principalFromClaims(verified(claims));
  if (!isInvalidClaims(p)) throw new Error(`expected invalid, got ${p.kind}`);
  return p.invalid;
};
const without = (claims: Record<string, unknown>, ...keys: string[]) => {
  const copy = { ...claims };
  for (const k of keys) delete copy[k];
  return copy;
};

describe('principalFromClaims: clinician', () => {
  it('an HPR number makes a clinician, even though HelseID also sends the clinician\'s own pid', () => {
    const p = principal(clinicianClaims());
    expect(p.kind).toBe('clinician');
    expect(p).not.toHaveProperty('fnr');
  });

  it('acts for the child organisation when HelseID names one, else the parent', () => {
    expect(principal(clinicianClaims())).toMatchObject({ orgnr: '310000019', parentOrgnr: '312345676' });
    const parentOnly = principal(without(clinicianClaims(), CLAIM.orgnrChild));
    expect(parentOnly).toMatchObject({ orgnr: '312345676', parentOrgnr: undefined });
  });

  it('keeps only user/ scopes: patient/ and system/ scopes in a clinician token grant nothing', () => {
    const p = principal(clinicianClaims({ scope: 'user/Patient.rs patient/Patient.r system/*.cruds openid' }));
    expect(p.scopes.map((s) => s.raw)).toEqual(['user/Patient.rs']);
    expect(p.scopeText).toBe('user/Patient.rs patient/Patient.r system/*.cruds openid');
  });

  it('accepts the HPR number as a JSON number', () => {
    expect(principal(clinicianClaims({ [CLAIM.hprNumber]: 9144889 }))).toMatchObject({ hpr: '9144889' });
  });

  it.each([
    ['no organisation', without(clinicianClaims(), CLAIM.orgnrParent, CLAIM.orgnrChild)],
    ['no role', without(clinicianClaims(), CLAIM.role)],
    ['no purpose of use', without(clinicianClaims(), CLAIM.purposeOfUse)],
    ['HPR number with letters', clinicianClaims({ [CLAIM.hprNumber]: '91448A9' })],
    ['HPR number empty', clinicianClaims({ [CLAIM.hprNumber]: '' })],
    ['HPR number as an array', clinicianClaims({ [CLAIM.hprNumber]: ['9144889'] })],
    ['organisation number of 8 digits', clinicianClaims({ [CLAIM.orgnrParent]: '31234567', [CLAIM.orgnrChild]: undefined })],
    ['role with markup', clinicianClaims({ [CLAIM.role]: '<b>LE</b>' })],
    ['purpose in lower case', clinicianClaims({ [CLAIM.purposeOfUse]: 'treat' })],
    ['no client_id', without(clinicianClaims(), 'client_id')],
    ['client_id longer than any real one', clinicianClaims({ client_id: 'x'.repeat(10_000) })],
    ['client_id not a string', clinicianClaims({ client_id: { $ne: null } })],
  ])('invalid: %s', (_name, claims) => {
    for (const k of Object.keys(claims)) if (claims[k] === undefined) delete claims[k];
    expect(invalid(claims)).toBeTruthy();
  });
});

describe('principalFromClaims: citizen', () => {
  it('a person id with patient/ scopes and no HPR number makes a citizen', () => {
    const p = principal(citizenClaims(PERSONAS.addison.fnr));
    expect(p).toMatchObject({ kind: 'citizen', fnr: PERSONAS.addison.fnr, clientId: 'helsenorge' });
    expect(p.scopes.map((s) => s.raw)).toEqual(['patient/Patient.r', 'patient/AuditEvent.rs']);
  });

  it('reads HelseID\'s pid claim as well as the plain one', () => {
    const claims = without(citizenClaims(), CLAIM.pidPlain);
    claims[CLAIM.pid] = PERSONAS.ms.fnr;
    expect(principal(claims)).toMatchObject({ kind: 'citizen', fnr: PERSONAS.ms.fnr });
  });

  it('a parent acting for a child carries the representation', () => {
    const p = principal(
      citizenClaims(PERSONAS.addison.fnr, { [CLAIM.actingFor]: PERSONAS.child.fnr, [CLAIM.representation]: 'guardian' }),
    );
    expect(p).toMatchObject({ kind: 'citizen', actingFor: { fnr: PERSONAS.child.fnr, relation: 'guardian' } });
  });

  it.each([
    ['a person id without patient/ scopes (a HelseID user without HPR)', citizenClaims(PERSONAS.addison.fnr, { scope: 'openid user/Patient.r' })],
    ['a person number with a wrong check digit', citizenClaims('12839410076')],
    ['a person number that is not a date', citizenClaims('32139410075')],
    ['acting_for without relation', citizenClaims(PERSONAS.addison.fnr, { [CLAIM.actingFor]: PERSONAS.child.fnr })],
    ['acting_for a malformed number', citizenClaims(PERSONAS.addison.fnr, { [CLAIM.actingFor]: '123', [CLAIM.representation]: 'guardian' })],
    ['unknown relation', citizenClaims(PERSONAS.addison.fnr, { [CLAIM.actingFor]: PERSONAS.child.fnr, [CLAIM.representation]: 'friend' })],
  ])('invalid: %s', (_name, claims) => {
    expect(invalid(claims)).toBeTruthy();
  });
});

describe('principalFromClaims: system', () => {
  it('no person claims make a system client with its system/ scopes only', () => {
    const p = principal(systemClaims({ scope: 'system/Patient.r user/Patient.r' }));
    expect(p).toMatchObject({ kind: 'system', clientId: 'ncp-no', subject: 'ncp-no', orgnr: '994598759' });
    expect(p.scopes.map((s) => s.raw)).toEqual(['system/Patient.r']);
  });

  it('a malformed organisation number makes even a system token invalid', () => {
    expect(invalid(systemClaims({ [CLAIM.orgnrParent]: '99459875X' }))).toMatch(/orgnr_parent/);
  });

  it('requires iss and a numeric exp', () => {
    expect(isInvalidClaims(principalFromClaims({ ...systemClaims(), exp: 2_000_000_000 }))).toBe(true);
    expect(isInvalidClaims(principalFromClaims({ ...systemClaims(), iss: ISSUER, exp: '2000000000' }))).toBe(true);
  });
});

describe('describePrincipal', () => {
  it('never includes a person number', () => {
    const p = principal(citizenClaims(PERSONAS.addison.fnr));
    expect(describePrincipal(p)).not.toContain(PERSONAS.addison.fnr);
    expect(describePrincipal(principal(clinicianClaims()))).toContain('310000019');
  });
});
