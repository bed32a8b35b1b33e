// GET /fhir/AuditEvent: the log of who looked at whose data. Citizens read the log of their own data
// (Helsenorge's 'logg over bruk'), shown as a citizen may see it (audit/citizen-view.ts); the auditor
// role reads any patient's log, or the whole log. There is no route that changes or removes an event.
import type { Bundle, BundleLink } from '@medplum/fhirtypes';
import { badRequest, isProblem } from '../../fhir/outcomes.ts';
import { citizenView } from '../../audit/citizen-view.ts';
import { AUDIT_SEARCH_PARAMS, parseDateRange } from '../../audit/search.ts';
import { searchAudit } from '../../audit/repository.ts';
import { decodePage, encodePage, PAGE_PARAM, type KeysetPage } from '../keyset.ts';
import { patientParam } from '../locate.ts';
import { searchInput, searchSelfUrl } from '../search-input.ts';
import { checkKnownParams, parsePaging, singleValue } from '../search-params.ts';
import { route, type Access, type Decided, type FhirRequest, type HandlerResult, type RouteContext, type RouteDef, type SearchParamDoc } from '../types.ts';

const SEARCH_PARAMS: SearchParamDoc[] = [
  { name: 'patient', type: 'reference', documentation: 'Patient/{id}: events about this patient (one patient)' },
  { name: 'patient:identifier', type: 'token', documentation: 'system|fødselsnummer: events about this person (one person)' },
  { name: 'date', type: 'date', documentation: 'when recorded (ge/gt/le/lt/eq)' },
];

const ACCESS: Access<undefined> = {
  admits: ['citizen', 'auditor'],
  scope: { resourceType: 'AuditEvent', interaction: 's' },
  audit: 'E',
  source: 'audit',
  // A citizen naming no one reads their own log; an auditor naming no one reads the whole log.
  patient: patientParam({ required: false, callerByDefault: true }),
};

export const auditRoutes: RouteDef[] = [
  route({
    method: 'GET',
    path: '/AuditEvent',
    resourceType: 'AuditEvent',
    interaction: 'search-type',
    access: ACCESS,
    searchParams: SEARCH_PARAMS,
    documentation:
      'Who read or wrote whose data, newest first, refused attempts included. A citizen reads the log of their own data only; the auditor reads any. ' +
      'Paged by keyset: every page of a search sees the log as of its first page, so events written meanwhile do not shift it.',
    handler: searchAuditHandler,
  }),
  route({
    method: 'POST',
    path: '/AuditEvent/_search',
    resourceType: 'AuditEvent',
    interaction: 'search-type',
    accepts: ['form'],
    access: ACCESS,
    searchParams: SEARCH_PARAMS,
    documentation: 'The same search with its parameters in a form body; its paging links carry an opaque cursor instead.',
    handler: searchAuditHandler,
  }),
];

async function searchAuditHandler(req: FhirRequest, ctx: RouteContext, decided: Decided<undefined>): Promise<HandlerResult> {
  const input = await searchInput(req, ctx);
  if (isProblem(input)) return input;
  const query = input.query;
  const unknown = checkKnownParams(query, 'AuditEvent', AUDIT_SEARCH_PARAMS);
  if (unknown) return unknown;
  const paging = parsePaging(query);
  if (isProblem(paging)) return paging;
  for (const name of ['patient', 'patient:identifier']) {
    const raw = query.get(name);
    const one = raw === null ? undefined : singleValue(raw, name, 'a log is read for one patient at a time');
    if (isProblem(one)) return one;
  }
  const range = parseDateRange(query.getAll('date'));
  if (isProblem(range)) return range;
  const token = query.get(PAGE_PARAM);
  if (token !== null && query.has('_offset')) return badRequest(`Give ${PAGE_PARAM} or _offset, not both`, { expression: ['_offset'] });
  // The snapshot stops just before now, so the event recording this very read can never fall inside it.
  const position = token === null ? { asOf: new Date(Date.now() - 1) } : decodePage(token);
  if (isProblem(position)) return position;
  // The decided patient; a patient id Helsebro holds no person number for is still searched by its id.
  const patient = decided.patient ?? ctx.audit.patient;
  const page = await searchAudit(ctx.db, { patientFnr: patient?.fnr, patientId: patient?.id, ...range, ...paging, asOf: position.asOf, after: position.after });
  if (paging.summaryCount) return { status: 200, resource: { resourceType: 'Bundle', type: 'searchset', total: page.total } };
  const base = await searchSelfUrl(req, 'AuditEvent', input);
  const link = (relation: string, at: KeysetPage): BundleLink => {
    const u = new URL(base);
    u.searchParams.set('_count', String(paging.count));
    u.searchParams.set(PAGE_PARAM, encodePage(at));
    return { relation, url: u.toString() };
  };
  const links = [link('self', position), link('first', { asOf: position.asOf })];
  const last = page.events.at(-1);
  if (last?.id && paging.count > 0 && page.events.length === paging.count) {
    links.push(link('next', { asOf: position.asOf, after: { recorded: new Date(last.recorded), id: last.id } }));
  }
  const who = decided.principal;
  const events = who.kind === 'citizen' ? page.events.map((e) => citizenView(e, who.fnr)) : page.events;
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'searchset',
    ...(page.total !== undefined ? { total: page.total } : {}),
    link: links,
    // AuditEvents have no read interaction here; their ids are UUIDs, so they are named as urn:uuid.
    entry: events.map((resource) => ({ fullUrl: `urn:uuid:${resource.id}`, resource, search: { mode: 'match' } })),
  };
  return { status: 200, resource: bundle };
}
