// bin/compile-cache.js, which `npm start` and `npx helsebro` load before any TypeScript: where it puts Node's
// compile cache, that worker threads inherit it, and that an operator's own choice (a folder, or off) wins.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PRELOAD = join(ROOT, 'bin/compile-cache.js');
const IN_REPO = join(ROOT, 'node_modules/.cache/node-compile-cache');
const temp = mkdtempSync(join(tmpdir(), 'helsebro-compile-cache-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

// Prints this thread's and a worker thread's compile cache folder (or null) as JSON.
const PROBE = `
const { getCompileCacheDir } = require('node:module');
const { Worker } = require('node:worker_threads');
const w = new Worker("require('node:worker_threads').parentPort.postMessage(require('node:module').getCompileCacheDir() ?? null)", { eval: true });
w.once('message', (worker) => { console.log(JSON.stringify({ main: getCompileCacheDir() ?? null, worker, env: process.env.NODE_COMPILE_CACHE ?? null })); w.terminate(); });
`;

function probe(env: Record<string, string | undefined>): { main: string | null; worker: string | null; env: string | null } {
  const clean: NodeJS.ProcessEnv = { ...process.env };
  delete clean.NODE_COMPILE_CACHE;
  delete clean.NODE_DISABLE_COMPILE_CACHE;
  const r = spawnSync(process.execPath, ['--import', PRELOAD, '-e', PROBE], { cwd: temp, env: { ...clean, ...env }, encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as { main: string | null; worker: string | null; env: string | null };
}

describe('bin/compile-cache.js', () => {
  it('puts the cache under node_modules/.cache of the installation, for this thread and for worker threads', () => {
    const r = probe({});
    expect(r.env).toBe(IN_REPO);
    expect(r.main?.startsWith(IN_REPO)).toBe(true);
    expect(r.worker?.startsWith(IN_REPO)).toBe(true);
  });

  it("leaves an operator's NODE_COMPILE_CACHE as it is", () => {
    const own = join(temp, 'own-cache');
    const r = probe({ NODE_COMPILE_CACHE: own });
    expect(r.env).toBe(own);
    expect(r.main?.startsWith(own)).toBe(true);
    expect(r.worker?.startsWith(own)).toBe(true);
  });

  it('stays off with NODE_DISABLE_COMPILE_CACHE=1', () => {
    expect(probe({ NODE_DISABLE_COMPILE_CACHE: '1' })).toEqual({ main: null, worker: null, env: null });
  });

  it('is what the CLI loads first: src/cli.ts comes through the cache under node_modules/.cache', () => {
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_DEBUG_NATIVE: 'COMPILE_CACHE' };
    delete env.NODE_COMPILE_CACHE;
    delete env.NODE_DISABLE_COMPILE_CACHE;
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/helsebro.js'), '--help'], { cwd: ROOT, env, encoding: 'utf8' });
    expect(r.stdout).toMatch(/usage: npx helsebro <command>/);
    // Node's own trace of the cache (pinned Node, so a stable format): the stripped cli.ts is read from or
    // written to the cache folder, whichever this run is.
    const traced = r.stderr.split('\n').filter((l) => l.includes('StrippedTypeScript') && l.includes('/src/cli.ts'));
    expect(traced.length).toBeGreaterThan(0);
    expect(r.stderr).toContain(IN_REPO);
  });

  it('is loaded by npm start before the server', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toMatch(/^node (--[a-z-]+=\S+ )*--import \.\/bin\/compile-cache\.js src\/main\.ts$/);
    expect(existsSync(PRELOAD)).toBe(true);
  });
});
