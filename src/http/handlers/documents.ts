// IHE MHD for the NCP (OpenNCP's XCA national connector: getPSDocumentList, getEPDocumentList,
// getDocument): DocumentReference search lists a patient's patient summary (eHDSI CDA Level 3 and Level 1,
// made now from the $summary document and kept until they expire) and each exportable ePrescription
// (Level 3, and Level 1 made from it on demand); Binary/{id} serves the document, or a FHIR Binary with
// Accept: application/fhir+json.
import { createHash, randomUUID } from 'node:crypto';
import type { Binary, Bundle, DocumentReference, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { searchsetBundle } from '../../fhir/bundle.ts';
import { documentReference, type OfferedDocument } from '../../fhir/document-reference.ts';
import { parseToken } from '../../fhir/identifiers.ts';
import { badRequest, isProblem, notAcceptable, notFound, toOperationOutcome, type Problem } from '../../fhir/outcomes.ts';
import { readNcpDocument, storeNcpDocuments, type NcpDocument } from '../../store/ncp-documents.ts';
import { findPatientByIdentifier } from '../../store/patients.ts';
import { checkKnownParams, parsePaging } from '../search-params.ts';
import { locator, patientById, patientByReference, refOf, type StoredPatient } from '../locate.ts';
import { route, type Decided, type FhirRequest, type Found, type HandlerResult, type RouteContext, type RouteDef } from '../types.ts';
import type { ExportRow } from '../../eprescription/store.ts';
import { exportedById, norwegianLevel1, norwegianOutputs, prescriptionsForNcp } from './medication-request.ts';
import { psDocument, summaryDocument, type SummaryServices } from './summary.ts';

/** How long a patient summary made for a document list can be retrieved. */
export const DOCUMENT_TTL_MS = 60 * 60 * 1000;

const PS_TYPE = '60591-5';
const EP_TYPE = '57833-6';
const XML = 'text/xml';
const SEARCH_PARAMS = ['patient', 'patient.identifier', 'type', 'status'];
// ep-{prescription}-l3, or -l1 for the Level 1 (its PDF in English and bokmål); -l1en, an English-only
// Level 1 before the PDF became bilingual, names the same Level 1 document now (see EpLevel).
const EP_ID = /^ep-([A-Za-z0-9-]{1,60})-(l3|l1|l1en)$/;
const PS_ID = /^ps-[0-9a-f-]{36}$/;

const sha1 = (text: string): string => createHash('sha1').update(text, 'utf8').digest('base64');

/** MHD is the NCP's interface (OpenNCP's national connector). */
const ADMITS = ['ncp'] as const;

export function documentRoutes(services: SummaryServices): RouteDef[] {
  const searchParams = [
    { name: 'patient.identifier', type: 'token' as const, documentation: 'system|value of the patient (fødselsnummer or D-nummer)' },
    { name: 'patient', type: 'reference' as const, documentation: 'Patient/{id}' },
    { name: 'type', type: 'token' as const, documentation: `${'http://loinc.org'}|${PS_TYPE} (patient summary) or |${EP_TYPE} (ePrescription)` },
    { name: 'status', type: 'token' as const, documentation: 'current (the only status Helsebro keeps)' },
  ];
  const access = { admits: ADMITS, scope: { resourceType: 'DocumentReference', interaction: 's' as const }, audit: 'E' as const, patient: searchedPatient };
  const search = (req: FhirRequest, ctx: RouteContext, decided: Decided<StoredPatient>) => searchHandler(req, ctx, services, decided);
  const doc =
    'IHE MHD document list for the NCP: the patient summary as eHDSI CDA Level 3 and Level 1 (made now, retrievable for an hour) and each ' +
    'exportable ePrescription as eHDSI CDA Level 3 and Level 1, with type, class and format codes, size, hash and the Binary URL.';
  return [
    route({ method: 'GET', path: '/DocumentReference', resourceType: 'DocumentReference', interaction: 'search-type', access, searchParams, documentation: doc, handler: search }),
    route({
      method: 'POST',
      path: '/DocumentReference/_search',
      resourceType: 'DocumentReference',
      interaction: 'search-type',
      accepts: ['form'],
      access,
      searchParams,
      documentation: `${doc} Parameters in a form body, so the fødselsnummer stays out of the URL.`,
      handler: search,
    }),
    route({
      method: 'GET',
      path: '/DocumentReference/:id',
      resourceType: 'DocumentReference',
      interaction: 'read',
      access: { admits: ADMITS, scope: { resourceType: 'DocumentReference', interaction: 'r' }, audit: 'R', patient: storedDocument },
      documentation: 'A DocumentReference of the document list, by id, for as long as its document can be retrieved.',
      handler: documentReferenceRead,
    }),
    route({
      method: 'GET',
      path: '/Binary/:id',
      resourceType: 'Binary',
      interaction: 'read',
      produces: 'document',
      access: { admits: ADMITS, scope: { resourceType: 'Binary', interaction: 'r' }, audit: 'R', patient: storedDocument },
      documentation:
        'A document listed by the DocumentReference search (the eHDSI CDA, text/xml), with Accept: application/fhir+json a FHIR Binary holding it, ' +
        'or with Accept: application/pdf the PDF of a Level 1 document. ' +
        'A patient summary can be read back by the caller it was made for until it expires.',
      handler: binaryHandler,
    }),
  ];
}

/** The search parameters from the query and, for POST _search, the form body. */
function paramsOf(req: FhirRequest): URLSearchParams {
  const all = new URLSearchParams(req.query);
  if (req.body instanceof URLSearchParams) for (const [k, v] of req.body) all.append(k, v);
  return all;
}

/** `patient.identifier` (system|value) or `patient` (Patient/{id}): the stored Patient is loaded. */
const searchedPatient = locator('identifier', 'patient.identifier', async (req, ctx): Promise<Found<StoredPatient> | Problem> => {
  const params = paramsOf(req);
  const byIdentifier = params.get('patient.identifier') ?? params.get('patient:identifier');
  let patient: StoredPatient | Problem;
  if (byIdentifier) {
    const token = parseToken(byIdentifier);
    if (isProblem(token)) return token;
    if (!token.system || !token.value) return badRequest('patient.identifier needs system|value', { expression: ['patient.identifier'] });
    const found = await findPatientByIdentifier(ctx.db, token.system, token.value);
    patient = found?.id ? (found as StoredPatient) : notFound('No patient with that identifier');
  } else {
    const ref = params.get('patient');
    if (!ref) return badRequest('DocumentReference searches need patient.identifier=system|value or patient=Patient/{id}', { expression: ['patient'] });
    patient = await patientByReference(ref, ctx.db);
  }
  if (isProblem(patient)) return patient;
  return { patient: refOf(patient), loaded: patient };
});

/** A listed document as the id names it: a stored patient summary made for this caller, or an exportable prescription. */
type ListedDocument = { kind: 'ps'; doc: NcpDocument } | { kind: 'ep'; row: ExportRow; level: EpLevel };

/**
 * An ePrescription document as listed: Level 3, or Level 1 (its PDF in English and bokmål, whatever the
 * caller's language). Lists name Level 1 "l1"; "l1en" named an English-only Level 1 before the PDF became
 * bilingual, and an id listed then still names the Level 1 document.
 */
type EpLevel = { level: 3 } | { level: 1; suffix: 'l1' | 'l1en' };

const epSuffix = (l: EpLevel): string => (l.level === 3 ? 'l3' : l.suffix);
const epLevelOf = (suffix: string): EpLevel => (suffix === 'l3' ? { level: 3 } : { level: 1, suffix: suffix === 'l1en' ? 'l1en' : 'l1' });

const storedDocument = locator('stored', 'NcpDocument', async (req, ctx): Promise<Found<ListedDocument> | Problem> => {
  const id = req.params.id ?? '';
  ctx.audit.resourceId = id;
  if (PS_ID.test(id)) {
    const doc = await readNcpDocument(ctx.db, id, new Date());
    if (!doc || doc.requester !== requesterOf(ctx)) return notFound(`${id} not found (documents made for a list expire after an hour)`);
    const patient = await patientById(doc.patientId, ctx.db);
    if (isProblem(patient)) return patient;
    const ref = refOf(patient);
    if (!ref) return notFound(`${id} not found`);
    return { patient: ref, loaded: { kind: 'ps', doc } };
  }
  const ep = EP_ID.exec(id);
  if (!ep) return notFound(`${id} not found`);
  const found = await exportedById(ctx, ep[1]!);
  if (isProblem(found)) return found;
  ctx.audit.resourceId = id;
  return { patient: found.patient, loaded: { kind: 'ep', row: found.loaded, level: epLevelOf(ep[2]!) } };
});

/** The document types asked for (none given: both). */
function typesOf(params: URLSearchParams): Set<string> | Problem {
  const raw = params.get('type');
  if (!raw) return new Set([PS_TYPE, EP_TYPE]);
  const out = new Set<string>();
  for (const one of raw.split(',')) {
    const token = parseToken(one);
    if (isProblem(token)) return token;
    if (token.system && token.system !== 'http://loinc.org') continue;
    if (token.value) out.add(token.value);
  }
  return out;
}

async function searchHandler(req: FhirRequest, ctx: RouteContext, services: SummaryServices, decided: Decided<StoredPatient>): Promise<HandlerResult> {
  const params = paramsOf(req);
  const unknown = checkKnownParams(params, 'DocumentReference', [...SEARCH_PARAMS, 'patient:identifier']);
  if (unknown) return unknown;
  const paging = parsePaging(params);
  if (isProblem(paging)) return paging;
  const status = params.get('status');
  if (status !== null && !status.split(',').every((s) => ['current', 'superseded', 'entered-in-error'].includes(s))) {
    return badRequest(`status must be current, superseded or entered-in-error, not '${status}'`, { expression: ['status'] });
  }
  const types = typesOf(params);
  if (isProblem(types)) return types;
  const patient = decided.loaded;
  const fnr = decided.patient?.fnr;
  if (!fnr || !decided.facts) return notFound(`Patient/${patient.id} has no fødselsnummer or D-nummer`);
  const facts = decided.facts;

  const now = new Date();
  const offered: OfferedDocument[] = [];
  // Prescriptions left out because the prescription chain did not answer for them (named in an outcome entry).
  const leftOut: OperationOutcomeIssue[] = [];
  const wantsCurrent = status === null || status.split(',').includes('current');
  if (wantsCurrent && types.has(PS_TYPE)) {
    const summary = await summaryDocument(decided, req.lang, ctx, services);
    if (isProblem(summary)) return summary;
    for (const d of await madeSummaries(summary, req, ctx, patient.id, now)) offered.push(offeredSummary(d, req, ctx, { id: patient.id, fnr }));
  }
  if (wantsCurrent && types.has(EP_TYPE)) {
    const who = { id: patient.id, fnr };
    const prescriptions = await prescriptionsForNcp(ctx, decided.principal, who, facts);
    leftOut.push(...prescriptions.leftOut);
    for (const p of prescriptions.served) {
      offered.push(offeredPrescription(p, { level: 3 }, p.cda, req, ctx, who));
      const l1 = await norwegianLevel1(ctx, p.row, p);
      if (!isProblem(l1)) offered.push(offeredPrescription(p, { level: 1, suffix: 'l1' }, l1, req, ctx, who));
    }
  }
  const references: DocumentReference[] = offered.map(documentReference);
  // The self link names the patient by Helsebro id, never by fødselsnummer.
  const selfUrl = new URL(`${req.baseUrl}/DocumentReference`);
  selfUrl.searchParams.set('patient', `Patient/${patient.id}`);
  if (params.get('type')) selfUrl.searchParams.set('type', params.get('type')!);
  if (status) selfUrl.searchParams.set('status', status);
  if (paging.summaryCount) return { status: 200, resource: { resourceType: 'Bundle', type: 'searchset', total: references.length } };
  const bundle: Bundle = searchsetBundle({
    selfUrl,
    total: references.length,
    baseUrl: req.baseUrl,
    resources: references.slice(paging.offset, paging.offset + paging.count),
    ...paging,
  });
  if (leftOut.length) bundle.entry = [...(bundle.entry ?? []), { resource: toOperationOutcome({ issues: leftOut }), search: { mode: 'outcome' } }];
  return { status: 200, resource: bundle };
}

/** The PS CDA at both levels, stored for retrieval by this caller until it expires. */
async function madeSummaries(summary: Bundle, req: FhirRequest, ctx: RouteContext, patientId: string, now: Date): Promise<NcpDocument[]> {
  const expires = new Date(now.getTime() + DOCUMENT_TTL_MS).toISOString();
  const lang = req.lang === 'en' ? 'en-GB' : 'nb-NO';
  const docs: NcpDocument[] = [];
  const l3Id = `ps-${randomUUID()}`;
  for (const level of [3, 1] as const) {
    const content = await psDocument(summary, level, ctx.config.helsebroOid);
    docs.push({
      id: level === 3 ? l3Id : `ps-${randomUUID()}`,
      patientId,
      kind: 'ps',
      level,
      requester: requesterOf(ctx),
      lang,
      contentType: XML,
      content,
      size: Buffer.byteLength(content, 'utf8'),
      sha1: sha1(content),
      title: level === 3 ? 'Patient Summary (eHDSI CDA Level 3)' : 'Patient Summary (eHDSI CDA Level 1, PDF)',
      ...(level === 1 ? { transforms: l3Id } : {}),
      createdAt: now.toISOString(),
      expiresAt: expires,
    });
  }
  await ctx.db.tx((q) => storeNcpDocuments(q, docs, now));
  return docs;
}

type Who = { id: string; fnr?: string | undefined };

const parties = (ctx: RouteContext) => ({ custodian: ctx.config.operator, author: `Helsebro (${ctx.config.operator.name})` });

function offeredSummary(d: NcpDocument, req: FhirRequest, ctx: RouteContext, patient: Who): OfferedDocument {
  return {
    ...parties(ctx),
    patient,
    id: d.id,
    kind: 'ps',
    level: d.level,
    created: d.createdAt,
    contentType: d.contentType,
    size: d.size,
    sha1: d.sha1,
    title: d.title,
    language: d.lang,
    url: `${req.baseUrl}/Binary/${d.id}`,
    ...(d.transforms ? { transforms: d.transforms } : {}),
  };
}

function offeredPrescription(p: { row: ExportRow; bundle: Bundle }, at: EpLevel, content: string, req: FhirRequest, ctx: RouteContext, patient: Who): OfferedDocument {
  const id = `ep-${p.row.id}-${epSuffix(at)}`;
  return {
    ...parties(ctx),
    patient,
    id,
    kind: 'ep',
    level: at.level,
    created: p.row.createdAt,
    contentType: XML,
    size: Buffer.byteLength(content, 'utf8'),
    sha1: sha1(content),
    title: at.level === 3 ? `ePrescription ${p.row.prescriptionId}` : `ePrescription ${p.row.prescriptionId} (eHDSI CDA Level 1, PDF)`,
    // Both levels' languageCode: the prescription's own language (the Level 1 PDF has English beside it).
    language: 'nb-NO',
    url: `${req.baseUrl}/Binary/${id}`,
    description: prescriptionDescription(p.bundle),
    ...(at.level === 1 ? { transforms: `ep-${p.row.id}-l3` } : {}),
  };
}

/** Who asked, as precisely as the token says: only they may read back what was made for them. */
function requesterOf(ctx: RouteContext): string {
  const p = ctx.principal!;
  return `${p.kind}:${p.clientId}:${p.subject}`;
}

/** OpenNCP wants the ATC code first in an ePrescription's description (the MPD Medication has it as classification). */
function prescriptionDescription(bundle: Bundle): string | undefined {
  const med = bundle.entry?.map((e) => e.resource).find((r) => r?.resourceType === 'Medication');
  if (med?.resourceType !== 'Medication') return undefined;
  const atc = atcIn(med);
  const name = med.code?.text ?? med.code?.coding?.find((c) => c.display)?.display;
  return [atc, name].filter(Boolean).join(' ') || undefined;
}

/** The first ATC code anywhere in a resource (code or classification extension). */
function atcIn(value: unknown): string | undefined {
  if (Array.isArray(value)) {
    for (const v of value) {
      const found = atcIn(v);
      if (found) return found;
    }
  } else if (value && typeof value === 'object') {
    const o = value as { system?: unknown; code?: unknown };
    if (o.system === 'http://www.whocc.no/atc' && typeof o.code === 'string') return o.code;
    return atcIn(Object.values(value));
  }
  return undefined;
}

/** The listed document the router decided on, as the caller may see it: the stored summary or the prescription's current CDA. */
async function documentOf(req: FhirRequest, ctx: RouteContext, decided: Decided<ListedDocument>): Promise<{ content: string; offered: OfferedDocument } | Problem> {
  const listed = decided.loaded;
  const who = { id: decided.patient?.id ?? '', fnr: decided.patient?.fnr };
  if (listed.kind === 'ps') return { content: listed.doc.content, offered: offeredSummary(listed.doc, req, ctx, who) };
  const outputs = await norwegianOutputs(ctx, decided, listed.row, req.lang);
  if (isProblem(outputs)) return outputs;
  const at = listed.level;
  const content = at.level === 3 ? outputs.cda : await norwegianLevel1(ctx, listed.row, outputs);
  if (isProblem(content)) return content;
  return { content, offered: offeredPrescription({ row: listed.row, bundle: outputs.bundle }, at, content, req, ctx, who) };
}

async function binaryHandler(req: FhirRequest, ctx: RouteContext, decided: Decided<ListedDocument>): Promise<HandlerResult> {
  const id = req.params.id!;
  const found = await documentOf(req, ctx, decided);
  if (isProblem(found)) return found;
  // OpenNCP's getDocument may want the PDF of a Level 1 document itself rather than its CDA wrapper.
  if (wantsPdf(req)) {
    const pdf = found.offered.level === 1 ? pdfOf(found.content) : undefined;
    return pdf ? { status: 200, body: pdf, contentType: 'application/pdf' } : notAcceptable(`${id} is a Level 3 document: it is served as text/xml`);
  }
  if (wantsFhir(req)) {
    const binary: Binary = { resourceType: 'Binary', id, contentType: XML, data: Buffer.from(found.content, 'utf8').toString('base64') };
    return { status: 200, resource: binary };
  }
  return { status: 200, body: found.content, contentType: `${XML}; charset=utf-8` };
}

async function documentReferenceRead(req: FhirRequest, ctx: RouteContext, decided: Decided<ListedDocument>): Promise<HandlerResult> {
  const found = await documentOf(req, ctx, decided);
  return isProblem(found) ? found : { status: 200, resource: documentReference(found.offered) };
}

const wantsPdf = (req: FhirRequest): boolean => /application\/pdf/i.test(req.headers.accept ?? '') && !/(text|application)\/xml/i.test(req.headers.accept ?? '');

/** The PDF bytes in a Level 1 CDA's nonXMLBody. */
function pdfOf(cda: string): Uint8Array | undefined {
  const b64 = /<text mediaType="application\/pdf" representation="B64">([A-Za-z0-9+/=\s]+)<\/text>/.exec(cda)?.[1];
  return b64 ? new Uint8Array(Buffer.from(b64.replace(/\s+/g, ''), 'base64')) : undefined;
}

/** A FHIR Binary resource when the client asks for FHIR JSON (Accept or _format); the document itself otherwise. */
function wantsFhir(req: FhirRequest): boolean {
  const format = req.query.get('_format');
  if (format) return /json/.test(format);
  const accept = (req.headers.accept ?? '').toLowerCase();
  return /application\/(fhir\+)?json/.test(accept) && !/(text|application)\/xml/.test(accept);
}
