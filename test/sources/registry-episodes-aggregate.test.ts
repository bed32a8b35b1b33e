import type { Condition, Procedure } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CODE_SYSTEM } from '../../src/fhir/identifiers.ts';
import { PERSONAS } from '../../src/demo/personas.ts';
import { EPISODE_SUMMARY_EXT, IPS_PROFILE } from '../../src/sources/ips.ts';
import {
  aggregateDiagnoses,
  diagnosisCondition,
  episodeProcedures,
  mapEpisodes,
  mergeEpisodeConditions,
  readEpisodeSummary,
} from '../../src/sources/registry-episodes/aggregate.ts';
import { demoEpisodes, MS_MIGRAINE_DATES } from '../../src/sources/registry-episodes/demo-data.ts';
import type { Episode } from '../../src/sources/registry-episodes/format.ts';
import { sourcesOf } from '../../src/sources/source.ts';

const patient = { id: 'ms', fnr: PERSONAS.ms.fnr };
const ep = (over: Partial<Episode>): Episode => ({
  registry: 'npr',
  id: 'e',
  fnr: patient.fnr,
  start: '2020-01-01',
  provider: { system: 'resh', id: '1' },
  diagnoses: [],
  procedures: [],
  ...over,
});

describe('diagnosis aggregation', () => {
  it("gives the MS persona's migraine as in the concept sketch: 11.03.1993 - 31.10.2024, 21 episodes", () => {
    const ms = demoEpisodes().filter((e) => e.fnr === PERSONAS.ms.fnr);
    const g430 = aggregateDiagnoses(ms).find((a) => a.code === 'G43.0')!;
    expect(g430).toEqual({ system: CODE_SYSTEM.icd10, code: 'G43.0', firstSeen: '1993-03-11', lastSeen: '2024-10-31', episodes: 21, registries: ['npr'] });
    expect(MS_MIGRAINE_DATES).toHaveLength(21);
  });

  it('uses the end of the last episode and counts a code once per episode', () => {
    const aggs = aggregateDiagnoses([
      ep({ id: '1', start: '2021-03-09', end: '2021-03-12', diagnoses: ['M17.1', 'M17.1'] }),
      ep({ id: '2', start: '2019-06-17', diagnoses: ['M17.1'] }),
    ]);
    expect(aggs).toEqual([{ system: CODE_SYSTEM.icd10, code: 'M17.1', firstSeen: '2019-06-17', lastSeen: '2021-03-12', episodes: 2, registries: ['npr'] }]);
  });

  it('keeps ICD-10 from NPR and ICPC-2 from KPR apart', () => {
    const aggs = aggregateDiagnoses([ep({ registry: 'npr', diagnoses: ['K86'] }), ep({ registry: 'kpr', diagnoses: ['K86'] })]);
    expect(aggs.map((a) => a.system).sort()).toEqual([CODE_SYSTEM.icd10, CODE_SYSTEM.icpc2].sort());
  });

  it('counts, for any set of episodes, each code once per episode that has it, between its earliest and latest date', () => {
    const date = fc.integer({ min: 0, max: 20000 }).map((d) => new Date(Date.UTC(1970, 0, 1 + d)).toISOString().slice(0, 10));
    const arbEpisode = fc.record({ start: date, diagnoses: fc.subarray(['G43.0', 'G35', 'R33', 'E27.1'], { minLength: 1 }) });
    fc.assert(
      fc.property(fc.array(arbEpisode, { minLength: 1, maxLength: 60 }), (raw) => {
        const episodes = raw.map((r, i) => ep({ id: String(i), start: r.start, diagnoses: r.diagnoses }));
        for (const a of aggregateDiagnoses(episodes)) {
          const having = episodes.filter((e) => e.diagnoses.includes(a.code));
          expect(a.episodes).toBe(having.length);
          expect(a.firstSeen).toBe(having.map((e) => e.start).sort()[0]);
          expect(a.lastSeen).toBe(having.map((e) => e.start).sort().at(-1));
        }
      }),
    );
  });
});

