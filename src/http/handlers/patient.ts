// Patient read and search.
import type { Bundle } from '@medplum/fhirtypes';
import { searchsetBundle } from '../../fhir/bundle.ts';
import { OID, parseToken, personNumberOf } from '../../fhir/identifiers.ts';
import { badRequest, isProblem, type Problem } from '../../fhir/outcomes.ts';
import { searchPatients, type IdentifierToken } from '../../store/patients.ts';
import { FHIR_ID, patientFromPath, patientSearch } from '../locate.ts';
import { searchInput, searchSelfUrl } from '../search-input.ts';
import { checkKnownParams, orValues, parsePaging } from '../search-params.ts';
import { route, type Decided, type FhirRequest, type HandlerResult, type RouteContext, type RouteDef } from '../types.ts';

const PEOPLE = ['citizen', 'guardian', 'clinician', 'ncp'] as const;

export const patientRoutes: RouteDef[] = [
  route({
    method: 'GET',
    path: '/Patient/:id',
    resourceType: 'Patient',
    interaction: 'read',
    access: { admits: PEOPLE, scope: { resourceType: 'Patient', interaction: 'r' }, audit: 'R', patient: patientFromPath, source: 'population-registry' },
    documentation: 'Read a patient by Helsebro id.',
    handler: async (_req, _ctx, decided) => ({ status: 200, resource: decided.loaded }),
  }),
  route({
    method: 'GET',
    path: '/Patient',
    resourceType: 'Patient',
    interaction: 'search-type',
    access: { admits: PEOPLE, scope: { resourceType: 'Patient', interaction: 's' }, audit: 'E', patient: patientSearch },
    searchParams: [
      { name: 'identifier', type: 'token', documentation: 'system|value, e.g. urn:oid:2.16.578.1.12.4.1.4.1|<fødselsnummer>' },
      { name: '_id', type: 'token', documentation: 'Helsebro patient id' },
    ],
    documentation: 'Search patients by identifier (token semantics) or _id, each with comma OR, with _count/_offset paging and _summary=count. A citizen finds only themself; everyone else must name the patient (identifier=system|value or _id), so the population cannot be browsed.',
    handler: searchPatientHandler,
  }),
  route({
    method: 'POST',
    path: '/Patient/_search',
    resourceType: 'Patient',
    interaction: 'search-type',
    accepts: ['form'],
    access: { admits: PEOPLE, scope: { resourceType: 'Patient', interaction: 's' }, audit: 'E', patient: patientSearch },
    documentation: 'The same search with parameters in a form body, so a fødselsnummer need not travel in a URL.',
    handler: searchPatientHandler,
  }),
];

async function searchPatientHandler(req: FhirRequest, ctx: RouteContext, decided: Decided<undefined>): Promise<HandlerResult> {
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
  // An id that cannot be one is a malformed search, not one that matches nobody.
  const notAnId = ids?.findIndex((id) => !FHIR_ID.test(id)) ?? -1;
  if (notAnId >= 0) return badRequest(`_id must be FHIR ids (1-64 letters, digits, '-' and '.'), comma-separated; value ${notAnId + 1} is not one`, { expression: ['_id'] });
  // Everyone else must name the patient: a search is a lookup of someone in care, never a browse through
  // the population (a million people's names and numbers, a page at a time), and a token with a system but
  // no value (`urn:oid:...|`) matches everyone who has one.
  if (decided.principal.kind !== 'citizen') {
    const unnamed = tokens?.find((t) => !t.value);
    if (unnamed) return badRequest('Each identifier must have a value (system|value): a system alone matches everyone who has one', { expression: ['identifier'] });
    if (!tokens?.length && !ids?.length) {
      return badRequest('A Patient search must name the patient: identifier=system|value (the fødselsnummer or D-nummer) or _id', { expression: ['identifier'] });
    }
  }
  // A citizen's search is confined to the person the decision was made about (themself or whom they act for),
  // and still means what it says: criteria that do not match that person find nobody.
  const confined = decided.principal.kind === 'citizen' && decided.patient ? { system: OID.fnr, value: decided.patient.fnr } : undefined;
  const page = await searchPatients(ctx.db, {
    identifiers: tokens,
    ids,
    confinedTo: confined,
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
