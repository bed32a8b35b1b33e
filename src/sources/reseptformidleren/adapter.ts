// Reseptformidleren as a source: each call under a deadline, every outcome a typed value. A call that
// fails, times out or answers something unreadable is an RfResult with that status, never an exception and
// never a number: the caller must not state a count it cannot vouch for (src/http/prescription-chain.ts
// fails closed on it). Timings and outcomes go to the same metric as the summary's sources.
import { observeSourceCall, secondsSince } from '../../metrics/registry.ts';
import { MalformedSourceError, SourceUnavailableError } from '../source.ts';
import type { ReseptformidlerenClient } from './client.ts';
import { parseM92, parseM98 } from './parse.ts';
import type { RfDispensings, RfFailure, RfListedPrescription, RfResult, RfState } from './types.ts';

export interface ReseptformidlerenSource {
  /** RF's count of dispensings on one prescription (M9.7 -> M9.8). */
  dispensings(reseptId: string, signal?: AbortSignal): Promise<RfResult<RfDispensings>>;
  /** The patient's prescriptions and their status (M9.1 -> M9.2). */
  prescriptionList(nin: string, signal?: AbortSignal): Promise<RfResult<RfListedPrescription[]>>;
  /**
   * What RF says of some of one patient's prescriptions: one list and one count per prescription, asked in
   * parallel, each under the deadline. A prescription's result fails when its count or the list failed.
   */
  states(nin: string, reseptIds: readonly string[], signal?: AbortSignal): Promise<Map<string, RfResult<RfState>>>;
}

export interface RfSourceOptions {
  timeoutMs: number;
  /** Sees the underlying error of each failed call, for logging (never an answer's content). */
  onFailure?: (call: RfCall, status: RfFailure, error: unknown) => void;
}

/** The metric's source label per message pair. */
export type RfCall = 'reseptformidleren-m97' | 'reseptformidleren-m91';

export function reseptformidlerenSource(client: ReseptformidlerenClient, opts: RfSourceOptions): ReseptformidlerenSource {
  const call = <T>(name: RfCall, work: (signal: AbortSignal) => Promise<T>, outer: AbortSignal | undefined) =>
    withDeadline(name, opts.timeoutMs, work, outer, opts.onFailure);
  const dispensings = (reseptId: string, signal?: AbortSignal) =>
    call('reseptformidleren-m97', async (s) => parseM98(await client.dispensings(reseptId, s)), signal);
  const prescriptionList = (nin: string, signal?: AbortSignal) =>
    call('reseptformidleren-m91', async (s) => parseM92(await client.prescriptionList(nin, s), nin), signal);
  return {
    dispensings,
    prescriptionList,
    async states(nin, reseptIds, signal) {
      const ids = [...new Set(reseptIds)];
      const out = new Map<string, RfResult<RfState>>();
      if (!ids.length) return out;
      const [list, ...counts] = await Promise.all([prescriptionList(nin, signal), ...ids.map((id) => dispensings(id, signal))]);
      ids.forEach((id, i) => {
        const count = counts[i]!;
        if (list!.status !== 'ok') out.set(id, list!);
        else if (count.status !== 'ok') out.set(id, count);
        else out.set(id, { status: 'ok', value: { dispensings: count.value, listed: list!.value.find((p) => p.reseptId === id) } });
      });
      return out;
    },
  };
}

/**
 * Runs one call with its own deadline; the outer signal (the client went away) ends it early. What is
 * still in flight when the deadline passes is aborted. Errors are classified, never rethrown.
 */
export async function withDeadline<T>(
  name: RfCall,
  timeoutMs: number,
  work: (signal: AbortSignal) => Promise<T>,
  outer?: AbortSignal,
  onFailure?: RfSourceOptions['onFailure'],
): Promise<RfResult<T>> {
  const started = process.hrtime.bigint();
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stop: () => void = () => undefined;
  const ended = new Promise<RfResult<T>>((resolve) => {
    timer = setTimeout(() => {
      controller.abort(new DOMException(`${name} did not answer within ${timeoutMs} ms`, 'TimeoutError'));
      resolve({ status: 'timeout', message: `no answer within ${timeoutMs} ms` });
    }, timeoutMs);
    stop = () => {
      controller.abort(outer?.reason);
      resolve({ status: 'timeout', message: 'the request was cancelled' });
    };
  });
  if (outer?.aborted) stop();
  else outer?.addEventListener('abort', stop, { once: true });
  let failure: unknown;
  const done = Promise.resolve()
    .then(() => work(controller.signal))
    .then(
      (value): RfResult<T> => ({ status: 'ok', value }),
      (err: unknown): RfResult<T> => {
        failure = err;
        return classify(err, controller.signal);
      },
    );
  try {
    const result = await Promise.race([done, ended]);
    observeSourceCall(name, result.status, secondsSince(started));
    if (result.status !== 'ok') onFailure?.(name, result.status, failure ?? controller.signal.reason);
    return result;
  } finally {
    clearTimeout(timer);
    outer?.removeEventListener('abort', stop);
    if (!controller.signal.aborted) controller.abort(new DOMException('answered', 'AbortError'));
  }
}

function classify<T>(err: unknown, signal: AbortSignal): RfResult<T> {
  if (signal.aborted && (err === signal.reason || (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError')))) {
    return { status: 'timeout', message: 'the call was cut off at the deadline' };
  }
  if (err instanceof MalformedSourceError) return { status: 'malformed', message: err.message };
  // Only our own error types carry messages written for users; anything else stays out of answers.
  if (err instanceof SourceUnavailableError) return { status: 'failed', message: err.message };
  return { status: 'failed', message: 'the Reseptformidleren adapter failed' };
}
