// When to try a failed delivery again: exponential backoff with jitter, and when to give up. Pure; the
// random source is a parameter so tests can pin it.

export interface RetryPolicy {
  /** Delay after the first failed attempt. */
  baseMs: number;
  /** No delay grows beyond this. */
  maxMs: number;
  /** Attempts (claims) after which a failing message is dead. */
  maxAttempts: number;
}

export const DEFAULT_RETRY: RetryPolicy = { baseMs: 2_000, maxMs: 15 * 60_000, maxAttempts: 12 };

/**
 * Delay before attempt `attempts + 1`, after `attempts` failures: base * 2^(attempts-1), capped, then
 * "equal jitter" (a random point in the upper half), so workers that failed together do not retry together
 * yet the delay never collapses to zero.
 */
export function retryDelayMs(attempts: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const exp = policy.baseMs * 2 ** Math.max(0, Math.min(attempts - 1, 30));
  const capped = Math.min(policy.maxMs, exp);
  const r = Math.min(1, Math.max(0, random()));
  return Math.round(capped / 2 + (capped / 2) * r);
}

export type FailureStep = { kind: 'retry'; inMs: number } | { kind: 'dead' };

/** What to do after a failed attempt: a permanent failure, or the last allowed attempt, is dead. */
export function afterFailure(attempts: number, permanent: boolean, policy: RetryPolicy, random?: () => number): FailureStep {
  if (permanent || attempts >= policy.maxAttempts) return { kind: 'dead' };
  return { kind: 'retry', inMs: retryDelayMs(attempts, policy, random) };
}
