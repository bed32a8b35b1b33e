// Delivery adapters: where an outbox message goes. HTTP POST to the prescription chain (M10) or the NCP
// (EU eDispensation), or, in demo mode, a file per message in a folder under the data dir. Every delivery
// carries the message id (X-Message-Id and Idempotency-Key headers; the file name), because delivery is at
// least once: a message may arrive twice when a worker dies between sending it and recording that it was
// sent, and the receiver deduplicates by that id. At-least-once delivery plus dedupe by id is the
// exactly-once effect.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { OutboxMessage } from './repository.ts';

export type DeliveryResult = { ok: true } | { ok: false; permanent: boolean; error: string };

export interface DeliveryAdapter {
  /** For logs and the operator view: "http https://rf.example/m10", "folder /data/outbox/m10". */
  readonly describe: string;
  deliver(message: OutboxMessage): Promise<DeliveryResult>;
}

/** Statuses worth retrying: the receiver is busy, overloaded or broken, not refusing the message. */
const TRANSIENT = new Set([408, 425, 429]);

export function httpAdapter(url: string, opts: { timeoutMs: number; fetch?: typeof fetch }): DeliveryAdapter {
  const doFetch = opts.fetch ?? fetch;
  return {
    describe: `http ${new URL(url).origin}${new URL(url).pathname}`,
    async deliver(m) {
      let res: Response;
      try {
        res = await doFetch(url, {
          method: 'POST',
          headers: { 'content-type': m.contentType, 'x-message-id': m.msgId, 'idempotency-key': m.msgId },
          body: m.payload,
          signal: AbortSignal.timeout(opts.timeoutMs),
        });
      } catch (err) {
        const e = err as Error;
        return { ok: false, permanent: false, error: e.name === 'TimeoutError' ? `no answer within ${opts.timeoutMs} ms` : `network: ${e.message}` };
      }
      // Drain the body so the connection can be reused; its content is only for the error text.
      const text = await res.text().catch(() => '');
      if (res.ok) return { ok: true };
      const permanent = res.status >= 400 && res.status < 500 && !TRANSIENT.has(res.status);
      return { ok: false, permanent, error: `HTTP ${res.status}${text ? `: ${text.replace(/\s+/g, ' ').slice(0, 300)}` : ''}` };
    },
  };
}

const EXTENSION: Record<string, string> = { 'application/xml': 'xml', 'application/fhir+json': 'json' };

/** Demo delivery: <dir>/<msgId>.<ext>, written to a temporary name and renamed, so a file is whole or absent. */
export function folderAdapter(dir: string): DeliveryAdapter {
  return {
    describe: `folder ${dir}`,
    async deliver(m) {
      try {
        mkdirSync(dir, { recursive: true });
        const name = m.msgId.replace(/[^A-Za-z0-9._-]/g, '_');
        const ext = EXTENSION[m.contentType.split(';')[0]!.trim()] ?? 'txt';
        const file = join(dir, `${name}.${ext}`);
        const tmp = `${file}.${process.pid}.tmp`;
        writeFileSync(tmp, m.payload, 'utf8');
        renameSync(tmp, file);
        return { ok: true };
      } catch (err) {
        return { ok: false, permanent: false, error: `file: ${(err as Error).message}` };
      }
    },
  };
}
