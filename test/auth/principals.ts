// Ready-made principals for rule, audit and search tests (the token tests build theirs from real tokens).
import type { CitizenPrincipal, ClinicianPrincipal, SystemPrincipal } from '../../src/auth/principal.ts';
import { parseScopes } from '../../src/auth/scopes.ts';

const base = { subject: 'sub-1', clientId: 'c', issuer: 'i', expiresAt: 2_000_000_000, scopeText: '' };
const scopes = (text: string) => parseScopes(text).granted;

export const testClinician = (scope = 'user/Patient.rs', extra: Partial<ClinicianPrincipal> = {}): ClinicianPrincipal => ({
  ...base,
  kind: 'clinician',
  clientId: 'dips-arena',
  hpr: '9144889',
  orgnr: '312345676',
  role: 'LE',
  purposeOfUse: 'TREAT',
  scopes: scopes(scope),
  ...extra,
});

export const testCitizen = (fnr: string, scope = 'patient/AuditEvent.rs', extra: Partial<CitizenPrincipal> = {}): CitizenPrincipal => ({
  ...base,
  kind: 'citizen',
  clientId: 'helsenorge',
  fnr,
  scopes: scopes(scope),
  ...extra,
});

export const testSystem = (clientId: string, scope: string, extra: Partial<SystemPrincipal> = {}): SystemPrincipal => ({
  ...base,
  kind: 'system',
  clientId,
  scopes: scopes(scope),
  ...extra,
});
