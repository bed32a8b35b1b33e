// Section narratives: one XHTML table per section in Norwegian (default) or English, every piece of
// source text escaped, codes shown with their display, and a closing line naming every source asked and
// how it answered. A reader of the narrative alone must learn what a machine reads from the entries and
// the emptyReason.
import type { Resource } from '@medplum/fhirtypes';
import { escapeXml, xhtmlDiv } from '../fhir/xhtml.ts';
import { formatDate } from '../sections/read.ts';
import { cellsOf } from '../sections/types.ts';
import { KJ_WITHHELD } from '../sources/kjernejournal/adapter.ts';
import { SOURCE_LABEL, type Lang } from '../sources/source.ts';
import type { SourceResult } from './fetch-all.ts';
import type { SectionDef } from './sections.ts';
import { summaryVocabulary } from './vocabulary.ts';

type Texts = Record<Lang, string>;
const t = (texts: Texts, lang: Lang): string => texts[lang];

const WITHHELD_REASON: Record<string, Texts> = {
  [KJ_WITHHELD.reservation]: { nb: 'pasienten har reservert seg mot kjernejournal', en: 'the patient has opted out of Kjernejournal' },
  [KJ_WITHHELD.restriction]: {
    nb: 'pasienten har begrenset tilgangen og samtykke er ikke gitt',
    en: 'the patient has restricted access and no consent was given',
  },
  [KJ_WITHHELD.blocked]: { nb: 'pasienten har sperret tilgang for helsepersonell', en: 'the patient has blocked access for health personnel' },
  // Rule codes of src/auth/access-rules.ts, which the http layer passes as the reason of a withheld decision.
  'ACCESS-KJ-RESERVED': { nb: 'pasienten har reservert seg mot kjernejournal', en: 'the patient has opted out of Kjernejournal' },
  'ACCESS-RESTRICTED': { nb: 'pasienten har begrenset tilgangen til disse opplysningene', en: 'the patient has restricted access to this information' },
  'ACCESS-GUARDIAN-RESERVED': { nb: 'pasienten har reservert seg mot innsyn fra foresatte', en: 'the patient has reserved against access by guardians' },
  'ACCESS-SCOPE': { nb: 'tilgangen omfatter ikke disse opplysningene', en: 'the access granted does not cover this information' },
};

export function withheldReasonText(reason: string, lang: Lang): string {
  return WITHHELD_REASON[reason]?.[lang] ?? reason;
}

export function sourceStateText(r: SourceResult, lang: Lang): string {
  switch (r.status) {
    case 'ok':
      return t({ nb: 'svarte', en: 'answered' }, lang);
    case 'withheld':
      return `${t({ nb: 'holdt tilbake', en: 'withheld' }, lang)}: ${withheldReasonText(r.reason, lang)}`;
    case 'timeout':
      return t({ nb: 'svarte ikke i tide', en: 'did not answer in time' }, lang);
    case 'malformed':
      return t({ nb: 'ga et svar som ikke kunne leses', en: 'gave an answer that could not be read' }, lang);
    case 'failed':
      return t({ nb: 'var ikke tilgjengelig', en: 'was not available' }, lang);
  }
}

export interface NarrativeContext {
  lang: Lang;
  /** The results of the sources this section draws on. */
  sources: readonly SourceResult[];
  /** Every resource of the document, by `Type/id`, to resolve Medication and Device references. */
  resolve: (reference: string | undefined) => Resource | undefined;
  /** Set when an access rule withheld the whole section. */
  sectionWithheld?: string;
}

export function sectionNarrative(def: SectionDef, entries: readonly Resource[], ctx: NarrativeContext): string {
  const { lang } = ctx;
  const parts: string[] = [];
  if (ctx.sectionWithheld !== undefined) {
    parts.push(p(`${t({ nb: 'Opplysningene i denne seksjonen er holdt tilbake', en: 'The information in this section is withheld' }, lang)}: ${withheldReasonText(ctx.sectionWithheld, lang)}.`));
  } else if (entries.length) {
    parts.push(table(def, entries, ctx));
  } else {
    parts.push(p(emptyText(ctx)));
  }
  parts.push(sourcesLine(ctx));
  return xhtmlDiv(parts.join(''), lang);
}

