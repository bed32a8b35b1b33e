import { describe, expect, it } from 'vitest';
import { engines, getTestDb } from '../support/db.ts';

describe.each(engines)('prepared statements (%s)', (engine) => {
  it('answers a prepared statement as an unprepared one, with new parameters each time', async () => {
    const db = await getTestDb(engine);
    const sql = 'select $1::int + $2::int as sum';
    for (const [a, b] of [[1, 2], [40, 2], [-5, 5]] as const) {
      const prepared = await db.query<{ sum: number }>(sql, [a, b], { prepare: true });
      const plain = await db.query<{ sum: number }>(sql, [a, b]);
      expect(prepared.rows).toEqual(plain.rows);
      expect(prepared.rows[0]!.sum).toBe(a + b);
    }
  });

  it.runIf(engine === 'postgres')('is parsed once per connection and kept there under a name', async () => {
    const db = await getTestDb(engine);
    const sql = "select 'kept' || $1::text as v";
    const kept = await db.tx(async (q) => {
      await q.query(sql, ['1'], { prepare: true });
      await q.query(sql, ['2'], { prepare: true });
      return (await q.query<{ name: string; n: number }>('select name, count(*)::int as n from pg_prepared_statements where statement = $1 group by name', [sql])).rows;
    });
    expect(kept).toHaveLength(1);
    expect(kept[0]!.name).toMatch(/^hb_[0-9a-f]{24}$/);
  });
});
