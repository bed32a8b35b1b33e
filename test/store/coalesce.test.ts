import { beforeAll, describe, expect, it } from 'vitest';
import { PERSONAS } from '../../src/demo/personas.ts';
import { readJson } from '../../src/store/coalesce.ts';
import { buildSummarySources } from '../../src/summary/build-sources.ts';
import { fetchAll } from '../../src/summary/fetch-all.ts';
import { seedDemoSummarySources } from '../../src/summary/seed.ts';
import type { Db, Queryable } from '../../src/store/db.ts';
import { engines, getTestDb } from '../support/db.ts';

describe.each(engines)('readJson (%s)', (engine) => {
  let db: Db;
  let sent: string[];
  let counting: Queryable;
  beforeAll(async () => {
    db = await getTestDb(engine);
    sent = [];
    counting = { query: (sql, params) => (sent.push(sql), db.query(sql, params)) };
  });

  it('sends the reads of one tick as one statement, each with its own parameters', async () => {
    sent.length = 0;
    const [a, b, none] = await Promise.all([
      readJson(counting, `select json_build_object('n', $1::int, 's', $2::text)`, [1, 'one']),
      readJson(counting, `select json_build_array($1::text, $2::int)`, ['two', 2]),
      readJson(counting, `select to_json(x) from (select 1 as x where $1::int = 0) t`, [5]),
    ]);
    expect(sent).toHaveLength(1);
    expect(a).toEqual({ n: 1, s: 'one' });
    expect(b).toEqual(['two', 2]);
    expect(none).toBeNull();
  });

  it('asks the store again in the next tick: nothing is kept', async () => {
    sent.length = 0;
    await db.query('create table if not exists coalesce_probe (v int)');
    await db.query('delete from coalesce_probe');
    const read = () => readJson<number>(counting, 'select coalesce(max(v), 0)::int::text::json from coalesce_probe');
    expect(await read()).toBe(0);
    await db.query('insert into coalesce_probe values (7)');
    expect(await read()).toBe(7);
    expect(sent).toHaveLength(2);
  });

  it('answers the reads that travelled with a failing one', async () => {
    sent.length = 0;
    const results = await Promise.allSettled([
      readJson(counting, `select to_json($1::text)`, ['fine']),
      readJson(counting, `select to_json($1::int)`, ['not a number']),
      readJson(counting, `select to_json($1::text)`, ['also fine']),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(results[0]).toMatchObject({ value: 'fine' });
    expect(results[2]).toMatchObject({ value: 'also fine' });
    // The batch, then each read alone.
    expect(sent).toHaveLength(4);
  });

  it('splits a large tick into statements of at most 64 reads', async () => {
    sent.length = 0;
    const values = await Promise.all(Array.from({ length: 150 }, (_, i) => readJson<number>(counting, 'select to_json($1::int)', [i])));
    expect(values).toEqual(Array.from({ length: 150 }, (_, i) => i));
    expect(sent).toHaveLength(3);
  });

  it("brings a demo summary's four sources from the store in one round trip", async () => {
    await seedDemoSummarySources(db);
    const sources = buildSummarySources({ mode: 'demo', sources: { kjernejournalBaseUrl: undefined, medicationListBaseUrl: undefined } }, counting);
    sent.length = 0;
    const results = await fetchAll(sources, { id: 'ms', fnr: PERSONAS.ms.fnr }, { timeoutMs: 60_000 });
    expect(sent).toHaveLength(1);
    expect(results.map((r) => [r.source, r.status])).toEqual([
      ['kjernejournal', 'ok'],
      ['medication-list', 'ok'],
      ['npr', 'ok'],
      ['kpr', 'ok'],
    ]);
    // Her implant (Kjernejournal), natalizumab (PLL) and migraine episodes (NPR) all arrived.
    expect(results.slice(0, 3).map((r) => r.status === 'ok' && r.resources.length > 0)).toEqual([true, true, true]);
  });
});
