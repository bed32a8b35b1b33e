import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { Condition } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkDigits } from '../../src/fhir/identifiers.ts';
import { PERSONAS } from '../../src/demo/personas.ts';
import { registryEpisodeSource } from '../../src/sources/registry-episodes/adapter.ts';
import { readEpisodeSummary } from '../../src/sources/registry-episodes/aggregate.ts';
import { ingestCommand } from '../../src/sources/registry-episodes/cli.ts';
import { demoEpisodes, seedDemoRegistryEpisodes } from '../../src/sources/registry-episodes/demo-data.ts';
import { ingestEpisodes, type IngestProgress } from '../../src/sources/registry-episodes/ingest.ts';
import { EPISODES_BY_PATIENT_SQL, readEpisodes } from '../../src/sources/registry-episodes/store.ts';
import type { Db } from '../../src/store/db.ts';
import { assembleSummary } from '../../src/summary/assemble.ts';
import { engines, getTestDb } from '../support/db.ts';
import { validateIpsDocument } from '../support/ips-validate.ts';

const dir = mkdtempSync(join(tmpdir(), 'helsebro-ingest-'));
const never = new AbortController().signal;

/** A synthetic fødselsnummer (month + 80) no other test uses, with valid check digits. */
function freshFnr(seed: number): string {
  for (let individual = seed % 500; ; individual = (individual + 1) % 500) {
    const stem = `1593${75 + (seed % 20)}${String(individual).padStart(3, '0')}`.replace(/^(\d{2})(\d{2})/, (_m, d: string) => `${d}${88}`);
    const k = checkDigits(stem);
    if (k) return stem + k;
  }
}

function sink(): Writable & { text: () => string } {
  const chunks: string[] = [];
  const w = new Writable({
    write(c: Buffer, _e, cb) {
      chunks.push(c.toString());
      cb();
    },
  }) as Writable & { text: () => string };
  w.text = () => chunks.join('');
  return w;
}

