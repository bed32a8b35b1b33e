// What the figures were measured on.
import { availableParallelism, cpus, loadavg, platform, release, totalmem } from 'node:os';
import type { Machine } from './report.ts';

export function describeMachine(): Machine {
  return {
    cores: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() || 'unknown CPU',
    memoryGiB: totalmem() / 1024 ** 3,
    node: process.versions.node,
    platform: `${platform()} ${release()}`,
    loadAverage: loadavg()[0] ?? 0,
  };
}

/** Peak resident set size of a running process so far (VmHWM), in bytes; undefined when unreadable. */
export async function peakRss(pid: number): Promise<number | undefined> {
  const { readFile } = await import('node:fs/promises');
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Current resident set size of a running process (VmRSS), in bytes. */
export async function currentRss(pid: number): Promise<number | undefined> {
  const { readFile } = await import('node:fs/promises');
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
