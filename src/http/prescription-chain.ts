// The prescription chain's state of Norwegian prescriptions, asked fresh whenever Helsebro states what
// remains of one to the NCP (a read, a search, $ehdsi-cda, a Level 1 document, the document list, the
// answer to $import-m1) and before it checks a dispensing reported from abroad. Reseptformidleren (RF) is
// the authority: its status decides whether the prescription may be dispensed now, and the dispensings so
// far are its count plus Helsebro's own dispensings abroad whose M10 it had not received when asked.
//
// Fail closed: when RF does not answer in time or answers something unreadable, no count is stated. A read
// answers 503 (chainUnavailable) and a search leaves the prescription out with an outcome entry
// (chainLeftOut); nothing is served from an earlier answer.
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { dispensingsSoFar, type OwnDispensing } from '../edispensation/dispensings-so-far.ts';
import { ownDispensings, storeClock } from '../edispensation/store/own-dispensings.ts';
import type { ChainFacts } from '../eprescription/pipeline.ts';
import { exportReasonIssues, type ChainStatus, type ExportDecision, type ReasonLanguage } from '../eprescription/rules.ts';
import { HELSEBRO_NS } from '../fhir/identifiers.ts';
import { issue, type Problem } from '../fhir/outcomes.ts';
import { reseptformidlerenFor, type ReseptformidlerenSource } from '../sources/reseptformidleren/index.ts';
import type { RfFailure, RfState } from '../sources/reseptformidleren/types.ts';
import type { RouteContext } from './types.ts';

/** Codes of the issues that say the chain could not be asked (details.coding). */
export const CHAIN_ISSUE_SYSTEM = `${HELSEBRO_NS}/CodeSystem/prescription-chain-issue`;

/** Seconds the NCP is asked to wait before asking again when RF did not answer. */
export const CHAIN_RETRY_AFTER_SECONDS = 5;

/** A prescription to ask about: its MsgId (RF's ReseptId), and Helsebro's row when it is stored. */
export interface ChainTarget {
  prescriptionId: string;
  rowId?: string | undefined;
  /** The row's own counter of the dispensings reported to Helsebro (dispensings_done): the count never falls below it. */
  recorded?: number | undefined;
}

export type ChainAnswer = { ok: true; facts: ChainFacts } | { ok: false; status: RfFailure; message: string };

/**
 * RF's answer and Helsebro's own dispensings -> the facts the export rules decide on (pure). RF not knowing
 * the prescription (IngenResept, or absent from the patient's list) and a patient reservation are facts
 * the rules refuse on; their count is then never stated, so Helsebro's own stands in for it.
 */
export function chainFactsOf(state: RfState, own: readonly OwnDispensing[], recorded = 0): ChainFacts {
  const chain: ChainStatus = state.dispensings.kind === 'no-prescription' || !state.listed ? { known: false } : { known: true, status: state.listed.status };
  const rfCount = state.dispensings.kind === 'count' ? state.dispensings.count : 0;
  return {
    dispensingsSoFar: dispensingsSoFar(rfCount, own, recorded),
    recalled: chain.known && chain.status === 'T',
    patientRestricted: state.dispensings.kind === 'patient-reservation',
    chain,
  };
}

/** The RF source of this request's context (built from the configuration when the context has none). */
export function chainOf(ctx: RouteContext): ReseptformidlerenSource {
  return ctx.prescriptionChain ?? reseptformidlerenFor(ctx.config, ctx.db, { log: ctx.log });
}

/**
 * The chain's facts for some of one patient's prescriptions, keyed by prescription id: one M9.1 for the
 * patient, one M9.7 per prescription, in parallel under the deadline. The store's clock is read first, so
 * that an M10 delivered while RF answers is counted (once too often at worst), never missed.
 */
