import type { Resource } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { MalformedSourceError, SourceUnavailableError, type SourceName, type SummarySource } from '../../src/sources/source.ts';
import { fetchAll } from '../../src/summary/fetch-all.ts';

const patient = { id: 'p', fnr: '05886610019' };
const flag: Resource = { resourceType: 'Flag', status: 'active', code: { text: 'x' }, subject: { reference: 'Patient/p' } };

function source(name: SourceName, behave: (signal: AbortSignal) => Promise<unknown>): SummarySource & { signals: AbortSignal[] } {
  const signals: AbortSignal[] = [];
  return {
    name,
    signals,
    fetch: (_p, signal) => {
      signals.push(signal);
      return behave(signal) as ReturnType<SummarySource['fetch']>;
    },
  };
}

const forever = (): Promise<never> => new Promise<never>(() => undefined);

describe('fetchAll', () => {
  it('asks every source in parallel and passes answers through', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const slowOk = (name: SourceName) =>
      source(name, async () => {
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, 20));
        inFlight -= 1;
        return { status: 'ok', resources: [flag] };
      });
    const results = await fetchAll([slowOk('kjernejournal'), slowOk('medication-list'), slowOk('npr'), slowOk('kpr')], patient, { timeoutMs: 1000 });
    expect(maxInFlight).toBe(4);
    expect(results.map((r) => [r.source, r.status])).toEqual([
      ['kjernejournal', 'ok'],
      ['medication-list', 'ok'],
      ['npr', 'ok'],
      ['kpr', 'ok'],
    ]);
  });

  it('turns each kind of failure into a typed result and hides unexpected error text', async () => {
    const errors: string[] = [];
    const results = await fetchAll(
      [
        source('kjernejournal', async () => {
          throw new SourceUnavailableError('upstream answered HTTP 503');
        }),
        source('medication-list', async () => {
          throw new MalformedSourceError('medication list: not a document Bundle');
        }),
        source('npr', async () => {
          throw new Error('relation "registry_episode" does not exist for 05886610019');
        }),
        source('kpr', async () => ({ nonsense: true })),
      ],
      patient,
      { timeoutMs: 1000, onError: (name, status) => errors.push(`${name}:${status}`) },
    );
    expect(results).toEqual([
      { source: 'kjernejournal', status: 'failed', message: 'upstream answered HTTP 503' },
      { source: 'medication-list', status: 'malformed', message: 'medication list: not a document Bundle' },
      { source: 'npr', status: 'failed', message: 'the source adapter failed' },
      { source: 'kpr', status: 'malformed', message: 'adapter returned an answer of unknown shape' },
    ]);
    expect(errors).toEqual(['kjernejournal:failed', 'medication-list:malformed', 'npr:failed', 'kpr:malformed']);
  });

  it('catches an adapter that throws before returning a promise', async () => {
    const bad: SummarySource = {
      name: 'kpr',
      fetch: () => {
        throw new TypeError('boom');
      },
    };
    expect(await fetchAll([bad], patient, { timeoutMs: 100 })).toEqual([{ source: 'kpr', status: 'failed', message: 'the source adapter failed' }]);
  });

  it('answers at the deadline when a source hangs and ignores its signal, and aborts that signal', async () => {
    const hang = source('kjernejournal', forever);
    const quick = source('npr', async () => ({ status: 'ok', resources: [] }));
    const started = performance.now();
    const results = await fetchAll([hang, quick], patient, { timeoutMs: 150 });
    const elapsed = performance.now() - started;
    expect(elapsed).toBeLessThan(150 + 200);
    expect(results[0]).toMatchObject({ source: 'kjernejournal', status: 'timeout' });
    expect(results[1]).toMatchObject({ source: 'npr', status: 'ok' });
    expect(hang.signals[0]!.aborted).toBe(true);
  });

  it('reports a source that gives up because its signal was aborted as a timeout', async () => {
    const obedient = source('medication-list', (signal) => new Promise((_r, reject) => signal.addEventListener('abort', () => reject(signal.reason))));
    const reported: string[] = [];
    const [r] = await fetchAll([obedient], patient, { timeoutMs: 50, onError: (name, status) => reported.push(`${name}:${status}`) });
    expect(r).toMatchObject({ status: 'timeout' });
    await new Promise((resolve) => setTimeout(resolve, 10));
    // Reported once, at the deadline, not again when the adapter's own rejection arrives.
    expect(reported).toEqual(['medication-list:timeout']);
  });

  it('passes withheld answers through with their reason', async () => {
    const [r] = await fetchAll([source('kjernejournal', async () => ({ status: 'withheld', reason: 'kj-reservation' }))], patient, { timeoutMs: 100 });
    expect(r).toEqual({ source: 'kjernejournal', status: 'withheld', reason: 'kj-reservation' });
  });

  it('stops waiting and aborts every source when the caller cancels', async () => {
    const controller = new AbortController();
    const hang = source('kjernejournal', forever);
    const pending = fetchAll([hang], patient, { timeoutMs: 60_000, signal: controller.signal });
    await new Promise((r) => setTimeout(r, 10));
    controller.abort(new Error('client went away'));
    expect(await pending).toEqual([{ source: 'kjernejournal', status: 'timeout', message: 'the request was cancelled' }]);
    expect(hang.signals[0]!.aborted).toBe(true);
  });

  it('aborts what a failed adapter left running, and leaves an adapter that answered alone', async () => {
    // Two parallel reads: one fails at once, the other is still running when the adapter's Promise.all rejects.
    let leftover: AbortSignal | undefined;
    const failing = source('kjernejournal', (signal) => {
      leftover = signal;
      return Promise.all([Promise.reject(new SourceUnavailableError('first read failed')), forever()]);
    });
    const answering = source('npr', async () => ({ status: 'ok', resources: [flag] }));
    const results = await fetchAll([failing, answering], patient, { timeoutMs: 60_000 });
    expect(results.map((r) => r.status)).toEqual(['failed', 'ok']);
    expect(leftover!.aborted).toBe(true);
    expect(answering.signals[0]!.aborted).toBe(false);
  });
});
