// A many-file convert-m1 run replaces itself with a copy started under tuned memory settings (malloc arenas,
// the main thread's young generation): what that copy is started with, that it happens once, and that the
// real command does it (same process id, new environment and flags) and still converts every file.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { heapFlags, relaunchTuned, tunedRelaunch, type ProcessStart, type ThreadHeap } from '../../src/eprescription/cli/relaunch.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const temp = mkdtempSync(join(tmpdir(), 'helsebro-relaunch-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const start = (over: Partial<ProcessStart> = {}): ProcessStart => ({
  execPath: '/opt/node/bin/node',
  execArgv: [],
  argv: ['/opt/node/bin/node', '/srv/helsebro/bin/helsebro.js', 'convert-m1', 'in', '--out', 'out dir'],
  env: { PATH: '/usr/bin', HELSEBRO_DATA_DIR: '/var/lib/helsebro' },
  ...over,
});
const HEAP: ThreadHeap = { oldGenerationMb: 129, youngGenerationMb: 8 };

describe('heapFlags', () => {
  it("gives the main thread a worker's limits: the old generation as it is, the young one as three semi-spaces", () => {
    expect(heapFlags(HEAP)).toEqual(['--max-old-space-size=129', '--max-semi-space-size=3']);
    expect(heapFlags({ oldGenerationMb: 300, youngGenerationMb: 1 })).toEqual(['--max-old-space-size=300', '--max-semi-space-size=1']);
  });
});

describe('tunedRelaunch', () => {
  it('starts the same script with the same arguments, our flags first, and MALLOC_ARENA_MAX=2 added to the environment', () => {
    const r = tunedRelaunch(start({ execArgv: ['--max-semi-space-size=16', '--enable-source-maps'] }), HEAP);
    expect(r).toBeDefined();
    expect(r!.file).toBe('/opt/node/bin/node');
    expect(r!.args).toEqual([
      '/opt/node/bin/node',
      '--max-old-space-size=129',
      '--max-semi-space-size=3',
      // The operator's flags come later, so a young generation they chose themselves wins.
      '--max-semi-space-size=16',
      '--enable-source-maps',
      '/srv/helsebro/bin/helsebro.js',
      'convert-m1',
      'in',
      '--out',
      'out dir',
    ]);
    expect(r!.env).toEqual({ PATH: '/usr/bin', HELSEBRO_DATA_DIR: '/var/lib/helsebro', MALLOC_ARENA_MAX: '2' });
  });

  it('leaves out variables that are declared but unset', () => {
    const r = tunedRelaunch(start({ env: { PATH: '/usr/bin', TZ: undefined } }), HEAP);
    expect(Object.keys(r!.env).sort()).toEqual(['MALLOC_ARENA_MAX', 'PATH']);
  });

  it('does nothing when MALLOC_ARENA_MAX is already set, by the operator or by the relaunch itself', () => {
    for (const value of ['2', '8', '']) expect(tunedRelaunch(start({ env: { MALLOC_ARENA_MAX: value } }), HEAP)).toBeUndefined();
  });
});

describe('relaunchTuned', () => {
  const fakeProcess = (env: NodeJS.ProcessEnv, execve: unknown): NodeJS.Process => ({ ...start({ env }), execve }) as unknown as NodeJS.Process;

  it('calls execve once with the tuned start', () => {
    const execve = vi.fn();
    relaunchTuned(HEAP, fakeProcess({ PATH: '/usr/bin' }, execve));
    expect(execve).toHaveBeenCalledTimes(1);
    const [file, args, env] = execve.mock.calls[0]!;
    expect(file).toBe('/opt/node/bin/node');
    expect(args).toEqual(['/opt/node/bin/node', ...heapFlags(HEAP), '/srv/helsebro/bin/helsebro.js', 'convert-m1', 'in', '--out', 'out dir']);
    expect(env).toMatchObject({ MALLOC_ARENA_MAX: '2', PATH: '/usr/bin' });
  });

  it('returns without relaunching when already tuned, or where the platform has no execve', () => {
    const execve = vi.fn();
    relaunchTuned(HEAP, fakeProcess({ MALLOC_ARENA_MAX: '2' }, execve));
    expect(execve).not.toHaveBeenCalled();
    expect(() => relaunchTuned(HEAP, fakeProcess({ PATH: '/usr/bin' }, undefined))).not.toThrow();
  });
});

describe('convert-m1 over many files', () => {
  // /proc shows a process's environment and command line as they were at its last exec.
  it.runIf(process.platform === 'linux')('runs on as the same process under MALLOC_ARENA_MAX=2 and the workers\' heap limits, and converts every file', async () => {
    const dir = join(temp, 'many');
    mkdirSync(dir, { recursive: true });
    const template = readFileSync(join(ROOT, 'test/fixtures/m1/valid/01-pakning-hydrokortison.xml'), 'utf8');
    for (let i = 0; i < 60; i++) {
      const msgId = `c2a5d3b1-7e2f-4a1b-8b62-${String(i).padStart(12, '0')}`;
      writeFileSync(join(dir, `m1-${i}.xml`), template.replace(/<MsgId>[^<]+<\/MsgId>/, `<MsgId>${msgId}</MsgId>`));
    }
    const env: NodeJS.ProcessEnv = { ...process.env, HELSEBRO_DATA_DIR: join(temp, 'data'), LOG_LEVEL: 'silent' };
    delete env.MALLOC_ARENA_MAX;
    const proc = spawn(process.execPath, ['bin/helsebro.js', 'convert-m1', dir, '--date', '2026-03-02', '--workers', '2', '--out', join(temp, 'out')], { cwd: ROOT, env });
    let stdout = '';
    proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const seen = { environ: false, cmdline: false };
    const poll = setInterval(() => {
      try {
        seen.environ ||= readFileSync(`/proc/${proc.pid}/environ`, 'utf8').split('\0').includes('MALLOC_ARENA_MAX=2');
        const args = readFileSync(`/proc/${proc.pid}/cmdline`, 'utf8').split('\0');
        // The demo FEST file is well under 1 MB: 128 MB plus four times its size, as the workers get.
        seen.cmdline ||= args.includes('--max-semi-space-size=3') && args.includes('--max-old-space-size=129');
      } catch {
        // gone already: the exit code below tells
      }
    }, 10);
    const code = await new Promise<number | null>((resolve) => proc.on('close', resolve));
    clearInterval(poll);
    expect(code).toBe(0);
    expect(stdout).toMatch(/convert-m1: 60 files: 60 converted, 0 refused by rule, 0 failed/);
    expect(seen).toEqual({ environ: true, cmdline: true });
  });
});
