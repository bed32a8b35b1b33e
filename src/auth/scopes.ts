// SMART on FHIR scopes: `<context>/<ResourceType|*>.<permissions>`.
// v2 permissions are the letters c r u d s, in that order, each at most once (`user/Patient.rs`);
// v1 `.read`, `.write` and `.*` are accepted and translated to the v2 letters.
// Scopes that are not SMART resource scopes (openid, profile, helseid://scopes/...) are kept as text
// only: they never grant access to FHIR data.

export type ScopeContext = 'patient' | 'user' | 'system';
export type Interaction = 'c' | 'r' | 'u' | 'd' | 's';

export const INTERACTIONS: readonly Interaction[] = ['c', 'r', 'u', 'd', 's'];

export interface Scope {
  context: ScopeContext;
  /** A FHIR resource type, or `*` for every type. */
  resourceType: string;
  interactions: ReadonlySet<Interaction>;
  /** The scope as it appeared in the token. */
  raw: string;
}

export interface ParsedScopes {
  /** SMART resource scopes that grant access. */
  granted: Scope[];
  /** Everything else, kept for logs and documentation only. */
  other: string[];
}

const SCOPE_RE = /^(patient|user|system)\/([A-Z][A-Za-z]{1,63}|\*)\.([a-z*]+)$/;
const V1: Record<string, readonly Interaction[]> = {
  read: ['r', 's'],
  write: ['c', 'u', 'd'],
  '*': INTERACTIONS,
};

/** One scope string, or undefined when it is not a usable SMART resource scope. */
export function parseScope(raw: string): Scope | undefined {
  // Granular v2 scopes (`patient/Observation.rs?category=...`) narrow access to a subset; Helsebro does not
  // evaluate those constraints, so rather than grant the wider unconstrained access it ignores the scope.
  if (raw.includes('?')) return undefined;
  const m = SCOPE_RE.exec(raw);
  if (!m) return undefined;
  const [, context, resourceType, perms] = m as unknown as [string, ScopeContext, string, string];
  const interactions = V1[perms] ?? parseV2Permissions(perms);
  if (!interactions) return undefined;
  return { context, resourceType, interactions: new Set(interactions), raw };
}

function parseV2Permissions(perms: string): Interaction[] | undefined {
  // The letters must follow the order c r u d s with no repeats: `rs` is valid, `sr` and `rr` are not.
  let last = -1;
  const out: Interaction[] = [];
  for (const ch of perms) {
    const at = INTERACTIONS.indexOf(ch as Interaction);
    if (at <= last) return undefined;
    last = at;
    out.push(ch as Interaction);
  }
  return out.length ? out : undefined;
}

/** The token's `scope` claim: a space-separated string (RFC 8693, SMART) or an array (as HelseID issues it). */
export function parseScopes(claim: unknown): ParsedScopes {
  const items = typeof claim === 'string' ? claim.split(/\s+/) : Array.isArray(claim) ? claim : [];
  const granted: Scope[] = [];
  const other: string[] = [];
  for (const item of items) {
    if (typeof item !== 'string' || !item) continue;
    for (const word of item.split(/\s+/)) {
      if (!word) continue;
      const s = parseScope(word);
      if (s) granted.push(s);
      else other.push(word);
    }
  }
  return { granted, other };
}

export interface ScopeNeed {
  resourceType: string;
  interaction: Interaction;
}

/** True when one of the scopes grants the interaction on the resource type. */
export function scopesAllow(scopes: readonly Scope[], need: ScopeNeed): boolean {
  return scopes.some(
    (s) => (s.resourceType === '*' || s.resourceType === need.resourceType) && s.interactions.has(need.interaction),
  );
}

/** True when the principal's scopes grant the interaction on the resource type. */
export function hasScope(principal: { scopes: readonly Scope[] }, need: ScopeNeed): boolean {
  return scopesAllow(principal.scopes, need);
}

/**
 * The scopes that satisfy a need, as documentation text for the CapabilityStatement and error messages,
 * e.g. `user/Patient.r | system/Patient.r | patient/Patient.r`. Any scope granting the letter works
 * (`user/Patient.rs`, `user/*.cruds`); the text names the narrowest.
 */
export function requiredScope(need: ScopeNeed, contexts: readonly ScopeContext[] = ['user', 'system', 'patient']): string {
  return contexts.map((c) => `${c}/${need.resourceType}.${need.interaction}`).join(' | ');
}

/** The FHIR REST interaction a route performs, as the permission letter it needs. */
export const INTERACTION_OF = {
  read: 'r',
  vread: 'r',
  'history-instance': 'r',
  'search-type': 's',
  'search-system': 's',
  create: 'c',
  update: 'u',
  patch: 'u',
  delete: 'd',
} as const satisfies Record<string, Interaction>;
