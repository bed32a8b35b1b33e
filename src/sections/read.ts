// Reading an entry of a summary document the way any consumer does: concepts named in the reader's
// language, codes by the system name a clinician knows, the sources tagged on it, Helsebro's episode
// summary of a registry diagnosis. Pure; shared by every section module.
import type { CodeableConcept, Condition, Extension, Resource } from '@medplum/fhirtypes';
import { HELSEBRO_NS } from '../fhir/identifiers.ts';
import type { Lang, RowContext, Texts } from './types.ts';

// Canonical URLs Helsebro publishes inside its documents (written by src/sources/; a test keeps them equal).
export const SOURCE_TAG_SYSTEM = `${HELSEBRO_NS}/CodeSystem/summary-source`;
export const EPISODE_SUMMARY_EXT = `${HELSEBRO_NS}/StructureDefinition/registry-episode-summary`;
export const KJ_TYPE_SYSTEM = `${HELSEBRO_NS}/CodeSystem/kj-critical-info-type`;

export const t = (texts: Texts, lang: Lang): string => texts[lang];

/** The kept parts joined, or undefined when nothing is left. */
export const join = (parts: (string | undefined)[], sep: string): string | undefined => {
  const kept = parts.filter((p): p is string => !!p && p.trim() !== '');
  return kept.length ? kept.join(sep) : undefined;
};

/** A FHIR date or dateTime (or a partial one: year, year-month) as dd.mm.yyyy, or ISO order in English. */
export function formatDate(value: string | undefined, lang: Lang): string | undefined {
  if (!value) return undefined;
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?/.exec(value);
  if (!m) return undefined;
  const [, y, mo, d] = m;
  if (lang === 'en') return d ? `${y}-${mo}-${d}` : mo ? `${y}-${mo}` : y;
  return d ? `${d}.${mo}.${y}` : mo ? `${mo}.${y}` : y;
}

type NameContext = Pick<RowContext, 'lang' | 'vocabulary'>;

/** The best name of a concept for this reader: the vocabulary's display in their language, then the document's. */
export function conceptText(cc: CodeableConcept | undefined, ctx: NameContext): string | undefined {
  if (!cc) return undefined;
  const codings = cc.coding ?? [];
  // The sources describe most codes in Norwegian only; an English reader gets the vocabulary's display first.
  const english = ctx.lang === 'en' ? vocabularyDisplay(codings, ctx) : undefined;
  return english ?? cc.text ?? codings.find((c) => c.display)?.display ?? vocabularyDisplay(codings, ctx) ?? codings.find((c) => c.code)?.code;
}

function vocabularyDisplay(codings: NonNullable<CodeableConcept['coding']>, ctx: NameContext): string | undefined {
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

/** The source tag codes of an entry ("npr", "kjernejournal"). */
export const sourceCodes = (r: Resource): string[] =>
  (r.meta?.tag ?? []).filter((tag) => tag.system === SOURCE_TAG_SYSTEM && tag.code).map((tag) => tag.code!);

export function sourcesText(r: Resource, ctx: NameContext): string | undefined {
  const tags = (r.meta?.tag ?? []).filter((tag) => tag.system === SOURCE_TAG_SYSTEM && tag.code);
  return join(
    tags.map((tag) => ctx.vocabulary.source(tag.code!, ctx.lang)?.short ?? tag.display ?? tag.code),
    ', ',
  );
}

/** Kjernejournal's type of critical information, from a category. */
export function kjType(categories: CodeableConcept[] | CodeableConcept | undefined, ctx: NameContext): string | undefined {
  const list = Array.isArray(categories) ? categories : categories ? [categories] : [];
  for (const cat of list) {
    const coding = cat.coding?.find((c) => c.system === KJ_TYPE_SYSTEM);
    if (coding) return ctx.vocabulary.display(coding.system, coding.code, ctx.lang) ?? coding.display ?? coding.code;
  }
  return undefined;
}

export const notes = (n: { text?: string }[] | undefined): string | undefined => join((n ?? []).map((x) => x.text), ' ');

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

/** Newest first by a date string; missing dates last. */
export const newestFirst = (a: string | undefined, b: string | undefined): number => (b ?? '').localeCompare(a ?? '');
