// The access decision of one protected request, between authentication and the handler: find the patient
// the route's declaration names (loading the stored resource or parsing the body as declared), fetch that
// patient's facts, and run the common rules plus the route's own. The FHIR router and the clinician view
// both call this, so a page and the API call it mirrors are decided alike.
import { accessProblem, decideAccess, withOutcomes, type AccessTarget } from '../auth/access-rules.ts';
import type { Principal } from '../auth/principal.ts';
import { rolesOf } from '../auth/roles.ts';
import { isProblem, type Problem } from '../fhir/outcomes.ts';
import type { PatientFacts } from '../auth/access-rules.ts';
import type { Access, Decided, FhirRequest, Found, PatientRef, RouteContext } from './types.ts';

/** The request-level target a route's declaration describes. */
export function targetOf(access: Access<unknown>): AccessTarget {
  return {
    resourceType: access.scope.resourceType,
    interaction: access.scope.interaction,
    level: 'request',
    source: access.source,
    admits: access.admits,
    impersonal: access.patient.from === 'none',
  };
}

/** The 403 for a principal no role of which the route admits, whoever the patient is. */
export function refuseUnadmitted(access: Access<unknown>, principal: Principal): Problem | undefined {
  const roles = rolesOf(principal, undefined);
  if (roles.some((r) => access.admits.includes(r))) return undefined;
  return accessProblem(decideAccess(principal, undefined, targetOf(access)));
}

/**
 * Decides a request: the Decided value the handler runs with, or the Problem to answer instead. Whatever is
 * learnt about the patient goes into ctx.audit first, so refusals are audited under the patient too.
 */
export async function decideRequest<T>(access: Access<T>, principal: Principal, req: FhirRequest, ctx: RouteContext): Promise<Decided<T> | Problem> {
  const erased = access as Access<unknown>;
  const early = factsAhead(erased, req, ctx);
  const found = await access.patient.find(req, ctx);
  if (isProblem(found)) {
    // A caller the route never admits learns nothing from the lookup (not even whether the id exists).
    return refuseUnadmitted(erased, principal) ?? hiddenAbsence(erased, principal, found, ctx) ?? found;
  }
  if (found.patient) ctx.audit.patient = { ...ctx.audit.patient, ...found.patient };
  const facts = found.patient ? await factsOf(found.patient, early, ctx) : undefined;
  const target = targetOf(erased);
  const common = decideAccess(principal, facts, target);
  const decision = withOutcomes(common, (access.rules ?? []).flatMap((rule) => rule(principal, found as Found<T>, target)));
  if (decision.effect === 'deny') return accessProblem(decision);
  return { principal, patient: found.patient, facts, decision, loaded: found.loaded } as unknown as Decided<T>;
}

/**
 * A citizen may see only their own records, so a miss on anyone else's must answer as a record of someone
 * else's does: the same 403. A 404 there would tell them which ids and which fødselsnumre Helsebro holds.
 * Their own number, when the lookup named it, still gets its 404: it tells them nothing about anyone else.
 */
function hiddenAbsence(access: Access<unknown>, principal: Principal, found: Problem, ctx: RouteContext): Problem | undefined {
  if (principal.kind !== 'citizen' || found.status !== 404) return undefined;
  const asked = ctx.audit.patient?.fnr;
  if (asked !== undefined && (asked === principal.fnr || asked === principal.actingFor?.fnr)) return undefined;
  return accessProblem(decideAccess(principal, undefined, targetOf(access)));
}

type Early = { fnr: string; facts: Promise<PatientFacts> } | undefined;

/**
 * For a path id whose person number an earlier request learnt, the facts are asked for now, before the
 * stored patient is loaded, so the two reads go out together.
 */
function factsAhead(access: Access<unknown>, req: FhirRequest, ctx: RouteContext): Early {
  const id = access.patient.from === 'path-id' ? req.params.id : undefined;
  const fnr = id ? ctx.personNumbers?.get(id) : undefined;
  if (!id || !fnr) return undefined;
  const facts = ctx.patientFacts({ id, fnr });
  // Not awaited when the lookup fails; the rejection must not go unhandled.
  facts.catch(() => undefined);
  return { fnr, facts };
}

/** The facts of the patient found: those asked for ahead when they were about this very person, else asked now. */
async function factsOf(patient: PatientRef, early: Early, ctx: RouteContext): Promise<PatientFacts> {
  const id = patient.id ?? patient.fnr;
  if (patient.id) ctx.personNumbers?.set(patient.id, patient.fnr);
  if (early && early.fnr === patient.fnr) return early.facts;
  return ctx.patientFacts({ id, fnr: patient.fnr });
}
