// The output-neutral values the mapping transforms produce. Both emitters (MPD FHIR and eHDSI CDA) render
// the same values, so a code is translated once, by the ConceptMap its table row names.
import type { Address, Coding, ContactPoint, Identifier } from '@medplum/fhirtypes';
import type { EuConcept } from '../../terminology/index.ts';

/** A value with, for repeating targets, the position it belongs to (the n-th dose, ingredient ...). */
export interface Placed<T> {
  value: T;
  index?: number;
}

/** A quantity whose unit went through a ConceptMap: UCUM, an EDQM unit of presentation, or neither. */
export interface EuQuantity {
  value: number;
  /** UCUM code when the unit maps to UCUM ("mg", "mL", "1"). */
  ucum?: string;
  /** EDQM unit of presentation when the unit is a countable item (Tablet, Vial ...). */
  presentation?: Coding;
  /** English unit name for display. */
  unitDisplay?: string;
  /** The unit as the Norwegian source wrote it, and its Norwegian coding when it has one. */
  original?: string;
  national?: Coding;
}

export interface EuRatio {
  numerator: EuQuantity;
  denominator?: EuQuantity;
}

export interface PersonName {
  family?: string;
  given: string[];
}

/** A day of the week: the FHIR days-of-week code and its name in English and bokmål. */
export interface Weekday {
  code: 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
  en: string;
  nb: string;
}

/** One dose of a structured dosage (M1 DoseFastTidspunkt or DoseEtterBehov), in EU terms. */
export interface DoseInfo {
  /** Position among all doses of the prescription. */
  index: number;
  /** Which Dosering (0, 1 ...) the dose belongs to: doses of one Dosering are taken side by side. */
  dosering: number;
  kind: 'fixed' | 'as-needed';
  quantity?: EuQuantity;
  /** Repeat interval (Intervall) as a UCUM time unit. */
  every?: { value: number; unit: 'min' | 'h' | 'd' | 'wk' | 'mo' | 'a' | 's' };
  /** Time of day (Tidsomrade, kodeverk 8325) as FHIR EventTiming. */
  when?: { code: string; display: string; source: Coding };
  /** Clock time (Klokkeslett) hh:mm:ss. */
  timeOfDay?: string;
  /** Fixed weekdays (FastDose/FasteUkedager, kodeverk 9082): the dose is taken on these days only. */
  daysOfWeek?: Weekday[];
  /** Treatment start and end of the Dosering the dose belongs to. */
  start?: string;
  end?: string;
  /** As needed: maximum per 24 hours. */
  maxPerDay?: EuQuantity;
  /** What the dose says beyond amount and timing (fixed weekdays, days on/off, infusion rate, least interval), as text. */
  notes?: { nb: string; en: string }[];
  /** True when a note changes the schedule (days on/off, a weekday code 9082 does not know): no timing structure may be given. */
  scheduleInNotes?: boolean;
}

export interface DispensingsRemaining {
  /** Reiterasjon + 1. */
  total: number;
  /** Total minus the dispensings so far, never negative. */
  remaining: number;
}

/** What each transform yields (one entry per value the source gave). */
export interface TransformOutput {
  copy: string | number | boolean;
  constant: string;
  text: string;
  narrative: true;
  date: string;
  datetime: string;
  identifier: Identifier;
  'prescription-id': Identifier;
  uuid: string;
  reference: true;
  'person-name': PersonName;
  gender: 'male' | 'female' | 'unknown';
  address: Address;
  telecom: ContactPoint;
  'code-map': EuConcept;
  coding: Coding;
  quantity: EuQuantity;
  'package-count': number;
  strength: EuRatio;
  dosage: DoseInfo;
  'as-needed': true;
  'dispensings-remaining': DispensingsRemaining;
  substitution: boolean;
  'substitution-occurred': boolean;
  'dispense-status': string;
  omit: never;
}

