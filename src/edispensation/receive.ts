// Receiving one dispensation (or its withdrawal), in either direction, in ONE transaction:
//   lock the prescription row -> look up what is stored under the same identifier (replay / conflict)
//   -> decideIntake (checks, M10) -> insert the dispensation, update the prescription's counters, put the
//   outgoing message in the outbox, record the AuditEvent -> commit. Only then does the caller answer.
// Replays and refusals write nothing. Everything that may be slow (registry lookups for enrichment) happens
// before the transaction, because PGlite runs one transaction at a time.
import { randomUUID } from 'node:crypto';
import type { MedicationDispense, OperationOutcomeIssue, Patient } from '@medplum/fhirtypes';
import { OID, PRESCRIPTION_ID_SYSTEM, parsePersonNumber } from '../fhir/identifiers.ts';
import { warning, type Problem } from '../fhir/outcomes.ts';
import type { Db, Queryable } from '../store/db.ts';
import { readPatient } from '../store/patients.ts';
import { checkDirection, prescriptionKey, type DispenseChannel, type EuDispenseFacts } from './checks.ts';
import { dispensingsSoFar } from './dispensings-so-far.ts';
import { ownDispensings } from './store/own-dispensings.ts';
import { medicationDispenseResource, type DispenseResourceInput } from './fhir-dispense.ts';
import { idempotencyKey } from './identity.ts';
import { decideIntake, type IntakeFacts } from './intake.ts';
import type { M10Patient, NcpIdentity } from './m10.ts';
import { isRetraction, type Dispensation } from './model.ts';
import { notifyOutbox } from './outbox/signal.ts';
import { enqueue, outboxForDispensation, type OutboxMessage } from './outbox/repository.ts';
import { afterDiscard, afterDispense, euPatient, prescriptionFacts } from './prescription-facts.ts';
import {
  findDispensationByKey,
  insertDispensation,
  liveDispensations,
  markWithdrawn,
  readDispensation,
  type DispensationRow,
} from './store/dispensations.ts';
import { lockPrescription, updateCounters, type PrescriptionRow } from './store/prescriptions.ts';

export type DispensationSourceKind = Dispensation['source'] | 'discard-operation';

export interface ReceiveInput {
  dispensation: Dispensation;
  /** Warnings from parsing, returned with the answer and kept with the row. */
  warnings?: OperationOutcomeIssue[];
  /**
   * The flow the caller reports in, fixed by who calls: the NCP reports Norwegian prescriptions dispensed
   * abroad, a Norwegian pharmacy EU prescriptions dispensed here. Never inferred from the prescription, or
   * one side could report in the other's flow (a pharmacy sending an M10 to the prescription chain).
   */
  channel: DispenseChannel;
  source: DispensationSourceKind;
  /** The message as received, when it was XML. */
  sourceBody?: string;
  /** Norway as country B: the dispensing rules' verdict on product and quantity (eu/dispense-rules.ts). */
  eu?: EuDispenseFacts;
  /** Channel 'pharmacy': the client that reports (and the organisation it acts for), recorded with the dispensation. */
  reporter?: { clientId: string; orgnr?: string };
  /**
   * The caller's access rule over stored dispensations (http layer): asked, inside the transaction, for the
   * dispensation a replay would answer with and the one a withdrawal withdraws; a Problem refuses.
   */
  mayUse?: (row: DispensationRow, use: 'replay' | 'withdrawal') => Problem | undefined;
  /** Registry-enriched parts of the served MedicationDispense (Norway as country B). */
  enrichment?: Pick<DispenseResourceInput, 'medication' | 'pharmacy' | 'pharmacist' | 'substitution'>;
  /**
   * For a Norwegian prescription: Reseptformidleren's count of its dispensings, asked just before this call
   * (askedAt on the store's clock, storeClock), or why there is none. The checks then count the dispensings
   * made in Norway too. Without a count they count Helsebro's own (a dispensing abroad has happened; a
   * report of it is not refused because RF did not answer) and the answer carries a warning.
   */
  chainCount?: { rfCount: number; askedAt: string } | { unavailable: string };
}

/** Builds the EU eDispensation message for the NCP (Norway as country B). Pure. */
export type EuMessageBuilder = (input: {
  prescription: PrescriptionRow;
  dispensation: Dispensation;
  /** The MedicationDispense as stored (status entered-in-error for a withdrawal). */
  resource: MedicationDispense;
  /** For a withdrawal: the message sent for the dispensation it withdraws. */
  withdraws?: OutboxMessage;
  msgId: string;
  now: Date;
}) => { contentType: string; payload: string };

