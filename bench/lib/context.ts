// What every case gets from run.ts.
import type { PgHandle } from './postgres.ts';

export interface BenchContext {
  quick: boolean;
  /** Scratch space for this run (removed at the end). */
  tmp: string;
  /** The PostgreSQL for this run, when there is one. */
  pg: PgHandle | undefined;
  /** Why there is no PostgreSQL, when there is none. */
  pgUnavailable: string | undefined;
  /** The store the HTTP cases run on. */
  httpStore: 'pglite' | 'postgres';
  log(line: string): void;
}

/** Seconds of measured load per run, and of warm-up before it. */
export const loadSeconds = (ctx: BenchContext): { seconds: number; warmup: number } =>
  ctx.quick ? { seconds: 2, warmup: 1 } : { seconds: 10, warmup: 3 };

/**
 * For a comparison run in alternating rounds (bench/lib/rounds.ts): how many rounds of one window each side,
 * the seconds of each window, and the warm-up before a side's first window (later ones settle for 1 s).
 */
export const roundWindows = (ctx: BenchContext): { rounds: number; seconds: number; warmup: number } =>
  ctx.quick ? { rounds: 2, seconds: 2, warmup: 1 } : { rounds: 4, seconds: 5, warmup: 3 };
