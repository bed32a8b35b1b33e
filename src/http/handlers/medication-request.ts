// MedicationRequest routes over the shared prescription table, both directions:
//   origin NO (Norway as country A, issue 5): POST $import-m1 turns an M1 into the EU ePrescription; the NCP
//   searches a patient's exportable prescriptions, reads one, and fetches its eHDSI CDA. Every answer passes
//   the group A/B guard again and states the dispensings remaining as they are now.
//   origin EU (Norway as country B): GET /MedicationRequest/{id} of an EU prescription the NCP delivered.
// Either way a read returns one resource that reads on its own: what it references is contained.
import type { Bundle, Bundle as EuBundle, MedicationRequest, OperationOutcome, Reference, Resource } from '@medplum/fhirtypes';
import { accessProblem, withheldIssues, withheldRules, type AccessTarget, type PatientFacts } from '../../auth/access-rules.ts';
import { buildAuditEvent } from '../../audit/build.ts';
import { recordAudit } from '../../audit/repository.ts';
import { readPrescriptionRow } from '../../edispensation/store/prescriptions.ts';
import { assertExportableGroup } from '../../eprescription/guard.ts';
import { parseM1 } from '../../eprescription/m1/parse.ts';
import { calendarDay, exportRefusal, reasonLanguage } from '../../eprescription/rules.ts';
import { currentOutputs, importM1, standaloneRequest as standaloneNorwegian, storePipelineDeps } from '../../eprescription/service.ts';
import { readForNcp, searchForNcp, type ExportRow } from '../../eprescription/store.ts';
import { searchsetBundle } from '../../fhir/bundle.ts';
import { OID, parseToken, personNumberOf } from '../../fhir/identifiers.ts';
import { badRequest, isProblem, notFound, type Problem } from '../../fhir/outcomes.ts';
import { findPatientByIdentifier, readPatient } from '../../store/patients.ts';
import { searchInput, searchSelfUrl } from '../search-input.ts';
import { checkKnownParams, parsePaging, singleValue } from '../search-params.ts';
import type { FhirRequest, HandlerResult, RouteContext, RouteDef } from '../types.ts';

const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

// --- Norwegian prescriptions (origin NO), for the NCP -----------------------------------------------------

const EPRESCRIPTION = (interaction: 'c' | 'r' | 's'): AccessTarget => ({ resourceType: 'MedicationRequest', interaction, level: 'request', source: 'eprescription' });

/** A patient restriction on ePrescriptions (a source block) stops their export: rule NO-EXPORT-PATIENT-RESTRICTION. */
const restrictsExport = (facts: PatientFacts | undefined): boolean =>
  facts?.restrictions.some((r) => r.kind === 'source-block' && r.source === 'eprescription') ?? false;

async function patientByNumber(ctx: RouteContext, fnr: string): Promise<{ id?: string; facts: PatientFacts }> {
  const system = /^[4-7]/.test(fnr) ? OID.dnr : OID.fnr;
  const patient = await findPatientByIdentifier(ctx.db, system, fnr);
  const facts = await ctx.patientFacts({ id: patient?.id ?? fnr, fnr });
  return patient?.id ? { id: patient.id, facts } : { facts };
}

const pipelineDeps = (ctx: RouteContext) => storePipelineDeps(ctx.db, ctx.config);

