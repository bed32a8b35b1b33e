// Business checks of an incoming dispensation against the stored prescription (and, for a discard,
// against the dispensation it withdraws). Pure: the caller reads the facts from the store inside its
// transaction and passes them in. Every refusal is a 422 whose issue carries a stable code in
// details.coding (system DISPENSE_CHECK_SYSTEM), so the NCP and pharmacy systems can act on it.
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { fail, issue, ok, warning, type Problem, type Result } from '../fhir/outcomes.ts';
import { checkCoding, DISPENSE_CHECK, type DispenseCheckCode } from './codes.ts';
import { isRetraction, type Dispensation, type IdentifierValue, type Quantity } from './model.ts';
import { instantOf, norwegianDate, stripDateZone } from './values.ts';

export { dispensationFingerprint, idempotencyKey, classifyRepeat } from './identity.ts';

/** What the store knows about the referenced prescription. */
export interface PrescriptionFacts {
  exists: boolean;
  /** Norway as country A: the prescription passed the export rules and was made available to the NCP. */
  exportable: boolean;
  /** The prescription came from abroad (Norway as country B). */
  isEuPrescription: boolean;
  /** `active` is the only dispensable state; anything else (completed, cancelled, recalled, expired) is not. */
  status: string;
  /** ISO date: the prescription may not be dispensed after this day (Utloper / validityPeriod.end). */
  validUntil?: string;
  /** ISO date: not to be dispensed before (TidligsteUtlevering / validityPeriod.start). */
  earliestDispense?: string;
  /** ISO date or dateTime the prescription was issued. */
  issuedOn?: string;
  /** Dispensings still allowed before this one (Reiterasjon + 1 minus dispensings so far). */
  remainingDispensings: number;
  /**
   * For a Norwegian prescription counted with the prescription chain's dispensings: what Helsebro's own count
   * (the dispensings reported to it) leaves. Set only when the chain's count was used.
   */
  remainingByOwnCount?: number;
  /** Quantity still dispensable in total (number of packs unless the unit says otherwise), when tracked. */
  remainingQuantity?: Quantity;
  /** Identifiers of the prescription's patient, for the cross-check with the dispensation's subject. */
  patientIdentifiers?: IdentifierValue[];
  /** Name and birth date of the prescription's patient (EU prescriptions), compared when no identifier system is shared. */
  patientName?: { family?: string; given: string[] };
  patientBirthDate?: string;
}

/** What the store knows about the dispensation a discard withdraws. */
export interface OriginalDispensationFacts {
  exists: boolean;
  /** The withdrawal names no dispensation and the prescription has more than one it could mean. */
  ambiguous?: boolean;
  /** When Helsebro stored it (and so when its M10 left); the 24-hour discard window runs from here. */
  recordedAt: string;
  discarded: boolean;
  /** The prescription it fulfilled, to refuse a discard that names another one. */
  prescriptionKey?: string;
}

/**
 * `ncp`: a foreign pharmacy dispensed a Norwegian prescription (Norway as country A).
 * `pharmacy`: a Norwegian pharmacy dispensed an EU prescription (Norway as country B).
 */
export type DispenseChannel = 'ncp' | 'pharmacy';

export interface CheckInput {
  dispensation: Dispensation;
  channel: DispenseChannel;
  prescription: PrescriptionFacts;
  /** Required for a discard (status discarded / entered-in-error). */
  original?: OriginalDispensationFacts;
  now: Date;
  /** Norway as country B: the Norwegian dispensing rules' verdict on the product and quantity (eu/dispense-rules.ts). */
  eu?: EuDispenseFacts;
}

/** What eu/dispense-rules.ts found, before the transaction, about a dispensing of an EU prescription. */
export interface EuDispenseFacts {
  /** Refusals: another substance, strength or form, a substitution the prescription forbids, reseptgruppe A/B, units that cannot be compared. */
  issues: OperationOutcomeIssue[];
  warnings: OperationOutcomeIssue[];
  /** The dispensed amount in the prescription's counting unit (packs of the prescribed content, or stk/ml/g/dose). */
  counted?: Quantity;
}

export interface CheckPassed {
  /** Dispensings left after this one (0 = the prescription is finished): `remainingAfter` of buildM10. */
  remainingAfter: number;
  /** Quantity left after this one, when the prescription tracks quantity. */
  remainingQuantityAfter?: Quantity;
}

export const DISCARD_WINDOW_MS = 24 * 60 * 60 * 1000;
/** Clocks of foreign pharmacy systems drift; a dispensing a few minutes "in the future" is not an error. */
const CLOCK_SKEW_MS = 10 * 60 * 1000;

