// The national patient summary: Patient/$summary (IPS 2.0 document) and the plain searches that serve
// the same mapped resources. Flow: find the patient -> access rules (request, then per section) ->
// ask every source under its deadline and assemble (src/summary) -> the document, with an
// OperationOutcome in a notes section when a source could not be read or content was withheld.
import type { Bundle, OperationOutcomeIssue, Parameters, Patient, Resource, ResourceType } from '@medplum/fhirtypes';
import { accessProblem, accessRuleCoding, decideAccess, decideAccessAll, withheldIssues, type AccessDecision, type AccessTarget } from '../../auth/access-rules.ts';
import type { Principal } from '../../auth/principal.ts';
import { searchsetBundle } from '../../fhir/bundle.ts';
import { OID, parsePersonNumber, personNumberOf, parseToken } from '../../fhir/identifiers.ts';
import { badRequest, isProblem, notFound, toOperationOutcome, warning, type Problem } from '../../fhir/outcomes.ts';
import type { SummarySource } from '../../sources/source.ts';
import { fetchAll, type SourceResult } from '../../summary/fetch-all.ts';
import { searchMapped, type WithheldDecision } from '../../summary/resources.ts';
import { SEARCHABLE_TYPES, SECTIONS } from '../../summary/sections.ts';
import { psCda } from '../../summary/ehdsi-ps.ts';
import { summaryPdf } from '../../summary/pdf.ts';
import { withOutcomeSection } from '../../summary/outcome-section.ts';
import { summarizePatient } from '../../summary/summarize.ts';
import { findPatientByIdentifier, readPatient, searchPatients } from '../../store/patients.ts';
import { parametersBody } from '../operations/parameters.ts';
import { checkKnownParams, parsePaging, singleValue } from '../search-params.ts';
import type { FhirRequest, HandlerResult, Lang, RouteContext, RouteDef } from '../types.ts';

export const SUMMARY_OPERATION = 'http://hl7.org/fhir/uv/ips/OperationDefinition/summary';
const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;

export type StoredPatient = Patient & { id: string };

/** The sources are built once at start-up (live clients or demo stand-ins) and shared by every request. */
export function summaryRoutes(sources: readonly SummarySource[], version: string): RouteDef[] {
  const summary = (byIdentifier: boolean) => (req: FhirRequest, ctx: RouteContext) =>
    summaryHandler(req, ctx, sources, version, byIdentifier);
  const common = {
    resourceType: 'Patient',
    interaction: 'operation' as const,
    produces: 'fhir' as const,
    access: { scope: { resourceType: 'Patient', interaction: 'r' as const }, audit: 'R' as const },
  };
  const op = (level: 'instance' | 'type') => ({ name: 'summary', level, definition: SUMMARY_OPERATION });
  const doc = 'The patient summary as an IPS 2.0 document, assembled on demand from Kjernejournal, the medication list, NPR and KPR.';
  return [
    { ...common, method: 'GET', path: '/Patient/:id/$summary', operation: op('instance'), documentation: doc, handler: summary(false) },
    { ...common, method: 'POST', path: '/Patient/:id/$summary', operation: op('instance'), accepts: ['json'], documentation: doc, handler: summary(false) },
    {
      ...common,
      method: 'GET',
      path: '/Patient/$summary',
      operation: op('type'),
      documentation: `${doc} The patient by identifier=system|value.`,
      handler: summary(true),
    },
    {
      ...common,
      method: 'POST',
      path: '/Patient/$summary',
      operation: op('type'),
      accepts: ['json', 'form'],
      documentation: `${doc} The identifier in a Parameters body, so the fødselsnummer stays out of the URL.`,
      handler: summary(true),
    },
    ...ehdsiPsRoutes(sources, version),
    ...SEARCHABLE_TYPES.map(
      (type): RouteDef => ({
        method: 'GET',
        path: `/${type}`,
        resourceType: type,
        interaction: 'search-type',
        access: { scope: { resourceType: type, interaction: 's' }, audit: 'E' },
        searchParams: [{ name: 'patient', type: 'reference', documentation: 'Patient/{id} (required)' }],
        documentation: `The patient's ${type} resources, mapped from the national sources exactly as in the summary.`,
        handler: (req, ctx) => searchHandler(req, ctx, sources, type),
      }),
    ),
  ];
}

