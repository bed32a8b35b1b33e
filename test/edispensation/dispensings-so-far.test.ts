// The count of dispensings so far on a Norwegian prescription: Reseptformidleren's count plus Helsebro's own
// dispensings abroad whose M10 RF had not received when asked, a delivered M10 never counted twice. Checked
// against a model of the chain: Norway dispenses, Helsebro reports dispensings abroad and withdraws some, the
// outbox delivers M10s (and annulleringer) in order, and RF counts what it has received.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dispensingsSoFar, type OwnDispensing } from '../../src/edispensation/dispensings-so-far.ts';

/** Where one M10 (or annullering) is: not delivered, delivered before RF was asked, or while RF answered. */
type Delivery = 'pending' | 'before' | 'during';

interface OwnEvent {
  m10: Delivery;
  /** Withdrawn within 24 hours: where its annullering is. An annullering is delivered after its M10, never before. */
  annullering?: Delivery;
}

const delivery = fc.constantFrom<Delivery>('pending', 'before', 'during');
const ownEvent: fc.Arbitrary<OwnEvent> = fc
  .record({ m10: delivery, withdrawn: fc.boolean(), annullering: delivery })
  .map(({ m10, withdrawn, annullering }) => {
    if (!withdrawn) return { m10 };
    // The outbox sends an annullering only after its M10 (same order key): it cannot be further along.
    const order: Delivery[] = ['pending', 'during', 'before'];
    const a = order.indexOf(annullering) > order.indexOf(m10) ? m10 : annullering;
    return { m10, annullering: a };
  });

/** What RF's count includes: Norway's, plus M10s received minus annulleringer received, as of its answer. */
function rfAnswer(norway: number, own: readonly OwnEvent[], includeDuring: readonly boolean[]): number {
  let n = norway;
  own.forEach((e, i) => {
    const seen = (d: Delivery) => d === 'before' || (d === 'during' && includeDuring[i]!);
    if (seen(e.m10)) n++;
    if (e.annullering !== undefined && seen(e.annullering)) n--;
  });
  return n;
}

/** What the store says of each (own-dispensings.ts): delivered before asked, and whether the annullering has arrived. */
const asStored = (e: OwnEvent): OwnDispensing =>
  e.annullering === undefined
    ? { deliveredBeforeAsked: e.m10 === 'before' }
    : { deliveredBeforeAsked: e.m10 === 'before', withdrawn: { annulleringDelivered: e.annullering !== 'pending' } };

const standing = (own: readonly OwnEvent[]): number => own.filter((e) => e.annullering === undefined).length;

describe('dispensings so far (RF count + undelivered own)', () => {
  it('is exactly Norway\'s dispensings plus the standing ones abroad when nothing was delivered while RF answered', () => {
    fc.assert(
      fc.property(fc.nat({ max: 30 }), fc.array(ownEvent.filter((e) => e.m10 !== 'during' && e.annullering !== 'during'), { maxLength: 12 }), (norway, own) => {
        const rf = rfAnswer(norway, own, own.map(() => false));
        expect(dispensingsSoFar(rf, own.map(asStored))).toBe(norway + standing(own));
      }),
    );
  });

  it('never counts a delivered M10 twice: all delivered before asking, RF\'s count is the count', () => {
    fc.assert(
      fc.property(fc.nat({ max: 30 }), fc.nat({ max: 12 }), (norway, abroad) => {
        const own = Array.from({ length: abroad }, (): OwnDispensing => ({ deliveredBeforeAsked: true }));
        expect(dispensingsSoFar(norway + abroad, own)).toBe(norway + abroad);
      }),
    );
  });

  it('adds each undelivered one exactly once', () => {
    fc.assert(
      fc.property(fc.nat({ max: 30 }), fc.nat({ max: 12 }), fc.nat({ max: 12 }), (rf, delivered, pending) => {
        const own: OwnDispensing[] = [
          ...Array.from({ length: delivered }, () => ({ deliveredBeforeAsked: true })),
          ...Array.from({ length: pending }, () => ({ deliveredBeforeAsked: false })),
        ];
        expect(dispensingsSoFar(rf + delivered, own)).toBe(rf + delivered + pending);
      }),
    );
  });

  it('never states fewer dispensings than were made, whatever RF had received while it answered (one too many at worst per delivery in flight)', () => {
    fc.assert(
      fc.property(fc.nat({ max: 30 }), fc.array(ownEvent, { maxLength: 12 }).chain((own) => fc.tuple(fc.constant(own), fc.array(fc.boolean(), { minLength: own.length, maxLength: own.length }))), (norway, [own, includeDuring]) => {
        const truth = norway + standing(own);
        const inFlight = own.filter((e) => e.m10 === 'during' || e.annullering === 'during').length;
        const got = dispensingsSoFar(rfAnswer(norway, own, includeDuring), own.map(asStored));
        expect(got).toBeGreaterThanOrEqual(truth);
        expect(got).toBeLessThanOrEqual(truth + inFlight);
      }),
    );
  });

  it('never falls below the standing dispensations Helsebro recorded, nor below zero', () => {
    fc.assert(
      fc.property(fc.nat({ max: 30 }), fc.array(ownEvent, { maxLength: 12 }), fc.nat({ max: 20 }), (rf, own, recorded) => {
        const got = dispensingsSoFar(rf, own.map(asStored), recorded);
        expect(got).toBeGreaterThanOrEqual(0);
        expect(got).toBeGreaterThanOrEqual(recorded);
        expect(got).toBeGreaterThanOrEqual(standing(own));
      }),
    );
  });

  it('takes a withdrawn dispensing back out only while RF still counts it', () => {
    // Delivered, then withdrawn; the annullering not yet at RF: RF still counts it, Helsebro does not.
    expect(dispensingsSoFar(12, [{ deliveredBeforeAsked: true, withdrawn: { annulleringDelivered: false } }])).toBe(11);
    // The annullering has arrived: RF no longer counts it.
    expect(dispensingsSoFar(11, [{ deliveredBeforeAsked: true, withdrawn: { annulleringDelivered: true } }])).toBe(11);
    // Neither went out: RF never counted it.
    expect(dispensingsSoFar(11, [{ deliveredBeforeAsked: false, withdrawn: { annulleringDelivered: false } }])).toBe(11);
  });

  it('refuses a count that is not a non-negative integer', () => {
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => dispensingsSoFar(bad, [])).toThrow(RangeError);
  });
});
