// Asks every source at once, each under the same deadline. A source that fails, answers garbage or
// does not answer in time becomes a typed result, never an exception: the summary is always built from
// whatever arrived, and says which sources are missing.
import type { Resource } from '@medplum/fhirtypes';
import {
  MalformedSourceError,
  SourceUnavailableError,
  type PatientKey,
  type SourceName,
  type SummarySource,
} from '../sources/source.ts';
import { observeSourceCall, secondsSince } from '../metrics/registry.ts';

export type SourceFailure = 'failed' | 'timeout' | 'malformed';

export type SourceResult =
  | { source: SourceName; status: 'ok'; resources: Resource[] }
  | { source: SourceName; status: 'withheld'; reason: string }
  | { source: SourceName; status: SourceFailure; message: string };

export interface FetchAllOptions {
  timeoutMs: number;
  /** Cancels every outstanding source call (the client went away). */
  signal?: AbortSignal;
  /** Sees the underlying error of each failed source, for logging; never sees a successful answer. */
  onError?: (source: SourceName, status: SourceFailure, error: unknown) => void;
}

export function fetchAll(sources: readonly SummarySource[], patient: PatientKey, opts: FetchAllOptions): Promise<SourceResult[]> {
  return Promise.all(sources.map((s) => fetchOne(s, patient, opts)));
}

export async function fetchOne(source: SummarySource, patient: PatientKey, opts: FetchAllOptions): Promise<SourceResult> {
  const controller = new AbortController();
  // Each source's failure is reported once, while its result still counts; a late rejection is not news.
  let finished = false;
  const report: Report = (status, err) => {
    if (!finished) opts.onError?.(source.name, status, err);
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  let settle: (r: SourceResult) => void = () => undefined;
  const deadline = new Promise<SourceResult>((resolve) => {
    settle = resolve;
    timer = setTimeout(() => {
      const reason = new DOMException(`${source.name} did not answer within ${opts.timeoutMs} ms`, 'TimeoutError');
      report('timeout', reason);
      finished = true;
      controller.abort(reason);
      resolve({ source: source.name, status: 'timeout', message: `no answer within ${opts.timeoutMs} ms` });
    }, opts.timeoutMs);
  });
  // The caller gave up (the client went away): stop waiting at once and tell the adapter.
  const onOuterAbort = (): void => {
    finished = true;
    controller.abort(opts.signal?.reason);
    settle({ source: source.name, status: 'timeout', message: 'the request was cancelled' });
  };
  if (opts.signal?.aborted) onOuterAbort();
  else opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
  // An adapter that answered has finished what it started; one that failed may have left calls running
  // (one of several parallel reads failed first), and only those need the abort below.
  let answered = false;
  const work = Promise.resolve()
    .then(() => source.fetch(patient, controller.signal))
    .then(
      (answer) => {
        answered = true;
        return checkAnswer(source.name, answer, report);
      },
      (err: unknown) => classify(source.name, err, controller.signal, report),
    );
  const started = process.hrtime.bigint();
  try {
    const result = await Promise.race([work, deadline]);
    observeSourceCall(source.name, result.status, secondsSince(started));
    return result;
  } finally {
    finished = true;
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onOuterAbort);
    // Whatever the adapter still has in flight is no longer wanted.
    if (!answered && !controller.signal.aborted) controller.abort(ASSEMBLED);
  }
}

type Report = (status: SourceFailure, error: unknown) => void;

// The reason every finished call's leftovers are aborted with: made once, since a DOMException captures a
// stack when it is made and this happens four times per summary.
const ASSEMBLED = new DOMException('summary assembled', 'AbortError');

function checkAnswer(name: SourceName, answer: unknown, report: Report): SourceResult {
  const a = answer as { status?: unknown; resources?: unknown; reason?: unknown } | undefined;
  if (a?.status === 'ok' && Array.isArray(a.resources)) return { source: name, status: 'ok', resources: a.resources as Resource[] };
  if (a?.status === 'withheld') {
    return { source: name, status: 'withheld', reason: typeof a.reason === 'string' ? a.reason : 'withheld by the source' };
  }
  const err = new MalformedSourceError('adapter returned an answer of unknown shape');
  report('malformed', err);
  return { source: name, status: 'malformed', message: err.message };
}

function classify(name: SourceName, err: unknown, signal: AbortSignal, report: Report): SourceResult {
  if (signal.aborted && (err === signal.reason || isAbort(err))) {
    report('timeout', err);
    return { source: name, status: 'timeout', message: 'the call was cut off at the deadline' };
  }
  if (err instanceof MalformedSourceError) {
    report('malformed', err);
    return { source: name, status: 'malformed', message: err.message };
  }
  report('failed', err);
  // Only our own error types carry messages written for users; anything else stays in the log.
  const message = err instanceof SourceUnavailableError ? err.message : 'the source adapter failed';
  return { source: name, status: 'failed', message };
}

const isAbort = (err: unknown): boolean => err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError');