/** POST /MedicationRequest/$import-m1 */
async function importM1Handler(req: FhirRequest, ctx: RouteContext): Promise<HandlerResult> {
  const body = typeof req.body === 'string' ? req.body : '';
  // A first read of the M1 names the patient: for the access rules and the patient-restriction rule.
  const peek = parseM1(body, { maxBytes: ctx.config.maxBodyBytes.xml });
  if (!peek.ok) return peek.problem;
  const fnr = peek.value.patient?.fnr ?? peek.value.patient?.dnr;
  const who = fnr ? await patientByNumber(ctx, fnr) : undefined;
  if (fnr) ctx.audit.patient = { id: who?.id, fnr };
  const access = ctx.decide(who?.facts, EPRESCRIPTION('c'));
  if (access.effect === 'deny') return accessProblem(access);
  const outcome = await importM1(ctx.db, body, pipelineDeps(ctx), {
    facts: { patientRestricted: restrictsExport(who?.facts) },
    onStored: async (q, row) => {
      await recordAudit(
        q,
        buildAuditEvent({
          principal: ctx.principal,
          patient: ctx.audit.patient,
          action: 'C',
          event: 'import',
          interaction: 'operation',
          operation: { name: 'import-m1' },
          resourceType: 'MedicationRequest',
          resourceId: row.id,
          outcome: row.exportable ? '0' : '4',
          outcomeDesc: row.exportable ? undefined : row.decision.reasons.map((r) => r.code).join(', '),
          requestId: req.requestId,
          at: new Date(),
          observer: { name: ctx.config.operator.name, orgnr: ctx.config.operator.orgnr },
        }),
      );
      ctx.audit.recorded = true;
    },
  });
  if (outcome.kind === 'problem') return outcome.problem;
  ctx.audit.resourceId = outcome.row.id;
  if (outcome.kind === 'refused') return exportRefusal(outcome.decision, reasonLanguage(req.headers['accept-language'])) ?? badRequest('refused');
  const bundle = outcome.row.bundle;
  if (!bundle) return notFound(`MedicationRequest/${outcome.row.id} has no EU output`);
  assertExportableGroup([outcome.row.prescriptionGroup], 'the $import-m1 response');
  const status = outcome.kind === 'created' ? 201 : 200;
  const headers = { Location: `${req.baseUrl}/MedicationRequest/${outcome.row.id}` };
  // Prefer: return=OperationOutcome asks for the conversion's warnings instead of the Bundle.
  if (/return=OperationOutcome/i.test(String(req.headers.prefer ?? ''))) {
    const warnings = outcome.kind === 'created' ? outcome.conversion.warnings : [];
    const oo: OperationOutcome = {
      resourceType: 'OperationOutcome',
      issue: warnings.length ? warnings : [{ severity: 'information', code: 'informational', diagnostics: status === 201 ? 'Converted and stored' : 'Imported before; nothing changed' }],
    };
    return { status, resource: oo, headers };
  }
  return { status, resource: bundle, headers };
}

/** The patient a search names: `patient` (Patient/{id} or {id}) or `patient:identifier` (system|number). */
async function searchedPatient(query: URLSearchParams, ctx: RouteContext): Promise<{ id?: string; fnr?: string } | Problem> {
  const ref = onePatient(query, 'patient');
  const ident = onePatient(query, 'patient:identifier');
  if (isProblem(ref)) return ref;
  if (isProblem(ident)) return ident;
  if (ref === null && ident === null) return badRequest('The search needs patient or patient:identifier: prescriptions are searched for one patient', { expression: ['patient'] });
  if (ref !== null && ident !== null) return badRequest('Give patient or patient:identifier, not both', { expression: ['patient'] });
  if (ref !== null) {
    const id = ref.startsWith('Patient/') ? ref.slice('Patient/'.length) : ref;
    if (!FHIR_ID.test(id)) return badRequest(`patient '${ref.slice(0, 80)}' is not a Patient reference`, { expression: ['patient'] });
    const patient = await readPatient(ctx.db, id);
    const fnr = patient ? personNumberOf(patient) : undefined;
    return fnr ? { id, fnr } : { id };
  }
  const token = parseToken(ident ?? '', 'patient:identifier');
  if (isProblem(token)) return token;
  if (!token.value || !/^\d{11}$/.test(token.value)) return badRequest('patient:identifier needs an 11-digit fødselsnummer or D-nummer', { expression: ['patient:identifier'] });
  if (token.system && token.system !== OID.fnr && token.system !== OID.dnr) {
    return badRequest(`patient:identifier system must be ${OID.fnr} or ${OID.dnr}`, { expression: ['patient:identifier'] });
  }
  const patient = await findPatientByIdentifier(ctx.db, token.system ?? (/^[4-7]/.test(token.value) ? OID.dnr : OID.fnr), token.value);
  return patient?.id ? { id: patient.id, fnr: token.value } : { fnr: token.value };
}

/** Prescriptions are searched for one patient at a time (each answer is decided and audited for that patient). */
function onePatient(query: URLSearchParams, name: string): string | null | Problem {
  const raw = query.get(name);
  return raw === null ? null : singleValue(raw, name, 'prescriptions are searched for one patient');
}

