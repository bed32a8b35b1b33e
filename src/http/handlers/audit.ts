// GET /fhir/AuditEvent: the log of who looked at whose data. Citizens read the log of their own data
// (Helsenorge's 'logg over bruk'), shown as a citizen may see it (audit/citizen-view.ts); the auditor
// role reads any patient's log, or the whole log. There is no route that changes or removes an event.
import { searchsetBundle } from '../../fhir/bundle.ts';
import { isProblem } from '../../fhir/outcomes.ts';
import { citizenView } from '../../audit/citizen-view.ts';
import { AUDIT_SEARCH_PARAMS, parseDateRange } from '../../audit/search.ts';
import { searchAudit } from '../../audit/repository.ts';
import { patientParam } from '../locate.ts';
import { checkKnownParams, parsePaging } from '../search-params.ts';
import { route, type RouteDef } from '../types.ts';

export const auditRoutes: RouteDef[] = [
  route({
    method: 'GET',
    path: '/AuditEvent',
    resourceType: 'AuditEvent',
    interaction: 'search-type',
    access: {
      admits: ['citizen', 'auditor'],
      scope: { resourceType: 'AuditEvent', interaction: 's' },
      audit: 'E',
      source: 'audit',
      // A citizen naming no one reads their own log; an auditor naming no one reads the whole log.
      patient: patientParam({ required: false, callerByDefault: true }),
    },
    searchParams: [
      { name: 'patient', type: 'reference', documentation: 'Patient/{id}: events about this patient' },
      { name: 'patient:identifier', type: 'token', documentation: 'system|fødselsnummer: events about this person' },
      { name: 'date', type: 'date', documentation: 'when recorded (ge/gt/le/lt/eq)' },
    ],
    documentation: 'Who read or wrote whose data, newest first, refused attempts included. A citizen reads the log of their own data only; the auditor reads any.',
    async handler(req, ctx, decided) {
      const unknown = checkKnownParams(req.query, 'AuditEvent', AUDIT_SEARCH_PARAMS);
      if (unknown) return unknown;
      const paging = parsePaging(req.query);
      if (isProblem(paging)) return paging;
      const range = parseDateRange(req.query.getAll('date'));
      if (isProblem(range)) return range;
      const patient = decided.patient ?? ctx.audit.patient;
      const page = await searchAudit(ctx.db, { patientFnr: patient?.fnr, patientId: patient?.id, ...range, ...paging });
      const selfUrl = new URL(`${req.baseUrl}/AuditEvent`);
      for (const [k, v] of req.query) if (!k.startsWith('_')) selfUrl.searchParams.append(k, v);
      const total = page.total ?? paging.offset + page.events.length + (page.events.length === paging.count ? 1 : 0);
      if (paging.summaryCount) return { status: 200, resource: { resourceType: 'Bundle', type: 'searchset', total } };
      const who = decided.principal;
      const events = who.kind === 'citizen' ? page.events.map((e) => citizenView(e, who.fnr)) : page.events;
      const bundle = searchsetBundle({ selfUrl, total, baseUrl: req.baseUrl, resources: events, ...paging });
      if (page.total === undefined) delete bundle.total;
      return { status: 200, resource: bundle };
    },
  }),
];