export interface ReceiveDeps {
  ncp: NcpIdentity;
  euMessage?: EuMessageBuilder;
  /** Records the AuditEvent of an accepted write inside its transaction. */
  audit?: (q: Queryable, what: { dispensationId: string; patient?: { id?: string; fnr?: string }; withdrawal: boolean }) => Promise<void>;
  now?: () => Date;
  newId?: () => string;
}

export type ReceiveResult =
  | { kind: 'created'; row: DispensationRow; warnings: OperationOutcomeIssue[] }
  /** A withdrawal was accepted: `row` is the withdrawn dispensation (status entered-in-error). */
  | { kind: 'withdrawn'; row: DispensationRow; withdrawal: DispensationRow; warnings: OperationOutcomeIssue[] }
  /** The same message again: `row` is what the first one produced; nothing was written. */
  | { kind: 'replayed'; row: DispensationRow; withdrawal: boolean }
  | { kind: 'refused'; problem: Problem };

export async function receiveDispensation(db: Db, input: ReceiveInput, deps: ReceiveDeps): Promise<ReceiveResult> {
  // Two first-time senders racing with one identifier against different prescriptions lock different rows;
  // the unique idempotency key stops the second, and a second pass classifies it as replay or conflict.
  for (let attempt = 1; ; attempt++) {
    try {
      const result = await db.tx((q) => receiveIn(q, input, deps));
      if (result.kind === 'created' || result.kind === 'withdrawn') notifyOutbox();
      return result;
    } catch (err) {
      if (attempt < 3 && isUniqueViolation(err)) continue;
      throw err;
    }
  }
}

const isUniqueViolation = (err: unknown): boolean => (err as { code?: string } | null)?.code === '23505';