/** Patient/$ehdsi-ps: the eHDSI Patient Summary CDA rendered from the very document $summary answers. */
function ehdsiPsRoutes(sources: readonly SummarySource[], version: string): RouteDef[] {
  const handler = (byIdentifier: boolean) => (req: FhirRequest, ctx: RouteContext) => ehdsiPsHandler(req, ctx, { sources, version }, byIdentifier);
  const common = {
    resourceType: 'Patient',
    interaction: 'operation' as const,
    produces: 'xml' as const,
    access: { scope: { resourceType: 'Patient', interaction: 'r' as const }, audit: 'R' as const },
  };
  // Its OperationDefinition is served here (src/http/operations/patient-ehdsi-ps.ts), where the CapabilityStatement points.
  const op = (level: 'instance' | 'type') => ({ name: 'ehdsi-ps', level });
  const doc =
    'The patient summary as an eHDSI Patient Summary CDA (template 1.3.6.1.4.1.12559.11.10.1.3.1.1.3, LOINC 60591-5) for MyHealth@EU, ' +
    'rendered from the same IPS document as $summary: Level 3 (coded with the eHDSI value sets), or ?level=1 with a PDF of it (English with Accept-Language: en).';
  return [
    { ...common, method: 'GET', path: '/Patient/:id/$ehdsi-ps', operation: op('instance'), documentation: doc, handler: handler(false) },
    { ...common, method: 'GET', path: '/Patient/$ehdsi-ps', operation: op('type'), documentation: `${doc} The patient by identifier=system|value.`, handler: handler(true) },
    {
      ...common,
      method: 'POST',
      path: '/Patient/$ehdsi-ps',
      operation: op('type'),
      accepts: ['json', 'form'],
      documentation: `${doc} The identifier (and level) in a Parameters body or form, so the fødselsnummer stays out of the URL.`,
      handler: handler(true),
    },
  ];
}

/** The CDA level asked for: the query, a form field or a Parameters `level` (1 or 3, default 3). */
function psLevel(req: FhirRequest): 1 | 3 | Problem {
  let raw = req.query.get('level') ?? undefined;
  if (req.body instanceof URLSearchParams) raw = req.body.get('level') ?? raw;
  else if (req.body !== undefined) {
    const p = (req.body as Parameters).parameter?.find((x) => x.name === 'level');
    if (p) raw = p.valueCode ?? p.valueString ?? (p.valueInteger !== undefined ? String(p.valueInteger) : undefined);
  }
  if (raw === undefined || raw === '3') return 3;
  if (raw === '1') return 1;
  return badRequest('level must be 1 (PDF in a nonXMLBody) or 3 (structured)', { expression: ['level'] });
}

async function ehdsiPsHandler(req: FhirRequest, ctx: RouteContext, services: SummaryServices, byIdentifier: boolean): Promise<HandlerResult> {
  const refused = req.body instanceof URLSearchParams || req.body === undefined ? undefined : parametersBody(req.body);
  if (isProblem(refused)) return refused;
  const level = psLevel(req);
  if (isProblem(level)) return level;
  const patient = byIdentifier ? await patientByIdentifier(req, ctx) : await patientById(req.params.id!, ctx);
  if (isProblem(patient)) return patient;
  const document = await summaryDocument(patient, req.lang, ctx, services);
  if (isProblem(document)) return document;
  const xml = await psDocument(document, level, ctx.config.helsebroOid);
  return { status: 200, body: xml, contentType: 'application/xml; charset=utf-8' };
}

/** The PS CDA of a summary document at a level (Level 1 carries the summary's PDF). */
export async function psDocument(document: Bundle, level: 1 | 3, helsebroOid: string): Promise<string> {
  const pdf = level === 1 ? await summaryPdf(document) : undefined;
  const xml = psCda({ document, helsebroOid, pdf });
  if (xml === undefined) throw new Error('the summary is not an IPS document');
  return xml;
}

async function summaryHandler(
  req: FhirRequest,
  ctx: RouteContext,
  sources: readonly SummarySource[],
  version: string,
  byIdentifier: boolean,
): Promise<HandlerResult> {
  const refused = req.body instanceof URLSearchParams || req.body === undefined ? undefined : parametersBody(req.body);
  if (isProblem(refused)) return refused;
  const patient = byIdentifier ? await patientByIdentifier(req, ctx) : await patientById(req.params.id!, ctx);
  if (isProblem(patient)) return patient;
  const document = await summaryDocument(patient, req.lang, ctx, { sources, version });
  return isProblem(document) ? document : { status: 200, resource: document };
}

/** What producing a summary needs beyond the request: the sources built at start-up and the software version. */
export interface SummaryServices {
  sources: readonly SummarySource[];
  version: string;
}