describe('registry resources', () => {
  it('makes one IPS Condition per code with onset, Helsebro episode-summary extension, display and source tag', () => {
    const [agg] = aggregateDiagnoses(demoEpisodes().filter((e) => e.fnr === PERSONAS.ms.fnr && e.diagnoses.includes('G43.0')));
    const c = diagnosisCondition(agg!, patient);
    expect(c.meta?.profile).toEqual([IPS_PROFILE.condition]);
    expect(sourcesOf(c)).toEqual(['npr']);
    expect(c.onsetDateTime).toBe('1993-03-11');
    expect(c.code).toEqual({ coding: [{ system: CODE_SYSTEM.icd10, code: 'G43.0', display: 'Migrene uten aura' }], text: 'Migrene uten aura' });
    expect(c.extension?.[0]?.url).toBe(EPISODE_SUMMARY_EXT);
    expect(readEpisodeSummary(c)).toEqual({ firstSeen: '1993-03-11', lastSeen: '2024-10-31', episodes: 21, registries: ['npr'] });
    expect(c.subject).toEqual({ reference: 'Patient/ms' });
  });

  it('makes one Procedure per code and date, naming the institution by its RESH id', () => {
    const procs = episodeProcedures(
      [
        ep({ id: '1', start: '2019-05-14', procedures: [{ code: 'KCX20', date: '2019-05-14' }], provider: { system: 'resh', id: '4001031', name: 'Haukeland' } }),
        ep({ id: '2', start: '2019-05-14', procedures: [{ code: 'KCX20', date: '2019-05-14' }] }),
        ep({ id: '3', start: '2019-02-04', procedures: [{ code: 'JHGX00', date: '2019-02-04' }] }),
      ],
      patient,
    );
    expect(procs.map((p: Procedure) => [p.code?.coding?.[0]?.code, p.performedDateTime])).toEqual([
      ['JHGX00', '2019-02-04'],
      ['KCX20', '2019-05-14'],
    ]);
    expect(procs[1]!.performer?.[0]?.actor).toMatchObject({ identifier: { system: 'urn:oid:2.16.578.1.12.4.1.4.102', value: '4001031' }, display: 'Haukeland' });
    expect(procs[1]!.code?.coding?.[0]?.system).toBe(CODE_SYSTEM.nkpk);
  });

  it('merges the same code from NPR and KPR into one Condition with both sources', () => {
    const npr = mapEpisodes([ep({ id: '1', start: '2010-01-01', diagnoses: ['G35'] }), ep({ id: '2', start: '2012-01-01', diagnoses: ['G35'] })], patient);
    // KPR reports ICPC-2; a KPR diagnosis with the same system and code as NPR's is the case merged here.
    const kpr = mapEpisodes([ep({ id: '3', registry: 'kpr', start: '2008-05-05', end: '2008-05-05', diagnoses: ['G35'] })], patient).map(
      (c): Condition => ({ ...(c as Condition), code: { coding: [{ system: CODE_SYSTEM.icd10, code: 'G35' }] } }),
    );
    const merged = mergeEpisodeConditions([...npr, ...kpr]);
    expect(merged).toHaveLength(1);
    expect(readEpisodeSummary(merged[0] as Condition)).toEqual({ firstSeen: '2008-05-05', lastSeen: '2012-01-01', episodes: 3, registries: ['npr', 'kpr'] });
    expect(sourcesOf(merged[0]!).sort()).toEqual(['kpr', 'npr']);
    expect((merged[0] as Condition).onsetDateTime).toBe('2008-05-05');
  });

  it('aggregates 10,000 episodes of one patient into one Condition', () => {
    const episodes = Array.from({ length: 10_000 }, (_, i) =>
      ep({ id: String(i), start: new Date(Date.UTC(1990, 0, 1 + i)).toISOString().slice(0, 10), diagnoses: ['G43.0'] }),
    );
    const resources = mapEpisodes(episodes, patient);
    expect(resources).toHaveLength(1);
    expect(readEpisodeSummary(resources[0] as Condition)).toEqual({ firstSeen: '1990-01-01', lastSeen: episodes[9_999]!.start, episodes: 10_000, registries: ['npr'] });
    expect(episodes[9_999]!.start).toBe('2017-05-18');
  });
});
