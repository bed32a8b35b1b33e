// eDispensation endpoints, both directions:
//   Norway as country A (from the NCP): POST /MedicationDispense (MPD JSON), POST /MedicationDispense/$import-ehdsi-cda
//   (eHDSI CDA 60593-1; ?discard=true for the NCP's discard of a dispensation), and the withdrawal
//   POST /MedicationDispense/{id}/$discard (within 24 hours; a MedicationDispense re-sent with status
//   entered-in-error does the same). Each accepted dispensation puts an M10 in the outbox.
//   Norway as country B (from a Norwegian pharmacy): POST /MedicationDispense/$import-m10 (the pharmacy's M10
//   Utleveringsrapport, ReseptId = the EU prescription id), or POST /MedicationDispense referencing an EU
//   prescription; each accepted one puts an EU eDispensation for the NCP in the outbox.
//   Reads: GET /MedicationDispense/{id}, GET /MedicationDispense/{id}/$m10. Operators: $outbox-status, $outbox-retry.
// The handlers parse, enrich (country B, before the transaction), then hand over to receiveDispensation,
// which writes the AuditEvent in the same transaction as the dispensation.
import { readOperationArgs } from '../operations/parameters.ts';
import { discardOperation } from '../operations/medication-dispense-discard.ts';
import { importDispensationCdaOperation } from '../operations/medication-dispense-import-ehdsi-cda.ts';
import { m10Operation } from '../operations/medication-dispense-m10.ts';
import { OUTBOX_STATES, outboxStatusOperation } from '../operations/medication-dispense-outbox-status.ts';
import { outboxRetryOperation } from '../operations/medication-dispense-outbox-retry.ts';
import type { MedicationDispense, OperationOutcome, OperationOutcomeIssue, Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { buildAuditEvent } from '../../audit/build.ts';
import { recordAudit } from '../../audit/repository.ts';
import { PRESCRIPTION_ID_SYSTEM } from '../../fhir/identifiers.ts';
import { badRequest, conflict, isProblem, notFound, type Problem, type Result } from '../../fhir/outcomes.ts';
import { checkCoding } from '../../edispensation/codes.ts';
import { enrichmentFor, euDispenseAssessment, euMessageBuilder } from '../../edispensation/eu/dispatch.ts';
import type { Enrichment } from '../../edispensation/eu/enrich.ts';
import type { Dispensation } from '../../edispensation/model.ts';
import { countOutbox, listOutbox, outboxForDispensation, retryDead, type OutboxState } from '../../edispensation/outbox/repository.ts';
import { notifyOutbox } from '../../edispensation/outbox/signal.ts';
import { parseEhdsiDispensationCda } from '../../edispensation/parse-cda.ts';
import { parseMpdDispense } from '../../edispensation/parse-fhir.ts';
import { m10Expression, parseM10 } from '../../edispensation/parse-m10.ts';
import { receiveDispensation, type ReceiveInput, type ReceiveResult } from '../../edispensation/receive.ts';
import { readDispensation, type DispensationRow } from '../../edispensation/store/dispensations.ts';
import { findPrescription, readPrescriptionRow } from '../../edispensation/store/prescriptions.ts';
import { operatorView } from '../../edispensation/outbox/operator-view.ts';
import {
  accessProblem,
  accessRuleCoding,
  pharmacyOrganisation,
  pharmacyOwnDispensationRule,
  pharmacyReadsEuOnly,
  reporterOf,
  withdrawalRule,
  type AccessTarget,
} from '../../auth/access-rules.ts';
import { OID } from '../../fhir/identifiers.ts';
import type { Principal } from '../../auth/principal.ts';
import type { DispenseChannel } from '../../edispensation/checks.ts';
import type { Config } from '../../config.ts';
import { FHIR_ID, locator, noPatient, notePrescription, rowPatient } from '../locate.ts';
import { chainCountForIntake } from '../prescription-chain.ts';
import { route, type Decided, type FhirRequest, type Found, type HandlerResult, type PatientLocator, type RouteContext, type RouteDef } from '../types.ts';

const CREATE = { resourceType: 'MedicationDispense', interaction: 'c' } as const;

/** OID root under which Norwegian prescription ids appear in eHDSI CDA (inFulfillmentOf/order/id). */
export const prescriptionIdRoot = (config: Pick<Config, 'helsebroOid'>): string => `${config.helsebroOid}.1`;

/** A parsed dispensation and the patient of the prescription it names (when Helsebro holds it). */
function dispensationBody(via: string, parse: (req: FhirRequest, ctx: RouteContext) => Result<Dispensation> | Problem): PatientLocator<Result<Dispensation>> {
  return locator('message-body', via, async (req, ctx) => {
    const parsed = parse(req, ctx);
    if (isProblem(parsed)) return parsed;
    if (!parsed.ok) return parsed.problem;
    const rx = await findPrescription(ctx.db, parsed.value.prescription);
    if (rx) notePrescription(ctx, rx);
    return { patient: rx ? rowPatient(rx) : undefined, loaded: parsed };
  });
}

/** The dispensation `:id` names (a withdrawal's id reads as the dispensation it withdrew) and its prescription's patient. */
const storedDispensation = locator('stored', 'MedicationDispense', async (req, ctx): Promise<Found<DispensationRow> | Problem> => {
  const id = req.params.id ?? '';
  if (!FHIR_ID.test(id)) return notFound(`MedicationDispense/${id} is not a valid id`, { expression: ['MedicationDispense.id'] });
  ctx.audit.resourceId = id;
  const found = await readDispensation(ctx.db, id);
  const row = found?.kind === 'discard' && found.discards ? await readDispensation(ctx.db, found.discards) : found;
  if (!row) return notFound(`MedicationDispense/${id} not found`);
  const rx = await readPrescriptionRow(ctx.db, row.prescriptionRow);
  if (rx) notePrescription(ctx, rx);
  return { patient: rx ? rowPatient(rx) : row.patientFnr ? { fnr: row.patientFnr } : undefined, loaded: row };
});

/** People read their own dispensations, clinicians for care; the NCP and pharmacies those of their flows. */
const READERS = ['citizen', 'guardian', 'clinician', 'ncp', 'pharmacy'] as const;

const READ_ACCESS = {
  admits: READERS,
  scope: { resourceType: 'MedicationDispense', interaction: 'r' as const },
  audit: 'R' as const,
  source: 'edispensation' as const,
  patient: storedDispensation,
};

/**
 * A pharmacy's flow is EU prescriptions dispensed in Norway; a Norwegian prescription dispensed abroad (and
 * its M10, fødselsnummer and all) is the NCP's and the prescription chain's business. The NCP is party to both.
 */
const pharmacyReadsOwnFlow = (who: Principal, found: Found<DispensationRow>, target: AccessTarget) =>
  pharmacyReadsEuOnly(who, found.loaded.channel === 'pharmacy' ? 'EU' : 'NO', target);

/**
 * A pharmacy reads and withdraws only the dispensations it reported (same client, same organisation): not
 * another pharmacy's, whose MedicationDispense and M10 carry the MsgId that would let it act on them.
 */
const pharmacyOwnOnly = (who: Principal, found: Found<DispensationRow>, target: AccessTarget) => pharmacyOwnDispensationRule(who, found.loaded, target);

/** The flow a caller reports in is its role's, whatever prescription the message names. */
const reportingChannel = (who: Principal): DispenseChannel => (who.kind === 'system' && who.role === 'ncp' ? 'ncp' : 'pharmacy');

export const edispensationRoutes: RouteDef[] = [
  route({
    method: 'POST',
    path: '/MedicationDispense',
    resourceType: 'MedicationDispense',
    interaction: 'create',
    accepts: ['json'],
    access: { admits: ['ncp', 'pharmacy'], scope: CREATE, audit: 'C', source: 'edispensation', patient: dispensationBody('mpd-dispense', (req) => parseMpdDispense(req.body, { resolve: () => undefined })) },
    documentation:
      'Receive a dispensation as an HL7 Europe MPD MedicationDispense: from the NCP for a Norwegian prescription (an M10 goes to the prescription chain), ' +
      'or from a Norwegian pharmacy for an EU prescription (an EU eDispensation goes to the NCP). 201 when stored; the same identifier and content again: 200 with the first result; ' +
      'the same identifier with other content: 409; business-rule refusals: 422 with codes from https://helsebro.no/fhir/CodeSystem/dispense-check. ' +
      'Status entered-in-error withdraws the dispensation with that identifier (within 24 hours). ' +
      'An element Helsebro cannot forward (note, type, receiver, a structured dosage, an extension it does not read) is refused with 422 DISP-ELEMENT-NOT-CARRIED naming it, never dropped; an element that is not FHIR R4 gets 400. ' +
      "The flow is the caller's: the NCP reporting an EU prescription, or a pharmacy a Norwegian one, gets 422 DISP-WRONG-DIRECTION and nothing is stored or sent. " +
      'A pharmacy reporting an EU prescription is held to the Norwegian dispensing rules, as with $import-m10 (product, substitution, reseptgruppe, quantity, validity).',
    handler: (req, ctx, decided) => receiveParsed(req, ctx, decided, decided.loaded, { source: 'fhir-mpd', channel: reportingChannel(decided.principal) }, 'create'),
  }),
  route({
    method: 'POST',
    path: '/MedicationDispense/$import-ehdsi-cda',
    resourceType: 'MedicationDispense',
    interaction: 'operation',
    operation: { name: 'import-ehdsi-cda', level: 'type' },
    accepts: ['xml'],
    access: {
      admits: ['ncp'],
      scope: CREATE,
      audit: 'C',
      source: 'edispensation',
      patient: dispensationBody('ehdsi-dispense-cda', (req, ctx) => {
        const args = readOperationArgs(importDispensationCdaOperation, { query: req.query, body: undefined });
        if (isProblem(args)) return args;
        const root = prescriptionIdRoot(ctx.config);
        return parseEhdsiDispensationCda(String(req.body), {
          maxBytes: ctx.config.maxBodyBytes.xml,
          systemForOid: (oid) => (oid === root ? PRESCRIPTION_ID_SYSTEM : undefined),
          discard: args.boolean('discard') === true,
        });
      }),
    },
    documentation:
      'Receive an eHDSI eDispensation CDA (LOINC 60593-1) from the NCP for a Norwegian prescription. ?discard=true: the NCP delivers it as a discard ' +
      '(XDS class DISCARD-60593-1) of the dispensation it describes. Answers as POST /MedicationDispense.',
    handler: (req, ctx, decided) => receiveParsed(req, ctx, decided, decided.loaded, { source: 'ehdsi-cda', channel: 'ncp', sourceBody: String(req.body) }, 'operation'),
  }),
  route({
    method: 'POST',
    path: '/MedicationDispense/$import-m10',
    resourceType: 'MedicationDispense',
    interaction: 'operation',
    operation: { name: 'import-m10', level: 'type' },
    accepts: ['xml'],
    access: {
      admits: ['pharmacy'],
      scope: CREATE,
      audit: 'C',
      source: 'edispensation',
      patient: dispensationBody('m10', (req, ctx) => parseM10(String(req.body), { maxBytes: ctx.config.maxBodyBytes.xml })),
    },
    documentation:
      "Receive a Norwegian pharmacy's M10 Utleveringsrapport (eResept 2.5 in MsgHead) for an EU prescription (ReseptId = the EU prescription id). " +
      'Annullering true withdraws the dispensation named by AnnulleringsId (without one: the only dispensation not withdrawn, else 422 DISP-DISCARD-AMBIGUOUS); only one the same pharmacy reported (403 ACCESS-PHARMACY-OWN-ONLY). ' +
      "The MsgHead Sender (ENH, HER) and Utleverer must be the client's own organisation (403 ACCESS-PHARMACY-ORGANISATION). Avsluttet 1 closes the prescription; Batchnr, ByttereservasjonKunde and " +
      'Intervensjon D/R/P are carried into the eDispensation; Kanselleringskode, prices, Egenandel, Papirresept and RekvirentPapir get 422 DISP-ELEMENT-NOT-CARRIED; elements out of the M10 schema\'s order 400. ' +
      'A patient named otherwise (family and given names, birth date) than the EU prescription\'s: 422 DISP-PATIENT-MISMATCH. Refusals name M10 element paths; warnings come as Warning headers. ' +
      'The dispensation is enriched (FEST, HPR) and sent to the NCP as an EU eDispensation. ' +
      'Norwegian dispensing rules apply (422, expression at the M10 element): another substance, strength or dose form than prescribed DISP-PRODUCT-MISMATCH; anything but the prescribed product where ' +
      'the prescription forbids substitution DISP-SUBSTITUTION-NOT-ALLOWED; reseptgruppe A or B DISP-CONTROLLED-PRODUCT; more than remains, compared in packs of the prescribed content or in ' +
      'stk/ml/g/doses, DISP-QUANTITY-EXCEEDED, and units that cannot be compared DISP-QUANTITY-UNIT; a prescription without a validity period expires one year after issue (DISP-NOT-DISPENSABLE). ' +
      'Another brand than prescribed is sent to the NCP as substituted.',
    handler: (req, ctx, decided) => receiveParsed(req, ctx, decided, decided.loaded, { source: 'm10', channel: 'pharmacy', sourceBody: String(req.body) }, 'operation'),
  }),
  route({
    method: 'POST',
    path: '/MedicationDispense/:id/$discard',
    resourceType: 'MedicationDispense',
    interaction: 'operation',
    operation: { name: 'discard', level: 'instance' },
    accepts: ['json', 'form'],
    access: {
      admits: ['ncp', 'pharmacy'],
      scope: { resourceType: 'MedicationDispense', interaction: 'u' },
      audit: 'U',
      source: 'edispensation',
      patient: storedDispensation,
      rules: [(who, found, target) => withdrawalRule(who, found.loaded.channel === 'pharmacy' ? 'pharmacy' : 'ncp', target), pharmacyOwnOnly],
    },
    documentation:
      'Withdraw a dispensation within 24 hours of receiving it: for a Norwegian prescription an M10 with Annullering true goes to the prescription chain, ' +
      'for an EU prescription a discard goes to the NCP; the prescription gets the dispensing back. Later: 422 DISP-DISCARD-TOO-LATE. Again: 200, nothing more is sent. ' +
      'The NCP withdraws what it reported, a pharmacy only what it reported itself (the same client for the same organisation; otherwise 403 ACCESS-PHARMACY-OWN-ONLY).',
    async handler(req, ctx, decided) {
      const args = readOperationArgs(discardOperation, req);
      if (isProblem(args)) return args;
      const row = decided.loaded;
      if (row.kind !== 'dispense' || row.id !== req.params.id) return notFound(`MedicationDispense/${req.params.id} not found`);
      const d: Dispensation = { ...row.model, status: 'discarded', discardOf: row.model.identifier };
      // The withdrawal goes out in the flow the dispensation came in by; the rule above let only that side ask.
      return receiveParsed(req, ctx, decided, { ok: true, value: d, warnings: [] }, { source: 'discard-operation', channel: row.channel }, 'operation');
    },
  }),
  route({
    method: 'GET',
    path: '/MedicationDispense/:id',
    resourceType: 'MedicationDispense',
    interaction: 'read',
    access: { ...READ_ACCESS, rules: [pharmacyReadsOwnFlow, pharmacyOwnOnly] },
    documentation:
      'Read a dispensation (status entered-in-error once withdrawn). The foreign pharmacy and pharmacist are kept as sent. ' +
      'A pharmacy reads only the dispensations it reported itself (another pharmacy gets 403 ACCESS-PHARMACY-OWN-ONLY; what remains on the prescription it reads from the MedicationRequest).',
    handler: async (_req, _ctx, decided) => ({ status: 200, resource: decided.loaded.resource }),
  }),
  route({
    method: 'GET',
    path: '/MedicationDispense/:id/$m10',
    resourceType: 'MedicationDispense',
    interaction: 'operation',
    operation: { name: 'm10', level: 'instance' },
    produces: 'xml',
    access: { ...READ_ACCESS, rules: [pharmacyReadsOwnFlow, pharmacyOwnOnly] },
    documentation:
      'The M10 Utleveringsrapport of a dispensation: the one Helsebro sent to the prescription chain (dispensed abroad), or the one the Norwegian pharmacy sent ' +
      '(EU prescription). ?annullering=true: the M10 that withdrew it. Header X-Outbox-State tells whether it has been delivered.',
    async handler(req, ctx, decided) {
      const row = decided.loaded;
      const args = readOperationArgs(m10Operation, req);
      if (isProblem(args)) return args;
      const annullering = args.boolean('annullering') === true;
      if (row.channel === 'pharmacy') {
        if (annullering) {
          const discard = row.discardedBy ? await readDispensation(ctx.db, row.discardedBy) : undefined;
          if (!discard?.sourceBody || discard.source !== 'm10') return notFound('No annullering M10 was received for this dispensation');
          return { status: 200, body: discard.sourceBody, contentType: 'application/xml; charset=utf-8' };
        }
        if (!row.sourceBody) return notFound('This dispensation was not reported as an M10');
        return { status: 200, body: row.sourceBody, contentType: 'application/xml; charset=utf-8' };
      }
      const owner = annullering ? row.discardedBy : row.id;
      if (!owner) return notFound('This dispensation has not been withdrawn');
      const m10 = (await outboxForDispensation(ctx.db, owner)).find((m) => m.channel === 'm10');
      if (!m10) return notFound('No M10 is recorded for this dispensation');
      return { status: 200, body: m10.payload, contentType: 'application/xml; charset=utf-8', headers: { 'X-Outbox-State': m10.state, 'X-Message-Id': m10.msgId } };
    },
  }),
  route({
    method: 'GET',
    path: '/MedicationDispense/$outbox-status',
    resourceType: 'MedicationDispense',
    interaction: 'operation',
    operation: { name: 'outbox-status', level: 'type' },
    access: { admits: ['operator'], scope: { resourceType: 'MedicationDispense', interaction: 's' }, audit: 'E', patient: noPatient },
    documentation:
      'Operator view of the outbox: counts per channel (m10, ncp) and state (pending, in-flight, delivered, dead), and the latest messages ' +
      '(?state=dead|pending|in-flight|delivered, _count) with attempts, next attempt and the kind of the last error. No personal data: no dispensation ids, no paths.',
    async handler(req, ctx) {
      const args = readOperationArgs(outboxStatusOperation, req);
      if (isProblem(args)) return args;
      const state = args.string('state');
      if (state !== undefined && !(OUTBOX_STATES as readonly string[]).includes(state)) {
        return badRequest(`state must be ${OUTBOX_STATES.join(', ')}`, { expression: ['state'] });
      }
      const count = args.integer('_count') ?? 50;
      if (count < 0 || count > 999) return badRequest('_count must be 0-999', { expression: ['_count'] });
      const counts = await countOutbox(ctx.db);
      const messages = await listOutbox(ctx.db, { ...(state ? { state: state as OutboxState } : {}), limit: count });
      const parameter: ParametersParameter[] = counts.map((c) => ({
        name: 'count',
        part: [
          { name: 'channel', valueCode: c.channel },
          { name: 'state', valueCode: c.state },
          { name: 'count', valueInteger: c.count },
        ],
      }));
      for (const m of messages) parameter.push({ name: 'message', part: operatorView(m) });
      const out: Parameters = { resourceType: 'Parameters', parameter };
      return { status: 200, resource: out };
    },
  }),
  route({
    method: 'POST',
    path: '/MedicationDispense/$outbox-retry',
    resourceType: 'MedicationDispense',
    interaction: 'operation',
    operation: { name: 'outbox-retry', level: 'type' },
    accepts: ['json', 'form'],
    access: { admits: ['operator'], scope: { resourceType: 'MedicationDispense', interaction: 'u' }, audit: 'U', patient: noPatient },
    documentation: 'Operator: send a dead outbox message again (id=<outbox message id> from $outbox-status, in the query, a form or a Parameters body), with a fresh attempt budget.',
    async handler(req, ctx) {
      const args = readOperationArgs(outboxRetryOperation, req);
      if (isProblem(args)) return args;
      const id = args.string('id');
      if (!id || !/^[0-9a-f-]{36}$/.test(id)) return badRequest('id must be the outbox message id (a UUID)', { expression: ['id'] });
      if (!(await retryDead(ctx.db, id))) return notFound(`No dead outbox message ${id}`);
      notifyOutbox();
      const oo: OperationOutcome = { resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational', diagnostics: `Outbox message ${id} is pending again` }] };
      return { status: 200, resource: oo };
    },
  }),
];

async function receiveParsed(
  req: FhirRequest,
  ctx: RouteContext,
  decided: Decided<unknown>,
  parsed: Result<Dispensation>,
  input: Omit<ReceiveInput, 'dispensation' | 'warnings'>,
  interaction: 'create' | 'operation',
): Promise<HandlerResult> {
  if (!parsed.ok) return parsed.problem;
  const d = parsed.value;
  const who = decided.principal;
  const pharmacy = input.channel === 'pharmacy';
  // The organisation a pharmacy reports in the name of is its own (a withdrawal by $discard repeats the original's).
  // (A Norwegian prescription is refused as DISP-WRONG-DIRECTION whoever the message names: asked first.)
  if (pharmacy && input.source !== 'discard-operation' && (await findPrescription(ctx.db, d.prescription))?.origin !== 'NO') {
    const wrongOrganisation = reportsForOwnOrganisation(who, d);
    if (wrongOrganisation) return wrongOrganisation;
  }
  const mayUse = (row: DispensationRow, use: 'replay' | 'withdrawal'): Problem | undefined => {
    const target: AccessTarget = { resourceType: 'MedicationDispense', interaction: use === 'replay' ? 'r' : 'u', level: 'request', source: 'edispensation' };
    const denied = pharmacyOwnDispensationRule(who, row, target);
    if (!denied.length) return undefined;
    // A replay of another pharmacy's identifier is told only that the identifier is taken, as any conflict is.
    if (use === 'replay') return identifierTaken(d);
    return withExpression(accessProblem({ effect: 'deny', outcomes: denied }), d.source === 'm10' ? `${M10_UTLEVERING}.AnnulleringsId` : 'MedicationDispense.identifier');
  };
  const enriched = await enrichmentFor(ctx.db, ctx.config, d);
  // Norway as country B: the Norwegian dispensing rules (product, substitution, reseptgruppe, quantity).
  const eu = input.channel === 'pharmacy' ? await euDispenseAssessment(ctx.db, d, enriched) : undefined;
  const served = enriched.enrichment ? servedParts(enriched.enrichment) : undefined;
  const enrichment = eu ? { ...served, substitution: eu.substitution } : served;
  // A Norwegian prescription dispensed abroad is checked against the dispensings made in Norway too: the
  // prescription chain's count, asked before the transaction (it may be slow; the row lock is not held meanwhile).
  const rx = input.channel === 'ncp' ? await findPrescription(ctx.db, d.prescription) : undefined;
  const chainCount = rx?.origin === 'NO' ? await chainCountForIntake(ctx, rx.prescriptionId) : undefined;
  const result = await receiveDispensation(
    ctx.db,
    {
      ...input,
      dispensation: d,
      warnings: [...parsed.warnings, ...enriched.warnings],
      ...(enrichment ? { enrichment } : {}),
      ...(eu ? { eu: { issues: eu.issues, warnings: eu.warnings, ...(eu.counted ? { counted: eu.counted } : {}) } } : {}),
      ...(pharmacy ? { reporter: reporterOf(who), mayUse } : {}),
      ...(chainCount ? { chainCount } : {}),
    },
    {
      ncp: { herId: ctx.config.ncp.herId, orgnr: ctx.config.ncp.orgnr, name: ctx.config.ncp.name, ...(ctx.config.ncp.phone ? { phone: ctx.config.ncp.phone } : {}) },
      euMessage: euMessageBuilder(ctx.config),
      audit: async (q, what) => {
        const event = buildAuditEvent({
          principal: decided.principal,
          patient: what.patient,
          foreignPatient: ctx.audit.foreignPatient,
          related: ctx.audit.prescription,
          action: what.withdrawal ? 'U' : 'C',
          event: 'import',
          interaction,
          operation: interaction === 'operation' ? { name: operationName(input.source) } : undefined,
          resourceType: 'MedicationDispense',
          resourceId: what.dispensationId,
          outcome: '0',
          requestId: req.requestId,
          at: new Date(),
          observer: { name: ctx.config.operator.name, orgnr: ctx.config.operator.orgnr },
        });
        await recordAudit(q, event);
      },
    },
  );
  if (result.kind === 'refused' && d.source === 'm10') return inM10Terms(result.problem, d);
  return respond(req, ctx, result);
}

/** A refused M10's issues point at its own elements. */
function inM10Terms(p: Problem, d: Dispensation): Problem {
  return {
    ...p,
    issues: p.issues.map((i) => (i.expression ? { ...i, expression: i.expression.map((e) => m10Expression(e, d, i.details?.coding?.[0]?.code)) } : i)),
  };
}

/** Printable ASCII for a header's quoted-string: no quotes, backslashes or control characters; at most 300 characters. */
const headerText = (text: string): string =>
  text
    .normalize('NFKD')
    .replace(/[^\x20-\x7e]/g, '')
    .replace(/["\\]/g, "'")
    .slice(0, 300);

const M10_UTLEVERING = 'MsgHead.Document.RefDoc.Content.Utleveringsrapport.Utlevering';

function withExpression(p: Problem, expression: string): Problem {
  return { ...p, issues: p.issues.map((i) => ({ ...i, expression: [expression] })) };
}

function identifierTaken(d: Dispensation): Problem {
  return conflict('A different dispensation was already received with this identifier', {
    expression: [d.source === 'm10' ? 'MsgHead.MsgInfo.MsgId' : 'MedicationDispense.identifier'],
    details: [checkCoding('DISP-IDENTIFIER-CONFLICT')],
  });
}

/**
 * A pharmacy reports dispensings in its own name only: the M10's MsgHead Sender (its ENH and HER) and
 * Utleverer HerId, or the MedicationDispense's performer, must be the organisation the client acts for (its
 * token's orgnr, else its registration; the HER-id from the registration). Without a registration naming the
 * HER-id, the Utleverer's HER-id must be the Sender's. 403 ACCESS-PHARMACY-ORGANISATION naming the element.
 */
function reportsForOwnOrganisation(who: Principal, d: Dispensation): Problem | undefined {
  const own = pharmacyOrganisation(who);
  const refuse = (diagnostics: string, expression: string): Problem => ({
    status: 403,
    issues: [{ severity: 'error', code: 'forbidden', diagnostics, expression: [expression], details: { coding: [accessRuleCoding('ACCESS-PHARMACY-ORGANISATION')] } }],
  });
  const m10 = d.m10Parties;
  if (d.source === 'm10' && m10) {
    const sender = 'MsgHead.MsgInfo.Sender.Organisation.Ident';
    const utleverer = `${M10_UTLEVERING}.Utleverer.HerId`;
    if (!own.orgnr) return refuse('The client has no registered organisation number, so the pharmacy it reports for cannot be verified', sender);
    const enh = m10.sender.filter((i) => i.system === OID.orgnr);
    if (!enh.length) return refuse('The MsgHead Sender names no organisation number (ENH); it must be the reporting pharmacy’s', sender);
    if (enh.some((i) => i.value !== own.orgnr)) return refuse('The MsgHead Sender’s organisation number (ENH) is not that of the client reporting it', sender);
    const senderHer = m10.sender.filter((i) => i.system === OID.her);
    if (own.herId) {
      if (senderHer.some((i) => i.value !== own.herId)) return refuse('The MsgHead Sender’s HER-id is not the one registered for the client', sender);
      if (m10.utleverer.value !== own.herId) return refuse('Utleverer HerId is not the HER-id registered for the client reporting it', utleverer);
    } else if (senderHer.some((i) => i.value !== m10.utleverer.value)) {
      return refuse('Utleverer HerId is not the MsgHead Sender’s HER-id', utleverer);
    }
    return undefined;
  }
  const where = 'MedicationDispense.performer';
  const orgnrs = d.pharmacy.identifiers.filter((i) => i.system === OID.orgnr);
  const hers = d.pharmacy.identifiers.filter((i) => i.system === OID.her);
  if (!own.orgnr && !own.herId) return refuse('The client has no registered organisation, so the pharmacy it reports for cannot be verified', where);
  if (orgnrs.some((i) => i.value !== own.orgnr)) return refuse('The performer’s organisation number is not that of the client reporting it', where);
  if (own.herId && hers.some((i) => i.value !== own.herId)) return refuse('The performer’s HER-id is not the one registered for the client reporting it', where);
  const verified = orgnrs.some((i) => i.value === own.orgnr) || (own.herId !== undefined && hers.some((i) => i.value === own.herId));
  if (!verified) return refuse('The performer must name the reporting pharmacy by its organisation number (or its registered HER-id)', where);
  return undefined;
}

const servedParts = ({ medication, pharmacy, pharmacist, substitution }: Enrichment): NonNullable<ReceiveInput['enrichment']> => ({
  ...(medication ? { medication } : {}),
  ...(substitution ? { substitution } : {}),
  ...(pharmacy ? { pharmacy } : {}),
  ...(pharmacist ? { pharmacist } : {}),
});

const operationName = (source: ReceiveInput['source']): string => (source === 'm10' ? 'import-m10' : source === 'ehdsi-cda' ? 'import-ehdsi-cda' : 'discard');

function respond(req: FhirRequest, ctx: RouteContext, result: ReceiveResult): HandlerResult {
  if (result.kind === 'refused') return result.problem;
  const row = result.row;
  ctx.audit.resourceId = row.id;
  if (row.patientFnr) ctx.audit.patient = { fnr: row.patientFnr };
  const location = `${req.baseUrl}/MedicationDispense/${row.id}`;
  if (result.kind === 'replayed') {
    return { status: 200, resource: row.resource, headers: { 'Content-Location': location, 'X-Helsebro-Replay': 'true' } };
  }
  ctx.audit.recorded = true;
  const warnings = result.warnings;
  if (result.kind === 'withdrawn') return answer(req, 200, row.resource, warnings, { 'Content-Location': location });
  return answer(req, 201, row.resource, warnings, { Location: location });
}

/**
 * The resource, or with `Prefer: return=OperationOutcome` the warnings (FHIR REST "prefer"). Warnings are
 * also sent as HTTP `Warning: 299` headers with every answer, so a pharmacy system that reads only the
 * resource still sees them (a patient that could not be cross-checked, a product FEST does not know ...).
 */
function answer(req: FhirRequest, status: number, resource: MedicationDispense, warnings: OperationOutcomeIssue[], extraHeaders: Record<string, string>): HandlerResult {
  const shown = warnings.filter((w) => w.severity === 'warning' || w.severity === 'error');
  const headers = shown.length ? { ...extraHeaders, Warning: shown.map((w) => `299 helsebro "${headerText(w.diagnostics ?? w.code)}"`).join(', ') } : extraHeaders;
  const prefer = String(req.headers.prefer ?? '');
  if (/return=OperationOutcome/i.test(prefer)) {
    const issue: OperationOutcomeIssue[] = warnings.length
      ? warnings
      : [{ severity: 'information', code: 'informational', diagnostics: `Stored as MedicationDispense/${resource.id}` }];
    return { status, resource: { resourceType: 'OperationOutcome', issue }, headers };
  }
  return { status, resource, headers };
}
