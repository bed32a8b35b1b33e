// Access rules: pure functions over (who is asking, the patient, what is asked for). Each rule has a stable
// code and says allow, deny (the request fails with 403) or withhold (the request succeeds, and the withheld
// part is reported as withheld: a section emptyReason `withheld`, an OperationOutcome warning; never
// silently dropped). decideAccess runs every rule and returns every outcome that applies.
import type { Coding, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { HELSEBRO_NS } from '../fhir/identifiers.ts';
import { forbidden, warning, type Problem } from '../fhir/outcomes.ts';
import { CARE_PURPOSES } from './claims.ts';
import type { Principal } from './principal.ts';
import { rolesOf, type Role } from './roles.ts';
import { hasScope, requiredScope, type Interaction, type ScopeContext } from './scopes.ts';

export const ACCESS_RULE_SYSTEM = `${HELSEBRO_NS}/CodeSystem/access-rule`;

/** Where data comes from; source-level rules key on it. */
export type DataSource =
  | 'kjernejournal'
  | 'medication-list'
  | 'npr'
  | 'kpr'
  | 'population-registry'
  | 'eprescription'
  | 'edispensation'
  | 'audit';

/** A restriction ('sperring') the patient has placed on their data. */
export type Restriction =
  /** Named health personnel blocked from a source (Kjernejournal lets a patient block individual HPR numbers). */
  | { kind: 'hpr-block'; source: DataSource; hpr: readonly string[] }
  /** A whole source closed to everyone but the patient (e.g. restricted medicines, 'sperrede legemidler'). */
  | { kind: 'source-block'; source: DataSource }
  /** Confidential address (strengt fortrolig / fortrolig adresse): address and contact details withheld. */
  | { kind: 'confidential-address'; grade?: 'strengt-fortrolig' | 'fortrolig' | 'unknown' | undefined };

export interface PatientFacts {
  /** Fødselsnummer or D-nummer. */
  fnr: string;
  id?: string | undefined;
  /** The patient has reserved against Kjernejournal: it holds nothing to show. */
  kjernejournalReserved: boolean;
  /** A child aged 12-16 has reserved against guardian access (vergeinnsynsreservasjon). */
  guardianAccessReserved: boolean;
  restrictions: readonly Restriction[];
  /**
   * Who the population register says may act for the patient as a guardian: holders of parental
   * responsibility (foreldreansvar) for a minor, an appointed guardian (vergemål). Undefined when no
   * register was asked; then a guardian token's own claim is all there is.
   */
  guardians?: readonly string[] | undefined;
}

export interface AccessTarget {
  /** The resource type the data is, or is expressed as (Patient, AllergyIntolerance, AuditEvent ...). */
  resourceType: string;
  interaction: Interaction;
  /**
   * `request`: what the route itself reads or writes; a failing scope refuses the request.
   * `content`: one part of a larger answer (a summary section, one source's records); a failing scope
   * withholds that part.
   */
  level: 'request' | 'content';
  source?: DataSource | undefined;
  /** IPS section LOINC code when the target is a section; carried so the caller can set its emptyReason. */
  section?: string | undefined;
  /** A part of a resource with a restriction of its own. */
  element?: 'address' | undefined;
  /** The record is flagged restricted by the patient (a locked prescription, a restricted medicine). */
  restricted?: boolean | undefined;
  /** The roles the route admits (its declaration); absent for content-level targets, which the route already passed. */
  admits?: readonly Role[] | undefined;
  /** True when the data is about no person at all (terminology, the outbox's counts): no patient rule applies. */
  impersonal?: boolean | undefined;
}

export type AccessEffect = 'allow' | 'deny' | 'withhold';

export const ACCESS_RULES = {
  'ACCESS-ROLE': 'Each route admits the roles its declaration names (citizen, guardian or proxy, clinician, NCP, pharmacy, operator, auditor)',
  'ACCESS-SCOPE': 'The token\'s scopes must name the resource type and interaction; system clients see only what their scopes name',
  'ACCESS-CITIZEN-OWN-ONLY': 'A citizen sees only their own data, or that of a person they represent',
  'ACCESS-GUARDIAN-RESERVED': 'A guardian does not see the data of a child who has reserved against guardian access',
  'ACCESS-GUARDIAN-NOT-REGISTERED': 'A guardian acts only for a person the population register names them guardian of (parental responsibility or guardianship)',
  'ACCESS-KJ-RESERVED': 'A patient reserved against Kjernejournal has no Kjernejournal content to show',
  'ACCESS-RESTRICTED': 'Content the patient has restricted (blocked personnel, restricted sources or records, confidential address) is withheld',
  'ACCESS-PURPOSE': 'A clinician reads and writes patient data only for a care purpose (TREAT, ETREAT, COC, CAREMGT)',
  'ACCESS-LAUNCH-CONTEXT': 'A session an EHR launched for one patient reaches that patient only: the care purpose it asserted is for them',
  'ACCESS-PHARMACY-OWN-ONLY': 'A pharmacy system reads and withdraws only the dispensations it reported itself (the same client acting for the same organisation)',
  'ACCESS-PHARMACY-ORGANISATION': 'A pharmacy system reports dispensings only in the name of the organisation it is registered for (org.nr, HER-id)',
} as const;

export type AccessRuleCode = keyof typeof ACCESS_RULES;

export interface AccessOutcome {
  rule: AccessRuleCode;
  effect: AccessEffect;
  /** English, free of personal data: safe for an OperationOutcome and a log line. */
  reason: string;
  target: AccessTarget;
}

export interface AccessDecision {
  /** The strongest outcome: deny over withhold over allow. */
  effect: AccessEffect;
  outcomes: AccessOutcome[];
}

type Rule = (who: Principal, patient: PatientFacts | undefined, what: AccessTarget) => AccessOutcome[];

const out = (rule: AccessRuleCode, effect: AccessEffect, reason: string, target: AccessTarget): AccessOutcome[] => [
  { rule, effect, reason, target },
];

/** True when the principal is the patient (not a representative of them). */
const isPatientThemself = (who: Principal, patient: PatientFacts | undefined): boolean =>
  who.kind === 'citizen' && patient !== undefined && who.fnr === patient.fnr;

const CONTEXT_OF: Record<Principal['kind'], ScopeContext> = { clinician: 'user', system: 'system', citizen: 'patient' };

export const scopeRule: Rule = (who, _patient, what) => {
  if (hasScope(who, { resourceType: what.resourceType, interaction: what.interaction })) {
    return out('ACCESS-SCOPE', 'allow', 'Scope granted', what);
  }
  const needed = requiredScope({ resourceType: what.resourceType, interaction: what.interaction }, [CONTEXT_OF[who.kind]]);
  return what.level === 'request'
    ? out('ACCESS-SCOPE', 'deny', `The access token lacks the scope ${needed}`, what)
    : out('ACCESS-SCOPE', 'withhold', `Withheld: the access token lacks the scope ${needed}`, what);
};

export const roleRule: Rule = (who, patient, what) => {
  if (!what.admits) return [];
  // Someone else's patient is the own-data rule's refusal, not the role's: the citizen's roles are judged as if no patient were named.
  const ownOrRepresented = patient && who.kind === 'citizen' && (patient.fnr === who.fnr || patient.fnr === who.actingFor?.fnr);
  const roles = rolesOf(who, ownOrRepresented ? patient.fnr : undefined);
  return roles.some((r) => what.admits!.includes(r))
    ? out('ACCESS-ROLE', 'allow', 'Role admitted', what)
    : out('ACCESS-ROLE', 'deny', `This route does not admit ${describeRoles(who, roles)}`, what);
};

const describeRoles = (who: Principal, roles: readonly Role[]): string =>
  roles.length ? roles.join(' or ') : who.kind === 'system' ? 'a system client without a registered role' : 'this caller for this patient';

export const citizenOwnOnlyRule: Rule = (who, patient, what) => {
  if (who.kind !== 'citizen' || what.impersonal) return [];
  if (patient && (patient.fnr === who.fnr || patient.fnr === who.actingFor?.fnr)) {
    return out('ACCESS-CITIZEN-OWN-ONLY', 'allow', 'The citizen\'s own data or that of a represented person', what);
  }
  return out('ACCESS-CITIZEN-OWN-ONLY', 'deny', 'A citizen may access only their own data', what);
};

export const guardianReservedRule: Rule = (who, patient, what) => {
  if (who.kind !== 'citizen' || !patient || who.actingFor?.relation !== 'guardian') return [];
  if (who.actingFor.fnr !== patient.fnr || who.fnr === patient.fnr) return [];
  return patient.guardianAccessReserved
    ? out('ACCESS-GUARDIAN-RESERVED', 'deny', 'The patient has reserved against access by guardians', what)
    : [];
};

export const guardianRegisteredRule: Rule = (who, patient, what) => {
  if (who.kind !== 'citizen' || !patient?.guardians || who.actingFor?.relation !== 'guardian') return [];
  if (who.actingFor.fnr !== patient.fnr || who.fnr === patient.fnr) return [];
  return patient.guardians.includes(who.fnr)
    ? []
    : out('ACCESS-GUARDIAN-NOT-REGISTERED', 'deny', 'The population register does not name the caller as the patient\'s guardian', what);
};

export const kjernejournalReservedRule: Rule = (_who, patient, what) =>
  patient?.kjernejournalReserved && what.source === 'kjernejournal'
    ? out('ACCESS-KJ-RESERVED', 'withhold', 'Withheld: the patient has reserved against Kjernejournal', what)
    : [];

export const restrictionRule: Rule = (who, patient, what) => {
  if (!patient || isPatientThemself(who, patient)) return [];
  const found: AccessOutcome[] = [];
  for (const r of patient.restrictions) {
    if (r.kind === 'hpr-block' && what.source === r.source && who.kind === 'clinician' && r.hpr.includes(who.hpr)) {
      found.push(...out('ACCESS-RESTRICTED', 'withhold', `Withheld: the patient has blocked this health professional from ${r.source}`, what));
    } else if (r.kind === 'source-block' && what.source === r.source) {
      found.push(...out('ACCESS-RESTRICTED', 'withhold', `Withheld: the patient has restricted ${r.source}`, what));
    } else if (r.kind === 'confidential-address' && what.element === 'address') {
      found.push(...out('ACCESS-RESTRICTED', 'withhold', 'Withheld: the patient has a confidential address', what));
    }
  }
  if (what.restricted) {
    found.push(...out('ACCESS-RESTRICTED', 'withhold', 'Withheld: the patient has restricted this record', what));
  }
  return found;
};

export const purposeRule: Rule = (who, _patient, what) => {
  // Searches that name no single patient are reads of patient data too; data about no one is not.
  if (who.kind !== 'clinician' || what.impersonal) return [];
  return CARE_PURPOSES.includes(who.purposeOfUse)
    ? []
    : out('ACCESS-PURPOSE', 'deny', 'The purpose of use in the access token is not a care purpose', what);
};

export const launchContextRule: Rule = (who, patient, what) => {
  if (who.kind !== 'clinician' || !who.launchPatient || what.impersonal || !patient) return [];
  return patient.id === who.launchPatient
    ? []
    : out('ACCESS-LAUNCH-CONTEXT', 'deny', 'This session was opened from the EHR for another patient; open this patient from the EHR', what);
};

export const RULES: readonly Rule[] = [
  roleRule,
  scopeRule,
  citizenOwnOnlyRule,
  guardianReservedRule,
  guardianRegisteredRule,
  purposeRule,
  launchContextRule,
  kjernejournalReservedRule,
  restrictionRule,
];

const strongest = (outcomes: readonly AccessOutcome[]): AccessEffect =>
  outcomes.some((o) => o.effect === 'deny') ? 'deny' : outcomes.some((o) => o.effect === 'withhold') ? 'withhold' : 'allow';

/**
 * Runs every rule for one target. `patient` is undefined for requests that concern no single patient
 * (an auditor listing the whole audit log); a citizen is then denied, as citizens reach only their own data.
 */
export function decideAccess(who: Principal, patient: PatientFacts | undefined, what: AccessTarget): AccessDecision {
  const outcomes = RULES.flatMap((rule) => rule(who, patient, what));
  return { effect: strongest(outcomes), outcomes };
}

/** Decides several targets (the sections or sources of one summary) and merges the outcomes. */
export function decideAccessAll(
  who: Principal,
  patient: PatientFacts | undefined,
  targets: readonly AccessTarget[],
): AccessDecision {
  const outcomes = targets.flatMap((t) => decideAccess(who, patient, t).outcomes);
  return { effect: strongest(outcomes), outcomes };
}

export const accessRuleCoding = (rule: AccessRuleCode): Coding => ({
  system: ACCESS_RULE_SYSTEM,
  code: rule,
  display: ACCESS_RULES[rule],
});

/** The 403 for a denied decision: every denying rule's code in issue.details; scope refusals per RFC 6750. */
export function accessProblem(decision: AccessDecision): Problem {
  const denials = decision.outcomes.filter((o) => o.effect === 'deny');
  const first = denials[0];
  if (!first) return forbidden('Access denied');
  const base = forbidden(denials.map((d) => d.reason).join('; '), {
    details: [...new Set(denials.map((d) => d.rule))].map(accessRuleCoding),
  });
  const scope = denials.find((d) => d.rule === 'ACCESS-SCOPE');
  if (!scope) return base;
  const need = { resourceType: scope.target.resourceType, interaction: scope.target.interaction };
  return {
    ...base,
    headers: {
      'WWW-Authenticate': `Bearer realm="helsebro", error="insufficient_scope", scope="${requiredScope(need).replaceAll(' | ', ' ')}"`,
    },
  };
}

/**
 * One warning per withheld part (issue code `suppressed`, the rule code in details), for the response's
 * OperationOutcome; the section code, when given, goes into expression.
 */
export function withheldIssues(decision: AccessDecision): OperationOutcomeIssue[] {
  return decision.outcomes
    .filter((o) => o.effect === 'withhold')
    .map((o) =>
      warning('suppressed', o.reason, {
        details: [accessRuleCoding(o.rule)],
        ...(o.target.section ? { expression: [`Composition.section.where(code.coding.code='${o.target.section}')`] } : {}),
      }),
    );
}

/** Rule codes that withheld something: recorded in the AuditEvent so the log shows what was not shown. */
export const withheldRules = (decision: AccessDecision): AccessRuleCode[] => [
  ...new Set(decision.outcomes.filter((o) => o.effect === 'withhold').map((o) => o.rule)),
];

/**
 * A guardian reading a child's data does not see the records the child has reserved against guardian
 * access (the medication list marks them, and its mapper labels them meta.security R). Other readers, the
 * child and clinicians, see them: the label is this reservation, not a restriction for everyone.
 */
export function readsAsGuardian(who: Principal, patientFnr: string): boolean {
  return who.kind === 'citizen' && who.actingFor?.relation === 'guardian' && who.actingFor.fnr === patientFnr && who.fnr !== patientFnr;
}

const guardianReserved = (r: Resource): boolean => (r.meta?.security ?? []).some((c) => c.code === 'R');

/** Results of several sources, each `ok` with resources or failed; what a guardian may not see is removed. */
export function withholdGuardianReserved<T extends { status: string }>(
  results: readonly T[],
  who: Principal,
  patientFnr: string,
): { results: T[]; hidden: number; issues: OperationOutcomeIssue[] } {
  if (!readsAsGuardian(who, patientFnr)) return { results: [...results], hidden: 0, issues: [] };
  let hidden = 0;
  const kept = results.map((res) => {
    const resources = (res as { resources?: Resource[] }).resources;
    if (res.status !== 'ok' || !resources) return res;
    const visible = resources.filter((r) => !guardianReserved(r));
    hidden += resources.length - visible.length;
    return { ...res, resources: visible };
  });
  const issues = hidden
    ? [
        warning('suppressed', `${hidden} record(s) withheld: the patient has reserved them against access by guardians`, {
          details: [accessRuleCoding('ACCESS-GUARDIAN-RESERVED')],
        }),
      ]
    : [];
  return { results: kept, hidden, issues };
}

/** A patient restriction on ePrescriptions (a source block) stops their export abroad (NO-EXPORT-PATIENT-RESTRICTION). */
export const restrictsExport = (facts: PatientFacts | undefined): boolean =>
  facts?.restrictions.some((r) => r.kind === 'source-block' && r.source === 'eprescription') ?? false;

/**
 * Which side of the eDispensation flow a system client is on decides which dispensations it may withdraw:
 * the NCP those reported from abroad (channel ncp), a pharmacy those reported by Norwegian pharmacies.
 */
export function withdrawalRule(who: Principal, channel: 'ncp' | 'pharmacy', what: AccessTarget): AccessOutcome[] {
  if (who.kind !== 'system') return [];
  return who.role === channel
    ? []
    : out('ACCESS-ROLE', 'deny', `Only the ${channel === 'ncp' ? 'NCP' : 'pharmacy side'} withdraws a dispensation it reported`, what);
}

/** Who reported a dispensation (Norway as country B): the authenticated client and the organisation it acted for. */
export interface Reporter {
  clientId: string;
  /** Organisation number the client acted for (token orgnr_child/orgnr_parent, else its registration). */
  orgnr?: string | undefined;
}

/**
 * The organisation a pharmacy client acts for: the token's (HelseID orgnr_child, else orgnr_parent) or, for a
 * token naming none, the client's registration; the HER-id only from the registration. A token naming
 * another organisation than the registration (neither its child nor its parent) has none: nothing it says
 * about whom it reports for can be verified.
 */
export function pharmacyOrganisation(who: Principal): { orgnr?: string; herId?: string } {
  if (who.kind !== 'system') return {};
  const reg = who.registeredOrgnr;
  if (reg && who.orgnr && who.orgnr !== reg && who.parentOrgnr !== reg) return {};
  const orgnr = who.orgnr ?? reg;
  return { ...(orgnr ? { orgnr } : {}), ...(who.registeredHerId ? { herId: who.registeredHerId } : {}) };
}

/** The reporter a dispensation is recorded under when this principal reports it. */
export function reporterOf(who: Principal): Reporter {
  const { orgnr } = pharmacyOrganisation(who);
  return { clientId: who.clientId, ...(orgnr ? { orgnr } : {}) };
}

/** Same client, same organisation: what makes a dispensation a pharmacy's own. */
export const sameReporter = (a: Reporter | undefined, b: Reporter): boolean => !!a && a.clientId === b.clientId && (a.orgnr ?? '') === (b.orgnr ?? '');

/**
 * A pharmacy reads, withdraws and replays only the dispensations it reported itself; another pharmacy's
 * (or one recorded before reporters were kept) is refused, so it never learns the MsgIds that would let it
 * act on them. Other roles are judged by the other rules.
 */
export function pharmacyOwnDispensationRule(who: Principal, dispensation: { channel: 'ncp' | 'pharmacy'; reporter?: Reporter | undefined }, what: AccessTarget): AccessOutcome[] {
  if (who.kind !== 'system' || who.role !== 'pharmacy' || dispensation.channel !== 'pharmacy') return [];
  return sameReporter(dispensation.reporter, reporterOf(who))
    ? []
    : out('ACCESS-PHARMACY-OWN-ONLY', 'deny', 'The dispensation was reported by another pharmacy system; a pharmacy reads and withdraws only its own', what);
}

/** A pharmacy reads prescriptions that came from abroad (EU) only; Norwegian ones reach it through the prescription chain. */
export function pharmacyReadsEuOnly(who: Principal, origin: 'NO' | 'EU', what: AccessTarget): AccessOutcome[] {
  return who.kind === 'system' && who.role === 'pharmacy' && origin !== 'EU'
    ? out('ACCESS-ROLE', 'deny', 'A pharmacy system reads EU prescriptions only', what)
    : [];
}

/** Merges the outcomes of route-specific rules into a decision. */
export function withOutcomes(decision: AccessDecision, extra: readonly AccessOutcome[]): AccessDecision {
  const outcomes = [...decision.outcomes, ...extra];
  return { effect: strongest(outcomes), outcomes };
}