const refusal = (code: DispenseCheckCode, diagnostics: string, expression: string): OperationOutcomeIssue =>
  issue('business-rule', diagnostics, { expression: [expression], details: [checkCoding(code)] });

/** Stable prescription key for comparing a discard with its original. */
export function prescriptionKey(d: Pick<Dispensation, 'prescription'>): string {
  const p = d.prescription;
  return p.identifier ? `${p.identifier.system ?? ''}|${p.identifier.value}` : `ref|${p.reference ?? ''}`;
}

/**
 * Whether the caller reports in the prescription's flow: the NCP for Norwegian prescriptions dispensed
 * abroad, a Norwegian pharmacy for EU prescriptions. Asked before anything stored is looked at, so a caller
 * in the wrong flow learns nothing of what the other flow holds (not even by resending its messages).
 */
export function checkDirection(channel: DispenseChannel, p: PrescriptionFacts): Problem | undefined {
  const where = 'MedicationDispense.authorizingPrescription';
  if (!p.exists) return undefined;
  if (channel === 'ncp' && p.isEuPrescription) {
    return { status: 422, issues: [refusal('DISP-WRONG-DIRECTION', 'The prescription is a foreign (EU) prescription; its dispensing is reported by the Norwegian pharmacy, not through the NCP', where)] };
  }
  if (channel === 'pharmacy' && !p.isEuPrescription) {
    return { status: 422, issues: [refusal('DISP-WRONG-DIRECTION', 'The prescription is Norwegian; report its dispensing to Reseptformidleren directly, not to Helsebro', where)] };
  }
  return undefined;
}

export function checkDispensation(input: CheckInput): Result<CheckPassed> {
  const { dispensation: d, prescription: p, channel, now } = input;
  const where = 'MedicationDispense.authorizingPrescription';

  if (!p.exists) {
    return fail({ status: 422, issues: [refusal('DISP-PRESCRIPTION-UNKNOWN', DISPENSE_CHECK['DISP-PRESCRIPTION-UNKNOWN'], where)] });
  }
  const wrongWay = checkDirection(channel, p);
  if (wrongWay) return fail(wrongWay);

  return isRetraction(d) ? checkDiscard(input) : checkDispense(d, p, channel, now, input.eu);
}

function checkDispense(d: Dispensation, p: PrescriptionFacts, channel: DispenseChannel, now: Date, eu?: EuDispenseFacts): Result<CheckPassed> {
  const issues: OperationOutcomeIssue[] = [...(eu?.issues ?? [])];
  const warnings: OperationOutcomeIssue[] = [...(eu?.warnings ?? [])];
  // An EU prescription's quantity is counted in its own unit: the caller converted what was dispensed.
  const dispensed = eu?.counted ?? d.quantity;
  const where = 'MedicationDispense.authorizingPrescription';

  if (channel === 'ncp' && !p.exportable) issues.push(refusal('DISP-NOT-EXPORTABLE', DISPENSE_CHECK['DISP-NOT-EXPORTABLE'], where));

  const handedOver = instantOf(d.whenHandedOver);
  const day = norwegianDate(d.whenHandedOver);
  if (handedOver > now.getTime() + CLOCK_SKEW_MS) {
    issues.push(refusal('DISP-DATE-INVALID', `The dispensing time ${d.whenHandedOver} is in the future`, 'MedicationDispense.whenHandedOver'));
  } else if (p.issuedOn && day < stripDateZone(p.issuedOn).slice(0, 10)) {
    issues.push(refusal('DISP-DATE-INVALID', `The dispensing day ${day} is before the prescription was issued (${p.issuedOn.slice(0, 10)})`, 'MedicationDispense.whenHandedOver'));
  }

  if (p.status !== 'active') {
    issues.push(refusal('DISP-NOT-DISPENSABLE', `The prescription is ${p.status}, not active`, where));
  } else if (p.remainingDispensings === 0 && channel === 'ncp' && (p.remainingByOwnCount ?? 0) > 0) {
    // The last dispensing was made in Norway while this one was made abroad (a race Helsebro cannot prevent:
    // it served the prescription with one left). The medicine has been handed over; refusing the report would
    // keep it from the prescription chain for good, so it is taken, and the chain learns of both. One only:
    // a second would mean the prescription was dispensed abroad again after Helsebro stopped serving it.
    warnings.push(
      warning('business-rule', 'The prescription chain counts no dispensings left (the last was made in Norway meanwhile); this dispensing abroad is reported to it all the same', {
        expression: [where],
      }),
    );
  } else if (p.remainingDispensings <= 0) {
    issues.push(refusal('DISP-NOT-DISPENSABLE', 'The prescription has no dispensings left', where));
  } else if (p.validUntil && day > stripDateZone(p.validUntil)) {
    issues.push(refusal('DISP-NOT-DISPENSABLE', `The prescription expired on ${stripDateZone(p.validUntil)}`, where));
  } else if (p.earliestDispense && day < stripDateZone(p.earliestDispense)) {
    issues.push(refusal('DISP-NOT-DISPENSABLE', `The prescription may not be dispensed before ${stripDateZone(p.earliestDispense)}`, where));
  }

  let remainingQuantityAfter: Quantity | undefined;
  if (!(dispensed.value > 0)) {
    issues.push(refusal('DISP-QUANTITY-INVALID', DISPENSE_CHECK['DISP-QUANTITY-INVALID'], 'MedicationDispense.quantity'));
  } else if (p.remainingQuantity && !(eu && !eu.counted && eu.issues.length)) {
    // (An EU dispensing the rules already refused, for its product or its units, is not counted again here.)
    if (!sameUnit(dispensed, p.remainingQuantity)) {
      issues.push(refusal('DISP-QUANTITY-UNIT', `The dispensed quantity is in '${dispensed.unit || dispensed.code}', the prescription counts in '${p.remainingQuantity.unit}'`, 'MedicationDispense.quantity'));
    } else if (dispensed.value > p.remainingQuantity.value + 1e-9) {
      issues.push(refusal('DISP-QUANTITY-EXCEEDED', `${dispensed.value} ${dispensed.unit} dispensed, but only ${p.remainingQuantity.value} ${p.remainingQuantity.unit} remain on the prescription`, 'MedicationDispense.quantity'));
    } else {
      remainingQuantityAfter = { ...p.remainingQuantity, value: round(p.remainingQuantity.value - dispensed.value) };
    }
  }

  const mismatch = patientMismatch(d, p, warnings);
  if (mismatch) issues.push(mismatch);

  if (issues.length) return fail({ status: 422, issues });
  // The pharmacist closing the prescription (M10 Avsluttet 1) finishes it whatever remains.
  const finished = d.prescriptionFinished === true || p.remainingDispensings - 1 <= 0 || (remainingQuantityAfter !== undefined && remainingQuantityAfter.value <= 0);
  const passed: CheckPassed = { remainingAfter: finished ? 0 : p.remainingDispensings - 1 };
  if (remainingQuantityAfter) passed.remainingQuantityAfter = remainingQuantityAfter;
  return ok(passed, warnings);
}

