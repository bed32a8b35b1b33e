import { describe, expect, it } from 'vitest';
import { hasScope, parseScope, parseScopes, requiredScope, scopesAllow, type Interaction } from '../../src/auth/scopes.ts';

const letters = (raw: string): string => [...(parseScope(raw)?.interactions ?? [])].sort().join('');

describe('parseScope', () => {
  it.each([
    ['user/Patient.rs', 'user', 'Patient', 'rs'],
    ['system/MedicationRequest.rs', 'system', 'MedicationRequest', 'rs'],
    ['user/MedicationDispense.c', 'user', 'MedicationDispense', 'c'],
    ['patient/AuditEvent.rs', 'patient', 'AuditEvent', 'rs'],
    ['system/*.cruds', 'system', '*', 'cdrsu'],
    ['user/Observation.read', 'user', 'Observation', 'rs'],
    ['user/Observation.write', 'user', 'Observation', 'cdu'],
    ['patient/*.*', 'patient', '*', 'cdrsu'],
  ])('%s', (raw, context, resourceType, perms) => {
    const s = parseScope(raw);
    expect(s).toMatchObject({ context, resourceType, raw });
    expect(letters(raw)).toBe(perms);
  });

  it.each([
    'user/Patient.sr', // letters out of order
    'user/Patient.rr', // repeated
    'user/Patient.x',
    'user/Patient.',
    'user/patient.rs', // not a resource type
    'admin/Patient.rs', // unknown context
    'user/Patient.rs?category=laboratory', // granular constraint Helsebro does not evaluate
    'user/Patient.rs ',
    'openid',
    'helseid://scopes/hpr/hpr_number',
    'launch/patient',
    'user/<script>.rs',
    '',
  ])('rejects %j', (raw) => {
    expect(parseScope(raw)).toBeUndefined();
  });
});

describe('parseScopes', () => {
  it('reads a space-separated string and HelseID\'s array form, keeping non-SMART scopes apart', () => {
    const fromString = parseScopes('openid  user/Patient.rs\tuser/Condition.read');
    expect(fromString.granted.map((s) => s.raw)).toEqual(['user/Patient.rs', 'user/Condition.read']);
    expect(fromString.other).toEqual(['openid']);
    const fromArray = parseScopes(['openid', 'helseid://scopes/identity/pid', 'system/Patient.r', 42, null]);
    expect(fromArray.granted.map((s) => s.raw)).toEqual(['system/Patient.r']);
    expect(fromArray.other).toEqual(['openid', 'helseid://scopes/identity/pid']);
  });

  it('yields nothing for a missing or non-text claim', () => {
    for (const claim of [undefined, null, 7, { scope: 'user/Patient.r' }]) {
      expect(parseScopes(claim)).toEqual({ granted: [], other: [] });
    }
  });
});

describe('hasScope', () => {
  const principal = { scopes: parseScopes('user/Patient.rs user/MedicationDispense.c system/*.r').granted };
  it.each<[string, Interaction, boolean]>([
    ['Patient', 'r', true],
    ['Patient', 's', true],
    ['Patient', 'u', false],
    ['MedicationDispense', 'c', true],
    ['MedicationDispense', 'r', true], // via system/*.r in this raw list; principals filter by context
    ['MedicationDispense', 'd', false],
    ['AuditEvent', 's', false],
  ])('%s %s -> %s', (resourceType, interaction, expected) => {
    expect(hasScope(principal, { resourceType, interaction })).toBe(expected);
  });

  it('a wildcard grants every type, but only the letters it names', () => {
    const scopes = parseScopes('system/*.rs').granted;
    expect(scopesAllow(scopes, { resourceType: 'AuditEvent', interaction: 's' })).toBe(true);
    expect(scopesAllow(scopes, { resourceType: 'AuditEvent', interaction: 'c' })).toBe(false);
  });

  it('no scopes grant nothing', () => {
    expect(hasScope({ scopes: [] }, { resourceType: 'Patient', interaction: 'r' })).toBe(false);
  });
});

describe('requiredScope', () => {
  it('names the narrowest scope in each context', () => {
    expect(requiredScope({ resourceType: 'Patient', interaction: 'r' })).toBe('user/Patient.r | system/Patient.r | patient/Patient.r');
    expect(requiredScope({ resourceType: 'AuditEvent', interaction: 's' }, ['user', 'system'])).toBe('user/AuditEvent.s | system/AuditEvent.s');
  });
});
