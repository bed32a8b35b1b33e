// Export rules: which Norwegian prescriptions may leave Norway as an EU ePrescription (DOMAIN.md,
// "ePrescription out of Norway"). Each rule is a pure function over the M1 and the facts only the
// prescription chain knows (dispensings so far, the prescription's status in Reseptformidleren, patient
// restriction). The decision lists every rule that applies, not just the first, so a clinician sees all
// reasons at once.
import type { CodeSystem, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { issue, unprocessable, type Problem } from '../fhir/outcomes.ts';
import type { Legemiddel, M1Message, TypeLegemiddel } from './m1/model.ts';
import { isControlledAtc } from '../registries/controlled-atc.ts';

export const EXPORT_RULE_SYSTEM = 'https://helsebro.no/fhir/CodeSystem/export-rule';

/** The catalogue: stable codes with the reason in Norwegian (bokmål) and English. */
export const EXPORT_RULE_CATALOGUE = [
  {
    code: 'NO-EXPORT-GROUP-A',
    nb: 'Legemidler i reseptgruppe A (narkotiske legemidler) kan ikke sendes som e-resept til utlandet.',
    en: 'Medicines in prescription group A (narcotics) cannot be sent abroad as an ePrescription.',
  },
  {
    code: 'NO-EXPORT-GROUP-B',
    nb: 'Legemidler i reseptgruppe B (vanedannende legemidler) kan ikke sendes som e-resept til utlandet.',
    en: 'Medicines in prescription group B (habit-forming medicines) cannot be sent abroad as an ePrescription.',
  },
  {
    code: 'NO-EXPORT-GROUP-K',
    nb: 'Kosttilskudd (reseptgruppe K) kan ikke sendes som e-resept til utlandet.',
    en: 'Food supplements (prescription group K) cannot be sent abroad as an ePrescription.',
  },
  {
    code: 'NO-EXPORT-GROUP-UNKNOWN',
    nb: 'Reseptgruppen er ikke en kode i kodeverk 7421; legemidler som ikke kan plasseres i en reseptgruppe, sendes ikke til utlandet.',
    en: 'The prescription group is not a code of code list 7421; a medicine whose group cannot be established is not sent abroad.',
  },
  {
    code: 'NO-EXPORT-CONTROLLED-UNVERIFIED',
    nb: 'Legemiddelet finnes ikke i FEST, og ATC-koden hører til en klasse med narkotiske eller vanedannende legemidler: reseptgruppen kan ikke bekreftes.',
    en: 'The medicine is not in FEST and its ATC code belongs to a class of narcotic or habit-forming medicines: its prescription group cannot be confirmed.',
  },
  {
    code: 'NO-EXPORT-PRODUCT-MISMATCH',
    nb: 'Resepten er selvmotsigende om legemiddelet: varenummeret tilhører i FEST et legemiddel med annen ATC-kode eller styrke enn resepten oppgir.',
    en: 'The prescription contradicts itself about the medicine: in FEST its varenummer belongs to a medicine with another ATC code or strength than the prescription names.',
  },
  {
    code: 'NO-EXPORT-MAGISTRAL',
    nb: 'Magistrelle legemidler (legemiddelblandinger) kan ikke sendes som e-resept til utlandet.',
    en: 'Magistral (compounded) preparations cannot be sent abroad as an ePrescription.',
  },
  {
    code: 'NO-EXPORT-MERCHANDISE',
    nb: 'Medisinsk forbruksmateriell, næringsmidler og andre handelsvarer kan ikke sendes som e-resept til utlandet.',
    en: 'Medical devices, nutrition products and other non-medicinal goods cannot be sent abroad as an ePrescription.',
  },
  {
    code: 'NO-EXPORT-UNLICENSED',
    nb: 'Legemidler uten markedsføringstillatelse i Norge kan ikke sendes som e-resept til utlandet.',
    en: 'Medicines without a Norwegian marketing authorisation cannot be sent abroad as an ePrescription.',
  },
  {
    code: 'NO-EXPORT-LOCKED',
    nb: 'Låste resepter kan ikke sendes til utlandet.',
    en: 'Locked prescriptions cannot be sent abroad.',
  },
  {
    code: 'NO-EXPORT-GUARDIAN-RESERVATION',
    nb: 'Resepten er omfattet av vergeinnsynsreservasjon og kan ikke sendes til utlandet.',
    en: 'The prescription is covered by a guardian-access reservation and cannot be sent abroad.',
  },
  {
    code: 'NO-EXPORT-DOCTORS-NAME',
    nb: 'Resepter rekvirert i legens navn kan ikke sendes til utlandet.',
    en: "Prescriptions issued in the doctor's own name cannot be sent abroad.",
  },
  {
    code: 'NO-EXPORT-OWN-PRACTICE',
    nb: 'Resepter til bruk i egen praksis kan ikke sendes til utlandet.',
    en: "Prescriptions for use in the prescriber's own practice cannot be sent abroad.",
  },
  {
    code: 'NO-EXPORT-VETERINARY',
    nb: 'Veterinærresepter (til dyr) kan ikke sendes som e-resept til utlandet.',
    en: 'Veterinary prescriptions (for animals) cannot be sent abroad as an ePrescription.',
  },
  {
    code: 'NO-EXPORT-EXPIRED',
    nb: 'Resepten er utløpt.',
    en: 'The prescription has expired.',
  },
  {
    code: 'NO-EXPORT-NOT-YET-DISPENSABLE',
    nb: 'Resepten kan ikke utleveres ennå: tidligste utleveringsdato er ikke nådd.',
    en: 'The prescription cannot be dispensed yet: its earliest dispensing date has not been reached.',
  },
  {
    code: 'NO-EXPORT-RECALLED',
    nb: 'Resepten er tilbakekalt.',
    en: 'The prescription has been recalled.',
  },
  {
    code: 'NO-EXPORT-NO-DISPENSINGS-LEFT',
    nb: 'Resepten har ingen gjenværende utleveringer.',
    en: 'The prescription has no dispensings left.',
  },
  {
    code: 'NO-EXPORT-BEING-DISPENSED',
    nb: 'Resepten er under ekspedering i et apotek i Norge og kan ikke utleveres i utlandet nå.',
    en: 'The prescription is being dispensed at a pharmacy in Norway right now and cannot be dispensed abroad at the moment.',
  },
  {
    code: 'NO-EXPORT-INVALID',
    nb: 'Reseptformidleren har registrert resepten som ugyldig.',
    en: 'The national prescription intermediary has registered the prescription as invalid.',
  },
  {
    code: 'NO-EXPORT-UNKNOWN-TO-CHAIN',
    nb: 'Reseptformidleren kjenner ikke resepten.',
    en: 'The national prescription intermediary does not know the prescription.',
  },
  {
    code: 'NO-EXPORT-CHAIN-STATUS',
    nb: 'Reseptformidleren oppgir en status som ikke tillater utlevering av resepten.',
    en: 'The national prescription intermediary gives the prescription a status that does not allow it to be dispensed.',
  },
  {
    code: 'NO-EXPORT-PATIENT-RESTRICTION',
    nb: 'Pasienten har en restriksjon som hindrer at resepten sendes til utlandet.',
    en: 'The patient has a restriction that prevents the prescription from being sent abroad.',
  },
] as const;

export type ExportRuleCode = (typeof EXPORT_RULE_CATALOGUE)[number]['code'];
export const EXPORT_RULE_CODES: readonly ExportRuleCode[] = EXPORT_RULE_CATALOGUE.map((r) => r.code);

/**
 * What Reseptformidleren (RF) says of the prescription: whether it knows it, and its status (kodeverk 7408:
 * E Ekspederbar, U Under ekspedering, R Avsluttet, T Tilbakekalt, F Foreldet, X Ugyldig, and A, B, H).
 */
export type ChainStatus = { known: false } | { known: true; status: string };

/** The one RF status under which a prescription may be dispensed. */
export const DISPENSABLE_CHAIN_STATUS = 'E';

/** What the prescription chain knows beyond the M1 itself. */
export interface ExportContext {
  now: Date;
  /**
   * Dispensings already made on this prescription, in Norway and abroad: RF's count plus Helsebro's own
   * dispensations whose M10 RF had not received when it was asked.
   */
  dispensingsSoFar: number;
  /** Recalled by the prescriber (M5) or otherwise withdrawn in the prescription chain. */
  recalled: boolean;
  /** The patient has a restriction (reservation, blocking) that forbids sharing abroad. */
  patientRestricted: boolean;
  /** RF's word on the prescription, when RF was asked (absent: a conversion outside the serving path). */
  chain?: ChainStatus | undefined;
  /** Whose calendar "today" is read in. Default Europe/Oslo: Norwegian prescriptions are Norwegian days. */
  timeZone?: string;
}

export interface ExportReason {
  code: ExportRuleCode;
  nb: string;
  en: string;
  /** Specifics for this prescription (dates, counts), in both languages. */
  detail?: { nb: string; en: string };
  /** Where in the M1 the reason lies (element paths), when it lies in the M1. */
  expression: string[];
}

export interface ExportDecision {
  exportable: boolean;
  /** Every rule that applies, in catalogue order; empty when exportable. */
  reasons: ExportReason[];
  /** Reiterasjon + 1 (one for devices and other goods, which have no repeats). */
  totalDispensings: number;
  /** Never negative. */
  remainingDispensings: number;
  /** The calendar day the date rules were judged on (YYYY-MM-DD in the context's time zone). */
  decidedFor: string;
}

/** What a rule sees: the M1, the context, and the values derived once for all rules. */
export interface ExportEvaluation {
  m1: M1Message;
  ctx: ExportContext;
  today: string;
  totalDispensings: number;
  remainingDispensings: number;
}

export interface RuleHit {
  expression?: string[];
  detail?: { nb: string; en: string };
}

/** A rule: undefined when it does not apply, otherwise where and (optionally) why in detail. */
export type ExportRule = (e: ExportEvaluation) => RuleHit | undefined;

// --- the rules -----------------------------------------------------------------------------

/** Every drug the prescription names: the prescribed one, and for a magistral its drug components. */
function drugsOf(m1: M1Message): TypeLegemiddel[] {
  const dok = m1.resept.reseptDok;
  if (dok.kind !== 'ReseptDokLegemiddel') return [];
  const drug: Legemiddel = dok.forskrivning.legemiddel;
  if (drug.kind === 'Legemiddelblanding') return drug.bestanddelLegemiddel.map((b) => b.legemiddel);
  return [drug];
}

const shown = (code: string): string => JSON.stringify(code.slice(0, 12)).replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

const inGroup =
  (group: string): ExportRule =>
  ({ m1 }) => {
    const hits = drugsOf(m1).filter((d) => d.reseptgruppe.code.trim().toUpperCase() === group);
    return hits.length ? { expression: hits.map((d) => `${d.path}.Reseptgruppe`) } : undefined;
  };

/** Kodeverk 7421 (Reseptgruppe), whole: anything else is unknown, and an unknown group is never let through. */
export const PRESCRIPTION_GROUPS: ReadonlySet<string> = new Set(['A', 'B', 'C', 'CF', 'F', 'K']);

/** The drug components of the prescription whose ATC code lies in a controlled class. */
export function controlledDrugs(m1: M1Message): TypeLegemiddel[] {
  return drugsOf(m1).filter((d) => {
    const atc = d.atc?.code?.trim().toUpperCase();
    return atc !== undefined && isControlledAtc(atc);
  });
}

// A strength as a name states it: a number and the unit right after it ("10 mg", "0,1 mg", "100 mikrog/dose").
const STRENGTH = /(\d+(?:[.,]\d+)?)\s*(mg|g|mikrog|mcg|µg|ug|ng|ml|mmol|ie|e|%)(?:\s*\/\s*(ml|dose|g|time|døgn|t|h))?(?![\p{L}])/giu;

/** The strengths a product name states, normalised ("0,1 mg" and "0.1 MG" alike), sorted. */
export function strengthsIn(name: string): string[] {
  return [...name.matchAll(STRENGTH)].map((m) => `${Number(m[1]!.replace(',', '.'))} ${m[2]!.toLowerCase().replace(/^(mcg|µg|ug)$/, 'mikrog')}${m[3] ? `/${m[3].toLowerCase()}` : ''}`).sort();
}

/**
 * Why the FEST record found by the prescription's varenummer is not the product the prescription names, if it
 * is not: another ATC code, or another strength in its name. Either way the M1 contradicts itself, and an
 * output mixing the two (one product's name, another's substance and strength) is worse than none.
 */
export function productMismatch(drug: TypeLegemiddel, fest: { name: string; atc?: { code: string } | undefined }): { nb: string; en: string } | undefined {
  const atc = drug.atc?.code?.replace(/\s+/g, '').toUpperCase();
  const festAtc = fest.atc?.code?.toUpperCase();
  if (atc && festAtc && atc !== festAtc) {
    return {
      nb: `Resepten oppgir ATC ${atc}; FEST har ${festAtc} for varenummeret.`,
      en: `The prescription names ATC ${atc}; FEST has ${festAtc} for its varenummer.`,
    };
  }
  const named = strengthsIn(drug.navnFormStyrke);
  const listed = strengthsIn(fest.name);
  if (named.length && listed.length && named.join('|') !== listed.join('|')) {
    return {
      nb: `Resepten oppgir styrke ${named.join(', ')}; FEST har ${listed.join(', ')} for varenummeret.`,
      en: `The prescription names strength ${named.join(', ')}; FEST has ${listed.join(', ')} for its varenummer.`,
    };
  }
  return undefined;
}

/** RF's statuses that a rule of their own judges; E is the dispensable one. */
const JUDGED_CHAIN_STATUSES: ReadonlySet<string> = new Set([DISPENSABLE_CHAIN_STATUS, 'U', 'R', 'T', 'F', 'X']);

const chainSays = (ctx: ExportContext, status: string): boolean => ctx.chain?.known === true && ctx.chain.status === status;

/**
 * Whether the chain's facts, on their own, leave the prescription exportable: not recalled, no patient
 * restriction, and RF (when asked) knows it and lists it as dispensable. The dispensings left and the M1's
 * own rules are judged by decideExport; this says only when stored outputs may be served without deciding
 * again (service.ts currentOutputs), so it must never say yes where a rule above would say no.
 */
export function chainAllowsExport(facts: Pick<ExportContext, 'recalled' | 'patientRestricted' | 'chain'>): boolean {
  if (facts.recalled || facts.patientRestricted) return false;
  return facts.chain === undefined || (facts.chain.known && facts.chain.status === DISPENSABLE_CHAIN_STATUS);
}

const flagged =
  (flag: 'lastResept' | 'vergeinnsynsreservasjon' | 'rekvLegensNavn' | 'tilEgenPraksis', element: string): ExportRule =>
  ({ m1 }) =>
    m1.resept[flag] ? { expression: [`${m1.resept.path}.${element}`] } : undefined;

export const EXPORT_RULES: Readonly<Record<ExportRuleCode, ExportRule>> = {
  'NO-EXPORT-GROUP-A': inGroup('A'),
  'NO-EXPORT-GROUP-B': inGroup('B'),
  'NO-EXPORT-GROUP-K': inGroup('K'),
  'NO-EXPORT-GROUP-UNKNOWN': ({ m1 }) => {
    const hits = drugsOf(m1).filter((d) => !PRESCRIPTION_GROUPS.has(d.reseptgruppe.code.trim().toUpperCase()));
    return hits.length
      ? {
          expression: hits.map((d) => `${d.path}.Reseptgruppe`),
          // The value as JSON: an invisible or look-alike character (a Cyrillic А) shows as what it is.
          detail: {
            nb: `Oppgitt reseptgruppe: ${hits.map((d) => shown(d.reseptgruppe.code)).join(', ')}.`,
            en: `Prescription group given: ${hits.map((d) => shown(d.reseptgruppe.code)).join(', ')}.`,
          },
        }
      : undefined;
  },
  // These two need FEST's answer: applied by the pipeline after enrichment (withFestFacts), never from the M1 alone.
  'NO-EXPORT-CONTROLLED-UNVERIFIED': () => undefined,
  'NO-EXPORT-PRODUCT-MISMATCH': () => undefined,
  'NO-EXPORT-MAGISTRAL': ({ m1 }) => {
    const dok = m1.resept.reseptDok;
    return dok.kind === 'ReseptDokLegemiddel' && dok.forskrivning.legemiddel.kind === 'Legemiddelblanding'
      ? { expression: [dok.forskrivning.legemiddel.path] }
      : undefined;
  },
  'NO-EXPORT-MERCHANDISE': ({ m1 }) =>
    m1.resept.reseptDok.kind === 'ReseptDokHandelsvare' ? { expression: [m1.resept.reseptDok.path] } : undefined,
  'NO-EXPORT-UNLICENSED': ({ m1 }) => {
    const dok = m1.resept.reseptDok;
    return dok.kind === 'ReseptDokLegemiddel' && dok.legemiddelUtenMt ? { expression: [`${dok.path}.LegemiddelUtenMt`] } : undefined;
  },
  'NO-EXPORT-LOCKED': flagged('lastResept', 'LastResept'),
  'NO-EXPORT-GUARDIAN-RESERVATION': flagged('vergeinnsynsreservasjon', 'Vergeinnsynsreservasjon'),
  'NO-EXPORT-DOCTORS-NAME': flagged('rekvLegensNavn', 'RekvLegensNavn'),
  'NO-EXPORT-OWN-PRACTICE': flagged('tilEgenPraksis', 'TilEgenPraksis'),
  // MyHealth@EU exchanges prescriptions for people: a veterinarian (9060 VE) prescribes for an animal.
  'NO-EXPORT-VETERINARY': ({ m1 }) =>
    m1.prescriber.category?.code?.trim().toUpperCase() === 'VE'
      ? { expression: [`${m1.prescriber.path}.TypeHealthcareProfessional`], detail: { nb: 'Forskriveren er veterinær.', en: 'The prescriber is a veterinarian.' } }
      : undefined,
  // Utloper is the last day the prescription is valid; it has expired from the day after. RF's status F
  // (Foreldet) says the same whatever the M1's date says.
  'NO-EXPORT-EXPIRED': ({ m1, ctx, today }) =>
    today > m1.resept.utloper
      ? {
          expression: [`${m1.resept.path}.Utloper`],
          detail: { nb: `Utløpsdato ${m1.resept.utloper}.`, en: `Expiry date ${m1.resept.utloper}.` },
        }
      : chainSays(ctx, 'F')
        ? { detail: { nb: 'Reseptformidleren oppgir resepten som foreldet (status F).', en: 'The prescription intermediary lists it as expired (status F).' } }
        : undefined,
  'NO-EXPORT-NOT-YET-DISPENSABLE': ({ m1, today }) => {
    const earliest = m1.resept.tidligsteUtlevering;
    const prescribed = m1.resept.forskrivningsdato.slice(0, 10);
    const paths: string[] = [];
    const nb: string[] = [];
    const en: string[] = [];
    if (earliest !== undefined && today < earliest) {
      paths.push(`${m1.resept.path}.TidligsteUtlevering`);
      nb.push(`Tidligste utlevering ${earliest}.`);
      en.push(`Earliest dispensing ${earliest}.`);
    }
    // A prescription is valid from the day it is written: one dated ahead cannot be dispensed before then.
    if (today < prescribed) {
      paths.push(`${m1.resept.path}.Forskrivningsdato`);
      nb.push(`Forskrivningsdato ${prescribed}.`);
      en.push(`Prescribed on ${prescribed}.`);
    }
    return paths.length ? { expression: paths, detail: { nb: nb.join(' '), en: en.join(' ') } } : undefined;
  },
  'NO-EXPORT-RECALLED': ({ ctx }) =>
    chainSays(ctx, 'T')
      ? { detail: { nb: 'Reseptformidleren oppgir resepten som tilbakekalt (status T).', en: 'The prescription intermediary lists it as recalled (status T).' } }
      : ctx.recalled
        ? {}
        : undefined,
  // RF's status R (Avsluttet): finished, whatever the counts say.
  'NO-EXPORT-NO-DISPENSINGS-LEFT': ({ m1, ctx, totalDispensings, remainingDispensings }) =>
    remainingDispensings <= 0
      ? {
          expression: m1.resept.reseptDok.kind === 'ReseptDokLegemiddel' ? [`${m1.resept.reseptDok.path}.Reiterasjon`] : [],
          detail: {
            nb: `${ctx.dispensingsSoFar} av ${totalDispensings} utleveringer er brukt.`,
            en: `${ctx.dispensingsSoFar} of ${totalDispensings} dispensings have been used.`,
          },
        }
      : chainSays(ctx, 'R')
        ? { detail: { nb: 'Reseptformidleren oppgir resepten som avsluttet (status R).', en: 'The prescription intermediary lists it as finished (status R).' } }
        : undefined,
  // A pharmacy in Norway has the prescription open: dispensing it abroad at the same time risks dispensing twice.
  'NO-EXPORT-BEING-DISPENSED': ({ ctx }) =>
    chainSays(ctx, 'U') ? { detail: { nb: 'Status U (under ekspedering).', en: 'Status U (being dispensed).' } } : undefined,
  'NO-EXPORT-INVALID': ({ ctx }) => (chainSays(ctx, 'X') ? { detail: { nb: 'Status X (ugyldig).', en: 'Status X (invalid).' } } : undefined),
  'NO-EXPORT-UNKNOWN-TO-CHAIN': ({ ctx }) => (ctx.chain?.known === false ? {} : undefined),
  // Any other status (A, B: an application to the medicines agency; H; a code Helsebro does not know) is not
  // one a prescription is dispensed under.
  'NO-EXPORT-CHAIN-STATUS': ({ ctx }) => {
    const status = ctx.chain?.known ? ctx.chain.status : undefined;
    return status !== undefined && !JUDGED_CHAIN_STATUSES.has(status)
      ? { detail: { nb: `Status ${status}.`, en: `Status ${status}.` } }
      : undefined;
  },
  'NO-EXPORT-PATIENT-RESTRICTION': ({ ctx }) => (ctx.patientRestricted ? {} : undefined),
};

// --- the decision --------------------------------------------------------------------------

// Making a DateTimeFormat costs far more than using one (it loads the zone's rules): one per zone.
const dayFormats = new Map<string, Intl.DateTimeFormat>();
const dayFormat = (timeZone: string): Intl.DateTimeFormat => {
  let f = dayFormats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dayFormats.set(timeZone, f);
  }
  return f;
};

