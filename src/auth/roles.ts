// Roles: what a principal may do, as the route table declares it. A clinician is recognised by an HPR
// number and a citizen by a person number with patient/ scopes (principal.ts); a system client has no
// person in its token, so its role comes from its client id, matched against the registration of the
// clients Helsebro trusts (SYSTEM_CLIENTS). A system client that is not registered has no role and is
// admitted nowhere.
import type { Principal, SystemPrincipal } from './principal.ts';
import type { ScopeContext } from './scopes.ts';

export type SystemRole = 'ncp' | 'pharmacy' | 'operator' | 'auditor';

/**
 * Who a route admits. `citizen`: a person reaching their own data. `guardian`: a citizen acting for another
 * person (guardian or proxy), for that person's data. The rest are the clinician and the system roles.
 */
export type Role = 'citizen' | 'guardian' | 'clinician' | SystemRole;

export const ROLES: readonly Role[] = ['citizen', 'guardian', 'clinician', 'ncp', 'pharmacy', 'operator', 'auditor'];
export const SYSTEM_ROLES: readonly SystemRole[] = ['ncp', 'pharmacy', 'operator', 'auditor'];

/** One registration: a client id, or a prefix ending in `*`, and the role it has. */
export interface ClientRole {
  client: string;
  role: SystemRole;
  /**
   * The organisation the client acts for, when Helsebro registers it (`client=pharmacy@orgnr/her`): the
   * organisation number (Enhetsregisteret) and HER-id (Adresseregisteret) of the pharmacy. HelseID's token
   * claims (orgnr_child, orgnr_parent) name the organisation too; HER-ids only come from here.
   */
  orgnr?: string | undefined;
  herId?: string | undefined;
}

/** The demo registration: the clients the demo token CLI issues (`--client ncp-no|pharmacy-…|operator|auditor`). */
export const DEMO_SYSTEM_CLIENTS: readonly ClientRole[] = [
  { client: 'ncp-no', role: 'ncp' },
  // Apotek 1 Ski Storsenter, the sender of the official sample M10s: a demo pharmacy with its organisation
  // and HER-id registered (other pharmacy-* clients name their organisation with `--org`).
  { client: 'pharmacy-apotek1-ski', role: 'pharmacy', orgnr: '983044778', herId: '8090688' },
  { client: 'pharmacy-apotek-1-ski', role: 'pharmacy', orgnr: '983044778', herId: '8090688' },
  { client: 'pharmacy-*', role: 'pharmacy' },
  { client: 'operator', role: 'operator' },
  { client: 'auditor', role: 'auditor' },
];

const ENTRY = /^([A-Za-z0-9][A-Za-z0-9._:-]{0,99}\*?)=(ncp|pharmacy|operator|auditor)(?:@(\d{9})(?:\/(\d{1,9}))?)?$/;

/**
 * `SYSTEM_CLIENTS`: comma-separated `client=role`, or `client=role@orgnr` / `client=role@orgnr/herid` for a
 * client acting for one organisation (a trailing `*` matches a prefix, and names no organisation).
 * Undefined when malformed.
 */
export function parseSystemClients(text: string): ClientRole[] | undefined {
  const out: ClientRole[] = [];
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = ENTRY.exec(part);
    if (!m) return undefined;
    if (m[3] && m[1]!.endsWith('*')) return undefined;
    out.push({ client: m[1]!, role: m[2] as SystemRole, ...(m[3] ? { orgnr: m[3] } : {}), ...(m[4] ? { herId: m[4] } : {}) });
  }
  return out;
}

/** The registration of a client id; an exact entry wins over a prefix. */
export function registrationOf(clientId: string, clients: readonly ClientRole[]): ClientRole | undefined {
  return clients.find((c) => c.client === clientId) ?? clients.find((c) => c.client.endsWith('*') && clientId.startsWith(c.client.slice(0, -1)));
}

/** The role registered for a client id; an exact entry wins over a prefix. */
export function systemRoleOf(clientId: string, clients: readonly ClientRole[]): SystemRole | undefined {
  return registrationOf(clientId, clients)?.role;
}

/** The principal with its system role (and registered organisation) set from the registration (people keep theirs as they are). */
export function withSystemRole(p: Principal, clients: readonly ClientRole[]): Principal {
  if (p.kind !== 'system') return p;
  const reg = registrationOf(p.clientId, clients);
  return { ...p, role: reg?.role, registeredOrgnr: reg?.orgnr, registeredHerId: reg?.herId } satisfies SystemPrincipal;
}

/**
 * The role a principal acts in for a patient: a citizen is `citizen` for their own data and `guardian` for
 * the person they act for; without a patient (before it is known), a citizen may be either.
 */
export function rolesOf(p: Principal, patientFnr: string | undefined): Role[] {
  switch (p.kind) {
    case 'clinician':
      return ['clinician'];
    case 'system':
      return p.role ? [p.role] : [];
    case 'citizen':
      if (patientFnr === undefined) return p.actingFor ? ['citizen', 'guardian'] : ['citizen'];
      if (patientFnr === p.fnr) return ['citizen'];
      return p.actingFor?.fnr === patientFnr ? ['guardian'] : [];
  }
}

/** The SMART scope contexts of the roles a route admits: what its scope text names. */
export function scopeContextsOf(admits: readonly Role[]): ScopeContext[] {
  const contexts = new Set<ScopeContext>();
  for (const r of admits) contexts.add(r === 'clinician' ? 'user' : r === 'citizen' || r === 'guardian' ? 'patient' : 'system');
  return (['user', 'system', 'patient'] as const).filter((c) => contexts.has(c));
}
