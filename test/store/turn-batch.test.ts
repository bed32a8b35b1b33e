import { describe, expect, it } from 'vitest';
import type { Queryable } from '../../src/store/db.ts';
import { turnBatcher } from '../../src/store/turn-batch.ts';

const queryable = (): Queryable => ({ query: async () => ({ rows: [], rowCount: 0 }) });
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('turnBatcher', () => {
  it('hands what one turn added for a Queryable to flush once, in order, and keeps Queryables apart', async () => {
    const flushed: [Queryable, number[]][] = [];
    const add = turnBatcher<number>((q, batch) => flushed.push([q, batch]));
    const pool = queryable();
    const txClient = queryable();
    add(pool, 1);
    add(txClient, 2);
    add(pool, 3);
    expect(flushed).toEqual([]);
    await nextTurn();
    expect(flushed).toEqual([
      [pool, [1, 3]],
      [txClient, [2]],
    ]);
  });

  it('what is added while a batch is flushed, or in a later turn, goes in a batch of its own', async () => {
    const batches: number[][] = [];
    const pool = queryable();
    const add = turnBatcher<number>((q, batch) => {
      batches.push(batch);
      if (batch.includes(1)) add(q, 2);
    });
    add(pool, 1);
    await nextTurn();
    await nextTurn();
    add(pool, 3);
    await nextTurn();
    expect(batches).toEqual([[1], [2], [3]]);
  });
});
