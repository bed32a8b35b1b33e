// The entries of each section as table rows of plain text (the page escapes them): the columns of the
// national concept sketch, in the reader's language where the vocabulary knows a code, and the source of
// every row. Pure.
import type {
  AllergyIntolerance,
  CodeableConcept,
  Condition,
  DeviceUseStatement,
  Extension,
  Flag,
  MedicationStatement,
  Procedure,
  Resource,
} from '@medplum/fhirtypes';
import {
  ALLERGY_CATEGORY,
  ALLERGY_CERTAINTY,
  ALLERGY_CRITICALITY,
  ALLERGY_TYPE,
  allergyCertainty,
  CLINICAL_STATUS,
  codeText as label,
  REACTION_SEVERITY,
} from '../fhir/display-texts.ts';
import { CODE_SYSTEM } from '../fhir/identifiers.ts';
import { EPISODE_SUMMARY_EXT, KJ_TYPE_SYSTEM, SOURCE_TAG_SYSTEM, type ViewSectionKey } from './summary-document.ts';
import { formatDate, type Lang, type Texts } from './text.ts';
import type { ViewVocabulary } from './vocabulary.ts';

export interface RowContext {
  lang: Lang;
  vocabulary: ViewVocabulary;
  resolve(reference: string | undefined): Resource | undefined;
}

export interface Row {
  /** Plain text per column; undefined shows as "not stated". */
  cells: (string | undefined)[];
  /** Marked for the eye (and in words for screen readers): a high-criticality allergy, an active alert. */
  critical?: boolean;
  /** For sorting diagnoses by when they were last seen (yyyy-mm-dd...). */
  lastDate?: string | undefined;
}

export interface Column {
  label: Texts;
  /** The column that names the row (rendered as a row header). */
  rowHeader?: boolean;
}

export const COLUMNS: Record<ViewSectionKey, Column[]> = {
  alerts: [
    { label: { nb: 'Varsel', en: 'Alert' }, rowHeader: true },
    { label: { nb: 'Type', en: 'Type' } },
    { label: { nb: 'Fra', en: 'Since' } },
    { label: { nb: 'Kilde', en: 'Source' } },
  ],
  allergies: [
    { label: { nb: 'Type', en: 'Type' } },
    { label: { nb: 'Hva', en: 'Substance' }, rowHeader: true },
    { label: { nb: 'Reaksjon', en: 'Reaction' } },
    { label: { nb: 'Alvorlighetsgrad', en: 'Severity' } },
    { label: { nb: 'Når', en: 'When' } },
    { label: { nb: 'Kilde', en: 'Source' } },
  ],
  devices: [
    { label: { nb: 'Implantat / utstyr', en: 'Implant / device' }, rowHeader: true },
    { label: { nb: 'Implantert', en: 'Implanted' } },
    { label: { nb: 'Plassering', en: 'Body site' } },
    { label: { nb: 'Merknad', en: 'Note' } },
    { label: { nb: 'Kilde', en: 'Source' } },
  ],
  medications: [
    { label: { nb: 'ATC', en: 'ATC' } },
    { label: { nb: 'Legemiddel', en: 'Medicine' }, rowHeader: true },
    { label: { nb: 'Dosering', en: 'Dosage' } },
    { label: { nb: 'Bruksområde', en: 'Used for' } },
    { label: { nb: 'Startet', en: 'Started' } },
    { label: { nb: 'Kilde', en: 'Source' } },
  ],
  problems: [
    { label: { nb: 'Kode', en: 'Code' } },
    { label: { nb: 'Diagnose / problem', en: 'Diagnosis / problem' }, rowHeader: true },
    { label: { nb: 'Først', en: 'First' } },
    { label: { nb: 'Sist', en: 'Last' } },
    { label: { nb: 'Antall', en: 'Episodes' } },
    { label: { nb: 'Merknad', en: 'Note' } },
    { label: { nb: 'Kilde', en: 'Source' } },
  ],
  procedures: [
    { label: { nb: 'Dato', en: 'Date' } },
    { label: { nb: 'Kode', en: 'Code' } },
    { label: { nb: 'Prosedyre / undersøkelse', en: 'Procedure / examination' }, rowHeader: true },
    { label: { nb: 'Utført ved', en: 'Performed at' } },
    { label: { nb: 'Kilde', en: 'Source' } },
  ],
};

/** The column of the problems table the sort applies to. */
export const PROBLEMS_LAST_COLUMN = 3;

export function rowsFor(key: ViewSectionKey, entries: readonly Resource[], ctx: RowContext): Row[] {
  const of = <T extends Resource['resourceType']>(type: T) => entries.filter((r): r is Extract<Resource, { resourceType: T }> => r.resourceType === type);
  switch (key) {
    case 'alerts':
      return of('Flag').map((f) => alertRow(f, ctx));
    case 'allergies':
      return of('AllergyIntolerance').map((a) => allergyRow(a, ctx));
    case 'devices':
      return of('DeviceUseStatement').map((d) => deviceRow(d, ctx));
    case 'medications':
      return of('MedicationStatement').map((m) => medicationRow(m, ctx));
    case 'problems':
      return of('Condition').map((c) => problemRow(c, ctx));
    case 'procedures':
      return of('Procedure').map((p) => procedureRow(p, ctx));
  }
}

