// The national patient summary: Patient/$summary (IPS 2.0 document) and the plain searches that serve
// the same mapped resources. Flow: find the patient -> access rules (request, then per section) ->
// ask every source under its deadline and assemble (src/summary) -> the document, with an
// OperationOutcome in a notes section when a source could not be read or content was withheld.
import type { Bundle, OperationOutcomeIssue, ResourceType } from '@medplum/fhirtypes';
import { decideAccessAll, withheldIssues, withholdGuardianReserved, type AccessDecision, type AccessTarget } from '../../auth/access-rules.ts';
import { searchsetBundle } from '../../fhir/bundle.ts';
import { isProblem, notFound, toOperationOutcome, type Problem } from '../../fhir/outcomes.ts';
import type { SummarySource } from '../../sources/source.ts';
import { fetchAll, type SourceResult } from '../../summary/fetch-all.ts';
import { searchMapped, type WithheldDecision } from '../../summary/resources.ts';
import { SEARCHABLE_TYPES, SECTIONS } from '../../summary/sections.ts';
import { psCda } from '../../summary/ehdsi-ps.ts';
import { summaryPdf } from '../../summary/pdf.ts';
import { withOutcomeSection } from '../../summary/outcome-section.ts';
import { summarizePatient } from '../../summary/summarize.ts';
import { cdaLevel } from '../operations/cda-level.ts';
import type { HelsebroOperationDefinition } from '../operations/definition.ts';
import { readOperationArgs } from '../operations/parameters.ts';
import { ehdsiPsOperation } from '../operations/patient-ehdsi-ps.ts';
import { summaryOperation } from '../operations/patient-summary.ts';
import { patientFromIdentifierParameter, patientFromPathOperation, storedPatientParam, type StoredPatient } from '../locate.ts';
import { checkKnownParams, parsePaging } from '../search-params.ts';
import { route, type Decided, type FhirRequest, type HandlerResult, type Lang, type RouteContext, type RouteDef } from '../types.ts';

export const SUMMARY_OPERATION = 'http://hl7.org/fhir/uv/ips/OperationDefinition/summary';

export type { StoredPatient };

const READERS = ['citizen', 'guardian', 'clinician', 'ncp'] as const;

/** The sources are built once at start-up (live clients or demo stand-ins) and shared by every request. */
export function summaryRoutes(sources: readonly SummarySource[], version: string): RouteDef[] {
  const services = { sources, version };
  const summary = async (req: FhirRequest, ctx: RouteContext, decided: Decided<StoredPatient>): Promise<HandlerResult> => {
    const document = await summaryDocument(decided, req.lang, ctx, services);
    // Assembled from the sources' mapped resources and the stored Patient, each built resourceType first.
    return isProblem(document) ? document : { status: 200, resource: document, inFhirOrder: true };
  };
  const access = accessBy(summaryOperation);
  const common = { resourceType: 'Patient', interaction: 'operation' as const, produces: 'fhir' as const, handler: summary };
  const op = (level: 'instance' | 'type') => ({ name: 'summary', level, definition: SUMMARY_OPERATION });
  const doc = 'The patient summary as an IPS 2.0 document, assembled on demand from Kjernejournal, the medication list, NPR and KPR.';
  return [
    route({ ...common, method: 'GET', path: '/Patient/:id/$summary', operation: op('instance'), access: access('instance'), documentation: doc }),
    route({ ...common, method: 'POST', path: '/Patient/:id/$summary', operation: op('instance'), accepts: ['json'], access: access('instance'), documentation: doc }),
    route({
      ...common,
      method: 'GET',
      path: '/Patient/$summary',
      operation: op('type'),
      access: access('type'),
      documentation: `${doc} The patient by identifier=system|value.`,
    }),
    route({
      ...common,
      method: 'POST',
      path: '/Patient/$summary',
      operation: op('type'),
      accepts: ['json', 'form'],
      access: access('type'),
      documentation: `${doc} The identifier in a Parameters body, so the fødselsnummer stays out of the URL.`,
    }),
    ...ehdsiPsRoutes(services),
    ...SEARCHABLE_TYPES.map((type) =>
      route({
        method: 'GET',
        path: `/${type}`,
        resourceType: type,
        interaction: 'search-type',
        access: { admits: READERS, scope: { resourceType: type, interaction: 's' }, audit: 'E', patient: storedPatientParam },
        searchParams: [{ name: 'patient', type: 'reference', documentation: 'Patient/{id} (required)' }],
        documentation: `The patient's ${type} resources, mapped from the national sources exactly as in the summary.`,
        handler: (req, ctx, decided) => searchHandler(req, ctx, sources, type, decided),
      }),
    ),
  ];
}