/** GET /MedicationRequest?patient=... : the NCP's query. */
async function searchNorwegianHandler(req: FhirRequest, ctx: RouteContext): Promise<HandlerResult> {
  const input = await searchInput(req, ctx);
  if (isProblem(input)) return input;
  const query = input.query;
  const unknown = checkKnownParams(query, 'MedicationRequest', ['patient', 'patient:identifier']);
  if (unknown) return unknown;
  const paging = parsePaging(query);
  if (isProblem(paging)) return paging;
  const patient = await searchedPatient(query, ctx);
  if (isProblem(patient)) return patient;
  ctx.audit.patient = patient;
  const facts = patient.fnr ? await ctx.patientFacts({ id: patient.id ?? patient.fnr, fnr: patient.fnr }) : undefined;
  const access = ctx.decide(facts, EPRESCRIPTION('s'));
  if (access.effect === 'deny') return accessProblem(access);
  const selfUrl = await searchSelfUrl(req, 'MedicationRequest', input);
  // A patient who restricted ePrescriptions has nothing shown abroad; the answer says so rather than nothing.
  const withheld = access.effect === 'withhold' || restrictsExport(facts);
  if (withheld) {
    ctx.audit.withheld = withheldRules(access).length ? withheldRules(access) : ['ACCESS-RESTRICTED'];
    const issues = withheldIssues(access);
    const bundle: EuBundle = {
      resourceType: 'Bundle',
      type: 'searchset',
      total: 0,
      entry: [{ resource: { resourceType: 'OperationOutcome', issue: issues.length ? issues : [{ severity: 'warning', code: 'suppressed', diagnostics: 'Withheld: the patient has restricted ePrescriptions' }] }, search: { mode: 'outcome' } }],
    };
    return { status: 200, resource: bundle };
  }
  const today = calendarDay(new Date(), 'Europe/Oslo');
  const found = await searchForNcp(ctx.db, { patientFnr: patient.fnr, patientId: patient.id, today, limit: 1000 });
  if (found.blocked) ctx.log.error({ blocked: found.blocked }, 'export guard dropped prescriptions from an NCP search');
  const deps = pipelineDeps(ctx);
  const requests = [];
  for (const row of found.rows) {
    const outputs = await currentOutputs(ctx.db, row, deps);
    if (!outputs) continue;
    assertExportableGroup([row.prescriptionGroup], 'an NCP search response');
    requests.push({ ...standaloneNorwegian(outputs.bundle), id: row.id });
  }
  if (paging.summaryCount) return { status: 200, resource: { resourceType: 'Bundle', type: 'searchset', total: requests.length } };
  return {
    status: 200,
    resource: searchsetBundle({ selfUrl, total: requests.length, baseUrl: req.baseUrl, resources: requests.slice(paging.offset, paging.offset + paging.count), ...paging }),
  };
}

/** A Norwegian prescription as the NCP may see it, or the Problem that refuses it. */
export async function norwegianForNcp(ctx: RouteContext, id: string): Promise<{ row: ExportRow; bundle: EuBundle; cda: string } | Problem> {
  if (!FHIR_ID.test(id)) return notFound(`MedicationRequest/${id} is not a valid id`, { expression: ['MedicationRequest.id'] });
  ctx.audit.resourceId = id;
  const { row, blocked } = await readForNcp(ctx.db, id);
  if (blocked) ctx.log.error({ blocked }, 'export guard refused to serve a prescription');
  // Not exportable (refused by the rules) reads as not found: the NCP learns nothing about it.
  if (!row) return notFound(`MedicationRequest/${id} not found`);
  if (row.patientFnr || row.patientId) ctx.audit.patient = { id: row.patientId, fnr: row.patientFnr };
  const facts = row.patientFnr ? await ctx.patientFacts({ id: row.patientId ?? row.patientFnr, fnr: row.patientFnr }) : undefined;
  const access = ctx.decide(facts, EPRESCRIPTION('r'));
  if (access.effect === 'deny') return accessProblem(access);
  if (access.effect === 'withhold' || restrictsExport(facts)) {
    ctx.audit.withheld = withheldRules(access);
    return notFound(`MedicationRequest/${id} not found`);
  }
  const outputs = await currentOutputs(ctx.db, row, pipelineDeps(ctx));
  if (!outputs) return notFound(`MedicationRequest/${id} is no longer available for dispensing abroad`);
  assertExportableGroup([row.prescriptionGroup], 'an NCP read');
  return { row, ...outputs };
}

