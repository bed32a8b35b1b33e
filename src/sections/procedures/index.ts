// History of procedures (IPS sectionProceduresHx, LOINC 47519-4): Kjernejournal's ongoing treatment before
// the registry procedures, newest first.
import type { Procedure } from '@medplum/fhirtypes';
import { codesText, conceptText, formatDate, join, newestFirst, sourcesText, t } from '../read.ts';
import type { SectionModule } from '../types.ts';

type Field = 'date' | 'code' | 'name' | 'performer' | 'source';

const date = (p: Procedure): string | undefined => p.performedDateTime ?? p.performedPeriod?.start;
const ongoing = (p: Procedure): number => (p.status === 'in-progress' ? 0 : 1);

export const procedures: SectionModule<Field> = {
  key: 'procedures',
  slice: 'sectionProceduresHx',
  loinc: '47519-4',
  loincDisplay: 'History of Procedures Document',
  title: { nb: 'Prosedyrer og behandling', en: 'History of procedures' },
  required: false,
  entryTypes: ['Procedure'],
  sources: ['kjernejournal', 'npr', 'kpr'],
  sort: (entries) =>
    [...(entries as Procedure[])].sort((a, b) => (ongoing(a) !== ongoing(b) ? ongoing(a) - ongoing(b) : newestFirst(date(a), date(b)))),
  fields: {
    date: { nb: 'Dato', en: 'Date' },
    code: { nb: 'Kode', en: 'Code' },
    name: { nb: 'Prosedyre / undersøkelse', en: 'Procedure / examination' },
    performer: { nb: 'Utført ved', en: 'Performed at' },
    source: { nb: 'Kilde', en: 'Source' },
  },
  row(entry, ctx) {
    const p = entry as Procedure;
    const { lang } = ctx;
    const when = p.performedDateTime
      ? formatDate(p.performedDateTime, lang)
      : p.performedPeriod?.start
        ? `${t({ nb: 'fra', en: 'since' }, lang)} ${formatDate(p.performedPeriod.start, lang)}`
        : undefined;
    return {
      values: {
        date: join([when, p.status === 'in-progress' ? t({ nb: 'pågår', en: 'ongoing' }, lang) : undefined], ', '),
        code: codesText(p.code, ctx),
        name: conceptText(p.code, ctx),
        performer: join((p.performer ?? []).map((x) => x.actor?.display), ', '),
        source: sourcesText(p, ctx),
      },
    };
  },
  narrative: ['name', 'code', 'date', 'performer', 'source'],
  view: ['date', 'code', 'name', 'performer', 'source'],
  viewRowHeader: 'name',
};
