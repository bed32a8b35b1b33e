// The outbox worker: claim due messages, deliver each through its channel's adapter, settle the result.
// Any number of workers (in one process or many) can run against one store; claims never overlap
// (`for update skip locked`), and a worker that dies leaves its claims to expire and be retaken. The
// claim is its own statement and delivery happens outside any transaction, so no lock is held while a
// receiver is slow.
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../log.ts';
import type { Db } from '../../store/db.ts';
import { afterFailure, DEFAULT_RETRY, type RetryPolicy } from './backoff.ts';
import type { DeliveryAdapter } from './delivery.ts';
import { claimDue, markDelivered, markFailed, type OutboxChannel, type OutboxMessage } from './repository.ts';
import { onOutboxNotify } from './signal.ts';

export interface OutboxWorkerOptions {
  db: Db;
  log: Logger;
  /** Channels without an adapter are left alone (their messages wait, visible to operators). */
  adapters: Partial<Record<OutboxChannel, DeliveryAdapter>>;
  workerId?: string;
  /** How often an idle worker looks for due messages (it is also woken in-process by notifyOutbox). */
  pollMs?: number;
  /** Messages claimed (and delivered concurrently) per round. */
  batch?: number;
  /** How long a claim is exclusive; longer than the slowest delivery (the adapter's timeout). */
  leaseMs?: number;
  retry?: RetryPolicy;
  random?: () => number;
}

export interface RoundResult {
  claimed: number;
  delivered: number;
  retried: number;
  dead: number;
  /** Settlements refused because the claim had been lost (lease expired and retaken). */
  lost: number;
}

export interface OutboxWorker {
  readonly id: string;
  /** One claim-deliver-settle round; what it did. */
  runOnce(): Promise<RoundResult>;
  start(): void;
  /** Stops polling and waits for the round in progress. */
  stop(): Promise<void>;
}

export function createOutboxWorker(opts: OutboxWorkerOptions): OutboxWorker {
  const id = opts.workerId ?? `outbox-${process.pid}-${randomUUID().slice(0, 8)}`;
  const log = opts.log.child({ worker: id });
  const channels = (Object.keys(opts.adapters) as OutboxChannel[]).filter((c) => opts.adapters[c]);
  const pollMs = opts.pollMs ?? 1000;
  const batch = opts.batch ?? 10;
  const leaseMs = opts.leaseMs ?? 60_000;
  const retry = opts.retry ?? DEFAULT_RETRY;

  let running = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  let unsubscribe: (() => void) | undefined;

  async function settle(m: OutboxMessage): Promise<keyof Omit<RoundResult, 'claimed'>> {
    const adapter = opts.adapters[m.channel]!;
    const token = m.claimToken!;
    let result;
    try {
      result = await adapter.deliver(m);
    } catch (err) {
      result = { ok: false as const, permanent: false, error: `adapter: ${(err as Error).message}` };
    }
    if (result.ok) {
      const settled = await markDelivered(opts.db, m.id, token);
      if (settled) log.info({ outbox: m.id, channel: m.channel, msgId: m.msgId, attempts: m.attempts }, 'outbox message delivered');
      return settled ? 'delivered' : 'lost';
    }
    const step = afterFailure(m.attempts, result.permanent, retry, opts.random);
    const settled = await markFailed(opts.db, m.id, token, result.error, step.kind === 'retry' ? step.inMs : undefined);
    if (!settled) return 'lost';
    if (step.kind === 'dead') {
      log.error({ outbox: m.id, channel: m.channel, msgId: m.msgId, attempts: m.attempts, error: result.error }, 'outbox message dead');
      return 'dead';
    }
    log.warn({ outbox: m.id, channel: m.channel, attempts: m.attempts, retryInMs: step.inMs, error: result.error }, 'outbox delivery failed; will retry');
    return 'retried';
  }

  async function runOnce(): Promise<RoundResult> {
    const out: RoundResult = { claimed: 0, delivered: 0, retried: 0, dead: 0, lost: 0 };
    const claimed = await claimDue(opts.db, { channels, workerId: id, limit: batch, leaseMs });
    out.claimed = claimed.length;
    // One message per order key per round (the claim guarantees it), so they may go out in parallel.
    for (const kind of await Promise.all(claimed.map(settle))) out[kind]++;
    return out;
  }

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  async function run(): Promise<void> {
    while (running) {
      let claimed = 0;
      try {
        claimed = (await runOnce()).claimed;
      } catch (err) {
        log.error({ err: { message: (err as Error).message } }, 'outbox round failed');
      }
      if (running && claimed === 0) await sleep(pollMs);
    }
  }

  return {
    id,
    runOnce,
    start() {
      if (running || !channels.length) return;
      running = true;
      unsubscribe = onOutboxNotify(() => wake?.());
      loop = run();
      log.info({ channels: channels.map((c) => `${c}: ${opts.adapters[c]!.describe}`) }, 'outbox worker started');
    },
    async stop() {
      running = false;
      unsubscribe?.();
      wake?.();
      await loop;
    },
  };
}