/** GET /MedicationRequest/{id} for an origin-NO row (called by the read route below). */
export async function readNorwegianPrescription(_req: FhirRequest, ctx: RouteContext, id: string): Promise<HandlerResult> {
  const found = await norwegianForNcp(ctx, id);
  if (isProblem(found)) return found;
  return { status: 200, resource: { ...standaloneNorwegian(found.bundle), id } };
}

const IMPORT = { scope: { resourceType: 'MedicationRequest', interaction: 'c' }, audit: 'C' } as const;
const SEARCH = { scope: { resourceType: 'MedicationRequest', interaction: 's' }, audit: 'E' } as const;
const PATIENT_PARAMS = [
  { name: 'patient', type: 'reference' as const, documentation: 'Patient/{id}: that patient\'s prescriptions' },
  { name: 'patient:identifier', type: 'token' as const, documentation: `${OID.fnr}|<fødselsnummer> (or the D-nummer system)` },
];

export const norwegianPrescriptionRoutes: RouteDef[] = [
  {
    method: 'POST',
    path: '/MedicationRequest/$import-m1',
    resourceType: 'MedicationRequest',
    interaction: 'operation',
    operation: { name: 'import-m1', level: 'type' },
    accepts: ['xml'],
    access: IMPORT,
    documentation:
      'Import a Norwegian M1 prescription (eResept 2.5 in MsgHead v1.2, application/xml). Exportable: 201 with the HL7 Europe MPD Bundle and Location ' +
      '(200 with the same Bundle when the same M1 was imported before); not exportable: 422 OperationOutcome (business-rule) with the export-rule codes in ' +
      'details.coding; malformed: 400; another M1 with the same MsgId: 409. Prefer: return=OperationOutcome returns the conversion warnings instead.',
    handler: importM1Handler,
  },
  {
    method: 'GET',
    path: '/MedicationRequest',
    resourceType: 'MedicationRequest',
    interaction: 'search-type',
    access: SEARCH,
    searchParams: PATIENT_PARAMS,
    documentation:
      "The NCP's query: a patient's Norwegian prescriptions that may be dispensed abroad now (exportable, valid, dispensings left; never reseptgruppe A or B), " +
      'each as an MPD MedicationRequest with its Medication, Patient and prescriber contained.',
    handler: searchNorwegianHandler,
  },
  {
    method: 'POST',
    path: '/MedicationRequest/_search',
    resourceType: 'MedicationRequest',
    interaction: 'search-type',
    accepts: ['form'],
    access: SEARCH,
    documentation: 'The same search with its parameters in a form body, so a fødselsnummer need not travel in a URL.',
    handler: searchNorwegianHandler,
  },
  {
    method: 'GET',
    path: '/MedicationRequest/:id/$ehdsi-cda',
    resourceType: 'MedicationRequest',
    interaction: 'operation',
    operation: { name: 'ehdsi-cda', level: 'instance' },
    produces: 'xml',
    access: { scope: { resourceType: 'MedicationRequest', interaction: 'r' }, audit: 'R' },
    documentation: 'The eHDSI ePrescription CDA (level 3, LOINC 57833-6) of a Norwegian prescription available abroad, as application/xml.',
    async handler(_req, ctx) {
      const found = await norwegianForNcp(ctx, _req.params.id!);
      if (isProblem(found)) return found;
      return { status: 200, body: found.cda, contentType: 'application/xml; charset=utf-8' };
    },
  },
];