describe.each(engines)('NPR/KPR extract loading (%s)', (engine) => {
  let db: Db;
  beforeAll(async () => {
    db = await getTestDb(engine);
  });

  it('loads good lines, rejects bad ones with their line numbers, and loads nothing twice', async () => {
    const fnr = freshFnr(1 + engine.length);
    const run = `${engine}-${Date.now()}`;
    const line = (id: string, start: string, codes: string[]) =>
      JSON.stringify({ id: `${run}-${id}`, fnr, start, institution: { resh: '4001031', name: 'Haukeland universitetssjukehus' }, diagnoses: codes });
    const path = join(dir, `npr-${run}.ndjson`);
    writeFileSync(
      path,
      [
        line('1', '2024-01-10', ['G43.0']),
        '{"broken json',
        line('2', '2024-02-11', ['G430', 'R33']),
        '',
        line('3', '2024-13-01', ['G43.0']),
        line('1', '2024-01-10', ['G43.0']), // the same episode again
        JSON.stringify({ id: `${run}-4`, fnr: '12345678901', start: '2024-03-01', institution: { resh: '1' }, diagnoses: ['G35'] }),
      ].join('\n') + '\n',
    );
    const progress: IngestProgress[] = [];
    const first = await ingestEpisodes(db, 'npr', path, (p) => progress.push(p));
    expect(first).toMatchObject({ registry: 'npr', lines: 7, loaded: 2, duplicates: 1, rejectedCount: 3 });
    expect(first.rejected.map((e) => e.line)).toEqual([2, 5, 7]);
    expect(first.rejected[1]!.message).toContain('start');
    expect(progress.at(-1)).toMatchObject({ bytes: progress.at(-1)!.totalBytes });

    const again = await ingestEpisodes(db, 'npr', path);
    expect(again).toMatchObject({ loaded: 0, duplicates: 3, rejectedCount: 3 });

    const stored = await readEpisodes(db, 'npr', fnr);
    expect(stored.map((e) => [e.start, e.diagnoses])).toEqual([
      ['2024-01-10', ['G43.0']],
      ['2024-02-11', ['G43.0', 'R33']],
    ]);
    expect(await readEpisodes(db, 'kpr', fnr)).toEqual([]);
  });

  it('runs as `helsebro ingest` with a summary, exit codes and usage errors', async () => {
    const fnr = freshFnr(40 + engine.length);
    const path = join(dir, `kpr-${engine}-${Date.now()}.ndjson`);
    writeFileSync(path, `${JSON.stringify({ id: `cli-${engine}-${Date.now()}`, fnr, start: '2023-11-27', practice: { herId: '8712345' }, diagnoses: ['K86'] })}\nnot json\n`);
    const out = sink();
    const err = sink();
    expect(await ingestCommand(['kpr', path], db, { stdout: out, stderr: err })).toBe(1);
    expect(out.text()).toContain('kpr: 2 lines read, 1 episodes loaded, 0 already present, 1 rejected');
    expect(out.text()).toContain('line 2: not valid JSON');
    expect(out.text()).not.toContain(fnr);
    expect(await ingestCommand(['kpr', path], db, { stdout: sink(), stderr: sink() })).toBe(1);
    expect(await ingestCommand(['xyz', path], db, { stdout: sink(), stderr: err })).toBe(2);
    expect(err.text()).toContain('usage: npx helsebro ingest npr|kpr FILE');
    expect(await ingestCommand(['npr'], db, { stdout: sink(), stderr: sink() })).toBe(2);
    expect(await ingestCommand(['npr', join(dir, 'missing.ndjson')], db, { stdout: sink(), stderr: sink() })).toBe(2);
  });

  it('summarises a patient with 10,000 NPR episodes into one Condition per code', async () => {
    const fnr = freshFnr(77 + engine.length);
    const run = `big-${engine}-${Date.now()}`;
    const path = join(dir, `${run}.ndjson`);
    const lines: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      const start = new Date(Date.UTC(1993, 2, 11 + i)).toISOString().slice(0, 10);
      lines.push(JSON.stringify({ id: `${run}-${i}`, fnr, start, institution: { resh: '4001031' }, diagnoses: i % 10 === 0 ? ['G43.0', 'G35'] : ['G43.0'] }));
    }
    writeFileSync(path, lines.join('\n'));
    const summary = await ingestEpisodes(db, 'npr', path);
    expect(summary).toMatchObject({ lines: 10_000, loaded: 10_000, rejectedCount: 0 });

    const answer = await registryEpisodeSource(db, 'npr').fetch({ id: 'big', fnr }, never);
    const conditions = answer.status === 'ok' ? (answer.resources as Condition[]) : [];
    expect(conditions).toHaveLength(2);
    const g430 = conditions.find((c) => c.code?.coding?.[0]?.code === 'G43.0')!;
    // Day 0 is 11.03.1993, day 9,999 is 26.07.2020.
    expect(readEpisodeSummary(g430)).toEqual({ firstSeen: '1993-03-11', lastSeen: '2020-07-26', episodes: 10_000, registries: ['npr'] });
    const g35 = conditions.find((c) => c.code?.coding?.[0]?.code === 'G35')!;
    expect(readEpisodeSummary(g35)?.episodes).toBe(1_000);

    const { bundle } = assembleSummary({
      patient: { resourceType: 'Patient', id: 'big', name: [{ family: 'Mange', given: ['Episoder'] }], birthDate: '1975-11-28' },
      sourceResults: [{ source: 'npr', status: 'ok', resources: conditions }],
      lang: 'nb',
      now: new Date('2026-11-23T10:00:00Z'),
      operator: { name: 'Norsk helsenett SF', orgnr: '994598759' },
    });
    expect(validateIpsDocument(bundle).errors).toEqual([]);
    expect(JSON.stringify(bundle)).toContain('11.03.1993 &#8211; 26.07.2020, 10000 oppføringer');
  });

  it('reads one patient through the patient index (query plan)', async () => {
    // Seed other patients too, so the index has to pick one patient's rows out of many.
    await seedDemoRegistryEpisodes(db);
    // On small test tables the planner may prefer a sequential scan; switch it off for this transaction
    // so the plan shows which index the query can use at national scale.
    const plan = await db.tx(async (q) => {
      await q.query('set local enable_seqscan = off');
      const r = await q.query<Record<string, unknown>>(`explain (format json) ${EPISODES_BY_PATIENT_SQL}`, [PERSONAS.ms.fnr, 'npr']);
      return JSON.stringify(r.rows[0]);
    });
    expect(plan).toMatch(/"Node Type":"(Index|Bitmap Index) Scan"/);
    expect(plan).toContain('"Index Name":"registry_episode_patient"');
    expect(plan).toMatch(/patient_fnr = /);
    expect(plan).not.toContain('Seq Scan');
  });

  it('reads dates as YYYY-MM-DD whatever the session\'s DateStyle', async () => {
    await seedDemoRegistryEpisodes(db);
    const iso = await readEpisodes(db, 'npr', PERSONAS.ms.fnr);
    const underSqlStyle = await db.tx(async (q) => {
      await q.query("set local datestyle = 'SQL, DMY'");
      // The setting is in force: a date cast to text would now read 11/03/1993.
      const probe = await q.query<{ d: string }>("select '1993-03-11'::date::text as d");
      expect(probe.rows[0]!.d).toBe('11/03/1993');
      return readEpisodes(q, 'npr', PERSONAS.ms.fnr);
    });
    expect(iso.length).toBeGreaterThan(0);
    expect(underSqlStyle).toEqual(iso);
    for (const e of iso) {
      expect(e.start).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      if (e.end !== undefined) expect(e.end).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    }
    // In start order, as the aggregation expects.
    expect(iso.map((e) => e.start)).toEqual([...iso.map((e) => e.start)].sort());
  });

  it('seeds the demo episodes idempotently', async () => {
    await seedDemoRegistryEpisodes(db);
    expect(await seedDemoRegistryEpisodes(db)).toBe(0);
    const ms = await readEpisodes(db, 'npr', PERSONAS.ms.fnr);
    expect(ms.length).toBe(demoEpisodes().filter((e) => e.fnr === PERSONAS.ms.fnr && e.registry === 'npr').length);
  });
});
