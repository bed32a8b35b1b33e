// For tests that run the real server as a child process (`node src/main.ts`) against a counting M10
// receiver: a free port, the receiver, and waiting for a process to exit.
import type { ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Counts M10 deliveries per ReseptId and MsgId; answers a little slowly, so a kill lands mid-delivery. */
export function countingReceiver(delayMs: number) {
  const byResept = new Map<string, Map<string, number>>();
  let posts = 0;
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      posts++;
      const reseptId = /<ReseptId>([^<]+)<\/ReseptId>/.exec(body)?.[1] ?? '?';
      const msgId = String(req.headers['x-message-id']);
      const perResept = byResept.get(reseptId) ?? new Map<string, number>();
      perResept.set(msgId, (perResept.get(msgId) ?? 0) + 1);
      byResept.set(reseptId, perResept);
      setTimeout(() => res.writeHead(200).end(), delayMs);
    });
  });
  return { server, byResept, posts: () => posts };
}

export const exited = (p: ChildProcess): Promise<void> =>
  new Promise<void>((r) => (p.exitCode !== null || p.signalCode !== null ? r() : p.once('exit', () => r())));
