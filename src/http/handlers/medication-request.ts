// MedicationRequest routes over the shared prescription table, both directions:
//   origin NO (Norway as country A, issue 5): POST $import-m1 turns an M1 into the EU ePrescription; the NCP
//   searches a patient's exportable prescriptions, reads one, and fetches its eHDSI CDA. Every answer passes
//   the group A/B guard again and states the dispensings remaining as they are now: the prescription chain
//   (Reseptformidleren) is asked first, every time (prescription-chain.ts), and when it does not answer no
//   count is stated (503 for a read, left out of a search with an outcome entry).
//   origin EU (Norway as country B): GET /MedicationRequest/{id} of an EU prescription the NCP delivered.
// Either way a read returns one resource that reads on its own: what it references is contained.
import type { Bundle, Bundle as EuBundle, MedicationRequest, OperationOutcome, OperationOutcomeIssue, Reference, Resource } from '@medplum/fhirtypes';
import { decideAccess, pharmacyReadsEuOnly, restrictsExport, withheldIssues, withheldRules, type PatientFacts } from '../../auth/access-rules.ts';
import type { Principal } from '../../auth/principal.ts';
import { buildAuditEvent } from '../../audit/build.ts';
import { recordAudit } from '../../audit/repository.ts';
import { readPrescriptionRow, type PrescriptionRow } from '../../edispensation/store/prescriptions.ts';
import { assertExportableGroup } from '../../eprescription/guard.ts';
import { parseM1 } from '../../eprescription/m1/parse.ts';
import { calendarDay, exportRefusal, reasonLanguage } from '../../eprescription/rules.ts';
import { currentLevel1, currentOutputs, importM1, standaloneRequest as standaloneNorwegian, storePipelineDeps, type ChainSubject } from '../../eprescription/service.ts';
import type { ChainFacts } from '../../eprescription/pipeline.ts';
import { chainFactsFor, chainFactsForOne, chainLeftOut, chainUnavailable, notAvailableNow } from '../prescription-chain.ts';
import { cdaLevel } from '../operations/cda-level.ts';
import { prescriptionCdaOperation } from '../operations/medication-request-ehdsi-cda.ts';
import { readOperationArgs } from '../operations/parameters.ts';
import { readForNcp, searchForNcp, type ExportRow } from '../../eprescription/store.ts';
import { searchsetBundle } from '../../fhir/bundle.ts';
import { OID } from '../../fhir/identifiers.ts';
import { badRequest, isProblem, notFound, toOperationOutcome, type Problem } from '../../fhir/outcomes.ts';
import { FHIR_ID, locator, notePrescription, patientOfNumber, patientParam, rowPatient } from '../locate.ts';
import { searchInput, searchSelfUrl } from '../search-input.ts';
import { checkKnownParams, parsePaging } from '../search-params.ts';
import { route, type Decided, type FhirRequest, type Found, type HandlerResult, type Lang, type RouteContext, type RouteDef } from '../types.ts';

// --- Norwegian prescriptions (origin NO), for the NCP -----------------------------------------------------

const pipelineDeps = (ctx: RouteContext) => storePipelineDeps(ctx.db, ctx.config);

/** The M1's patient, from a first read of the M1 (the pipeline reads it again, whole). */
const m1Body = locator('message-body', 'm1', async (req, ctx): Promise<Found<string> | Problem> => {
  const body = typeof req.body === 'string' ? req.body : '';
  const peek = parseM1(body, { maxBytes: ctx.config.maxBodyBytes.xml });
  if (!peek.ok) return peek.problem;
  return { patient: await patientOfNumber(ctx.db, peek.value.patient?.fnr ?? peek.value.patient?.dnr), loaded: body };
});

/** The chain's facts for the import's answer, or the 503 it answers instead (the stored M1 stays; a repeat or a read asks again). */
const importChain =
  (ctx: RouteContext) =>
  async (subject: ChainSubject): Promise<ChainFacts | Problem> => {
    const a = await chainFactsForOne(ctx, subject.patientFnr, { prescriptionId: subject.prescriptionId, rowId: subject.rowId, recorded: subject.recorded });
    return a.ok ? a.facts : chainUnavailable(a);
  };