function checkDiscard(input: CheckInput): Result<CheckPassed> {
  const { dispensation: d, original, prescription: p, now } = input;
  const where = 'MedicationDispense.identifier';
  if (original?.ambiguous) {
    return fail({
      status: 422,
      issues: [refusal('DISP-DISCARD-AMBIGUOUS', 'The withdrawal names no dispensation (an M10 without AnnulleringsId) and the prescription has more than one that is not withdrawn: name the one to withdraw', where)],
    });
  }
  if (!original?.exists) {
    return fail({ status: 422, issues: [refusal('DISP-DISCARD-UNKNOWN', DISPENSE_CHECK['DISP-DISCARD-UNKNOWN'], where)] });
  }
  const issues: OperationOutcomeIssue[] = [];
  if (original.discarded) issues.push(refusal('DISP-ALREADY-DISCARDED', DISPENSE_CHECK['DISP-ALREADY-DISCARDED'], where));
  const age = now.getTime() - Date.parse(original.recordedAt);
  if (!(age <= DISCARD_WINDOW_MS)) {
    issues.push(refusal('DISP-DISCARD-TOO-LATE', `The dispensation was recorded at ${original.recordedAt}, more than 24 hours ago; it can no longer be discarded`, where));
  }
  if (original.prescriptionKey && original.prescriptionKey !== prescriptionKey(d)) {
    issues.push(refusal('DISP-DISCARD-MISMATCH', DISPENSE_CHECK['DISP-DISCARD-MISMATCH'], 'MedicationDispense.authorizingPrescription'));
  }
  if (issues.length) return fail({ status: 422, issues });
  // The withdrawn dispensing is given back, so the prescription is open again.
  const passed: CheckPassed = { remainingAfter: Math.max(0, p.remainingDispensings) + 1 };
  if (p.remainingQuantity) passed.remainingQuantityAfter = { ...p.remainingQuantity, value: round(p.remainingQuantity.value + d.quantity.value) };
  return ok(passed);
}

// ---- helpers ----

/** Units that all mean "number of packs" across the formats Helsebro receives. */
const PACK_UNITS = new Set(['', '1', '{pack}', '{package}', '{packages}', 'pack', 'package', 'packages', 'pk', 'pkn', 'pakning', 'pakninger', 'box', '{box}']);

