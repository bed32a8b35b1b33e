// Patient read and search.
import type { Bundle } from '@medplum/fhirtypes';
import { searchsetBundle } from '../../fhir/bundle.ts';
import { accessProblem } from '../../auth/access-rules.ts';
import { OID, parseToken, personNumberOf } from '../../fhir/identifiers.ts';
import { isProblem, notFound, type Problem } from '../../fhir/outcomes.ts';
import { readPatient, searchPatients, type IdentifierToken } from '../../store/patients.ts';
import { searchInput, searchSelfUrl } from '../search-input.ts';
import { checkKnownParams, orValues, parsePaging } from '../search-params.ts';
import type { FhirRequest, HandlerResult, RouteContext, RouteDef } from '../types.ts';

const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

export const patientRoutes: RouteDef[] = [
  {
    method: 'GET',
    path: '/Patient/:id',
    resourceType: 'Patient',
    interaction: 'read',
    access: { scope: { resourceType: 'Patient', interaction: 'r' }, audit: 'R' },
    documentation: 'Read a patient by Helsebro id.',
    async handler(req, ctx) {
      const id = req.params.id!;
      if (!FHIR_ID.test(id)) return notFound(`Patient/${id} is not a valid id`, { expression: ['Patient.id'] });
      ctx.audit.resourceId = id;
      const patient = await readPatient(ctx.db, id);
      if (!patient) return notFound(`Patient/${id} not found`);
      const fnr = personNumberOf(patient);
      ctx.audit.patient = { id, fnr };
      const decision = ctx.decide(fnr ? await ctx.patientFacts({ id, fnr }) : undefined, {
        resourceType: 'Patient',
        interaction: 'r',
        level: 'request',
        source: 'population-registry',
      });
      if (decision.effect === 'deny') return accessProblem(decision);
      return { status: 200, resource: patient };
    },
  },
  {
    method: 'GET',
    path: '/Patient',
    resourceType: 'Patient',
    interaction: 'search-type',
    access: { scope: { resourceType: 'Patient', interaction: 's' }, audit: 'E' },
    searchParams: [
      { name: 'identifier', type: 'token', documentation: 'system|value, e.g. urn:oid:2.16.578.1.12.4.1.4.1|<fødselsnummer>' },
      { name: '_id', type: 'token', documentation: 'Helsebro patient id' },
    ],
    documentation: 'Search patients by identifier (token semantics) or _id, each with comma OR, with _count/_offset paging and _summary=count.',
    handler: searchPatientHandler,
  },
  {
    method: 'POST',
    path: '/Patient/_search',
    resourceType: 'Patient',
    interaction: 'search-type',
    accepts: ['form'],
    access: { scope: { resourceType: 'Patient', interaction: 's' }, audit: 'E' },
    documentation: 'The same search with parameters in a form body, so a fødselsnummer need not travel in a URL.',
    handler: searchPatientHandler,
  },
];

async function searchPatientHandler(req: FhirRequest, ctx: RouteContext): Promise<HandlerResult> {
  const input = await searchInput(req, ctx);
  if (isProblem(input)) return input;
  const query = input.query;
  const unknown = checkKnownParams(query, 'Patient', ['identifier', '_id']);
  if (unknown) return unknown;
  const paging = parsePaging(query);
  if (isProblem(paging)) return paging;
  const tokens = tokenList(query.get('identifier'));
  if (isProblem(tokens)) return tokens;
  const rawIds = query.get('_id');
  const ids = rawIds === null ? undefined : orValues(rawIds, '_id');
  if (isProblem(ids)) return ids;
  // A citizen's search is confined to themselves: the same search, with their own number as the identifier.
  const principal = ctx.principal;
  const own = principal?.kind === 'citizen' ? { system: OID.fnr, value: principal.fnr } : undefined;
  if (own && tokens?.some((t) => t.value !== own.value || (t.system && t.system !== own.system))) {
    return accessProblem(ctx.decide(undefined, { resourceType: 'Patient', interaction: 's', level: 'request' }));
  }
  const page = await searchPatients(ctx.db, {
    identifiers: own ? [own] : tokens,
    ids,
    count: paging.summaryCount ? 0 : paging.count,
    offset: paging.offset,
  });
  if (page.patients.length === 1) {
    const only = page.patients[0]!;
    ctx.audit.patient = { id: only.id, fnr: personNumberOf(only) };
  }
  if (paging.summaryCount) {
    const bundle: Bundle = { resourceType: 'Bundle', type: 'searchset', total: page.total };
    return { status: 200, resource: bundle };
  }
  const selfUrl = await searchSelfUrl(req, 'Patient', input);
  return {
    status: 200,
    resource: searchsetBundle({ selfUrl, total: page.total, baseUrl: req.baseUrl, resources: page.patients, ...paging }),
  };
}

/** identifier=a|x,b|y: each alternative a token (FHIR comma OR). */
function tokenList(raw: string | null): IdentifierToken[] | undefined | Problem {
  if (raw === null) return undefined;
  const values = orValues(raw, 'identifier');
  if (isProblem(values)) return values;
  const tokens: IdentifierToken[] = [];
  for (const v of values) {
    const t = parseToken(v);
    if (isProblem(t)) return t;
    tokens.push({ system: t.system, value: t.value });
  }
  return tokens;
}
