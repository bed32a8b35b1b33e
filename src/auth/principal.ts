// Who is asking, from a verified token's claims. Three kinds, decided by the claims present:
//   clinician: an HPR number  -> a health professional working through an EPJ (needs organisation, role, purpose)
//   citizen:   a person id with patient/ scopes and no HPR number -> a person reading their own data
//   system:    neither        -> a machine client (the NCP gateway, a pharmacy system)
// A token that lacks a claim its kind needs is invalid as a whole: no partial principals.
import { parsePersonNumber } from '../fhir/identifiers.ts';
import { CLAIM } from './claims.ts';
import type { SystemRole } from './roles.ts';
import { parseScopes, type Scope, type ScopeContext } from './scopes.ts';

export type PrincipalKind = 'clinician' | 'system' | 'citizen';

interface PrincipalBase {
  kind: PrincipalKind;
  /** `sub`, or the client id when the token has no subject. */
  subject: string;
  clientId: string;
  clientName?: string | undefined;
  /** Resource scopes this principal may use: only those of its own context (user/, system/, patient/). */
  scopes: readonly Scope[];
  /** The whole scope claim, for logs and audit. */
  scopeText: string;
  /** `jti`: lets an audit trail name the exact token. */
  tokenId?: string | undefined;
  issuer: string;
  /** Expiry, seconds since the epoch. */
  expiresAt: number;
}

export interface ClinicianPrincipal extends PrincipalBase {
  kind: 'clinician';
  hpr: string;
  /** The organisation the clinician acts for: HelseID's child organisation when named, else the parent. */
  orgnr: string;
  parentOrgnr?: string | undefined;
  /** Volven 9060 code (LE lege, SP sykepleier ...). */
  role: string;
  /** HL7 v3 PurposeOfUse code. */
  purposeOfUse: string;
  name?: string | undefined;
  /**
   * The patient (Helsebro id) an EHR launch opened this session for (SMART launch context). The care purpose
   * the EHR asserted is for that patient; set by the clinician view from its session, never from a bare token.
   */
  launchPatient?: string | undefined;
}

export interface SystemPrincipal extends PrincipalBase {
  kind: 'system';
  /** From the client id's registration (roles.ts); undefined for a client Helsebro has not registered. */
  role?: SystemRole | undefined;
  orgnr?: string | undefined;
  parentOrgnr?: string | undefined;
  purposeOfUse?: string | undefined;
  /** The organisation number and HER-id Helsebro's client registration (SYSTEM_CLIENTS) names for the client. */
  registeredOrgnr?: string | undefined;
  registeredHerId?: string | undefined;
}

export interface Representation {
  /** Fødselsnummer of the represented person. */
  fnr: string;
  relation: 'guardian' | 'proxy';
}

export interface CitizenPrincipal extends PrincipalBase {
  kind: 'citizen';
  /** The citizen's own fødselsnummer or D-nummer. */
  fnr: string;
  /** Set when the citizen acts for someone else (a parent for a child, a holder of power of attorney). */
  actingFor?: Representation | undefined;
}

export type Principal = ClinicianPrincipal | SystemPrincipal | CitizenPrincipal;

/** Why a token's claims do not make a principal. Logged by the caller; never sent to the client. */
export interface InvalidClaims {
  invalid: string;
}

export const isInvalidClaims = (v: Principal | InvalidClaims): v is InvalidClaims => 'invalid' in v;

const CONTEXT_OF: Record<PrincipalKind, ScopeContext> = { clinician: 'user', system: 'system', citizen: 'patient' };

const HPR_RE = /^[1-9]\d{3,8}$/;
const ORGNR_RE = /^\d{9}$/;
const ROLE_RE = /^[A-Z0-9]{1,10}$/;
const PURPOSE_RE = /^[A-Z]{2,16}$/;
const MAX_TEXT = 256;

function text(claims: Record<string, unknown>, name: string): string | undefined {
  const v = claims[name];
  if (typeof v === 'number' && Number.isSafeInteger(v)) return String(v);
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  return t && t.length <= MAX_TEXT ? t : undefined;
}

/** The claim must be absent or match; a present but malformed value makes the token invalid. */
function optional(claims: Record<string, unknown>, name: string, re: RegExp): string | undefined | InvalidClaims {
  if (claims[name] === undefined) return undefined;
  const v = text(claims, name);
  return v !== undefined && re.test(v) ? v : { invalid: `claim ${name} is malformed` };
}