function sameUnit(a: Quantity, b: Quantity): boolean {
  const norm = (q: Quantity) => (q.code ?? q.unit).trim().toLowerCase();
  const ua = norm(a);
  const ub = norm(b);
  if (PACK_UNITS.has(ua) && PACK_UNITS.has(ub)) return true;
  return ua === ub;
}

const round = (n: number): number => Math.round(n * 1e6) / 1e6;

/**
 * The dispensation's patient against the prescription's: by identifier where both use a system; otherwise
 * (an EU patient has no Norwegian number, a Norwegian pharmacy's M10 names none of the EU ones) by family name,
 * given names and birth date, normalised. A clear mismatch is refused; what cannot be compared is a warning.
 */
function patientMismatch(d: Dispensation, p: PrescriptionFacts, warnings: OperationOutcomeIssue[]): OperationOutcomeIssue | undefined {
  const where = d.source === 'm10' ? 'MsgHead.MsgInfo.Patient' : 'MedicationDispense.subject';
  const theirs = d.patient?.identifiers.filter((i) => i.system) ?? [];
  const ours = p.patientIdentifiers ?? [];
  const shared = theirs.filter((t) => ours.some((o) => o.system === t.system));
  if (!shared.length) {
    const compared = comparePatients(d.patient, p);
    if (compared === 'mismatch') {
      return refusal('DISP-PATIENT-MISMATCH', 'The patient named in the dispensation is not the patient of the prescription (family name, given names or birth date differ)', where);
    }
    if (compared === 'not-compared' && (ours.length || p.patientName)) {
      warnings.push(warning('incomplete', 'The patient of the dispensation could not be cross-checked with the prescription: no identifier in a shared system, and no name or birth date to compare', { expression: [where] }));
    }
    return undefined;
  }
  const match = shared.some((t) => ours.some((o) => o.system === t.system && o.value.trim() === t.value.trim()));
  return match ? undefined : refusal('DISP-PATIENT-MISMATCH', DISPENSE_CHECK['DISP-PATIENT-MISMATCH'], where);
}

/** Letters a Nordic or Central European name may be spelt with or without (Ø/O, Æ/AE, ß/ss ...). */
const FOLD: Record<string, string> = { ø: 'o', æ: 'ae', œ: 'oe', ß: 'ss', đ: 'd', ð: 'd', ł: 'l', þ: 'th', ı: 'i' };

/** Name parts as comparable tokens: case, diacritics and punctuation gone; empty when not in Latin letters. */
function nameTokens(parts: readonly (string | undefined)[]): Set<string> {
  const text = parts
    .filter(Boolean)
    .join(' ')
    .toLowerCase()
    .replace(/[øæœßđðłþı]/g, (c) => FOLD[c] ?? c)
    .normalize('NFD')
    .replace(/\p{M}+/gu, '');
  const tokens = text.split(/[^a-z]+/).filter((t) => t.length > 0);
  // Names in another script (Greek, Cyrillic) cannot be held against a Latin spelling: not comparable.
  return /[^\x00-\x7f]/.test(text.replace(/[^\p{L}]/gu, '')) ? new Set() : new Set(tokens);
}

/** A shared word; an initial ("R") stands for any word it begins. */
const overlaps = (a: Set<string>, b: Set<string>): boolean =>
  [...a].some((t) => [...b].some((u) => t === u || (t.length === 1 && u.startsWith(t)) || (u.length === 1 && t.startsWith(u))));

/**
 * `match`: every part both sides state agrees (family names share a word, given names share a word in any
 * order, the same birth date). `mismatch`: a part both state disagrees. `not-compared`: nothing to compare.
 */
export function comparePatients(theirs: Dispensation['patient'], p: Pick<PrescriptionFacts, 'patientName' | 'patientBirthDate'>): 'match' | 'mismatch' | 'not-compared' {
  if (!theirs) return 'not-compared';
  let compared = false;
  const family = [nameTokens([theirs.family]), nameTokens([p.patientName?.family])] as const;
  if (family[0].size && family[1].size) {
    if (!overlaps(family[0], family[1])) return 'mismatch';
    compared = true;
  }
  const given = [nameTokens(theirs.given), nameTokens(p.patientName?.given ?? [])] as const;
  if (given[0].size && given[1].size) {
    if (!overlaps(given[0], given[1])) return 'mismatch';
    compared = true;
  }
  if (theirs.birthDate && p.patientBirthDate) {
    if (theirs.birthDate.slice(0, 10) !== p.patientBirthDate.slice(0, 10)) return 'mismatch';
    compared = true;
  }
  return compared ? 'match' : 'not-compared';
}
