// Start-up: `npm start` as a child process, timed from spawn until /readyz answers 200; first with a
// fresh data directory (PGlite initdb, migrations, demo seeding), then again on the same directory.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchContext } from '../lib/context.ts';
import type { Row } from '../lib/report.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

async function timeStart(dataDir: string): Promise<number> {
  const port = await freePort();
  const t0 = performance.now();
  // detached: npm, its shell and node form one process group that is stopped together below.
  const child = spawn('npm', ['start', '--silent'], {
    cwd: ROOT,
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, HELSEBRO_DATA_DIR: dataDir, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', DATABASE_URL: '' },
  });
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  try {
    for (;;) {
      if (exited) throw new Error('npm start exited before it was ready');
      if (performance.now() - t0 > 120_000) throw new Error('npm start was not ready within 120 s');
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(1000) }).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ready) return (performance.now() - t0) / 1000;
      await new Promise((r) => setTimeout(r, 25));
    }
  } finally {
    if (!exited) {
      const gone = new Promise((r) => child.once('exit', r));
      process.kill(-child.pid!, 'SIGTERM');
      const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    }
  }
}

export async function startupCase(ctx: BenchContext): Promise<Row[]> {
  const dataDir = join(ctx.tmp, 'startup-data');
  mkdirSync(dataDir, { recursive: true });
  ctx.log('startup: fresh data directory');
  const fresh = await timeStart(dataDir);
  ctx.log('startup: second start');
  const again = await timeStart(dataDir);
  return [
    {
      case: '`npm start` to ready (/readyz 200), PGlite',
      figure: `${fresh.toFixed(1)} s fresh data dir; ${again.toFixed(1)} s second start`,
      baseline: '—',
      ratio: '—',
      goal: '— (reported)',
      verdict: 'info',
      note: 'fresh includes creating the embedded database, migrations and seeding the demo population; the second start reopens it.',
    },
  ];
}