const bad = (v: unknown): v is InvalidClaims => typeof v === 'object' && v !== null && 'invalid' in v;

/** Builds the principal from verified claims (signature, issuer, audience and lifetime already checked). */
export function principalFromClaims(claims: Record<string, unknown>): Principal | InvalidClaims {
  const clientId = text(claims, CLAIM.clientId);
  if (!clientId) return { invalid: 'no client_id' };
  const issuer = text(claims, 'iss');
  if (!issuer) return { invalid: 'no iss' };
  const exp = claims['exp'];
  if (typeof exp !== 'number') return { invalid: 'no exp' };
  const { granted, other } = parseScopes(claims[CLAIM.scope]);
  const scopeText = [...granted.map((s) => s.raw), ...other].join(' ');

  const hprRaw = claims[CLAIM.hprNumber];
  const pid = text(claims, CLAIM.pid) ?? text(claims, CLAIM.pidPlain);
  const parent = optional(claims, CLAIM.orgnrParent, ORGNR_RE);
  const child = optional(claims, CLAIM.orgnrChild, ORGNR_RE);
  if (bad(parent)) return parent;
  if (bad(child)) return child;
  const purpose = optional(claims, CLAIM.purposeOfUse, PURPOSE_RE);
  if (bad(purpose)) return purpose;

  const kind: PrincipalKind = hprRaw !== undefined ? 'clinician' : pid !== undefined ? 'citizen' : 'system';
  const base = {
    subject: text(claims, 'sub') ?? clientId,
    clientId,
    clientName: text(claims, CLAIM.clientName),
    scopes: granted.filter((s) => s.context === CONTEXT_OF[kind]),
    scopeText,
    tokenId: text(claims, 'jti'),
    issuer,
    expiresAt: exp,
  };

  switch (kind) {
    case 'clinician': {
      const hpr = text(claims, CLAIM.hprNumber);
      if (!hpr || !HPR_RE.test(hpr)) return { invalid: 'HPR number malformed' };
      const orgnr = child ?? parent;
      if (!orgnr) return { invalid: 'clinician without organisation number' };
      const role = optional(claims, CLAIM.role, ROLE_RE);
      if (bad(role) || !role) return { invalid: 'clinician without role' };
      if (!purpose) return { invalid: 'clinician without purpose of use' };
      return {
        ...base,
        kind,
        hpr,
        orgnr,
        parentOrgnr: child ? parent : undefined,
        role,
        purposeOfUse: purpose,
        name: text(claims, 'name'),
      };
    }
    case 'citizen': {
      // A person id alone does not make a citizen: a HelseID user without HPR number also carries one.
      // Only a token issued for patient access (patient/ scopes) acts as the person it names.
      if (!granted.some((s) => s.context === 'patient')) return { invalid: 'person token without patient scopes' };
      if (!pid || !parsePersonNumber(pid)) return { invalid: 'person identifier malformed' };
      const actingFor = representation(claims);
      if (bad(actingFor)) return actingFor;
      return { ...base, kind, fnr: pid, actingFor };
    }
    case 'system':
      return { ...base, kind, orgnr: child ?? parent, parentOrgnr: child ? parent : undefined, purposeOfUse: purpose };
  }
}

function representation(claims: Record<string, unknown>): Representation | undefined | InvalidClaims {
  const fnr = claims[CLAIM.actingFor];
  const relation = claims[CLAIM.representation];
  if (fnr === undefined && relation === undefined) return undefined;
  if (typeof fnr !== 'string' || !parsePersonNumber(fnr)) return { invalid: 'acting_for malformed' };
  if (relation !== 'guardian' && relation !== 'proxy') return { invalid: 'representation malformed' };
  return { fnr, relation };
}

/** Short, non-identifying description for logs: kind and client, never a person number. */
export function describePrincipal(p: Principal): string {
  switch (p.kind) {
    case 'clinician':
      return `clinician via ${p.clientId} (org ${p.orgnr})`;
    case 'system':
      return `system ${p.clientId}${p.role ? ` (${p.role})` : ''}`;
    case 'citizen':
      return `citizen via ${p.clientId}`;
  }
}
