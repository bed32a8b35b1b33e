import { describe, expect, it } from 'vitest';
import { alternate, median, roundRatios } from '../../bench/lib/rounds.ts';

describe('alternating bench rounds', () => {
  it('runs the baseline first in even rounds and second in odd ones (ABBA)', async () => {
    const order: string[] = [];
    const rounds = await alternate(
      4,
      async (i) => (order.push(`base${i}`), i),
      async (i) => (order.push(`real${i}`), 10 + i),
    );
    expect(order).toEqual(['base0', 'real0', 'real1', 'base1', 'base2', 'real2', 'real3', 'base3']);
    expect(rounds).toEqual([
      { base: 0, real: 10 },
      { base: 1, real: 11 },
      { base: 2, real: 12 },
      { base: 3, real: 13 },
    ]);
  });

  it('takes the median of odd and even counts, without reordering its input', () => {
    const xs = [5, 1, 3];
    expect(median(xs)).toBe(3);
    expect(xs).toEqual([5, 1, 3]);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('reports the median per-round ratio, so one disturbed round does not decide it', () => {
    const rounds = [
      { base: 1000, real: 500 },
      { base: 400, real: 480 }, // the baseline's round was disturbed
      { base: 1000, real: 520 },
    ];
    const r = roundRatios(rounds, (x) => x);
    expect(r.each).toEqual([0.5, 1.2, 0.52]);
    expect(r.ratio).toBe(0.52);
  });
});