/** Patient/$ehdsi-ps: the eHDSI Patient Summary CDA rendered from the very document $summary answers. */
function ehdsiPsRoutes(services: SummaryServices): RouteDef[] {
  const handler = async (req: FhirRequest, ctx: RouteContext, decided: Decided<StoredPatient>): Promise<HandlerResult> => {
    // The locator has read the parameters by the same definition already, so this cannot refuse what it let through.
    const args = readOperationArgs(ehdsiPsOperation, req);
    if (isProblem(args)) return args;
    const level = cdaLevel(args.string('level'));
    if (isProblem(level)) return level;
    const document = await summaryDocument(decided, req.lang, ctx, services);
    if (isProblem(document)) return document;
    const xml = await psDocument(document, level, ctx.config.helsebroOid);
    // Encoded where it is made: the XML writer's document is a rope of thousands of pieces, and the answer is
    // held through the audit write, where every young-generation collection would copy each of them.
    return { status: 200, body: Buffer.from(xml, 'utf8'), contentType: 'application/xml; charset=utf-8' };
  };
  const access = accessBy(ehdsiPsOperation);
  const common = { resourceType: 'Patient', interaction: 'operation' as const, produces: 'xml' as const, handler };
  // Its OperationDefinition is served here (src/http/operations/patient-ehdsi-ps.ts), where the CapabilityStatement points.
  const op = (level: 'instance' | 'type') => ({ name: 'ehdsi-ps', level });
  const doc =
    'The patient summary as an eHDSI Patient Summary CDA (template 1.3.6.1.4.1.12559.11.10.1.3.1.1.3, LOINC 60591-5) for MyHealth@EU, ' +
    'rendered from the same IPS document as $summary: Level 3 (coded with the eHDSI value sets), or ?level=1 with a PDF of it (English with Accept-Language: en).';
  return [
    route({ ...common, method: 'GET', path: '/Patient/:id/$ehdsi-ps', operation: op('instance'), access: access('instance'), documentation: doc }),
    route({ ...common, method: 'GET', path: '/Patient/$ehdsi-ps', operation: op('type'), access: access('type'), documentation: `${doc} The patient by identifier=system|value.` }),
    route({
      ...common,
      method: 'POST',
      path: '/Patient/$ehdsi-ps',
      operation: op('type'),
      accepts: ['json', 'form'],
      access: access('type'),
      documentation: `${doc} The identifier (and level) in a Parameters body or form, so the fødselsnummer stays out of the URL.`,
    }),
  ];
}

/**
 * Who may call a summary operation, and how its patient is found: the locators read all of the call's
 * parameters by the operation's definition, before the access decision, so the patient decided on is the only
 * one the call names.
 */
function accessBy(def: HelsebroOperationDefinition) {
  return (level: 'instance' | 'type') => ({
    admits: READERS,
    scope: { resourceType: 'Patient', interaction: 'r' as const },
    audit: 'R' as const,
    patient: level === 'instance' ? patientFromPathOperation(def) : patientFromIdentifierParameter(def),
  });
}

/** The PS CDA of a summary document at a level (Level 1 carries the summary's PDF). */
export async function psDocument(document: Bundle, level: 1 | 3, helsebroOid: string): Promise<string> {
  const pdf = level === 1 ? await summaryPdf(document) : undefined;
  const xml = psCda({ document, helsebroOid, pdf });
  if (xml === undefined) throw new Error('the summary is not an IPS document');
  return xml;
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
  decided: Decided<StoredPatient>,
  lang: Lang,
  ctx: RouteContext,
  services: SummaryServices,
): Promise<Bundle | Problem> {
  const patient = decided.loaded;
  const fnr = decided.patient?.fnr;
  ctx.audit.resourceId = patient.id;
  if (!fnr || !decided.facts) return notFound(`Patient/${patient.id} has no fødselsnummer or D-nummer to ask the national sources with`);
  const facts = decided.facts;
  const who = decided.principal;

  // Per section: the caller's scopes and the patient's restrictions may withhold content.
  const sectionTargets: AccessTarget[] = SECTIONS.flatMap((s) =>
    s.entryTypes.map((type) => ({ resourceType: type, interaction: 'r' as const, level: 'content' as const, section: s.loinc })),
  );
  const perSection = decideAccessAll(who, facts, sectionTargets);
  const withheld = withheldFrom(perSection);
  ctx.audit.withheld = [...new Set(perSection.outcomes.filter((o) => o.effect === 'withhold').map((o) => o.rule))];

  let guarded: ReturnType<typeof withholdGuardianReserved<SourceResult>> | undefined;
  const summarized = await summarizePatient(patient, fnr, {
    sources: services.sources,
    timeoutMs: ctx.config.summarySourceTimeoutMs,
    lang,
    operator: ctx.config.operator,
    withheld,
    softwareVersion: services.version,
    onSourceError: (source, status) => ctx.log.warn({ source, status }, 'summary source failed'),
    adjust: (results) => (guarded = withholdGuardianReserved(results, who, fnr)).results,
  });
  if (guarded?.hidden) ctx.audit.withheld = [...ctx.audit.withheld, 'ACCESS-GUARDIAN-RESERVED'];
  const issues: OperationOutcomeIssue[] = [...summarized.warnings, ...withheldIssues(perSection), ...(guarded?.issues ?? [])];
  return withOutcomeSection(summarized.bundle, issues, lang);
}

/** Section-level withholds as the assembler takes them: LOINC code -> the rule code for the narrative. */
function withheldFrom(decision: AccessDecision): WithheldDecision {
  const sections: Record<string, string> = {};
  for (const o of decision.outcomes) if (o.effect === 'withhold' && o.target.section) sections[o.target.section] ??= o.rule;
  return { sections };
}

async function searchHandler(req: FhirRequest, ctx: RouteContext, sources: readonly SummarySource[], type: ResourceType, decided: Decided<StoredPatient>): Promise<HandlerResult> {
  const unknown = checkKnownParams(req.query, type, ['patient']);
  if (unknown) return unknown;
  const paging = parsePaging(req.query);
  if (isProblem(paging)) return paging;
  const ref = req.query.get('patient') ?? '';
  const patient = decided.loaded;
  const fnr = decided.patient?.fnr;
  if (!fnr) return notFound(`Patient/${patient.id} has no fødselsnummer`);
  const fetched = await fetchAll(sources, { id: patient.id, fnr, resource: patient }, { timeoutMs: ctx.config.summarySourceTimeoutMs });
  const { results } = withholdGuardianReserved(fetched, decided.principal, fnr);
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