const t = (texts: Texts, lang: Lang): string => texts[lang];
const join = (parts: (string | undefined)[], sep: string): string | undefined => {
  const kept = parts.filter((p): p is string => !!p && p.trim() !== '');
  return kept.length ? kept.join(sep) : undefined;
};

/** The best name of a concept for this reader: the vocabulary's display in their language, then the document's. */
export function conceptText(cc: CodeableConcept | undefined, ctx: Pick<RowContext, 'lang' | 'vocabulary'>): string | undefined {
  if (!cc) return undefined;
  const codings = cc.coding ?? [];
  // The sources describe most codes in Norwegian only; an English reader gets the vocabulary's display first.
  const english = ctx.lang === 'en' ? vocabularyDisplay(codings, ctx) : undefined;
  return english ?? cc.text ?? codings.find((c) => c.display)?.display ?? vocabularyDisplay(codings, ctx) ?? codings.find((c) => c.code)?.code;
}

function vocabularyDisplay(codings: NonNullable<CodeableConcept['coding']>, ctx: Pick<RowContext, 'lang' | 'vocabulary'>): string | undefined {
  for (const c of codings) {
    const d = ctx.vocabulary.display(c.system, c.code, ctx.lang);
    if (d) return d;
  }
  return undefined;
}

/** "ICD-10 G43.0" for every coding in a code system a clinician knows by name. */
export function codesText(cc: CodeableConcept | undefined, ctx: Pick<RowContext, 'vocabulary'>): string | undefined {
  const codes = (cc?.coding ?? [])
    .filter((c) => c.code && c.system && c.system !== KJ_TYPE_SYSTEM)
    .map((c) => {
      const name = ctx.vocabulary.systemName(c.system);
      return name ? `${name} ${c.code}` : undefined;
    });
  return join(codes, ', ');
}

export function sourcesText(r: Resource, ctx: Pick<RowContext, 'lang' | 'vocabulary'>): string | undefined {
  const tags = (r.meta?.tag ?? []).filter((tag) => tag.system === SOURCE_TAG_SYSTEM && tag.code);
  return join(
    tags.map((tag) => ctx.vocabulary.source(tag.code!, ctx.lang)?.short ?? tag.display ?? tag.code),
    ', ',
  );
}

function kjType(categories: CodeableConcept[] | CodeableConcept | undefined, ctx: RowContext): string | undefined {
  const list = Array.isArray(categories) ? categories : categories ? [categories] : [];
  for (const cat of list) {
    const coding = cat.coding?.find((c) => c.system === KJ_TYPE_SYSTEM);
    if (coding) return ctx.vocabulary.display(coding.system, coding.code, ctx.lang) ?? coding.display ?? coding.code;
  }
  return undefined;
}

const notes = (n: { text?: string }[] | undefined): string | undefined => join((n ?? []).map((x) => x.text), ' ');

function alertRow(f: Flag, ctx: RowContext): Row {
  return {
    cells: [conceptText(f.code, ctx), kjType(f.category, ctx), formatDate(f.period?.start, ctx.lang), sourcesText(f, ctx)],
    critical: f.status === 'active',
  };
}

function allergyRow(a: AllergyIntolerance, ctx: RowContext): Row {
  const { lang } = ctx;
  const verification = allergyCertainty(a);
  const type = join(
    [
      join([label(ALLERGY_TYPE, a.type, lang), join((a.category ?? []).map((c) => label(ALLERGY_CATEGORY, c, lang)), ', ')], ' – '),
      label(ALLERGY_CERTAINTY, verification, lang),
      a.clinicalStatus?.coding?.[0]?.code === 'active' ? undefined : label(CLINICAL_STATUS, a.clinicalStatus?.coding?.[0]?.code, lang),
    ],
    ', ',
  );
  const what = join([conceptText(a.code, ctx), codesText(a.code, ctx) ? `(${codesText(a.code, ctx)})` : undefined], ' ');
  const reactions = join(
    (a.reaction ?? []).map((r) => join([join((r.manifestation ?? []).map((m) => conceptText(m, ctx)), ', '), r.description], ': ')),
    '; ',
  );
  const severity = join([label(ALLERGY_CRITICALITY, a.criticality, lang), ...(a.reaction ?? []).map((r) => label(REACTION_SEVERITY, r.severity, lang))], ', ');
  const onset = a.onsetDateTime ?? a.onsetPeriod?.start ?? a.reaction?.find((r) => r.onset)?.onset;
  const when = onset
    ? formatDate(onset, lang)
    : a.onsetString ?? (a.recordedDate ? `${t({ nb: 'registrert', en: 'recorded' }, lang)} ${formatDate(a.recordedDate, lang)}` : undefined);
  return { cells: [type, what, reactions, severity, when, sourcesText(a, ctx)], critical: a.criticality === 'high' };
}

