// Operational metrics in the Prometheus text format (prom-client). One registry per process; the modules
// that do the work report to it through the small functions below, so none of them knows about Prometheus.
// Labels never carry personal data or unbounded values: routes are the route table's patterns, not URLs.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'helsebro_' });

/** Buckets from 1 ms to 10 s: API answers, source calls and audit writes all fall inside. */
const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const httpRequests = new Counter({
  name: 'helsebro_http_requests_total',
  help: 'HTTP requests answered, by route pattern, method and status code',
  labelNames: ['route', 'method', 'status'] as const,
  registers: [registry],
});

const httpDuration = new Histogram({
  name: 'helsebro_http_request_duration_seconds',
  help: 'Time from the first byte of a request to the last byte of its answer, by route pattern and method',
  labelNames: ['route', 'method'] as const,
  buckets: SECONDS,
  registers: [registry],
});

const sourceDuration = new Histogram({
  name: 'helsebro_source_request_duration_seconds',
  help: 'Calls to the national sources for a summary, by source and outcome (ok, withheld, failed, timeout, malformed)',
  labelNames: ['source', 'outcome'] as const,
  buckets: SECONDS,
  registers: [registry],
});

const conversions = new Counter({
  name: 'helsebro_conversions_total',
  help: 'M1 conversions, by outcome (exported, refused, invalid) and, for refusals, each export rule that applied',
  labelNames: ['outcome', 'rule'] as const,
  registers: [registry],
});

const auditWrite = new Histogram({
  name: 'helsebro_audit_write_duration_seconds',
  help: 'Time to write one AuditEvent to the store (the answer waits for it)',
  buckets: SECONDS,
  registers: [registry],
});

const outboxMessages = new Gauge({
  name: 'helsebro_outbox_messages',
  help: 'Messages in the outbox, by channel (m10, ncp) and state, read from the store at scrape time',
  labelNames: ['channel', 'state'] as const,
  registers: [registry],
});

const outboxAge = new Gauge({
  name: 'helsebro_outbox_oldest_message_age_seconds',
  help: 'Age of the oldest message in each outbox channel and state, read from the store at scrape time',
  labelNames: ['channel', 'state'] as const,
  registers: [registry],
});

export function observeHttp(route: string, method: string, status: number, seconds: number): void {
  httpRequests.inc({ route, method, status: String(status) });
  httpDuration.observe({ route, method }, seconds);
}

export function observeSourceCall(source: string, outcome: string, seconds: number): void {
  sourceDuration.observe({ source, outcome }, seconds);
}

export function countConversion(outcome: 'exported' | 'refused' | 'invalid', rules: readonly string[] = []): void {
  if (rules.length === 0) conversions.inc({ outcome, rule: '' });
  for (const rule of rules) conversions.inc({ outcome, rule });
}

export function observeAuditWrite(seconds: number): void {
  auditWrite.observe(seconds);
}

export interface OutboxFigure {
  channel: string;
  state: string;
  count: number;
  oldestAgeSeconds: number;
}

/** Where the outbox figures come from at scrape time (the store); the last app created sets it. */
let readOutbox: (() => Promise<OutboxFigure[]>) | undefined;

export function watchOutbox(read: () => Promise<OutboxFigure[]>): void {
  readOutbox = read;
}

/** The exposition text; the outbox gauges are refreshed first, so they are never older than the scrape. */
export async function metricsText(): Promise<{ contentType: string; body: string }> {
  if (readOutbox) {
    const figures = await readOutbox();
    outboxMessages.reset();
    outboxAge.reset();
    for (const f of figures) {
      outboxMessages.set({ channel: f.channel, state: f.state }, f.count);
      outboxAge.set({ channel: f.channel, state: f.state }, f.oldestAgeSeconds);
    }
  }
  return { contentType: registry.contentType, body: await registry.metrics() };
}

/** Seconds since `started` (from process.hrtime.bigint()). */
export const secondsSince = (started: bigint): number => Number(process.hrtime.bigint() - started) / 1e9;
