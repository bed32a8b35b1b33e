// The IPS sections of the summary come from their modules in src/sections/ (one folder each, owning
// the section's entries, narrative fields, view rows and CDA section); this is the summary's view of them.
import { SECTION_MODULES, type AnySectionModule } from '../sections/index.ts';
import type { Lang } from '../sources/source.ts';

export { SECTION_KEYS, type SectionKey } from '../sections/index.ts';

export type SectionDef = AnySectionModule;

export const SECTIONS: readonly SectionDef[] = SECTION_MODULES;

export const sectionFor = (type: string): SectionDef | undefined => SECTIONS.find((s) => (s.entryTypes as readonly string[]).includes(type));

/** Resource types a plain search may ask for (`GET [base]/{type}?patient=`). */
export const SEARCHABLE_TYPES = SECTIONS.flatMap((s) => s.entryTypes);

/** "nb" unless the client prefers English (the NCP case): `Accept-Language: en` or `en-GB;q=0.9, nb;q=0.5`. */
export function pickLanguage(acceptLanguage: string | undefined): Lang {
  if (!acceptLanguage) return 'nb';
  let best: { lang: Lang; q: number } | undefined;
  for (const part of acceptLanguage.split(',')) {
    const [tag = '', ...params] = part.trim().split(';');
    const q = Number(params.find((p) => p.trim().startsWith('q='))?.trim().slice(2) ?? '1');
    const primary = tag.trim().toLowerCase().split('-')[0];
    const lang: Lang | undefined = primary === 'en' ? 'en' : primary === 'nb' || primary === 'no' || primary === 'nn' ? 'nb' : undefined;
    if (lang && Number.isFinite(q) && q > 0 && (!best || q > best.q)) best = { lang, q };
  }
  return best?.lang ?? 'nb';
}
