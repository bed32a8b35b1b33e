// Runs bench/load-worker.ts in a separate process and returns its figures.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadResult, LoadSpec } from '../load-worker.ts';

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