export async function chainFactsFor(ctx: RouteContext, patientFnr: string | undefined, targets: readonly ChainTarget[]): Promise<Map<string, ChainAnswer>> {
  const out = new Map<string, ChainAnswer>();
  if (!targets.length) return out;
  if (!patientFnr) {
    for (const t of targets) out.set(t.prescriptionId, { ok: false, status: 'failed', message: 'the prescription names no fødselsnummer or D-nummer to ask by' });
    return out;
  }
  const askedAt = await storeClock(ctx.db);
  const states = await chainOf(ctx).states(
    patientFnr,
    targets.map((t) => t.prescriptionId),
  );
  const rowIds = targets.flatMap((t) => (t.rowId ? [t.rowId] : []));
  const own = await ownDispensings(ctx.db, rowIds, askedAt);
  for (const t of targets) {
    const state = states.get(t.prescriptionId) ?? { status: 'failed', message: 'not asked' };
    out.set(
      t.prescriptionId,
      state.status === 'ok'
        ? { ok: true, facts: chainFactsOf(state.value, (t.rowId && own.get(t.rowId)) || [], t.recorded) }
        : { ok: false, status: state.status, message: state.message },
    );
  }
  return out;
}

/** The facts for one prescription. */
export async function chainFactsForOne(ctx: RouteContext, patientFnr: string | undefined, target: ChainTarget): Promise<ChainAnswer> {
  return (await chainFactsFor(ctx, patientFnr, [target])).get(target.prescriptionId)!;
}

const WHAT: Record<RfFailure, string> = {
  timeout: 'did not answer in time',
  failed: 'could not be reached',
  malformed: 'answered with content that could not be read',
};

const chainCoding = (status: RfFailure) => ({ system: CHAIN_ISSUE_SYSTEM, code: `chain-${status}`, display: `Prescription chain ${status}` });

/** 503 for a read that must state what remains: the chain did not answer, so nothing is stated. */
export function chainUnavailable(a: { status: RfFailure }): Problem {
  return {
    status: 503,
    issues: [
      issue(
        'transient',
        `The prescription chain (Reseptformidleren) ${WHAT[a.status]}; the dispensings remaining on this prescription cannot be stated. Try again shortly.`,
        { details: [chainCoding(a.status)] },
      ),
    ],
    headers: { 'Retry-After': String(CHAIN_RETRY_AFTER_SECONDS) },
  };
}

/** The outcome entry's issue for a prescription a search left out because the chain did not answer for it. */
export function chainLeftOut(rowId: string, a: { status: RfFailure }): OperationOutcomeIssue {
  return issue(
    'incomplete',
    `MedicationRequest/${rowId} is left out: the prescription chain (Reseptformidleren) ${WHAT[a.status]}, so its dispensings remaining cannot be stated. Try again shortly.`,
    { severity: 'warning', details: [chainCoding(a.status)] },
  );
}

/**
 * 404 for a prescription that was available abroad and is not now (recalled, being dispensed in Norway, no
 * dispensings left ...), with the export rules' reasons, so the NCP can tell the pharmacist why.
 */
export function notAvailableNow(rowId: string, decision: ExportDecision, lang: ReasonLanguage): Problem {
  return {
    status: 404,
    issues: [issue('not-found', `MedicationRequest/${rowId} is not available for dispensing abroad now`), ...exportReasonIssues(decision, lang)],
  };
}

/**
 * For the checks of a dispensing reported from abroad: RF's count of the prescription's dispensings (M9.7),
 * with the store's clock read before asking, or why there is none. A report of a dispensing that has
 * happened is never refused for want of RF's answer (receive.ts then counts Helsebro's own, with a warning).
 */
export async function chainCountForIntake(ctx: RouteContext, prescriptionId: string): Promise<{ rfCount: number; askedAt: string } | { unavailable: string }> {
  const askedAt = await storeClock(ctx.db);
  const r = await chainOf(ctx).dispensings(prescriptionId);
  if (r.status !== 'ok') {
    ctx.log.warn({ chain: r.status }, 'dispensing checked without the prescription chain\'s count: it did not answer');
    return { unavailable: `the prescription chain (Reseptformidleren) ${WHAT[r.status]}` };
  }
  if (r.value.kind === 'no-prescription') return { unavailable: 'the prescription chain (Reseptformidleren) does not know the prescription' };
  if (r.value.kind === 'patient-reservation') return { unavailable: 'the patient has reserved against the prescription chain giving its count' };
  return { rfCount: r.value.count, askedAt };
}
