// The dosage of an eHDSI ePrescription item in CDA structure, only where that structure says the whole
// dosage: one substanceAdministration has one doseQuantity, one treatment period and timings PIVL_TS can
// state (an interval, a clock time). A dosage it cannot state (other amounts at other times, a time of day,
// several periods, fixed and as-needed doses together) is given as text only, never as a structure that says
// something else. As needed is said the IHE PCC way: a precondition (PRCN) and maxDoseQuantity per day. Pure.
//
// A time of day (kodeverk 8325: morgen, formiddag, midt på dagen, ettermiddag, kveld, natt) has no EIVL_TS
// event that means it. CDA_Pharma.xsd fixes EIVL_TS/event to HL7 v3 TimingEvent (2.16.840.1.113883.5.139),
// whose codes are meals (CM "at breakfast", AC/PC "before/after a meal") and HS "the hour of sleep": coding
// morning as breakfast adds a meal instruction the prescriber never gave, which matters for drugs taken
// fasting or with food. FHIR EventTiming's MORN, NOON, EVE and NIGHT (what the MPD Dosage says) are not
// allowed there. So a dose at a time of day is text in the CDA, as the narrative and PINSTRUCT say it.
import type { DoseInfo, EuQuantity } from './map/values.ts';
import { el, type XmlNode } from './xml-write.ts';
import { periodKey } from './dosage-text.ts';

const PIVL_UNIT: Record<NonNullable<DoseInfo['every']>['unit'], string> = { s: 's', min: 'min', h: 'h', d: 'd', wk: 'wk', mo: 'mo', a: 'a' };

export interface CdaDosage {
  /** The second effectiveTime (frequency), or nullFlavor UNK when the structure cannot say it. */
  frequency: XmlNode;
  doseQuantity?: EuQuantity;
  maxPerDay?: EuQuantity;
  asNeeded: boolean;
  /** False: the CDA states the dosage only as text (narrative and PINSTRUCT). */
  structured: boolean;
}

const sameQuantity = (a: EuQuantity | undefined, b: EuQuantity | undefined): boolean =>
  a?.value === b?.value && a?.ucum === b?.ucum && a?.presentation?.code === b?.presentation?.code && a?.original === b?.original;

/** One dose's schedule as an SXCM_TS, or undefined when CDA has no way to say it. */
function schedule(name: string, d: DoseInfo, attrs: Record<string, string>): XmlNode | undefined | 'none' {
  // No TimingEvent means a time of day (header): text only.
  if (d.when) return undefined;
  // "Every day at 08:00" is what a clock time alone says.
  const daily = d.every?.value === 1 && d.every.unit === 'd' && d.timeOfDay;
  const every = daily ? undefined : d.every;
  const ways = [every, d.timeOfDay].filter(Boolean).length;
  if (ways === 0) return 'none';
  // Two ways at once ("every second day, at 08:00") is more than one TS component can carry.
  if (ways > 1) return undefined;
  if (every) return el(name, { ...attrs, 'xsi:type': 'PIVL_TS', institutionSpecified: 'false' }, el('period', { value: every.value, unit: PIVL_UNIT[every.unit] }));
  const [h, m, s] = d.timeOfDay!.split(':');
  return el(
    name,
    { ...attrs, 'xsi:type': 'PIVL_TS', institutionSpecified: 'false' },
    el('phase', {}, el('low', { value: `19700101${h}${m}${s ?? '00'}` })),
    el('period', { value: 1, unit: 'd' }),
  );
}

const textOnly = (asNeeded: boolean, maxPerDay?: EuQuantity): CdaDosage => ({
  frequency: el('effectiveTime', { nullFlavor: 'UNK' }),
  asNeeded,
  structured: false,
  ...(maxPerDay ? { maxPerDay } : {}),
});

export function cdaDosage(doses: readonly DoseInfo[]): CdaDosage {
  const [first] = doses;
  if (!first) return { frequency: el('effectiveTime', { nullFlavor: 'UNK' }), asNeeded: false, structured: false };
  const asNeeded = doses.every((d) => d.kind === 'as-needed');
  const maxima = doses.map((d) => d.maxPerDay).filter((q): q is EuQuantity => !!q);
  const maxPerDay = maxima.length && maxima.every((q) => sameQuantity(q, maxima[0])) ? maxima[0] : undefined;
  const mixed = !asNeeded && doses.some((d) => d.kind === 'as-needed');
  // Doses of several periods (tapering, or an undated Dosering beside dated ones) are text; undated Dosering
  // elements are one period, taken side by side.
  const periods = new Set(doses.map(periodKey));
  const oneAmount = doses.every((d) => sameQuantity(d.quantity, first.quantity));
  // Fixed weekdays are text: a PIVL_TS per weekday would need a phase anchored on a date of that weekday, and
  // one without it says "every week" on no particular day.
  if (mixed || periods.size > 1 || !oneAmount || doses.some((d) => d.scheduleInNotes || d.daysOfWeek?.length)) return textOnly(asNeeded && !mixed, asNeeded && !mixed ? maxPerDay : undefined);
  const parts = doses.map((d, i) => schedule(doses.length > 1 ? 'comp' : 'effectiveTime', d, doses.length > 1 ? (i === 0 ? {} : { operator: 'I' }) : { operator: 'A' }));
  if (parts.some((p) => p === undefined)) return textOnly(asNeeded, maxPerDay);
  const timed = parts.filter((p): p is XmlNode => p !== 'none' && p !== undefined);
  // Several doses of which some have no time: the amount per day is not stated by the structure.
  if (timed.length && timed.length !== parts.length) return textOnly(asNeeded, maxPerDay);
  let frequency: XmlNode;
  if (!timed.length) {
    // One amount with no schedule (as needed, or "1 tablett" alone): no second effectiveTime can say more.
    if (doses.length > 1) return textOnly(asNeeded, maxPerDay);
    frequency = el('effectiveTime', { nullFlavor: 'UNK' });
  } else if (timed.length === 1) {
    frequency = timed[0]!;
  } else {
    frequency = el('effectiveTime', { 'xsi:type': 'SXPR_TS', operator: 'A' }, timed);
  }
  return { frequency, asNeeded, structured: true, ...(first.quantity ? { doseQuantity: first.quantity } : {}), ...(maxPerDay ? { maxPerDay } : {}) };
}