/** POST /MedicationRequest/$import-m1 */
async function importM1Handler(req: FhirRequest, ctx: RouteContext, decided: Decided<string>): Promise<HandlerResult> {
  const lang = reasonLanguage(req.headers['accept-language']);
  const outcome = await importM1(ctx.db, decided.loaded, pipelineDeps(ctx), {
    facts: { patientRestricted: restrictsExport(decided.facts) },
    chain: importChain(ctx),
    onStored: async (q, row) => {
      await recordAudit(
        q,
        buildAuditEvent({
          principal: decided.principal,
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
  if (outcome.kind === 'refused') return exportRefusal(outcome.decision, lang) ?? badRequest('refused');
  // The M1 may leave Norway; whether it may be dispensed abroad now is the chain's word.
  if (outcome.served.kind === 'refused') return exportRefusal(outcome.served.decision, lang) ?? badRequest('refused');
  if (outcome.served.kind === 'gone') return notFound(`MedicationRequest/${outcome.row.id} has no EU output`);
  const bundle = outcome.served.bundle;
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

/** GET /MedicationRequest?patient=... : the NCP's query. */
async function searchNorwegianHandler(req: FhirRequest, ctx: RouteContext, decided: Decided<undefined>): Promise<HandlerResult> {
  const input = await searchInput(req, ctx);
  if (isProblem(input)) return input;
  const query = input.query;
  const unknown = checkKnownParams(query, 'MedicationRequest', ['patient', 'patient:identifier']);
  if (unknown) return unknown;
  const paging = parsePaging(query);
  if (isProblem(paging)) return paging;
  const patient = decided.patient ?? { id: ctx.audit.patient?.id, fnr: undefined };
  const selfUrl = await searchSelfUrl(req, 'MedicationRequest', input);
  // A patient who restricted ePrescriptions has nothing shown abroad; the answer says so rather than nothing.
  const access = decided.decision;
  if (access.effect === 'withhold' || restrictsExport(decided.facts)) {
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
  const { served, leftOut } = await servedNow(ctx, found.rows);
  const requests = served.map((p) => {
    assertExportableGroup([p.row.prescriptionGroup], 'an NCP search response');
    return { ...standaloneNorwegian(p.bundle), id: p.row.id };
  });
  if (paging.summaryCount) return { status: 200, resource: { resourceType: 'Bundle', type: 'searchset', total: requests.length } };
  const bundle = searchsetBundle({ selfUrl, total: requests.length, baseUrl: req.baseUrl, resources: requests.slice(paging.offset, paging.offset + paging.count), ...paging });
  // Prescriptions whose state the chain did not give are named, as the summary's search names a failed source.
  if (leftOut.length) bundle.entry = [...(bundle.entry ?? []), { resource: toOperationOutcome({ issues: leftOut }), search: { mode: 'outcome' } }];
  return { status: 200, resource: bundle };
}

/** A prescription served now, with the chain's facts its outputs were made for. */
export interface ServedPrescription {
  row: ExportRow;
  bundle: EuBundle;
  cda: string;
  facts: ChainFacts;
}

/**
 * Of a patient's stored prescriptions, those the chain lets be dispensed abroad now, with their current
 * outputs; those the chain did not answer for, as outcome issues. Refused ones (recalled, being dispensed in
 * Norway, used up) are simply not there, as an expired one is not.
 */
async function servedNow(ctx: RouteContext, rows: readonly ExportRow[]): Promise<{ served: ServedPrescription[]; leftOut: OperationOutcomeIssue[] }> {
  const served: ServedPrescription[] = [];
  const leftOut: OperationOutcomeIssue[] = [];
  const byPatient = new Map<string | undefined, ExportRow[]>();
  for (const row of rows) byPatient.set(row.patientFnr, [...(byPatient.get(row.patientFnr) ?? []), row]);
  const deps = pipelineDeps(ctx);
  for (const [fnr, group] of byPatient) {
    const answers = await chainFactsFor(ctx, fnr, group.map((r) => ({ prescriptionId: r.prescriptionId, rowId: r.id, recorded: r.dispensingsDone })));
    for (const row of group) {
      const a = answers.get(row.prescriptionId)!;
      if (!a.ok) {
        ctx.log.warn({ prescription: row.id, chain: a.status }, 'prescription left out: the prescription chain did not answer');
        leftOut.push(chainLeftOut(row.id, a));
        continue;
      }
      const now = await currentOutputs(ctx.db, row, deps, a.facts);
      if (now.kind === 'outputs') served.push({ row, bundle: now.bundle, cda: now.cda, facts: a.facts });
    }
  }
  return { served, leftOut };
}

/** A Norwegian prescription available abroad by id (the export guard applied), and its patient. */
export async function exportedById(ctx: RouteContext, id: string): Promise<Found<ExportRow> | Problem> {
  if (!FHIR_ID.test(id)) return notFound(`MedicationRequest/${id} is not a valid id`, { expression: ['MedicationRequest.id'] });
  ctx.audit.resourceId = id;
  const { row, blocked } = await readForNcp(ctx.db, id);
  if (blocked) ctx.log.error({ blocked }, 'export guard refused to serve a prescription');
  // Not exportable (refused by the rules) reads as not found: the NCP learns nothing about it.
  if (!row) return notFound(`MedicationRequest/${id} not found`);
  if (row.patientId && !row.patientFnr) ctx.audit.patient = { id: row.patientId };
  return { patient: rowPatient(row), loaded: row };
}

/** GET /MedicationRequest/{id}/$ehdsi-cda names a Norwegian prescription available abroad. */
const exportedPrescription = locator('stored', 'MedicationRequest-NO', (req, ctx) => exportedById(ctx, req.params.id ?? ''));

/**
 * The outputs of a Norwegian prescription as the NCP may see them now: the prescription chain is asked
 * first. 404 when withheld, used up or refused by the chain now (with the export rules' reasons); 503 when
 * the chain did not answer.
 */
export async function norwegianOutputs(ctx: RouteContext, decided: Decided<unknown>, row: ExportRow, lang: Lang): Promise<Omit<ServedPrescription, 'row'> | Problem> {
  if (decided.decision.effect === 'withhold' || restrictsExport(decided.facts)) {
    ctx.audit.withheld = withheldRules(decided.decision);
    return notFound(`MedicationRequest/${row.id} not found`);
  }
  const chain = await chainFactsForOne(ctx, row.patientFnr, { prescriptionId: row.prescriptionId, rowId: row.id, recorded: row.dispensingsDone });
  if (!chain.ok) {
    ctx.log.warn({ prescription: row.id, chain: chain.status }, 'prescription not served: the prescription chain did not answer');
    return chainUnavailable(chain);
  }
  const now = await currentOutputs(ctx.db, row, pipelineDeps(ctx), chain.facts);
  if (now.kind === 'refused') return notAvailableNow(row.id, now.decision, lang === 'en' ? 'en' : 'nb');
  if (now.kind === 'gone') return notFound(`MedicationRequest/${row.id} is no longer available for dispensing abroad`);
  assertExportableGroup([row.prescriptionGroup], 'an NCP read');
  return { bundle: now.bundle, cda: now.cda, facts: chain.facts };
}

/**
 * The Level 1 document (a PDF of the prescription in a nonXMLBody) of outputs the caller may see: it renders
 * the very Level 3 document served now (same id, plus .L1, the same chain facts), so the two levels cannot
 * disagree.
 */
export async function norwegianLevel1(ctx: RouteContext, row: ExportRow, outputs: Omit<ServedPrescription, 'row'>): Promise<string | Problem> {
  const l1 = await currentLevel1(ctx.db, row, pipelineDeps(ctx), outputs.facts, new Date(), outputs);
  return l1 ?? notFound(`MedicationRequest/${row.id} is no longer available for dispensing abroad`);
}

const PATIENT_PARAMS = [
  { name: 'patient', type: 'reference' as const, documentation: 'Patient/{id}: that patient\'s prescriptions' },
  { name: 'patient:identifier', type: 'token' as const, documentation: `${OID.fnr}|<fødselsnummer> (or the D-nummer system)` },
];
/** Who reads prescriptions: the person (or their guardian), clinicians for care, the NCP; a pharmacy the EU ones only. */
const READERS = ['citizen', 'guardian', 'clinician', 'ncp'] as const;
const SEARCH = {
  admits: READERS,
  scope: { resourceType: 'MedicationRequest', interaction: 's' },
  audit: 'E',
  source: 'eprescription',
  patient: patientParam({ required: true }),
} as const;

export const norwegianPrescriptionRoutes: RouteDef[] = [
  route({
    method: 'POST',
    path: '/MedicationRequest/$import-m1',
    resourceType: 'MedicationRequest',
    interaction: 'operation',
    operation: { name: 'import-m1', level: 'type' },
    accepts: ['xml'],
    access: { admits: ['ncp'], scope: { resourceType: 'MedicationRequest', interaction: 'c' }, audit: 'C', source: 'eprescription', patient: m1Body },
    documentation:
      'Import a Norwegian M1 prescription (eResept 2.5 in MsgHead v1.2, application/xml). Exportable: 201 with the HL7 Europe MPD Bundle and Location ' +
      '(200 with the same Bundle when the same M1 was imported before); not exportable: 422 OperationOutcome (business-rule) with the export-rule codes in ' +
      'details.coding; an M1 naming its patient ambiguously (more than one FNR/DNR, or a DateOfBirth the number contradicts) or its prescriber otherwise than ' +
      'HPR does for that HPR number: 422 (invariant) with patient-identity-conflict or prescriber-hpr-mismatch in details.coding, nothing stored; malformed: 400; ' +
      'another M1 with the same MsgId: 409. Prefer: return=OperationOutcome returns the conversion warnings instead. ' +

      'The prescription chain (Reseptformidleren) is asked about the stored M1: its count of dispensings sets the remaining ones, and a prescription it lists ' +
      'as recalled, being dispensed, finished, expired or invalid, or does not know, is stored but answered with 422 and its rule code (a later import or read ' +
      'asks again); when the chain does not answer in time: 503 with Retry-After, and no count is stated.',
    handler: importM1Handler,
  }),
  route({
    method: 'GET',
    path: '/MedicationRequest',
    resourceType: 'MedicationRequest',
    interaction: 'search-type',
    access: SEARCH,
    searchParams: PATIENT_PARAMS,
    documentation:
      "The NCP's query: a patient's Norwegian prescriptions that may be dispensed abroad now (exportable, valid, dispensings left; never reseptgruppe A or B), " +
      'each as an MPD MedicationRequest with its Medication, Patient and prescriber contained. The prescription chain (Reseptformidleren) is asked first: ' +
      'dispensings remaining count those made in Norway, and a prescription it lists as recalled, being dispensed or otherwise not dispensable is not there. ' +
      'One the chain did not answer for is left out and named in an OperationOutcome entry (search mode outcome).',
    handler: searchNorwegianHandler,
  }),
  route({
    method: 'POST',
    path: '/MedicationRequest/_search',
    resourceType: 'MedicationRequest',
    interaction: 'search-type',
    accepts: ['form'],
    access: SEARCH,
    documentation: 'The same search with its parameters in a form body, so a fødselsnummer need not travel in a URL.',
    handler: searchNorwegianHandler,
  }),
  route({
    method: 'GET',
    path: '/MedicationRequest/:id/$ehdsi-cda',
    resourceType: 'MedicationRequest',
    interaction: 'operation',
    operation: { name: 'ehdsi-cda', level: 'instance' },
    produces: 'xml',
    access: { admits: READERS, scope: { resourceType: 'MedicationRequest', interaction: 'r' }, audit: 'R', source: 'eprescription', patient: exportedPrescription },
    documentation:
      'The eHDSI ePrescription CDA (LOINC 57833-6) of a Norwegian prescription available abroad, as application/xml: Level 3 (structured), ' +
      'or ?level=1 with a readable PDF of the same prescription in a nonXMLBody, in English and Norwegian whatever Accept-Language says. Dispensings remaining as the ' +
      'prescription chain counts them now; 404 with the export-rule code when the chain refuses it now (recalled ...), 503 with Retry-After when it did not answer.',
    async handler(req, ctx, decided) {
      const args = readOperationArgs(prescriptionCdaOperation, req);
      if (isProblem(args)) return args;
      const level = cdaLevel(args.string('level'));
      if (isProblem(level)) return level;
      const found = await norwegianOutputs(ctx, decided, decided.loaded, req.lang);
      if (isProblem(found)) return found;
      if (level === 3) return { status: 200, body: found.cda, contentType: 'application/xml; charset=utf-8' };
      const l1 = await norwegianLevel1(ctx, decided.loaded, found);
      return isProblem(l1) ? l1 : { status: 200, body: l1, contentType: 'application/xml; charset=utf-8' };
    },
  }),
];

/** Any prescription `:id` names, Norwegian or EU, and its patient. */
const storedPrescription = locator('stored', 'MedicationRequest', async (req, ctx): Promise<Found<PrescriptionRow> | Problem> => {
  const id = req.params.id ?? '';
  if (!FHIR_ID.test(id)) return notFound(`MedicationRequest/${id} is not a valid id`, { expression: ['MedicationRequest.id'] });
  ctx.audit.resourceId = id;
  const row = await readPrescriptionRow(ctx.db, id);
  if (!row) return notFound(`MedicationRequest/${id} not found`);
  if (row.patientId && !row.patientFnr) ctx.audit.patient = { id: row.patientId };
  notePrescription(ctx, row);
  return { patient: rowPatient(row), loaded: row };
});

export const medicationRequestRoutes: RouteDef[] = [
  ...norwegianPrescriptionRoutes,
  route({
    method: 'GET',
    path: '/MedicationRequest/:id',
    resourceType: 'MedicationRequest',
    interaction: 'read',
    access: {
      admits: [...READERS, 'pharmacy'],
      scope: { resourceType: 'MedicationRequest', interaction: 'r' },
      audit: 'R',
      source: 'eprescription',
      patient: storedPrescription,
      rules: [(who, found, target) => pharmacyReadsEuOnly(who, found.loaded.origin, target)],
    },
    documentation:
      'Read a prescription: a Norwegian one made available abroad (the MPD MedicationRequest made from the M1) or an EU one delivered by the NCP ' +
      '(for the Norwegian pharmacy, which reads EU prescriptions only). Referenced resources are contained. A Norwegian one states the dispensings remaining ' +
      'as the prescription chain counts them now: 404 with the export-rule code when the chain refuses it now, 503 with Retry-After when it did not answer.',
    async handler(req, ctx, decided) {
      const id = req.params.id!;
      const row = decided.loaded;
      // Norwegian prescriptions are served as the NCP sees them (export guard, dispensings remaining now).
      if (row.origin === 'NO') {
        const exported = await readForNcp(ctx.db, id);
        if (!exported.row) return notFound(`MedicationRequest/${id} not found`);
        const found = await norwegianOutputs(ctx, decided, exported.row, req.lang);
        return isProblem(found) ? found : { status: 200, resource: { ...standaloneNorwegian(found.bundle), id } };
      }
      const request = row.fhir && standaloneRequest(row.fhir);
      if (!request) return notFound(`MedicationRequest/${id} not found`);
      return { status: 200, resource: { ...request, id } };
    },
  }),
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
  who: Principal,
  patient: { id: string; fnr: string },
  facts: PatientFacts,
): Promise<{ served: ServedPrescription[]; leftOut: OperationOutcomeIssue[] }> {
  // Part of a larger answer: without the scope, or with the source withheld, the list has no prescriptions.
  const access = decideAccess(who, facts, { resourceType: 'MedicationRequest', interaction: 's', level: 'content', source: 'eprescription' });
  if (access.effect !== 'allow' || restrictsExport(facts)) return { served: [], leftOut: [] };
  const found = await searchForNcp(ctx.db, { patientFnr: patient.fnr, patientId: patient.id, today: calendarDay(new Date(), 'Europe/Oslo'), limit: 1000 });
  if (found.blocked) ctx.log.error({ blocked: found.blocked }, 'export guard dropped prescriptions from an NCP document list');
  const now = await servedNow(ctx, found.rows);
  for (const p of now.served) assertExportableGroup([p.row.prescriptionGroup], 'an NCP document list');
  return now;
}