/**
 * The $summary document of a patient already found: access rules (request, then per section), the sources
 * under their deadlines, assembly, and the warnings as an OperationOutcome in a notes section. The FHIR operation and the
 * clinician view (src/http/view/) both call this, so what a clinician sees is the document the API serves.
 * Fills ctx.audit with the patient and what was withheld; the caller writes the AuditEvent.
 */
export async function summaryDocument(
  patient: StoredPatient,
  lang: Lang,
  ctx: RouteContext,
  services: SummaryServices,
): Promise<Bundle | Problem> {
  const fnr = personNumberOf(patient);
  ctx.audit.patient = { id: patient.id, fnr };
  ctx.audit.resourceId = patient.id;
  if (!fnr) return notFound(`Patient/${patient.id} has no fødselsnummer or D-nummer to ask the national sources with`);
  const facts = await ctx.patientFacts({ id: patient.id, fnr });
  const request = ctx.decide(facts, { resourceType: 'Patient', interaction: 'r', level: 'request' });
  if (request.effect === 'deny') return accessProblem(request);

  // Per section: the caller's scopes and the patient's restrictions may withhold content.
  const sectionTargets: AccessTarget[] = SECTIONS.flatMap((s) =>
    s.entryTypes.map((type) => ({ resourceType: type, interaction: 'r' as const, level: 'content' as const, section: s.loinc })),
  );
  const perSection = decideAccessAll(ctx.principal!, facts, sectionTargets);
  const withheld = withheldFrom(perSection);
  ctx.audit.withheld = [...new Set(perSection.outcomes.filter((o) => o.effect === 'withhold').map((o) => o.rule))];

  let guarded: ReturnType<typeof hideGuardianReserved> | undefined;
  const summarized = await summarizePatient(patient, fnr, {
    sources: services.sources,
    timeoutMs: ctx.config.summarySourceTimeoutMs,
    lang,
    operator: ctx.config.operator,
    withheld,
    softwareVersion: services.version,
    onSourceError: (source, status) => ctx.log.warn({ source, status }, 'summary source failed'),
    adjust: (results) => (guarded = hideGuardianReserved(results, ctx.principal!, fnr)).results,
  });
  if (guarded?.hidden) ctx.audit.withheld = [...ctx.audit.withheld, 'ACCESS-GUARDIAN-RESERVED'];
  const issues: OperationOutcomeIssue[] = [...summarized.warnings, ...withheldIssues(perSection), ...(guarded?.issues ?? [])];
  return withOutcomeSection(summarized.bundle, issues, lang);
}

/**
 * A guardian reading a child's data does not see the records the child has reserved against guardian
 * access (the medication list marks them, and its mapper labels them meta.security R). Other readers,
 * the child and clinicians, see them: the label is this reservation, not a restriction for everyone.
 */
