// The transforms of the mapping tables (TRANSFORMS in ../mapping-table.ts), each a pure function from the
// values a row's source gave to output-neutral values (values.ts). Codes go through the ConceptMap the row
// names; an unmapped code keeps its Norwegian coding and text and becomes a warning, never a drop.
import type { Address, Coding, ContactPoint, Identifier, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { CODE_SYSTEM, FEST_ID_SYSTEM, KITH_ID_TYPE, PRESCRIPTION_ID_SYSTEM, VARENUMMER_SYSTEM } from '../../fhir/identifiers.ts';
import {
  canonicalSystem,
  display,
  lookup,
  selectConceptMaps,
  toEuConcept,
  type EuConcept,
  type Terminology,
} from '../../terminology/index.ts';
import { findCodeSystem } from '../../terminology/load.ts';
import type { XmlElement } from '../../xml/element.ts';
import type { MappingRow, TransformName } from '../../mappings/table.ts';
import { resolveDataPath, resolveMessagePath, type SourceData, type SourceValue } from './source.ts';
import type { DoseInfo, EuQuantity, EuRatio, PersonName, Placed, TransformOutput, Weekday } from './values.ts';

const UCUM = 'http://unitsofmeasure.org';
const EDQM = 'http://standardterms.edqm.eu';

export interface TransformEnv {
  data: SourceData;
  terminology: Terminology;
  warn(issue: OperationOutcomeIssue): void;
  /** Every dose element of the prescription in document order (doses are placed by this index). */
  doses(): readonly XmlElement[];
}

type Transform<K extends TransformName> = (row: MappingRow, values: readonly SourceValue[], env: TransformEnv) => Placed<TransformOutput[K]>[];

// --- small readers over source values --------------------------------------------------------------

const child = (el: XmlElement, name: string): XmlElement | undefined => el.children.find((c) => c.name === name);
const childText = (el: XmlElement, name: string): string | undefined => child(el, name)?.text || undefined;

function textOf(v: SourceValue): string | undefined {
  switch (v.kind) {
    case 'element':
      return v.el.text || v.el.attr('V') || undefined;
    case 'attribute':
    case 'constant':
      return v.value;
    case 'data':
      return typeof v.value === 'string' || typeof v.value === 'number' || typeof v.value === 'boolean' ? String(v.value) : undefined;
  }
}

const place = <T>(value: T, index: number | undefined): Placed<T> => (index === undefined ? { value } : { value, index });
const indexOf = (v: SourceValue): number | undefined => (v.kind === 'data' ? v.index : undefined);
const whereOf = (row: MappingRow, v: SourceValue | undefined): string =>
  v && (v.kind === 'element' || v.kind === 'attribute') ? v.el.path : row.source;

/** A coded value as its source gives it: a KITH CV/CS element, a FEST CodedValue, or an HPR code. */
interface SourceCode {
  system?: string;
  code: string;
  display?: string;
  originalText?: string;
}

function codeOf(v: SourceValue): SourceCode | undefined {
  if (v.kind === 'element') {
    const code = v.el.attr('V')?.trim();
    if (!code) return undefined;
    const oid = v.el.attr('S')?.trim();
    const out: SourceCode = { code };
    if (oid) out.system = `urn:oid:${oid}`;
    const dn = v.el.attr('DN');
    if (dn) out.display = dn;
    const ot = v.el.attr('OT');
    if (ot) out.originalText = ot;
    return out;
  }
  if (v.kind === 'data' && v.value && typeof v.value === 'object' && typeof (v.value as SourceCode).code === 'string') {
    const c = v.value as SourceCode;
    const out: SourceCode = { code: c.code };
    if (c.system) out.system = /^\d+(\.\d+)+$/.test(c.system) ? `urn:oid:${c.system}` : c.system;
    if (c.display) out.display = c.display;
    if (c.originalText) out.originalText = c.originalText;
    return out;
  }
  const text = textOf(v);
  return text ? { code: text } : undefined;
}

/** The Norwegian source system a ConceptMap translates from (its first group's source). */
function mapSourceSystem(url: string, t: Terminology): string | undefined {
  return selectConceptMaps(url, t)[0]?.group?.[0]?.source;
}

function toConcept(row: MappingRow, code: SourceCode, env: TransformEnv, where: string, map = row.codeMap): EuConcept | undefined {
  if (!map) return undefined;
  const system = code.system ?? mapSourceSystem(map, env.terminology);
  if (!system) return undefined;
  const concept = toEuConcept(map, { system, code: code.code, display: code.display, originalText: code.originalText }, { expression: where }, env.terminology);
  if (concept.warning) env.warn(concept.warning);
  return concept;
}

// --- units ------------------------------------------------------------------------------------------

/**
 * A unit written as text (PQ @U: "tablett", "ml", "mg") to its code in the Norwegian code system the map
 * translates from: the code itself, else the code whose display is that text.
 */
export function unitCode(system: string, unit: string, t: Terminology): string | undefined {
  const cs = findCodeSystem(system, t);
  if (!cs) return undefined;
  const wanted = unit.trim();
  if (cs.concepts.has(wanted)) return wanted;
  const lower = wanted.toLowerCase();
  for (const [code, { concept }] of cs.concepts) if (code.toLowerCase() === lower) return code;
  for (const [code, { concept }] of cs.concepts) if (concept.display?.toLowerCase() === lower) return code;
  return undefined;
}

/** A value with a Norwegian unit (text or code) as an EU quantity, its unit through `map`. */
export function euQuantity(
  value: number,
  unit: SourceCode | undefined,
  map: string,
  env: Pick<TransformEnv, 'terminology' | 'warn'>,
  where: string,
): EuQuantity {
  if (!unit) return { value, ucum: '1' };
  const system = unit.system ?? mapSourceSystem(map, env.terminology);
  const code = system ? (unitCode(system, unit.code, env.terminology) ?? unit.code) : unit.code;
  const original = unit.originalText ?? unit.code;
  if (!system) return { value, original };
  const concept = toEuConcept(map, { system, code, display: unit.display }, { expression: where }, env.terminology);
  if (concept.warning) env.warn(concept.warning);
  const national: Coding = { system: canonicalSystem(system, env.terminology), code };
  const nationalDisplay = unit.display ?? lookup(system, code, undefined, env.terminology)?.display;
  if (nationalDisplay) national.display = nationalDisplay;
  const out: EuQuantity = { value, original, national };
  const eu = concept.eu;
  if (eu?.system === UCUM) {
    out.ucum = eu.code!;
    if (eu.display) out.unitDisplay = eu.display;
  } else if (eu?.system === EDQM) {
    out.presentation = eu;
    if (eu.display) out.unitDisplay = eu.display;
  }
  return out;
}

function number(row: MappingRow, v: SourceValue, env: TransformEnv): number | undefined {
  const raw = v.kind === 'element' ? (v.el.attr('V') ?? v.el.text) : v.kind === 'data' ? v.value : textOf(v);
  const n = typeof raw === 'number' ? raw : Number(String(raw ?? '').trim());
  if (raw === undefined || raw === '' || !Number.isFinite(n)) {
    env.warn({ severity: 'warning', code: 'value', diagnostics: `'${String(raw ?? '')}' is not a number`, expression: [whereOf(row, v)] });
    return undefined;
  }
  return n;
}

// --- persons, addresses, telecom ----------------------------------------------------------------------

/** KITH 8116/9051 id types with no national FHIR system yet beyond KITH_ID_TYPE. */
const MORE_ID_TYPES: Record<string, string> = {
  RSH: 'urn:oid:2.16.578.1.12.4.1.4.102',
  FHN: 'urn:oid:2.16.578.1.12.4.1.4.3',
  DUF: 'urn:oid:2.16.578.1.12.4.1.4.5',
};

function identifierOf(v: SourceValue): Identifier | undefined {
  // An identifier worked out before mapping (CTX:patientIdentity.identifier): already a system and a value.
  if (v.kind === 'data' && v.value && typeof v.value === 'object' && typeof (v.value as Identifier).value === 'string') {
    const { system, value } = v.value as Identifier;
    return system ? { system, value: value! } : { value: value! };
  }
  if (v.kind !== 'element') {
    const value = textOf(v);
    return value ? { value } : undefined;
  }
  const id = childText(v.el, 'Id');
  const type = child(v.el, 'TypeId')?.attr('V')?.trim();
  if (id && type) {
    const system = KITH_ID_TYPE[type] ?? MORE_ID_TYPES[type];
    return system ? { system, value: id } : undefined;
  }
  if (v.el.name === 'Varenr' && v.el.text) return { system: VARENUMMER_SYSTEM, value: v.el.text };
  return v.el.text ? { value: v.el.text } : undefined;
}

/** Only zeros: what systems write when they have no identifier to give. */
const PLACEHOLDER_ID = /^0+$/;

const splitNames = (s: string | undefined): string[] => (s ? s.split(/\s+/).filter(Boolean) : []);

function nameOf(el: XmlElement): PersonName | undefined {
  const family = childText(el, 'FamilyName');
  const given = [...splitNames(childText(el, 'GivenName')), ...splitNames(childText(el, 'MiddleName'))];
  if (!family && !given.length) return undefined;
  return family ? { family, given } : { given };
}

const ADDRESS_USE: Record<string, Address['use']> = { H: 'home', HP: 'home', TMP: 'temp', WP: 'work', RES: 'work', PST: 'work', BAD: 'old' };

function addressOf(el: XmlElement): Address | undefined {
  const type = child(el, 'Type')?.attr('V');
  const street = childText(el, 'StreetAdr');
  const postbox = childText(el, 'Postbox');
  const out: Address = {};
  const use = type ? ADDRESS_USE[type] : undefined;
  if (use) out.use = use;
  if (type === 'PST') out.type = 'postal';
  const line = [street, postbox].filter((x): x is string => !!x);
  if (line.length) out.line = line;
  const city = childText(el, 'City');
  if (city) out.city = city;
  const postalCode = childText(el, 'PostalCode');
  if (postalCode) out.postalCode = postalCode;
  if (!line.length && !city && !postalCode) return undefined;
  out.country = child(el, 'Country')?.attr('V') ?? 'NO';
  return out;
}

function telecomOf(el: XmlElement): ContactPoint | undefined {
  const raw = child(el, 'TeleAddress')?.attr('V')?.trim();
  if (!raw) return undefined;
  const [scheme, ...rest] = raw.split(':');
  const value = rest.join(':').trim();
  if (!value) return undefined;
  const system: ContactPoint['system'] =
    scheme === 'tel' ? 'phone' : scheme === 'mailto' ? 'email' : scheme === 'fax' ? 'fax' : scheme === 'http' || scheme === 'https' ? 'url' : 'other';
  return { system, value: system === 'url' ? raw : value, use: 'work' };
}

// --- dosage -----------------------------------------------------------------------------------------

const INTERVAL_UNIT: Record<string, NonNullable<DoseInfo['every']>['unit']> = {
  sekund: 's', sekunder: 's', minutt: 'min', minutter: 'min', time: 'h', timer: 'h', døgn: 'd', dag: 'd', dager: 'd',
  uke: 'wk', uker: 'wk', måned: 'mo', måneder: 'mo', år: 'a',
};

// Kodeverk 8325 (tidspunkt på dagen) -> FHIR EventTiming, the system eHDSITimingEvent includes. Six codes,
// one-to-one; kept here rather than in a ConceptMap because the target is a FHIR value set, not an EU one.
const TIME_OF_DAY: Record<string, { code: string; display: string }> = {
  '1': { code: 'MORN', display: 'Morning' },
  '2': { code: 'MORN.late', display: 'Late Morning' },
  '3': { code: 'NOON', display: 'Noon' },
  '4': { code: 'AFT', display: 'Afternoon' },
  '5': { code: 'EVE', display: 'Evening' },
  '6': { code: 'NIGHT', display: 'Night' },
};

// Kodeverk 9082 (Dager i uken): 1 Mandag ... 7 Søndag, to FHIR days-of-week and the names a reader abroad
// needs. Seven codes, one-to-one, so kept here as 8325 is. Before this the days went out as the Norwegian
// display text ("Mandag") after "every day" (audit 2, F4: weekly methotrexate read as daily).
const WEEKDAY: Record<string, Weekday> = {
  '1': { code: 'mon', en: 'Monday', nb: 'mandag' },
  '2': { code: 'tue', en: 'Tuesday', nb: 'tirsdag' },
  '3': { code: 'wed', en: 'Wednesday', nb: 'onsdag' },
  '4': { code: 'thu', en: 'Thursday', nb: 'torsdag' },
  '5': { code: 'fri', en: 'Friday', nb: 'fredag' },
  '6': { code: 'sat', en: 'Saturday', nb: 'lørdag' },
  '7': { code: 'sun', en: 'Sunday', nb: 'søndag' },
};

/** The fixed weekdays of a dose, when 9082 knows every one; undefined when there are none or one is unknown. */
function weekdaysOf(dose: XmlElement): Weekday[] | undefined {
  const codes = child(dose, 'FastDose')?.children.filter((c) => c.name === 'FasteUkedager').map((d) => d.attr('V')?.trim() ?? '') ?? [];
  const days = codes.map((c) => WEEKDAY[c]);
  if (!days.length || days.some((d) => !d)) return undefined;
  // In week order, each once: "Monday and Friday" however the prescriber system listed them.
  return Object.values(WEEKDAY).filter((w) => days.includes(w));
}

const tsDate = (el: XmlElement | undefined): string | undefined => {
  const raw = el?.attr('V') ?? el?.text;
  return raw && /^\d{4}-\d{2}-\d{2}/.test(raw) ? raw.slice(0, 10) : undefined;
};

function doseInfo(dose: XmlElement, index: number, dosering: XmlElement | undefined, ordinal: number, row: MappingRow, env: TransformEnv): DoseInfo {
  const info: DoseInfo = { index, dosering: ordinal, kind: dose.name === 'DoseEtterBehov' ? 'as-needed' : 'fixed' };
  const doseUnitMap = row.codeMap ?? 'https://helsebro.no/fhir/ConceptMap/volven-7480-to-eu-unit';
  const mengde = child(dose, 'Mengde');
  const mengdeValue = mengde ? Number(mengde.attr('V')) : NaN;
  if (mengde && Number.isFinite(mengdeValue)) {
    const u = mengde.attr('U');
    info.quantity = euQuantity(mengdeValue, u ? { code: u } : undefined, doseUnitMap, env, mengde.path);
  }
  const intervall = child(dose, 'Intervall');
  const every = intervall ? Number(intervall.attr('V')) : NaN;
  const unit = INTERVAL_UNIT[(intervall?.attr('U') ?? '').trim().toLowerCase()];
  if (intervall && Number.isFinite(every) && unit) info.every = { value: every, unit };
  else if (intervall) env.warn({ severity: 'warning', code: 'value', diagnostics: `Interval unit '${intervall.attr('U') ?? ''}' is not known; the interval is left to the dosage text`, expression: [intervall.path] });
  const tid = child(dose, 'Tidsomrade');
  const tidCode = tid?.attr('V')?.trim();
  if (tid && tidCode) {
    const mapped = TIME_OF_DAY[tidCode];
    const source: Coding = { system: CODE_SYSTEM.volven(8325), code: tidCode };
    const dn = tid.attr('DN');
    if (dn) source.display = dn;
    if (mapped) info.when = { ...mapped, source };
    else env.warn({ severity: 'warning', code: 'code-invalid', diagnostics: `Time of day '${tidCode}' (8325) is not known; left to the dosage text`, expression: [tid.path] });
  }
  const days = weekdaysOf(dose);
  if (days) info.daysOfWeek = days;
  const clock = childText(dose, 'Klokkeslett');
  if (clock && /^\d{2}:\d{2}(:\d{2})?/.test(clock)) info.timeOfDay = clock.length === 5 ? `${clock}:00` : clock.slice(0, 8);
  const start = tsDate(dosering && child(dosering, 'Starttidspunkt'));
  if (start) info.start = start;
  const end = tsDate(dosering && child(dosering, 'Sluttidspunkt'));
  if (end) info.end = end;
  const notes = doseNotes(dose);
  // Weekdays said only in words: an Intervall of one day beside them means "on each of those days", and
  // "every day" must not be printed next to them.
  if (notes.weekdaysInWords && info.every?.value === 1 && info.every.unit === 'd') delete info.every;
  if (notes.notes.length) info.notes = notes.notes;
  if (notes.schedule) info.scheduleInNotes = true;
  const max = child(dose, 'DoseDognMaks');
  const maxValue = max ? Number(max.attr('V')) : NaN;
  if (max && Number.isFinite(maxValue)) {
    const u = max.attr('U');
    info.maxPerDay = euQuantity(maxValue, u ? { code: u } : undefined, doseUnitMap, env, max.path);
  }
  return info;
}

const DOSE_NAMES = new Set(['DoseFastTidspunkt', 'DoseEtterBehov']);

const pqText = (el: XmlElement | undefined): string | undefined => {
  const v = el?.attr('V');
  return v ? `${v}${el?.attr('U') ? ` ${el.attr('U')}` : ''}` : undefined;
};

/** The parts of a dose no EU timing structure here carries, as text; `schedule` when they change the days. */
function doseNotes(dose: XmlElement): { notes: { nb: string; en: string }[]; schedule: boolean; weekdaysInWords: boolean } {
  const notes: { nb: string; en: string }[] = [];
  let schedule = false;
  const fast = child(dose, 'FastDose');
  if (fast) {
    // Weekdays 9082 knows are the dose's daysOfWeek; a code it does not know stays as the prescriber's word,
    // marked Norwegian, and no timing structure is given.
    const days = weekdaysOf(dose) ? [] : fast.children.filter((c) => c.name === 'FasteUkedager').map((d) => d.attr('DN') ?? d.attr('V') ?? '');
    const on = childText(fast, 'DagerPa');
    const off = childText(fast, 'DagerAv');
    if (days.length) notes.push({ nb: `kun faste ukedager: ${days.join(', ')}`, en: `only on fixed weekdays (Norwegian): ${days.join(', ')}` });
    if (on || off) notes.push({ nb: `${on ?? '?'} dager på, ${off ?? '?'} dager av`, en: `${on ?? '?'} days on, ${off ?? '?'} days off` });
    schedule = days.length > 0 || !!on || !!off;
  }
  const rate = child(dose, 'Infusjonshastighet');
  if (rate) {
    const volume = pqText(child(rate, 'Volum')) ?? '';
    const per = child(rate, 'Tidsenhet');
    const unit = per?.attr('DN') ?? per?.attr('V') ?? '';
    const perEn = englishTime(1, unit);
    notes.push({ nb: `infusjonshastighet ${volume} per ${unit}`, en: `infusion rate ${volume} (Norwegian volume unit) per ${perEn ?? `${unit} (Norwegian time unit)`}` });
  }
  const interval = child(dose, 'DoseIntervallMin');
  const least = pqText(interval);
  if (interval && least) {
    const en = englishTime(Number(interval.attr('V')), interval.attr('U') ?? '');
    const nb = norwegianTime(Number(interval.attr('V')), interval.attr('U') ?? '');
    notes.push({ nb: `minst ${nb ?? least} mellom dosene`, en: `at least ${en ?? `${least} (Norwegian time unit)`} between doses` });
  }
  const perPeriodEl = child(dose, 'DoseTidsromMaks');
  const periodEl = child(dose, 'Tidsrom');
  const perPeriod = pqText(perPeriodEl);
  const period = pqText(periodEl);
  // The most per one day again, when DoseDognMaks already says it, would only repeat the daily maximum.
  const sameAsDaily = isOneDay(periodEl) && sameQuantity(perPeriodEl, child(dose, 'DoseDognMaks'));
  if (perPeriod && period && !sameAsDaily) {
    const en = englishTime(Number(periodEl!.attr('V')), periodEl!.attr('U') ?? '');
    notes.push({ nb: `høyst ${perPeriod} per ${period}`, en: `at most ${perPeriod} (Norwegian unit) per ${en ?? `${period} (Norwegian time unit)`}` });
  }
  return { notes, schedule, weekdaysInWords: notes.some((n) => n.nb.startsWith('kun faste ukedager')) };
}

// The time units the eResept schema writes in words (Tidsrom, DoseIntervallMin, Tidsenhet): singular and
// plural in English, and as Norwegian prose writes them ("4 timer", not the code's "4 Time").
const TIME_WORDS: Record<string, { en: [string, string]; nb: [string, string] }> = {
  sekund: { en: ['second', 'seconds'], nb: ['sekund', 'sekunder'] },
  minutt: { en: ['minute', 'minutes'], nb: ['minutt', 'minutter'] },
  time: { en: ['hour', 'hours'], nb: ['time', 'timer'] },
  døgn: { en: ['day (24 hours)', 'days'], nb: ['døgn', 'døgn'] },
  dag: { en: ['day', 'days'], nb: ['dag', 'dager'] },
  uke: { en: ['week', 'weeks'], nb: ['uke', 'uker'] },
  måned: { en: ['month', 'months'], nb: ['måned', 'måneder'] },
  år: { en: ['year', 'years'], nb: ['år', 'år'] },
};

const timeWords = (value: number, unit: string): { en: [string, string]; nb: [string, string] } | undefined =>
  Number.isFinite(value) ? TIME_WORDS[unit.trim().toLowerCase()] : undefined;

/** "4 timer" for V=4 U=Time; undefined for a unit word this does not know (the caller keeps it as written). */
function norwegianTime(value: number, unit: string): string | undefined {
  const words = timeWords(value, unit)?.nb;
  return words && `${String(value).replace('.', ',')} ${value === 1 ? words[0] : words[1]}`;
}

/** "4 hours" for V=4 U=Time ("hour" for 1, as in "per hour"); undefined for a unit word this does not know. */
function englishTime(value: number, unit: string): string | undefined {
  const words = timeWords(value, unit)?.en;
  return words && (value === 1 ? words[0] : `${value} ${words[1]}`);
}

const isOneDay = (el: XmlElement | undefined): boolean => el?.attr('V') === '1' && /^(døgn|dag)$/i.test(el.attr('U') ?? '');

const sameQuantity = (a: XmlElement | undefined, b: XmlElement | undefined): boolean =>
  !!a && !!b && Number(a.attr('V')) === Number(b.attr('V')) && (a.attr('U') ?? '').toLowerCase() === (b.attr('U') ?? '').toLowerCase();

// A Kortdose (7478) such as "1+0+2" or "1+1+1+1": amounts morning, midday, evening (and night), the times
// of day of kodeverk 8325. Other Kortdose texts ("1 daglig", "ved behov") stay text.
const KORTDOSE_PATTERN = /^\s*(\d+(?:[.,]\d+)?)(?:\s*\+\s*(\d+(?:[.,]\d+)?)){2,3}\s*$/;
const KORTDOSE_TIMES = ['1', '3', '5', '6'];

/**
 * Words in a Norwegian dosage text that say the dose is not simply taken every day: weekly, on a weekday,
 * monthly, every n-th day or hour, as needed, days on and off. A split-dose Kortdose ("4+0+0") says "every
 * day at these times"; next to a text like "4 tabletter én gang i uken" it must not become a daily timing
 * (audit 2, F4). A false match (a course "i 3 uker") only costs the structure; the text always goes.
 */
const NOT_DAILY = new RegExp(
  [
    'uk(e|a|en|er|ene|entlig\\p{L}*|evis)',
    '(man|tirs|ons|tors|fre|lør|søn)dag(en|er|ene)?',
    'måned\\p{L}*',
    'mnd',
    'annenhver',
    'annen\\s+hver',
    'hver(t)?\\s+(annen|annet|andre|tredje|fjerde|femte|sjette|syvende|\\d)',
    '(ved|etter)\\s+behov',
    'dager\\s+(på|av)',
    'pause',
    'årlig',
  ]
    .map((w) => `(?<!\\p{L})${w}(?!\\p{L})`)
    .join('|'),
  'iu',
);

/** The doses a Kortdose states, when it is a split-dose pattern; [] otherwise. */
function kortdoseInfos(el: XmlElement): DoseInfo[] {
  const text = [el.attr('DN'), el.attr('OT')].find((t) => t && KORTDOSE_PATTERN.test(t));
  if (!text) return [];
  const amounts = text.split('+').map((a) => Number(a.trim().replace(',', '.')));
  return amounts.flatMap((value, i) => {
    const tid = KORTDOSE_TIMES[i]!;
    const when = TIME_OF_DAY[tid]!;
    // The pattern names no unit: the amount counts the prescribed form's units ("1" tablet, capsule ...).
    return value > 0 ? [{ index: i, dosering: 0, kind: 'fixed' as const, quantity: { value, ucum: '1' }, when: { ...when, source: { system: CODE_SYSTEM.volven(8325), code: tid } } }] : [];
  }).map((d, i) => ({ ...d, index: i }));
}

/** Position of a Dosering among the Dosering elements of its Forskrivning. */
function doseringOrdinal(dosering: XmlElement | undefined, ancestors: readonly XmlElement[]): number {
  const forskrivning = ancestors.findLast((a) => a.name === 'Forskrivning');
  return dosering && forskrivning ? Math.max(0, forskrivning.children.filter((c) => c.name === 'Dosering').indexOf(dosering)) : 0;
}

// --- the transforms ---------------------------------------------------------------------------------

const allText: Transform<'text'> = (_row, values) =>
  values.flatMap((v) => {
    const text = textOf(v)?.trim();
    return text ? [place(text, indexOf(v))] : [];
  });

const dateOf = (v: SourceValue): string | undefined => {
  if (v.kind === 'data' && v.value instanceof Date) return Number.isNaN(v.value.getTime()) ? undefined : v.value.toISOString().slice(0, 10);
  const raw = v.kind === 'element' ? (v.el.attr('V') ?? v.el.text) : textOf(v);
  return raw && /^\d{4}-\d{2}-\d{2}/.test(raw.trim()) ? raw.trim().slice(0, 10) : undefined;
};

export const TRANSFORM_IMPL: { [K in TransformName]: Transform<K> } = {
  copy: (_row, values) =>
    values.flatMap((v) => {
      if (v.kind === 'data' && (typeof v.value === 'string' || typeof v.value === 'number' || typeof v.value === 'boolean')) return [place(v.value, v.index)];
      const text = textOf(v);
      return text === undefined ? [] : [place(text, indexOf(v))];
    }),
  constant: (row) => [{ value: row.sourcePath }],
  text: allText,
  narrative: (_row, values) => (values.length ? [{ value: true as const }] : []),
  date: (_row, values) => values.flatMap((v) => {
    const d = dateOf(v);
    return d ? [place(d, indexOf(v))] : [];
  }),
  datetime: (_row, values) =>
    values.flatMap((v) => {
      const d = v.kind === 'data' && v.value instanceof Date ? v.value : new Date(textOf(v) ?? '');
      return Number.isNaN(d.getTime()) ? [] : [place(d.toISOString(), indexOf(v))];
    }),
  identifier: (row, values, env) => values.flatMap((v) => {
    const id = identifierOf(v);
    if (!id) return [];
    // The official samples carry RESH "0" for a GP office with no RESH-id: a placeholder, not an identifier.
    if (id.value && PLACEHOLDER_ID.test(id.value)) {
      env.warn({ severity: 'information', code: 'value', diagnostics: `Identifier '${id.value}' (${id.system ?? 'no system'}) is a placeholder and is not sent`, expression: [whereOf(row, v)] });
      return [];
    }
    return [place(id, indexOf(v))];
  }),
  'prescription-id': (_row, values) => values.flatMap((v) => {
    const value = textOf(v)?.trim();
    return value ? [{ value: { system: PRESCRIPTION_ID_SYSTEM, value } }] : [];
  }),
  uuid: (_row, values) => values.flatMap((v) => {
    const value = textOf(v);
    return value ? [{ value }] : [];
  }),
  reference: (_row, values) => (values.length ? [{ value: true as const }] : []),
  'person-name': (row, values, env) =>
    values.flatMap((v) => {
      if (v.kind === 'element') {
        const name = nameOf(v.el);
        return name ? [{ value: name }] : [];
      }
      // A register's person (HPR): the row names the family name, the given names sit beside it, so a
      // prescriber known only by number is named in full, never by family name alone.
      if (v.kind === 'data' && typeof v.value === 'string' && v.value.trim()) {
        const beside = resolveDataPath(row.sourcePath.replace(/[^.]+$/, 'given'), dataOf(row, env.data))[0];
        const given = beside?.kind === 'data' && Array.isArray(beside.value) ? beside.value.flatMap((g) => (typeof g === 'string' ? splitNames(g) : [])) : [];
        return [{ value: { family: v.value.trim(), given } }];
      }
      return [];
    }),
  gender: (_row, values) =>
    values.flatMap((v) => {
      const code = codeOf(v)?.code;
      if (!code) return [];
      return [{ value: code === '1' || code === 'male' ? 'male' : code === '2' || code === 'female' ? 'female' : 'unknown' }];
    }),
  address: (_row, values) =>
    values.flatMap((v) => {
      const a = v.kind === 'element' ? addressOf(v.el) : undefined;
      return a ? [{ value: a }] : [];
    }),
  telecom: (_row, values) =>
    values.flatMap((v) => {
      const t = v.kind === 'element' ? telecomOf(v.el) : undefined;
      return t ? [{ value: t }] : [];
    }),
  'code-map': (row, values, env) =>
    values.flatMap((v) => {
      // A list (FEST routes) is a list of codes.
      const items: SourceValue[] = v.kind === 'data' && Array.isArray(v.value) ? v.value.map((x: unknown) => ({ kind: 'data' as const, value: x })) : [v];
      return items.flatMap((item) => {
        const code = codeOf(item);
        const concept = code && toConcept(row, code, env, whereOf(row, v));
        return concept ? [place(concept, indexOf(v))] : [];
      });
    }),
  coding: (row, values, env) =>
    values.flatMap((v) => {
      const items: SourceValue[] = v.kind === 'data' && Array.isArray(v.value) ? v.value.map((x: unknown) => ({ kind: 'data' as const, value: x })) : [v];
      return items.flatMap((item) => {
        const code = codeOf(item);
        if (!code) return [];
        const system = canonicalSystem(code.system ?? DEFAULT_SYSTEM[row.source] ?? '', env.terminology);
        if (!system) return [];
        const coding: Coding = { system, code: code.code };
        const shown = display(system, code.code, 'en', env.terminology) ?? code.display;
        if (shown) coding.display = shown;
        return [place(coding, indexOf(v))];
      });
    }),
  quantity: (row, values, env) =>
    values.flatMap((v) => {
      const n = number(row, v, env);
      if (n === undefined || !row.codeMap) return [];
      const where = whereOf(row, v);
      if (v.kind === 'element') {
        const u = v.el.attr('U');
        // A dose's amount belongs to that dose: place it by the dose's position.
        const dose = v.ancestors.findLast((a) => DOSE_NAMES.has(a.name));
        const at = dose ? env.doses().indexOf(dose) : -1;
        return [place(euQuantity(n, u ? { code: u } : undefined, row.codeMap, env, where), at >= 0 ? at : undefined)];
      }
      // A number from data carries its unit beside it (FEST package: amount + unit).
      const siblingUnit = resolveDataPath(row.sourcePath.replace(/[^.]+$/, 'unit'), dataOf(row, env.data))[0];
      const unit = siblingUnit ? codeOf(siblingUnit) : undefined;
      return [place(euQuantity(n, unit, row.codeMap, env, where), indexOf(v))];
    }),
  'package-count': (row, values, env) => values.flatMap((v) => {
    const n = number(row, v, env);
    return n === undefined ? [] : [{ value: n }];
  }),
  strength: (row, values, env) =>
    values.flatMap((v) => {
      if (v.kind !== 'data' || !row.codeMap) return [];
      const s = v.value as { value?: number; unit?: string };
      if (typeof s.value !== 'number') return [];
      const numerator = euQuantity(s.value, s.unit ? { code: s.unit } : undefined, row.codeMap, env, row.source);
      const ratio: EuRatio = { numerator };
      const denominators = resolveDataPath(row.sourcePath.replace(/[^.]+$/, 'denominator'), dataOf(row, env.data));
      const d = denominators.find((x) => x.kind === 'data' && x.index === v.index);
      const dv = d?.kind === 'data' ? (d.value as { value?: number; unit?: string }) : undefined;
      if (dv && typeof dv.value === 'number') {
        ratio.denominator = euQuantity(dv.value, dv.unit ? { code: dv.unit } : undefined, STRENGTH_DENOMINATOR_MAP, env, row.source);
      }
      return [place(ratio, v.index)];
    }),
  dosage: (row, values, env) => {
    const all = env.doses();
    const out: Placed<DoseInfo>[] = [];
    for (const v of values) {
      if (v.kind !== 'element') continue;
      // A Kortdose is read only where the table lists it after Dosering, i.e. when there is no Dosering.
      if (v.el.name === 'Kortdose') {
        const doses = kortdoseInfos(v.el);
        const written = v.ancestors.findLast((a) => a.name === 'Forskrivning');
        const text = written ? childText(written, 'DosVeiledEnkel') : undefined;
        if (doses.length && text && NOT_DAILY.test(text)) {
          // The prescriber's text wins: no structure that says "every day" beside a text that says otherwise.
          env.warn({
            severity: 'warning',
            code: 'business-rule',
            diagnostics: `Kortdose '${v.el.attr('DN') ?? v.el.attr('V') ?? ''}' would be a daily dose, but the dosage text says otherwise ('${text}'); the dosage is sent as the text only`,
            expression: [v.el.path],
          });
          continue;
        }
        out.push(...doses.map((d) => ({ value: d, index: d.index })));
        continue;
      }
      // The source is a Dosering (every dose in it), a dose, or an element inside a dose.
      const doses = v.el.name === 'Dosering' ? v.el.children.filter((c) => DOSE_NAMES.has(c.name)) : [DOSE_NAMES.has(v.el.name) ? v.el : v.ancestors.findLast((a) => DOSE_NAMES.has(a.name))];
      for (const dose of doses) {
        if (!dose) continue;
        const index = all.indexOf(dose);
        const dosering = v.el.name === 'Dosering' ? v.el : v.ancestors.findLast((a) => a.name === 'Dosering');
        out.push({ value: doseInfo(dose, index, dosering, doseringOrdinal(dosering, v.ancestors), row, env), index });
      }
    }
    return out;
  },
  'as-needed': (_row, values, env) =>
    values.flatMap((v) => {
      if (v.kind !== 'element') return [];
      if (DOSE_NAMES.has(v.el.name)) {
        const at = env.doses().indexOf(v.el);
        return v.el.name === 'DoseEtterBehov' ? [place(true as const, at >= 0 ? at : undefined)] : [];
      }
      // Kodeverk 9101 (Legemiddelbruk) 3 Ved behov: the whole prescription, not one dose, so no position.
      return codeOf(v)?.code === '3' ? [{ value: true as const }] : [];
    }),
  'dispensings-remaining': (row, values, env) => {
    const reiterasjon = values[0] ? number(row, values[0], env) : 0;
    const soFar = Number(env.data.context.dispensingsSoFar ?? 0);
    const total = (reiterasjon ?? 0) + 1;
    return [{ value: { total, remaining: Math.max(0, total - (Number.isFinite(soFar) ? soFar : 0)) } }];
  },
  // Kodeverk 1101: 1 Ja = the prescriber reserves against generic substitution.
  substitution: (_row, values) => [{ value: codeOf(values[0] ?? { kind: 'constant', value: '' })?.code !== '1' }],
  'substitution-occurred': () => {
    throw new Error('substitution-occurred belongs to the dispensation direction');
  },
  'dispense-status': () => {
    throw new Error('dispense-status belongs to the dispensation direction');
  },
  omit: () => [],
};

/** Transforms that yield a value when the source is absent (their absence has a meaning). */
export const VALUE_WHEN_ABSENT: ReadonlySet<TransformName> = new Set(['substitution', 'dispensings-remaining', 'constant']);

/** The denominator of a FEST strength is in a package unit (StyrkeNevner, kodeverk 7452). */
const STRENGTH_DENOMINATOR_MAP = 'https://helsebro.no/fhir/ConceptMap/volven-7452-to-eu-unit';

/** Systems for data sources that carry bare codes. */
const DEFAULT_SYSTEM: Record<string, string> = {
  'FEST:festId': FEST_ID_SYSTEM,
  'HPR:specialities': CODE_SYSTEM.volven(7426),
};

function dataOf(row: MappingRow, data: SourceData): unknown {
  switch (row.sourceKind) {
    case 'fest':
      return data.fest;
    case 'hpr':
      return data.hpr;
    case 'registry':
      return data.registry;
    case 'context':
      return data.context;
    default:
      return undefined;
  }
}

/** Every dose element of a prescription in document order. */
export function doseElements(data: Pick<SourceData, 'root' | 'payload'>): XmlElement[] {
  return resolveMessagePath('Resept/ReseptDokLegemiddel/Forskrivning/Dosering/(DoseFastTidspunkt|DoseEtterBehov)', data).flatMap((v) =>
    v.kind === 'element' ? [v.el] : [],
  );
}

