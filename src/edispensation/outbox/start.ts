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

export function deliveryAdapters(config: Config): Partial<Record<OutboxChannel, DeliveryAdapter>> {
  const timeoutMs = config.outbox.deliveryTimeoutMs;
  const pick = (url: string | undefined, folder: string): DeliveryAdapter | undefined =>
    url ? httpAdapter(url, { timeoutMs }) : config.mode === 'demo' ? folderAdapter(join(config.dataDir, 'outbox', folder)) : undefined;
  const adapters: Partial<Record<OutboxChannel, DeliveryAdapter>> = {};
  const m10 = pick(config.delivery.m10Url, 'm10');
  const ncp = pick(config.delivery.ncpUrl, 'ncp');
  if (m10) adapters.m10 = m10;
  if (ncp) adapters.ncp = ncp;
  return adapters;
}

export interface OutboxWorkers {
  workers: OutboxWorker[];
  stop(): Promise<void>;
}

export function startOutboxWorkers(config: Config, db: Db, log: Logger): OutboxWorkers {
  const adapters = deliveryAdapters(config);
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
