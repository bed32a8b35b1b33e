// Runs bench/load-worker.ts in a separate process and returns its figures.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadResult, LoadSpec } from '../load-worker.ts';
import { median } from './rounds.ts';

export type { LoadResult, LoadSpec };

const WORKER = fileURLToPath(new URL('../load-worker.ts', import.meta.url));

export async function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'helsebro-load-'));
  const file = join(dir, 'spec.json');
  writeFileSync(file, JSON.stringify(spec));
  try {
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, [WORKER, file], { maxBuffer: 16 * 1024 * 1024 }, (err, out, errOut) => {
        if (err) reject(new Error(`load worker failed: ${errOut || err.message}`));
        else resolve(out);
      });
    });
    return JSON.parse(stdout.trim().split('\n').pop()!) as LoadResult;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * One side of a comparison over its rounds: requests and failures summed, requests per second the mean over
 * the rounds, the median round's p50 and the worst round's p99.
 */
export function pooled(results: readonly LoadResult[]): LoadResult {
  const statusCodes: Record<string, number> = {};
  for (const r of results) for (const [code, n] of Object.entries(r.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + n;
  return {
    requests: results.reduce((n, r) => n + r.requests, 0),
    perSecond: results.reduce((n, r) => n + r.perSecond, 0) / results.length,
    p50: median(results.map((r) => r.p50)),
    p99: Math.max(...results.map((r) => r.p99)),
    non2xx: results.reduce((n, r) => n + r.non2xx, 0),
    errors: results.reduce((n, r) => n + r.errors, 0),
    statusCodes,
  };
}
