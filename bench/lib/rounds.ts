// Baseline and real stack measured in alternating rounds, not one long window each. On a shared two-core
// machine the speed of everything drifts over tens of seconds (other processes, the kernel's writeback,
// memory compaction), and one window each lets that drift land entirely on one side of the ratio: single
// runs of identical code read 0.63x and 0.34x that way. Alternating in an ABBA order puts a linear drift
// equally on both sides, and the median of the per-round ratios ignores one disturbed round.

export interface Round<T> {
  base: T;
  real: T;
}

/** Runs `rounds` pairs, the baseline first in even rounds and second in odd ones. */
export async function alternate<T>(rounds: number, base: (round: number) => Promise<T>, real: (round: number) => Promise<T>): Promise<Round<T>[]> {
  const out: Round<T>[] = [];
  for (let i = 0; i < rounds; i++) {
    if (i % 2 === 0) {
      const b = await base(i);
      out.push({ base: b, real: await real(i) });
    } else {
      const r = await real(i);
      out.push({ base: await base(i), real: r });
    }
  }
  return out;
}

/** The median; of an even count, the mean of the middle two. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** The median of the per-round ratios real/base, and each round's ratio in order. */
export function roundRatios<T>(rounds: readonly Round<T>[], figure: (x: T) => number): { ratio: number; each: number[] } {
  const each = rounds.map((r) => figure(r.real) / figure(r.base));
  return { ratio: median(each), each };
}