function deviceRow(d: DeviceUseStatement, ctx: RowContext): Row {
  const device = ctx.resolve(d.device?.reference);
  const dev = device?.resourceType === 'Device' ? device : undefined;
  const name = d.device?.display ?? dev?.deviceName?.[0]?.name ?? conceptText(dev?.type, ctx);
  const maker = join([dev?.manufacturer, dev?.modelNumber ? `${t({ nb: 'modell', en: 'model' }, ctx.lang)} ${dev.modelNumber}` : undefined], ', ');
  return {
    cells: [
      join([name, maker ? `(${maker})` : undefined], ' '),
      formatDate(d.timingDateTime ?? d.timingPeriod?.start ?? d.recordedOn, ctx.lang),
      conceptText(d.bodySite, ctx),
      notes(d.note),
      sourcesText(d, ctx),
    ],
  };
}

function medicationRow(m: MedicationStatement, ctx: RowContext): Row {
  const med = ctx.resolve(m.medicationReference?.reference);
  const code = (med?.resourceType === 'Medication' ? med.code : undefined) ?? m.medicationCodeableConcept;
  const atc = code?.coding?.find((c) => c.system === CODE_SYSTEM.atc && c.code);
  const substance = atc ? (ctx.vocabulary.display(atc.system, atc.code, ctx.lang) ?? atc.display) : undefined;
  const name = code?.text ?? m.medicationReference?.display ?? conceptText(code, ctx);
  const dosage = join((m.dosage ?? []).map((d) => d.text ?? d.patientInstruction), '; ');
  const reason = join([...(m.reasonCode ?? []).map((r) => conceptText(r, ctx)), ...(m.reasonReference ?? []).map((r) => r.display)], '; ');
  return {
    cells: [
      atc ? join([atc.code, substance ? `(${substance})` : undefined], ' ') : undefined,
      name,
      dosage,
      reason,
      formatDate(m.effectivePeriod?.start ?? m.effectiveDateTime, ctx.lang),
      sourcesText(m, ctx),
    ],
  };
}

/** Helsebro's registry-episode-summary extension: first seen, last seen, number of episodes. */
export function episodeSummary(c: Condition): { firstSeen?: string; lastSeen?: string; episodes?: number } | undefined {
  const ext = c.extension?.find((e) => e.url === EPISODE_SUMMARY_EXT);
  if (!ext) return undefined;
  const part = (url: string): Extension | undefined => ext.extension?.find((e) => e.url === url);
  const out: { firstSeen?: string; lastSeen?: string; episodes?: number } = {};
  const first = part('firstSeen')?.valueDate;
  const last = part('lastSeen')?.valueDate;
  const episodes = part('episodes')?.valueUnsignedInt;
  if (first) out.firstSeen = first;
  if (last) out.lastSeen = last;
  if (typeof episodes === 'number') out.episodes = episodes;
  return out;
}

function problemRow(c: Condition, ctx: RowContext): Row {
  const { lang } = ctx;
  const ep = episodeSummary(c);
  const first = ep?.firstSeen ?? c.onsetDateTime ?? c.onsetPeriod?.start;
  const last = ep?.lastSeen ?? c.abatementDateTime;
  const status = c.clinicalStatus?.coding?.[0]?.code;
  const note = join([kjType(c.category, ctx), label(CLINICAL_STATUS, status, lang), notes(c.note)], '. ');
  return {
    cells: [
      codesText(c.code, ctx),
      conceptText(c.code, ctx),
      formatDate(first, lang),
      formatDate(last, lang),
      ep?.episodes !== undefined ? String(ep.episodes) : undefined,
      note,
      sourcesText(c, ctx),
    ],
    lastDate: last ?? first,
  };
}

function procedureRow(p: Procedure, ctx: RowContext): Row {
  const { lang } = ctx;
  const date = p.performedDateTime
    ? formatDate(p.performedDateTime, lang)
    : p.performedPeriod?.start
      ? `${t({ nb: 'fra', en: 'since' }, lang)} ${formatDate(p.performedPeriod.start, lang)}`
      : undefined;
  const ongoing = p.status === 'in-progress' ? t({ nb: 'pågår', en: 'ongoing' }, lang) : undefined;
  return {
    cells: [
      join([date, ongoing], ', '),
      codesText(p.code, ctx),
      conceptText(p.code, ctx),
      join((p.performer ?? []).map((x) => x.actor?.display), ', '),
      sourcesText(p, ctx),
    ],
  };
}

export type ProblemSort = 'last-desc' | 'last-asc';
export const isProblemSort = (v: unknown): v is ProblemSort => v === 'last-desc' || v === 'last-asc';

/** Rows by last date, newest or oldest first; rows without a date last either way; ties keep document order. */
export function sortByLastDate(rows: readonly Row[], order: ProblemSort): Row[] {
  const dir = order === 'last-desc' ? -1 : 1;
  return rows
    .map((row, i) => ({ row, i }))
    .sort((a, b) => {
      const da = a.row.lastDate;
      const db = b.row.lastDate;
      if (!da || !db) return da ? -1 : db ? 1 : a.i - b.i;
      if (da === db) return a.i - b.i;
      return (da < db ? -1 : 1) * dir;
    })
    .map((x) => x.row);
}
