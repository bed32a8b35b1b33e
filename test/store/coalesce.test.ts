import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { PERSONAS } from '../../src/demo/personas.ts';
import { coalescedStatement, readJson } from '../../src/store/coalesce.ts';
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

  it('splits a large round into statements of at most 128 reads', async () => {
    sent.length = 0;
    const values = await Promise.all(Array.from({ length: 300 }, (_, i) => readJson<number>(counting, 'select to_json($1::int)', [i])));
    expect(values).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(sent).toHaveLength(3);
  });

  it('sends the same reads as the same statement text whatever order they were asked in, so it stays one prepared statement', async () => {
    sent.length = 0;
    const a = (v: string) => readJson(counting, `select to_json($1::text)`, [v]);
    const b = (n: number) => readJson(counting, `select to_json($1::int + 1)`, [n]);
    expect(await Promise.all([a('x'), b(1)])).toEqual(['x', 2]);
    expect(await Promise.all([b(2), a('y')])).toEqual([3, 'y']);
    expect(sent).toHaveLength(2);
    expect(sent[1]).toBe(sent[0]);
  });

  it('answers the reads of several requests sharing one statement each with its own row', async () => {
    sent.length = 0;
    // Three kinds of read, interleaved as the reads of concurrent requests arrive; more than one request's worth.
    const tag = (s: string) => readJson<string>(counting, `select to_json($1::text || '/tagged')`, [s]);
    const pair = (a: string, b: number) => readJson<[string, number]>(counting, `select json_build_array($1::text, $2::int)`, [a, b]);
    const constant = () => readJson<number>(counting, `select to_json(42)`);
    const answers = await Promise.all([tag('a'), pair('x', 1), tag('b'), constant(), pair('y', 2), tag('c'), constant(), pair('z', 3)]);
    expect(answers).toEqual(['a/tagged', ['x', 1], 'b/tagged', 42, ['y', 2], 'c/tagged', 42, ['z', 3]]);
    expect(sent).toHaveLength(1);
  });

  it('sends a read whose parameter is not a scalar (an array) on its own, so the array keeps its meaning', async () => {
    sent.length = 0;
    const scalars = Array.from({ length: 6 }, (_, i) => readJson<string>(counting, `select to_json($1::text)`, [`s${i}`]));
    const list = readJson<string[]>(counting, `select to_json($1::text[])`, [['a', 'b,c', '{d}']]);
    expect(await Promise.all([...scalars, list])).toEqual([...Array.from({ length: 6 }, (_, i) => `s${i}`), ['a', 'b,c', '{d}']]);
    // The six scalar reads in one statement, the array read alone.
    expect(sent).toHaveLength(2);
  });

  it('brings every read its own answer whatever the parameters hold (quotes, braces, commas, NULL as text, nulls)', async () => {
    const text = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('NULL', 'null', '{}', '{a,b}', '"', '\\', "'", ',', ' ', 'æøå', '\u00a0'));
    const read = fc.oneof(
      fc.record({ kind: fc.constant('echo' as const), a: text }),
      fc.record({ kind: fc.constant('pair' as const), a: fc.option(text, { nil: null }), b: fc.integer({ min: -1000, max: 1000 }) }),
      fc.record({ kind: fc.constant('flag' as const), a: fc.boolean() }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(read, { minLength: 1, maxLength: 20 }), async (reads) => {
        const got = await Promise.all(
          reads.map((r) =>
            r.kind === 'echo'
              ? readJson(db, `select to_json($1::text)`, [r.a])
              : r.kind === 'pair'
                ? readJson(db, `select json_build_object('a', $1::text, 'b', $2::int)`, [r.a, r.b])
                : readJson(db, `select to_json(not $1::boolean)`, [r.a]),
          ),
        );
        expect(got).toEqual(reads.map((r) => (r.kind === 'echo' ? r.a : r.kind === 'pair' ? { a: r.a, b: r.b } : !r.a)));
      }),
      { numRuns: 60 },
    );
  });

  it('reads two patients\' summaries asked for at once in one round trip, each patient getting only their own records', async () => {
    await seedDemoSummarySources(db);
    const sources = buildSummarySources({ mode: 'demo', sources: { kjernejournalBaseUrl: undefined, medicationListBaseUrl: undefined } }, counting);
    const alone = async (p: { id: string; fnr: string }) => fetchAll(sources, p, { timeoutMs: 60_000 });
    const ms = { id: 'ms', fnr: PERSONAS.ms.fnr };
    const addison = { id: 'addison', fnr: PERSONAS.addison.fnr };
    const expected = [await alone(ms), await alone(addison)];
    sent.length = 0;
    const together = await Promise.all([alone(ms), alone(addison)]);
    expect(sent).toHaveLength(1);
    expect(together).toEqual(expected);
    // The two documents differ: each answer really is its own patient's.
    expect(JSON.stringify(together[0])).not.toEqual(JSON.stringify(together[1]));
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

describe('the coalesced statement', () => {
  it('has the same text whatever the number of reads of each kind, with the kinds in text order', () => {
    const a = 'select to_json($1::text)';
    const b = 'select json_build_array($1::text, $2::int)';
    const few = coalescedStatement([{ sql: b, params: ['x', 1] }, { sql: a, params: ['p'] }]);
    const many = coalescedStatement([
      { sql: a, params: ['p'] },
      { sql: b, params: ['x', 1] },
      { sql: a, params: ['q'] },
      { sql: b, params: ['y', 2] },
      { sql: a, params: [null] },
    ]);
    expect(many.sql).toBe(few.sql);
    expect(many.kinds).toBe(2);
    // Each read's answer row: its kind and its place among that kind's reads.
    expect(many.slots).toEqual(['1:1', '0:1', '1:2', '0:2', '1:3']);
    // Kind 0 is the text that sorts first (json_build_array); each parameter position is one text array, in
    // the reads' order.
    expect(many.params).toEqual([['x', 'y'], ['1', '2'], ['p', 'q', null]]);
    expect(many.sql.indexOf('json_build_array')).toBeLessThan(many.sql.indexOf('to_json'));
  });
});