function emptyText(ctx: NarrativeContext): string {
  const { lang } = ctx;
  const failed = ctx.sources.filter((s) => s.status === 'failed' || s.status === 'timeout' || s.status === 'malformed');
  const withheld = ctx.sources.filter((s) => s.status === 'withheld');
  if (!ctx.sources.length) {
    return t({ nb: 'Ingen kilde for denne seksjonen ble spurt.', en: 'No source for this section was asked.' }, lang);
  }
  if (failed.length) {
    return t(
      {
        nb: 'Opplysninger mangler fordi en kilde ikke kunne leses. Fravær av opplysninger her betyr ikke at pasienten ikke har slike.',
        en: 'Information is missing because a source could not be read. Absence of information here does not mean the patient has none.',
      },
      lang,
    );
  }
  if (withheld.length) {
    return t(
      { nb: 'Opplysningene er holdt tilbake. Fravær av opplysninger her betyr ikke at pasienten ikke har slike.', en: 'The information is withheld. Absence of information here does not mean the patient has none.' },
      lang,
    );
  }
  return t(
    {
      nb: 'Ingen opplysninger funnet i kildene som ble spurt. Det betyr ikke at pasienten ikke har slike.',
      en: 'No information was found in the sources asked. This does not mean the patient has none.',
    },
    lang,
  );
}

function sourcesLine(ctx: NarrativeContext): string {
  if (!ctx.sources.length) return '';
  const label = t({ nb: 'Kilder spurt', en: 'Sources asked' }, ctx.lang);
  const items = ctx.sources.map((s) => `${escapeXml(SOURCE_LABEL[s.source][ctx.lang])}: ${escapeXml(sourceStateText(s, ctx.lang))}`);
  return `<p><i>${label}: ${items.join('; ')}.</i></p>`;
}

const p = (text: string): string => `<p>${escapeXml(text)}</p>`;

/** The section's entries as the rows of its narrative columns, plain text (the caller escapes). */
export function narrativeTable(def: SectionDef, entries: readonly Resource[], ctx: Pick<NarrativeContext, 'lang' | 'resolve'>): { headers: string[]; rows: (string | undefined)[][] } {
  const rowCtx = { lang: ctx.lang, vocabulary: summaryVocabulary, resolve: ctx.resolve };
  return {
    headers: def.narrative.map((f) => def.fields[f]![ctx.lang]),
    rows: entries.map((e) => cellsOf(def.row(e, rowCtx), def.narrative)),
  };
}

function table(def: SectionDef, entries: readonly Resource[], ctx: NarrativeContext): string {
  const { headers, rows } = narrativeTable(def, entries, ctx);
  const head = headers.map((h) => `<th>${escapeXml(h)}</th>`).join('');
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${c ? escapeXml(c) : ''}</td>`).join('')}</tr>`).join('');
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}

/** Composition-level narrative: who, when and by what, without repeating the sections. */
export function compositionNarrative(args: { title: string; patientName: string; birthDate?: string; date: string; lang: Lang }): string {
  const { lang } = args;
  const born = args.birthDate ? `, ${t({ nb: 'født', en: 'born' }, lang)} ${formatDate(args.birthDate, lang)}` : '';
  const made = t({ nb: 'Satt sammen automatisk av Helsebro', en: 'Assembled automatically by Helsebro' }, lang);
  return xhtmlDiv(`<p><b>${escapeXml(args.title)}</b>: ${escapeXml(args.patientName)}${escapeXml(born)}. ${escapeXml(made)} ${escapeXml(formatDate(args.date, lang) ?? '')}.</p>`, lang);
}