async function receiveIn(q: Queryable, input: ReceiveInput, deps: ReceiveDeps): Promise<ReceiveResult> {
  const d = input.dispensation;
  const now = deps.now?.() ?? new Date();
  const row = await lockPrescription(q, d.prescription);
  const channel = input.channel;
  const existing = await findDispensationByKey(q, idempotencyKey(d));
  const retraction = isRetraction(d);
  const reporter = channel === 'pharmacy' ? input.reporter : undefined;
  if (channel === 'pharmacy' && !reporter) throw new Error('receiveDispensation: a pharmacy dispensation needs its reporter');
  // Another pharmacy's MsgId (or identifier) is never answered with that pharmacy's dispensation.
  const replayRefused = existing && input.mayUse?.(existing, 'replay');
  if (replayRefused) return { kind: 'refused', problem: replayRefused };
  const found = retraction ? await findOriginal(q, d, row, channel) : undefined;
  const original = found?.row;
  const withdrawalRefused = original && input.mayUse?.(original, 'withdrawal');
  if (withdrawalRefused) return { kind: 'refused', problem: withdrawalRefused };

  const { soFar, chainWarnings } = await chainCountFor(q, row, input.chainCount);
  const facts: IntakeFacts = { prescription: prescriptionFacts(row, soFar), ...(input.eu && !retraction ? { eu: input.eu } : {}) };
  if (existing) facts.existing = { fingerprint: existing.fingerprint, channel: existing.channel };
  if (retraction && found?.ambiguous) facts.original = { exists: false, ambiguous: true, recordedAt: '', discarded: false };
  if (retraction && original) {
    const m10 = (await outboxForDispensation(q, original.id)).find((m) => m.channel === 'm10');
    facts.original = {
      exists: true,
      recordedAt: original.recordedAt,
      discarded: original.discardedBy !== undefined,
      // Both name the same stored prescription however each referenced it; only another row is a mismatch.
      prescriptionKey: row && original.prescriptionRow === row.id ? prescriptionKey(d) : `row|${original.prescriptionRow}`,
      ...(m10 ? { m10MsgId: m10.msgId } : {}),
    };
  }

  const decision = decideIntake(d, facts, {
    channel,
    now,
    ncp: deps.ncp,
    newMsgId: randomUUID,
    ...(row ? { reseptId: row.prescriptionId } : {}),
    ...(row && channel === 'ncp' ? withPatient(await m10Patient(q, row, d)) : {}),
  });
  if (decision.kind === 'refused') return decision;
  if (decision.kind === 'replay') {
    const first = existing!;
    const shown = first.kind === 'discard' && first.discards ? await readDispensation(q, first.discards) : first;
    return { kind: 'replayed', row: shown ?? first, withdrawal: first.kind === 'discard' };
  }
  if (!row) throw new Error('receiveDispensation: accepted without a prescription');
  if (channel === 'pharmacy' && !deps.euMessage) throw new Error('receiveDispensation: no EU message builder for the pharmacy channel');

  const id = deps.newId?.() ?? randomUUID();
  const warnings = [...(input.warnings ?? []), ...chainWarnings, ...decision.warnings];
  const base = {
    idemKey: decision.key,
    fingerprint: decision.fingerprint,
    channel,
    source: input.source,
    prescriptionRow: row.id,
    model: d,
    warnings,
    ...(row.patientFnr ? { patientFnr: row.patientFnr } : {}),
    ...(input.sourceBody ? { sourceBody: input.sourceBody } : {}),
    ...(reporter ? { reporter: { clientId: reporter.clientId, ...(reporter.orgnr ? { orgnr: reporter.orgnr } : {}) } } : {}),
  };

  if (!retraction) {
    const counted = facts.prescription.remainingQuantity ? (facts.eu?.counted ?? d.quantity).value : undefined;
    const resource = medicationDispenseResource({ id, dispensation: d, status: 'completed', ...servedReferences(row, d), ...input.enrichment });
    const recordedAt = await insertDispensation(q, { ...base, id, kind: 'dispense', resource, ...(counted !== undefined ? { quantityCounted: counted } : {}) });
    await updateCounters(q, row.id, afterDispense(row, counted, decision.remainingAfter));
    await enqueueMessage(q, { channel, row, dispensationId: id, d, resource, m10: decision.m10, deps, now });
    await deps.audit?.(q, { dispensationId: id, patient: auditPatient(row), withdrawal: false });
    return { kind: 'created', row: { ...base, id, kind: 'dispense', resource, recordedAt, ...(counted !== undefined ? { quantityCounted: counted } : {}) }, warnings };
  }

  const target = original!;
  const withdrawn: MedicationDispense = { ...target.resource, status: 'entered-in-error' };
  const recordedAt = await insertDispensation(q, { ...base, id, kind: 'discard', discards: target.id, resource: withdrawn });
  await markWithdrawn(q, target.id, id, withdrawn);
  await updateCounters(q, row.id, afterDiscard(row, target.quantityCounted));
  const withdraws = channel === 'pharmacy' ? (await outboxForDispensation(q, target.id)).find((m) => m.channel === 'ncp') : undefined;
  await enqueueMessage(q, { channel, row, dispensationId: id, d, resource: withdrawn, m10: decision.m10, deps, now, ...(withdraws ? { withdraws } : {}) });
  await deps.audit?.(q, { dispensationId: target.id, patient: auditPatient(row), withdrawal: true });
  return {
    kind: 'withdrawn',
    row: { ...target, discardedBy: id, resource: withdrawn },
    withdrawal: { ...base, id, kind: 'discard', discards: target.id, resource: withdrawn, recordedAt },
    warnings,
  };
}

/** The dispensings so far on a Norwegian prescription (under the row lock), or the warning that only Helsebro's own were counted. */
async function chainCountFor(
  q: Queryable,
  row: PrescriptionRow | undefined,
  chain: ReceiveInput['chainCount'],
): Promise<{ soFar: number | undefined; chainWarnings: OperationOutcomeIssue[] }> {
  if (!row || row.origin !== 'NO' || !chain) return { soFar: undefined, chainWarnings: [] };
  if ('unavailable' in chain) {
    return {
      soFar: undefined,
      chainWarnings: [
        warning('incomplete', `Dispensings made in Norway were not counted in the checks: ${chain.unavailable}; only those reported to Helsebro were`, {
          expression: ['MedicationDispense.authorizingPrescription'],
        }),
      ],
    };
  }
  const own = (await ownDispensings(q, [row.id], chain.askedAt)).get(row.id) ?? [];
  return { soFar: dispensingsSoFar(chain.rfCount, own, row.dispensingsDone), chainWarnings: [] };
}

/**
 * The dispensation a withdrawal names. An M10 annullering without AnnulleringsId names none: it withdraws the
 * prescription's one live dispensation, and is refused when there is more than one (which one would be a guess).
 */
