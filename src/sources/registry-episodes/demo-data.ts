// NPR and KPR episodes for the demo population, loaded through the same insert path as the daily
// extracts. Institutions are real names with made-up identifiers; everything else is synthetic.
import type { Db } from '../../store/db.ts';
import { PERSONAS } from '../../demo/personas.ts';
import type { Episode, EpisodeProcedure, RegistryKind } from './format.ts';
import { insertEpisodes } from './store.ts';

const HAUKELAND = { system: 'resh' as const, id: '4001031', name: 'Haukeland universitetssjukehus' };
const ST_OLAV = { system: 'resh' as const, id: '4001032', name: 'St. Olavs hospital' };
const SORLANDET = { system: 'resh' as const, id: '4001033', name: 'Sørlandet sykehus Kristiansand' };
const LUNDE_LEGESENTER = { system: 'orgnr' as const, id: '912345670', name: 'Lund legesenter' };
const DRAMMEN_LEGEKONTOR = { system: 'her' as const, id: '8712345', name: 'Bragernes legekontor' };
const TROMSO_LEGESENTER = { system: 'orgnr' as const, id: '912345689', name: 'Sentrum legesenter Tromsø' };

interface Seed {
  registry: RegistryKind;
  fnr: string;
  provider: Episode['provider'];
  dates: Array<string | [string, string]>;
  diagnoses: string[];
  procedures?: Array<{ code: string; on: string }>;
}

function expand(prefix: string, seeds: Seed[]): Episode[] {
  const out: Episode[] = [];
  let n = 0;
  for (const s of seeds) {
    for (const d of s.dates) {
      const [start, end] = Array.isArray(d) ? d : [d, d];
      n += 1;
      const procedures: EpisodeProcedure[] = (s.procedures ?? []).filter((p) => p.on >= start && p.on <= end).map((p) => ({ code: p.code, date: p.on }));
      out.push({
        registry: s.registry,
        id: `${s.registry.toUpperCase()}-DEMO-${prefix}-${String(n).padStart(4, '0')}`,
        fnr: s.fnr,
        start,
        end,
        provider: s.provider,
        diagnoses: s.diagnoses,
        procedures,
      });
    }
  }
  return out;
}

/** The concept sketch's migraine: 21 NPR episodes from 11.03.1993 to 31.10.2024. */
export const MS_MIGRAINE_DATES = [
  '1993-03-11', '1994-10-02', '1996-01-23', '1997-06-14', '1999-02-08', '2000-11-19', '2002-04-30',
  '2004-09-12', '2006-03-03', '2008-01-27', '2009-08-16', '2011-05-09', '2013-02-21', '2014-12-04',
  '2016-07-18', '2018-03-29', '2019-10-10', '2021-01-15', '2022-06-06', '2023-09-25', '2024-10-31',
];

export function demoEpisodes(): Episode[] {
  const ms = PERSONAS.ms.fnr;
  const knee = PERSONAS.knee.fnr;
  const addison = PERSONAS.addison.fnr;
  return [
    ...expand('ms', [
      { registry: 'npr', fnr: ms, provider: HAUKELAND, dates: MS_MIGRAINE_DATES, diagnoses: ['G43.0'] },
      {
        registry: 'npr',
        fnr: ms,
        provider: HAUKELAND,
        dates: [['2008-04-07', '2008-04-11'], '2009-03-16', '2011-09-05', '2013-10-14', '2015-11-30', '2016-02-15', '2018-05-22', '2020-06-08', '2022-09-19', '2025-03-10'],
        diagnoses: ['G35'],
      },
      {
        registry: 'npr',
        fnr: ms,
        provider: HAUKELAND,
        dates: ['2018-11-20', '2019-01-14', ['2019-02-04', '2019-02-05'], ['2019-05-14', '2019-05-15'], '2019-08-26'],
        diagnoses: ['R33'],
        procedures: [
          { code: 'JHGX00', on: '2019-02-04' },
          { code: 'KCX20', on: '2019-05-14' },
        ],
      },
    ]),
    ...expand('knee', [
      {
        registry: 'npr',
        fnr: knee,
        provider: SORLANDET,
        dates: ['2019-06-17', '2020-09-07', ['2021-03-09', '2021-03-12'], '2021-06-14'],
        diagnoses: ['M17.1'],
        procedures: [{ code: 'NGB40', on: '2021-03-09' }],
      },
      {
        registry: 'npr',
        fnr: knee,
        provider: SORLANDET,
        dates: ['2023-01-16', '2023-01-23', '2023-03-06'],
        diagnoses: ['F41.0'],
        procedures: [
          { code: 'SFY0HK', on: '2023-01-16' },
          { code: 'GDFC05', on: '2023-01-16' },
          { code: 'FPFE50', on: '2023-01-23' },
        ],
      },
      {
        registry: 'kpr',
        fnr: knee,
        provider: LUNDE_LEGESENTER,
        dates: ['2017-04-03', '2017-10-12', '2018-05-28', '2019-11-18', '2020-11-23', '2021-11-29', '2022-12-05', '2023-11-27', '2024-12-02', '2025-11-24'],
        diagnoses: ['K86'],
      },
      {
        registry: 'kpr',
        fnr: knee,
        provider: LUNDE_LEGESENTER,
        dates: ['2019-11-18', '2020-11-23', '2022-12-05', '2024-12-02'],
        diagnoses: ['T93'],
      },
    ]),
    ...expand('addison', [
      {
        registry: 'npr',
        fnr: addison,
        provider: ST_OLAV,
        dates: [['2013-05-06', '2013-05-10'], '2013-08-19', '2014-05-12', '2016-05-09', '2018-05-14', ['2021-02-01', '2021-02-03'], '2023-05-08', '2025-05-12'],
        diagnoses: ['E27.1'],
      },
    ]),
    ...expand('reserved', [
      { registry: 'kpr', fnr: PERSONAS.reserved.fnr, provider: TROMSO_LEGESENTER, dates: ['2020-09-14', '2022-03-07', '2024-10-21'], diagnoses: ['R96'] },
    ]),
    ...expand('child', [
      { registry: 'kpr', fnr: PERSONAS.child.fnr, provider: DRAMMEN_LEGEKONTOR, dates: ['2022-01-20', '2023-02-13', '2025-09-01'], diagnoses: ['R96'] },
    ]),
    ...expand('hostile', [
      {
        registry: 'npr',
        fnr: PERSONAS.hostile.fnr,
        provider: { system: 'resh', id: '4001099', name: '<script>alert("npr")</script> Sykehus "A&B" \u202Eesuh\u202C' },
        dates: ['2024-02-29'],
        diagnoses: ['J45.9'],
        procedures: [{ code: 'GDFC05', on: '2024-02-29' }],
      },
    ]),
  ];
}

/** Loads the demo episodes. Idempotent: the episode ids are stable, so a second run inserts nothing. */
export async function seedDemoRegistryEpisodes(db: Db): Promise<number> {
  return db.tx((q) => insertEpisodes(q, demoEpisodes()));
}