export const medicationRequestRoutes: RouteDef[] = [
  ...norwegianPrescriptionRoutes,
  {
    method: 'GET',
    path: '/MedicationRequest/:id',
    resourceType: 'MedicationRequest',
    interaction: 'read',
    access: { scope: { resourceType: 'MedicationRequest', interaction: 'r' }, audit: 'R' },
    documentation:
      'Read a prescription: a Norwegian one made available abroad (the MPD MedicationRequest made from the M1) or an EU one delivered by the NCP ' +
      '(for the Norwegian pharmacy). Referenced resources are contained.',
    async handler(req, ctx) {
      const id = req.params.id!;
      if (!FHIR_ID.test(id)) return notFound(`MedicationRequest/${id} is not a valid id`, { expression: ['MedicationRequest.id'] });
      ctx.audit.resourceId = id;
      const row = await readPrescriptionRow(ctx.db, id);
      // Norwegian prescriptions are served as the NCP sees them (export guard, dispensings remaining now).
      if (row?.origin === 'NO') return readNorwegianPrescription(req, ctx, id);
      if (row && (row.patientId || row.patientFnr)) ctx.audit.patient = { id: row.patientId, fnr: row.patientFnr };
      const request = row?.fhir && standaloneRequest(row.fhir);
      if (!request) return notFound(`MedicationRequest/${id} not found`);
      return { status: 200, resource: { ...request, id } };
    },
  },
];

/** The MedicationRequest of a stored resource: itself, or the one in a Bundle with its references contained. */
export function standaloneRequest(stored: Resource): MedicationRequest | undefined {
  if (stored.resourceType === 'MedicationRequest') return stored;
  if (stored.resourceType !== 'Bundle') return undefined;
  return inlineFromBundle(stored);
}

function inlineFromBundle(bundle: Bundle): MedicationRequest | undefined {
  const entries = bundle.entry ?? [];
  const request = entries.map((e) => e.resource).find((r): r is MedicationRequest => r?.resourceType === 'MedicationRequest');
  if (!request) return undefined;
  const byRef = new Map<string, Resource>();
  for (const e of entries) {
    if (!e.resource) continue;
    if (e.fullUrl) byRef.set(e.fullUrl, e.resource);
    if (e.resource.id) byRef.set(`${e.resource.resourceType}/${e.resource.id}`, e.resource);
  }
  const contained: Resource[] = [...(request.contained ?? [])];
  const localId = new Map<Resource, string>();
  const adopt = <T extends Reference | undefined>(ref: T): T => {
    const target = ref?.reference ? byRef.get(ref.reference) : undefined;
    if (!ref || !target) return ref;
    let id = localId.get(target);
    if (!id) {
      id = `${target.resourceType.toLowerCase()}${contained.length + 1}`;
      localId.set(target, id);
      const copy = { ...structuredClone(target), id } as Resource & { practitioner?: Reference; organization?: Reference; contained?: Resource[] };
      delete copy.contained;
      contained.push(copy);
      if (copy.resourceType === 'PractitionerRole') {
        copy.practitioner = adopt(copy.practitioner);
        copy.organization = adopt(copy.organization);
      }
    }
    return { ...ref, reference: `#${id}` };
  };
  const out: MedicationRequest = { ...request };
  out.subject = adopt(out.subject);
  if (out.medicationReference) out.medicationReference = adopt(out.medicationReference);
  if (out.requester) out.requester = adopt(out.requester);
  if (contained.length) out.contained = contained;
  return out;
}

/**
 * The patient's prescriptions the NCP may list now, with their current outputs (the MHD document list):
 * the same access rules, export guard and dispensability as the NCP's MedicationRequest search; none when
 * the caller may not see them or the patient restricted ePrescriptions.
 */
export async function prescriptionsForNcp(
  ctx: RouteContext,
  patient: { id: string; fnr: string },
  facts: PatientFacts,
): Promise<{ row: ExportRow; bundle: EuBundle; cda: string }[]> {
  const access = ctx.decide(facts, EPRESCRIPTION('s'));
  if (access.effect !== 'allow' || restrictsExport(facts)) return [];
  const found = await searchForNcp(ctx.db, { patientFnr: patient.fnr, patientId: patient.id, today: calendarDay(new Date(), 'Europe/Oslo'), limit: 1000 });
  if (found.blocked) ctx.log.error({ blocked: found.blocked }, 'export guard dropped prescriptions from an NCP document list');
  const deps = pipelineDeps(ctx);
  const out: { row: ExportRow; bundle: EuBundle; cda: string }[] = [];
  for (const row of found.rows) {
    const outputs = await currentOutputs(ctx.db, row, deps);
    if (!outputs) continue;
    assertExportableGroup([row.prescriptionGroup], 'an NCP document list');
    out.push({ row, ...outputs });
  }
  return out;
}
