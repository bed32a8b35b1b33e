// GET /fhir/AuditEvent: the log of who looked at whose data. Citizens read their own (Helsenorge's
// 'logg over bruk'); the auditor scope reads any. There is no route that changes or removes an event.
import { searchsetBundle } from '../../fhir/bundle.ts';
import { isProblem } from '../../fhir/outcomes.ts';
import { personNumberOf } from '../../fhir/identifiers.ts';
import { AUDIT_SEARCH_PARAMS, planAuditSearch, type PatientResolver } from '../../audit/search.ts';
import { searchAudit } from '../../audit/repository.ts';
import { findPatientByIdentifier, readPatient, searchPatients } from '../../store/patients.ts';
import type { Queryable } from '../../store/db.ts';
import { checkKnownParams, parsePaging } from '../search-params.ts';
import type { RouteDef } from '../types.ts';

const resolver =
  (db: Queryable): PatientResolver =>
  async (ref) => {
    if ('id' in ref) {
      const p = await readPatient(db, ref.id);
      return p?.id ? { id: p.id, fnr: personNumberOf(p) } : undefined;
    }
    const { system, value } = ref.identifier;
    const p = system
      ? await findPatientByIdentifier(db, system, value)
      : (await searchPatients(db, { identifier: { value }, count: 1, offset: 0 })).patients[0];
    return p?.id ? { id: p.id, fnr: personNumberOf(p) } : undefined;
  };

export const auditRoutes: RouteDef[] = [
  {
    method: 'GET',
    path: '/AuditEvent',
    resourceType: 'AuditEvent',
    interaction: 'search-type',
    access: { scope: { resourceType: 'AuditEvent', interaction: 's' }, audit: 'E' },
    searchParams: [
      { name: 'patient', type: 'reference', documentation: 'Patient/{id}: events about this patient' },
      { name: 'patient:identifier', type: 'token', documentation: 'system|fødselsnummer: events about this person' },
      { name: 'date', type: 'date', documentation: 'when recorded (ge/gt/le/lt/eq)' },
    ],
    documentation: 'Who read or wrote whose data, newest first. A citizen sees the log of their own data only.',
    async handler(req, ctx) {
      const unknown = checkKnownParams(req.query, 'AuditEvent', AUDIT_SEARCH_PARAMS);
      if (unknown) return unknown;
      const paging = parsePaging(req.query);
      if (isProblem(paging)) return paging;
      const plan = await planAuditSearch(ctx.principal!, req.query, paging, resolver(ctx.db));
      if (isProblem(plan)) return plan;
      ctx.audit.patient = plan.patientFnr || plan.patientId ? { id: plan.patientId, fnr: plan.patientFnr } : undefined;
      const page = await searchAudit(ctx.db, plan);
      const selfUrl = new URL(`${req.baseUrl}/AuditEvent`);
      for (const [k, v] of req.query) if (!k.startsWith('_')) selfUrl.searchParams.append(k, v);
      const total = page.total ?? paging.offset + page.events.length + (page.events.length === paging.count ? 1 : 0);
      if (paging.summaryCount) return { status: 200, resource: { resourceType: 'Bundle', type: 'searchset', total } };
      const bundle = searchsetBundle({ selfUrl, total, baseUrl: req.baseUrl, resources: page.events, ...paging });
      if (page.total === undefined) delete bundle.total;
      return { status: 200, resource: bundle };
    },
  },
];