/** Today's calendar date in a time zone, as YYYY-MM-DD. */
export function calendarDay(now: Date, timeZone: string): string {
  const parts = dayFormat(timeZone).formatToParts(now);
  const part = (type: string): string => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')}`;
}

export function decideExport(m1: M1Message, ctx: ExportContext): ExportDecision {
  if (!Number.isInteger(ctx.dispensingsSoFar) || ctx.dispensingsSoFar < 0) {
    throw new RangeError(`dispensingsSoFar must be a non-negative integer, not ${ctx.dispensingsSoFar}`);
  }
  if (Number.isNaN(ctx.now.getTime())) throw new RangeError('now is not a valid date');
  const dok = m1.resept.reseptDok;
  const totalDispensings = dok.kind === 'ReseptDokLegemiddel' ? dok.reiterasjon + 1 : 1;
  const remainingDispensings = Math.max(0, totalDispensings - ctx.dispensingsSoFar);
  const today = calendarDay(ctx.now, ctx.timeZone ?? 'Europe/Oslo');
  const e: ExportEvaluation = { m1, ctx, today, totalDispensings, remainingDispensings };
  const reasons: ExportReason[] = [];
  for (const entry of EXPORT_RULE_CATALOGUE) {
    const hit = EXPORT_RULES[entry.code](e);
    if (!hit) continue;
    const reason: ExportReason = { code: entry.code, nb: entry.nb, en: entry.en, expression: hit.expression ?? [] };
    if (hit.detail) reason.detail = hit.detail;
    reasons.push(reason);
  }
  return { exportable: reasons.length === 0, reasons, totalDispensings, remainingDispensings, decidedFor: today };
}