async function findOriginal(q: Queryable, d: Dispensation, row: PrescriptionRow | undefined, channel: DispenseChannel): Promise<{ row?: DispensationRow; ambiguous?: true }> {
  if (d.discardOf) {
    const found = await findDispensationByKey(q, idempotencyKey({ identifier: d.discardOf, status: 'completed' }));
    return found?.kind === 'dispense' ? { row: found } : {};
  }
  // A caller in the other flow learns nothing of this prescription's dispensations (decideIntake refuses it).
  if (!row || checkDirection(channel, prescriptionFacts(row))) return {};
  const live = await liveDispensations(q, row.id, 2);
  if (live.length > 1) return { ambiguous: true };
  return live[0] ? { row: live[0] } : {};
}


async function enqueueMessage(
  q: Queryable,
  m: {
    channel: DispenseChannel;
    row: PrescriptionRow;
    dispensationId: string;
    d: Dispensation;
    resource: MedicationDispense;
    m10: { msgId: string; xml: string } | undefined;
    deps: ReceiveDeps;
    now: Date;
    withdraws?: OutboxMessage;
  },
): Promise<void> {
  if (m.channel === 'ncp') {
    if (!m.m10) throw new Error('receiveDispensation: no M10 was built for an NCP dispensation');
    await enqueue(q, { channel: 'm10', msgId: m.m10.msgId, dispensationId: m.dispensationId, orderKey: m.row.id, contentType: 'application/xml', payload: m.m10.xml });
    return;
  }
  const msgId = randomUUID();
  const eu = m.deps.euMessage!({ prescription: m.row, dispensation: m.d, resource: m.resource, msgId, now: m.now, ...(m.withdraws ? { withdraws: m.withdraws } : {}) });
  await enqueue(q, { channel: 'ncp', msgId, dispensationId: m.dispensationId, orderKey: m.row.id, contentType: eu.contentType, payload: eu.payload });
}

/** How the served MedicationDispense points at the prescription and the patient. */
function servedReferences(row: PrescriptionRow, d: Dispensation): Pick<DispenseResourceInput, 'prescription' | 'subject'> {
  const identifier = row.origin === 'NO' ? { system: PRESCRIPTION_ID_SYSTEM, value: row.prescriptionId } : (d.prescription.identifier ?? { value: row.prescriptionId });
  const prescription = { reference: `MedicationRequest/${row.id}`, identifier };
  if (row.patientId) return { prescription, subject: { reference: `Patient/${row.patientId}`, ...(row.patientFnr ? { identifier: personIdentifier(row.patientFnr) } : {}) } };
  const eu = row.origin === 'EU' ? euPatient(row) : undefined;
  if (eu) return { prescription, subject: { patient: eu } };
  const patient: Patient = { resourceType: 'Patient' };
  const ids = row.patientFnr ? [personIdentifier(row.patientFnr)] : (d.patient?.identifiers ?? []);
  if (ids.length) patient.identifier = ids.map((i) => (i.system ? { system: i.system, value: i.value } : { value: i.value }));
  if (d.patient?.family || d.patient?.given.length) patient.name = [{ ...(d.patient.family ? { family: d.patient.family } : {}), ...(d.patient.given.length ? { given: d.patient.given } : {}) }];
  return { prescription, subject: { patient } };
}

function personIdentifier(fnr: string): { system: string; value: string } {
  return { system: parsePersonNumber(fnr)?.kind === 'dnr' ? OID.dnr : OID.fnr, value: fnr };
}

const withPatient = (p: M10Patient | undefined): { patient?: M10Patient } => (p ? { patient: p } : {});

/** The M10's patient: the Norwegian prescription's person number, named as the population registry names them. */
async function m10Patient(q: Queryable, row: PrescriptionRow, d: Dispensation): Promise<M10Patient | undefined> {
  if (!row.patientFnr || !parsePersonNumber(row.patientFnr)) return undefined;
  const known = row.patientId ? await readPatient(q, row.patientId) : undefined;
  const name = known?.name?.[0];
  const family = name?.family ?? d.patient?.family;
  const given = name?.given?.join(' ') ?? d.patient?.given.join(' ');
  if (!family || !given) return undefined;
  return { personNumber: row.patientFnr, family, given };
}

const auditPatient = (row: PrescriptionRow): { id?: string; fnr?: string } => ({
  ...(row.patientId ? { id: row.patientId } : {}),
  ...(row.patientFnr ? { fnr: row.patientFnr } : {}),
});
