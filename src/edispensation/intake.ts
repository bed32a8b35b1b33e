// The decision for one incoming dispensation, as a pure function over what the store knows, so the
// receive path is: read facts (inside the transaction) -> decideIntake -> write what it says (the
// dispensation row, the M10 outbox row) -> commit -> answer. Replays and refusals write nothing.
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { conflict, type Problem } from '../fhir/outcomes.ts';
import { checkDirection, checkDispensation, type DispenseChannel, type EuDispenseFacts, type OriginalDispensationFacts, type PrescriptionFacts } from './checks.ts';
import { checkCoding } from './codes.ts';
import { classifyRepeat, dispensationFingerprint, idempotencyKey } from './identity.ts';
import { buildM10, type M10Patient, type NcpIdentity } from './m10.ts';
import { isRetraction, type Dispensation } from './model.ts';

export interface IntakeFacts {
  prescription: PrescriptionFacts;
  /** What is stored under idempotencyKey(d), if anything. */
  existing?: { fingerprint: string; channel: DispenseChannel };
  /** For a discard: the dispensation it withdraws, with the MsgId of the M10 sent for it. */
  original?: OriginalDispensationFacts & { m10MsgId?: string };
  /** Norway as country B: the dispensing rules' verdict on product and quantity, found before the transaction. */
  eu?: EuDispenseFacts;
}

export interface IntakeContext {
  channel: DispenseChannel;
  now: Date;
  /** Needed for channel `ncp`, where an M10 goes to Reseptformidleren. */
  ncp?: NcpIdentity;
  /** A fresh GUID for the M10's MsgId. */
  newMsgId: () => string;
  /** ReseptId (M1 MsgId) and patient of the stored prescription, for the M10. */
  reseptId?: string;
  patient?: M10Patient;
}

export type IntakeDecision =
  | { kind: 'replay'; key: string }
  | { kind: 'refused'; problem: Problem }
  | {
      kind: 'accepted';
      key: string;
      fingerprint: string;
      remainingAfter: number;
      /** The M10 to put in the outbox (Norway as country A only). */
      m10?: { msgId: string; xml: string };
      warnings: OperationOutcomeIssue[];
    };

export function decideIntake(d: Dispensation, facts: IntakeFacts, ctx: IntakeContext): IntakeDecision {
  const key = idempotencyKey(d);
  const fingerprint = dispensationFingerprint(d);
  // Who may report here comes before what was reported: a replay answers with the stored dispensation, and a
  // conflict says one exists, neither of which is for a caller in the other flow.
  const wrongWay = checkDirection(ctx.channel, facts.prescription);
  if (wrongWay) return { kind: 'refused', problem: wrongWay };
  if (facts.existing && facts.existing.channel !== ctx.channel) {
    return {
      kind: 'refused',
      problem: conflict('This identifier is already used by a dispensation in the other direction; give the dispensation an identifier of its own', {
        expression: ['MedicationDispense.identifier'],
        details: [checkCoding('DISP-IDENTIFIER-CONFLICT')],
      }),
    };
  }
  const repeat = classifyRepeat(fingerprint, facts.existing);
  if (repeat.kind === 'replay') return { kind: 'replay', key };
  if (repeat.kind === 'conflict') return { kind: 'refused', problem: repeat.problem };

  const checked = checkDispensation({ dispensation: d, channel: ctx.channel, prescription: facts.prescription, now: ctx.now, ...(facts.original ? { original: facts.original } : {}), ...(facts.eu ? { eu: facts.eu } : {}) });
  if (!checked.ok) return { kind: 'refused', problem: checked.problem };
  const { remainingAfter } = checked.value;

  if (ctx.channel !== 'ncp') return { kind: 'accepted', key, fingerprint, remainingAfter, warnings: checked.warnings };
  if (!ctx.ncp) throw new Error('decideIntake: the NCP identity is required to build the M10');
  const msgId = ctx.newMsgId();
  const xml = buildM10(d, ctx.ncp, {
    msgId,
    now: ctx.now,
    remainingAfter,
    ...(isRetraction(d) ? { annullering: true } : {}),
    ...(isRetraction(d) && facts.original?.m10MsgId ? { annulleringsId: facts.original.m10MsgId } : {}),
    ...(ctx.reseptId ? { reseptId: ctx.reseptId } : {}),
    ...(ctx.patient ? { patient: ctx.patient } : {}),
  });
  return { kind: 'accepted', key, fingerprint, remainingAfter, m10: { msgId, xml }, warnings: checked.warnings };
}
