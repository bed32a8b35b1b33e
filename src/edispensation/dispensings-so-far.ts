// How many dispensings a Norwegian prescription has had, in Norway and abroad: Reseptformidleren's count,
// which includes every M10 it has received (Helsebro's too), plus Helsebro's own dispensings abroad whose
// M10 RF had not received when it was asked. Pure; the store says which M10s were delivered and when
// (store/own-dispensings.ts), the caller asks RF.
//
// When a delivery happens while RF is being asked, Helsebro cannot know whether RF's answer includes it.
// Every such case is resolved towards counting one dispensing too many, never one too few: a pharmacist
// abroad who is told one dispensing fewer remains can ask again; one told a dispensing remains that does
// not can dispense it twice.

/** One of Helsebro's own dispensations of the prescription (reported by the NCP), as far as RF may know it. */
export interface OwnDispensing {
  /** Its M10 was delivered to RF before RF was asked, so RF's count includes it. */
  deliveredBeforeAsked: boolean;
  /** Withdrawn within 24 hours: whether its Annullering M10 has been delivered to RF (at any time). */
  withdrawn?: { annulleringDelivered: boolean };
}

/**
 * The dispensings so far, never negative and never fewer than Helsebro's own standing dispensations: those
 * in `own`, and `recorded`, the prescription's own counter of them (prescription.dispensings_done).
 */
export function dispensingsSoFar(rfCount: number, own: readonly OwnDispensing[], recorded = 0): number {
  if (!Number.isInteger(rfCount) || rfCount < 0) throw new RangeError(`RF's count must be a non-negative integer, not ${rfCount}`);
  let count = rfCount;
  let standing = 0;
  for (const d of own) {
    if (!d.withdrawn) {
      standing++;
      // RF has not heard of it yet: add it.
      if (!d.deliveredBeforeAsked) count++;
    } else if (d.deliveredBeforeAsked && !d.withdrawn.annulleringDelivered) {
      // RF counted it, and has not yet heard that it was withdrawn: take it back out. An annullering delivered
      // while RF was asked may or may not be in its answer; then nothing is taken out (one too many at worst).
      count--;
    }
  }
  // A delivered M10 is not proof that RF counted it (a gateway's 2xx is not RF's ledger), but the dispensing
  // abroad happened: the count never falls below Helsebro's own standing dispensations.
  return Math.max(count, standing, recorded, 0);
}
