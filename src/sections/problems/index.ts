// Problems and diagnoses (IPS sectionProblems, LOINC 11450-4): Kjernejournal's critical conditions and the
// registry diagnoses aggregated per code (first seen, last seen, number of episodes).
import type { Condition, Resource } from '@medplum/fhirtypes';
import { CLINICAL_STATUS, codeText as label } from '../../fhir/display-texts.ts';
import { codesText, conceptText, episodeSummary, formatDate, join, kjType, newestFirst, notes, sourceCodes, sourcesText, t } from '../read.ts';
import type { SectionModule } from '../types.ts';

type Field = 'code' | 'name' | 'period' | 'first' | 'last' | 'episodes' | 'note' | 'source';

export const problems: SectionModule<Field> = {
  key: 'problems',
  slice: 'sectionProblems',
  loinc: '11450-4',
  loincDisplay: 'Problem list - Reported',
  title: { nb: 'Problemer og diagnoser', en: 'Problem list' },
  required: true,
  entryTypes: ['Condition'],
  sources: ['kjernejournal', 'npr', 'kpr'],
  // Kjernejournal's critical information first, then registry diagnoses, most recently seen first.
  sort: (entries) =>
    [...entries].sort((a, b) => {
      const ka = sourceCodes(a).includes('kjernejournal') ? 0 : 1;
      const kb = sourceCodes(b).includes('kjernejournal') ? 0 : 1;
      if (ka !== kb) return ka - kb;
      return newestFirst(lastSeen(a), lastSeen(b));
    }),
  fields: {
    code: { nb: 'Kode', en: 'Code' },
    name: { nb: 'Diagnose / problem', en: 'Diagnosis / problem' },
    period: { nb: 'Tidsrom', en: 'Period' },
    first: { nb: 'Først', en: 'First' },
    last: { nb: 'Sist', en: 'Last' },
    episodes: { nb: 'Antall', en: 'Episodes' },
    note: { nb: 'Merknad', en: 'Note' },
    source: { nb: 'Kilde', en: 'Source' },
  },
  row(entry, ctx) {
    const c = entry as Condition;
    const { lang } = ctx;
    const ep = episodeSummary(c);
    const first = ep?.firstSeen ?? c.onsetDateTime ?? c.onsetPeriod?.start;
    const last = ep?.lastSeen ?? c.abatementDateTime;
    const count =
      ep?.episodes === undefined
        ? undefined
        : lang === 'nb'
          ? `${ep.episodes} ${ep.episodes === 1 ? 'oppføring' : 'oppføringer'}`
          : `${ep.episodes} ${ep.episodes === 1 ? 'episode' : 'episodes'}`;
    const span = ep?.firstSeen && ep.lastSeen && ep.firstSeen !== ep.lastSeen ? `${formatDate(ep.firstSeen, lang)} – ${formatDate(ep.lastSeen, lang)}` : formatDate(ep?.firstSeen, lang);
    const period = ep ? join([span, count], ', ') : c.onsetDateTime ? `${t({ nb: 'fra', en: 'since' }, lang)} ${formatDate(c.onsetDateTime, lang)}` : undefined;
    return {
      values: {
        code: codesText(c.code, ctx),
        name: conceptText(c.code, ctx),
        period,
        first: formatDate(first, lang),
        last: formatDate(last, lang),
        episodes: ep?.episodes !== undefined ? String(ep.episodes) : undefined,
        note: join([kjType(c.category, ctx), label(CLINICAL_STATUS, c.clinicalStatus?.coding?.[0]?.code, lang), notes(c.note)], '. '),
        source: sourcesText(c, ctx),
      },
      lastDate: last ?? first,
    };
  },
  narrative: ['name', 'code', 'period', 'note', 'source'],
  view: ['code', 'name', 'first', 'last', 'episodes', 'note', 'source'],
  viewRowHeader: 'name',
};

function lastSeen(r: Resource): string | undefined {
  const c = r as Condition;
  return episodeSummary(c)?.lastSeen ?? c.onsetDateTime;
}
