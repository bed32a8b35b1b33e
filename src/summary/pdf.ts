// The patient summary as a readable PDF (the eHDSI Level 1 body): the same document $summary answers,
// in its language, each section with the same columns and rows as its narrative, or the statement why
// it has none, and the sources asked.
import type { Bundle, CompositionSection, Resource } from '@medplum/fhirtypes';
import { sourcesLineOf } from '../fhir/xhtml.ts';
import { renderPdf, type PdfSection } from '../pdf/document.ts';
import { SECTION_MODULES, cellsOf } from '../sections/index.ts';
import { formatDate } from '../sections/read.ts';
import type { Lang } from '../sources/source.ts';
import { summaryVocabulary } from './vocabulary.ts';

const T = {
  title: { nb: 'Pasientsammendrag', en: 'Patient Summary' },
  name: { nb: 'Navn', en: 'Name' },
  born: { nb: 'Født', en: 'Date of birth' },
  id: { nb: 'Fødselsnummer', en: 'Personal identity number (Norway)' },
  made: { nb: 'Laget', en: 'Created' },
  by: { nb: 'Satt sammen automatisk av Helsebro fra nasjonale kilder', en: 'Assembled automatically by Helsebro from the Norwegian national sources' },
  notStated: { nb: 'ikke oppgitt', en: 'not stated' },
} as const;

export async function summaryPdf(document: Bundle): Promise<Uint8Array> {
  const entries = document.entry ?? [];
  const composition = entries[0]?.resource;
  if (composition?.resourceType !== 'Composition') throw new Error('the summary is not an IPS document');
  const byUrl = new Map<string, Resource>();
  for (const e of entries) if (e.fullUrl && e.resource) byUrl.set(e.fullUrl, e.resource);
  const resolve = (ref: string | undefined): Resource | undefined => (ref ? byUrl.get(ref) : undefined);
  const lang: Lang = composition.language === 'en' ? 'en' : 'nb';
  const found = resolve(composition.subject?.reference);
  const patient = found?.resourceType === 'Patient' ? found : undefined;
  const name = patient?.name?.[0];
  const fnr = patient?.identifier?.find((i) => i.system === 'urn:oid:2.16.578.1.12.4.1.4.1' || i.system === 'urn:oid:2.16.578.1.12.4.1.4.2')?.value;
  const rowCtx = { lang, vocabulary: summaryVocabulary, resolve };
  const sections: PdfSection[] = (composition.section ?? []).map((s: CompositionSection) => {
    const module = SECTION_MODULES.find((m) => s.code?.coding?.some((c) => c.code === m.loinc));
    const sectionEntries = (s.entry ?? []).map((r) => resolve(r.reference)).filter((r): r is Resource => r !== undefined);
    const sources = s.text?.div ? sourcesLineOf(s.text.div) : undefined;
    const heading = s.title ?? module?.title[lang] ?? '';
    if (!module || !sectionEntries.length) return { heading, paragraphs: [s.emptyReason?.text ?? '', ...(sources ? [sources] : [])].filter(Boolean) };
    return {
      heading,
      table: {
        headers: module.narrative.map((f) => module.fields[f]![lang]),
        rows: sectionEntries.map((e) => cellsOf(module.row(e, rowCtx), module.narrative)),
      },
      ...(sources ? { paragraphs: [sources] } : {}),
    };
  });
  return renderPdf({
    title: T.title[lang],
    lang,
    header: [
      { label: T.name[lang], value: name ? (name.text ?? [...(name.given ?? []), name.family].filter(Boolean).join(' ')) : undefined },
      { label: T.born[lang], value: formatDate(patient?.birthDate, lang) },
      { label: T.id[lang], value: fnr },
      { label: T.made[lang], value: formatDate(composition.date, lang) },
    ],
    sections,
    footer: `${T.title[lang]} - ${T.by[lang]}`,
    notStated: T.notStated[lang],
  });
}