export function hideGuardianReserved(
  results: SourceResult[],
  who: Principal,
  patientFnr: string,
): { results: SourceResult[]; hidden: number; issues: OperationOutcomeIssue[] } {
  const guardian = who.kind === 'citizen' && who.actingFor?.relation === 'guardian' && who.actingFor.fnr === patientFnr;
  if (!guardian) return { results, hidden: 0, issues: [] };
  let hidden = 0;
  const isReserved = (r: Resource): boolean => (r.meta?.security ?? []).some((c) => c.code === 'R');
  const kept = results.map((res) => {
    if (res.status !== 'ok') return res;
    const resources = res.resources.filter((r) => !isReserved(r));
    hidden += res.resources.length - resources.length;
    return { ...res, resources };
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

/** Section-level withholds as the assembler takes them: LOINC code -> the rule code for the narrative. */
function withheldFrom(decision: AccessDecision): WithheldDecision {
  const sections: Record<string, string> = {};
  for (const o of decision.outcomes) if (o.effect === 'withhold' && o.target.section) sections[o.target.section] ??= o.rule;
  return { sections };
}

/** The stored patient by Helsebro id, or the 404 to answer. */
export async function patientById(id: string, ctx: Pick<RouteContext, 'db'>): Promise<StoredPatient | Problem> {
  if (!FHIR_ID.test(id)) return notFound(`Patient/${id} is not a valid id`, { expression: ['Patient.id'] });
  const p = await readPatient(ctx.db, id);
  return p?.id ? (p as StoredPatient) : notFound(`Patient/${id} not found`);
}

/** The stored patient with this fødselsnummer or D-nummer (already validated), or the 404 to answer. */
export async function patientByPersonNumber(number: string, ctx: Pick<RouteContext, 'db'>): Promise<StoredPatient | Problem> {
  const system = parsePersonNumber(number)?.kind === 'dnr' ? OID.dnr : OID.fnr;
  const found = await findPatientByIdentifier(ctx.db, system, number);
  return found?.id ? (found as StoredPatient) : notFound('No patient with that identifier');
}

/** identifier from the query, a form body or a Parameters body (`identifier` valueIdentifier or valueString). */
async function patientByIdentifier(req: FhirRequest, ctx: RouteContext): Promise<StoredPatient | Problem> {
  let raw = req.query.get('identifier') ?? undefined;
  if (req.body instanceof URLSearchParams) raw = req.body.get('identifier') ?? raw;
  else if (req.body !== undefined) {
    const fromBody = identifierFromParameters(req.body);
    if (isProblem(fromBody)) return fromBody;
    raw = fromBody ?? raw;
  }
  if (!raw) return badRequest('The operation at type level needs identifier=system|value', { expression: ['identifier'] });
  const token = parseToken(raw);
  if (isProblem(token)) return token;
  if (!token.value) return badRequest('identifier needs a value', { expression: ['identifier'] });
  const found = token.system
    ? await findPatientByIdentifier(ctx.db, token.system, token.value)
    : (await searchPatients(ctx.db, { identifiers: [{ value: token.value }], count: 2, offset: 0 })).patients[0];
  return found?.id ? (found as StoredPatient) : notFound('No patient with that identifier');
}

function identifierFromParameters(body: unknown): string | undefined | Problem {
  const params = body as Parameters;
  if (typeof body !== 'object' || body === null || params.resourceType !== 'Parameters') {
    return badRequest('The body must be a Parameters resource', { expression: ['Parameters'] });
  }
  const p = params.parameter?.find((x) => x.name === 'identifier');
  if (!p) return undefined;
  if (p.valueIdentifier?.value) return `${p.valueIdentifier.system ?? ''}|${p.valueIdentifier.value}`;
  if (typeof p.valueString === 'string') return p.valueString;
  return badRequest('Parameter identifier needs valueIdentifier or valueString', { expression: ['Parameters.parameter.where(name=\'identifier\')'] });
}

async function searchHandler(req: FhirRequest, ctx: RouteContext, sources: readonly SummarySource[], type: ResourceType): Promise<HandlerResult> {
  const unknown = checkKnownParams(req.query, type, ['patient']);
  if (unknown) return unknown;
  const paging = parsePaging(req.query);
  if (isProblem(paging)) return paging;
  const rawRef = req.query.get('patient');
  if (!rawRef) return badRequest(`${type} searches need patient=Patient/{id}`, { expression: ['patient'] });
  // One patient per search: the sources are asked, and access decided, for that patient.
  const ref = singleValue(rawRef, 'patient', 'the national sources are asked for one patient at a time');
  if (isProblem(ref)) return ref;
  const patient = await patientById(ref.startsWith('Patient/') ? ref.slice('Patient/'.length) : ref, ctx);
  if (isProblem(patient)) return patient;
  const fnr = personNumberOf(patient);
  ctx.audit.patient = { id: patient.id, fnr };
  if (!fnr) return notFound(`Patient/${patient.id} has no fødselsnummer`);
  const facts = await ctx.patientFacts({ id: patient.id, fnr });
  const decision = decideAccess(ctx.principal!, facts, { resourceType: type, interaction: 's', level: 'request' });
  if (decision.effect === 'deny') return accessProblem(decision);
  const fetched = await fetchAll(sources, { id: patient.id, fnr, resource: patient }, { timeoutMs: ctx.config.summarySourceTimeoutMs });
  const { results } = hideGuardianReserved(fetched, ctx.principal!, fnr);
  const all = searchMapped(type, results);
  const page = all.slice(paging.offset, paging.offset + paging.count);
  const selfUrl = new URL(`${req.baseUrl}/${type}`);
  selfUrl.searchParams.set('patient', ref);
  const bundle = searchsetBundle({ selfUrl, total: all.length, baseUrl: req.baseUrl, resources: page, notReadable: true, ...paging });
  // Sources that could not answer are named, as the FHIR search spec allows, in an outcome entry.
  const failed = results.filter((r) => r.status !== 'ok');
  if (failed.length) {
    bundle.entry = [
      ...(bundle.entry ?? []),
      {
        resource: toOperationOutcome({
          issues: failed.map((r) => ({
            severity: 'warning',
            code: r.status === 'withheld' ? 'suppressed' : 'incomplete',
            diagnostics: `Source ${r.source}: ${r.status}`,
          })),
        }),
        search: { mode: 'outcome' },
      },
    ];
  }
  if (paging.summaryCount) return { status: 200, resource: { resourceType: 'Bundle', type: 'searchset', total: all.length } };
  return { status: 200, resource: bundle };
}