// --- for the API and the docs -----------------------------------------------------------------

export type ReasonLanguage = 'nb' | 'en';

/**
 * The language of refusal reasons an Accept-Language header asks for: bokmål when it ranks a Norwegian
 * tag (nb, no, nn) above English, else English.
 */
export function reasonLanguage(acceptLanguage: string | undefined): ReasonLanguage {
  const ranked = (acceptLanguage ?? '')
    .split(',')
    .map((part, i) => {
      const [tag = '', ...params] = part.trim().toLowerCase().split(';');
      const q = Number(params.find((p) => p.trim().startsWith('q='))?.trim().slice(2) ?? '1');
      return { tag: tag.trim(), q: Number.isFinite(q) ? q : 0, i };
    })
    .filter((x) => x.tag && x.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  for (const { tag } of ranked) {
    if (/^(nb|no|nn)(-|$)/.test(tag)) return 'nb';
    if (/^en(-|$)/.test(tag) || tag === '*') return 'en';
  }
  return 'en';
}

/** One OperationOutcome issue per reason, in the language asked for, with the rule code in details.coding. */
export function exportReasonIssues(decision: ExportDecision, lang: ReasonLanguage = 'en'): OperationOutcomeIssue[] {
  return decision.reasons.map((r) =>
    issue('business-rule', r.detail ? `${r[lang]} ${r.detail[lang]}` : r[lang], {
      ...(r.expression.length ? { expression: r.expression } : {}),
      details: [{ system: EXPORT_RULE_SYSTEM, code: r.code, display: r[lang] }],
    }),
  );
}

/** The 422 Problem for a prescription that may not be exported; undefined when it may. */
export function exportRefusal(decision: ExportDecision, lang: ReasonLanguage = 'en'): Problem | undefined {
  if (decision.exportable) return undefined;
  const base = unprocessable(lang === 'nb' ? 'Resepten kan ikke sendes til utlandet' : 'The prescription cannot be sent abroad');
  return { ...base, issues: exportReasonIssues(decision, lang) };
}

/** The rule catalogue as a FHIR CodeSystem (display in English, a bokmål designation). */
export function exportRuleCodeSystem(): CodeSystem {
  return {
    resourceType: 'CodeSystem',
    url: EXPORT_RULE_SYSTEM,
    name: 'HelsebroExportRule',
    title: 'Helsebro ePrescription export rules',
    status: 'active',
    content: 'complete',
    caseSensitive: true,
    concept: EXPORT_RULE_CATALOGUE.map((r) => ({
      code: r.code,
      display: r.en,
      definition: r.en,
      designation: [{ language: 'nb', value: r.nb }],
    })),
  };
}
