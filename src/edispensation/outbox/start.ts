// Start-up wiring: the delivery adapters the configuration names and the workers that use them.
// A channel with a URL delivers by HTTP POST; without one, demo mode writes files under the data dir and
// production leaves the messages waiting (visible in $outbox-status) and says so in the log.
import { join } from 'node:path';
import type { Config } from '../../config.ts';
import type { Logger } from '../../log.ts';
import type { Db } from '../../store/db.ts';
import { folderAdapter, httpAdapter, type DeliveryAdapter } from './delivery.ts';
import type { OutboxChannel } from './repository.ts';
import { createOutboxWorker, type OutboxWorker } from './worker.ts';

export interface OutboxStartOptions {
  /**
   * Demo mode without M10_DELIVERY_URL: the prescription chain's stand-in, which receives every M10 the
   * folder adapter writes and counts it, as Reseptformidleren counts the M10s it receives. False: it could
   * not read the message.
   */
  demoM10Receiver?: (payload: string) => Promise<boolean>;
}

export function deliveryAdapters(config: Config, opts: OutboxStartOptions = {}): Partial<Record<OutboxChannel, DeliveryAdapter>> {
  const timeoutMs = config.outbox.deliveryTimeoutMs;
  const pick = (url: string | undefined, folder: string): DeliveryAdapter | undefined =>
    url ? httpAdapter(url, { timeoutMs }) : config.mode === 'demo' ? folderAdapter(join(config.dataDir, 'outbox', folder)) : undefined;
  const adapters: Partial<Record<OutboxChannel, DeliveryAdapter>> = {};
  const m10 = pick(config.delivery.m10Url, 'm10');
  const ncp = pick(config.delivery.ncpUrl, 'ncp');
  if (m10) adapters.m10 = !config.delivery.m10Url && opts.demoM10Receiver ? alsoTo(m10, opts.demoM10Receiver) : m10;
  if (ncp) adapters.ncp = ncp;
  return adapters;
}

/** Delivers as `adapter` does, then hands the message to the demo receiver; delivered only when both took it. */
function alsoTo(adapter: DeliveryAdapter, receive: (payload: string) => Promise<boolean>): DeliveryAdapter {
  return {
    describe: `${adapter.describe} + the prescription chain's demo stand-in`,
    async deliver(m) {
      const written = await adapter.deliver(m);
      if (!written.ok) return written;
      try {
        // The receiver counts each MsgId once, so a retry after a failure here cannot count twice.
        return (await receive(m.payload)) ? written : { ok: false, permanent: true, error: 'the demo stand-in could not read the M10' };
      } catch (err) {
        return { ok: false, permanent: false, error: `demo stand-in: ${(err as Error).message}` };
      }
    },
  };
}

export interface OutboxWorkers {
  workers: OutboxWorker[];
  stop(): Promise<void>;
}

export function startOutboxWorkers(config: Config, db: Db, log: Logger, opts: OutboxStartOptions = {}): OutboxWorkers {
  const adapters = deliveryAdapters(config, opts);
  for (const channel of ['m10', 'ncp'] as const) {
    if (!adapters[channel]) log.warn({ channel }, `no delivery configured for the ${channel} outbox (${channel === 'm10' ? 'M10_DELIVERY_URL' : 'NCP_DELIVERY_URL'}); its messages wait`);
  }
  const workers = Array.from({ length: config.outbox.workers }, () =>
    createOutboxWorker({
      db,
      log,
      adapters,
      pollMs: config.outbox.pollMs,
      // A claim outlives the slowest delivery, so a live worker never loses its claim mid-delivery; it is how
      // long the messages of a worker that died wait before another worker takes them.
      leaseMs: Math.max(config.outbox.leaseMs, config.outbox.deliveryTimeoutMs * 2),
      retry: { baseMs: config.outbox.retryBaseMs, maxMs: config.outbox.retryMaxMs, maxAttempts: config.outbox.maxAttempts },
    }),
  );
  for (const w of workers) w.start();
  return {
    workers,
    async stop() {
      await Promise.all(workers.map((w) => w.stop()));
    },
  };
}
