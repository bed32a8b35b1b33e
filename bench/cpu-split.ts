// Where a request's CPU goes, by process: the bench server (and its main thread apart), PostgreSQL's
// processes, the kernel's workers, everything else; for the real stack and its baseline, alternately, under
// the bench's load. Throughput says how fast; this says what each request costs the machine, which is what
// two shared cores run out of. The load generator's process has ended by the second sample, so its share
// is not in the figures. Linux only (/proc). PostgreSQL as for `npm run bench` (BENCH_DATABASE_URL or
// the private cluster, left running).
//   node bench/cpu-split.ts [--path /Patient/ms/$summary] [--connections 32] [--seconds 8] [--rounds 2]
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism, tmpdir } from 'node:os';
import { parseArgs } from 'node:util';
import { PERSONAS } from '../src/demo/personas.ts';
import { runLoad } from './lib/load.ts';
import { acquirePostgres } from './lib/postgres.ts';
import { startBenchServer } from './lib/server-process.ts';

const { values } = parseArgs({
  options: {
    path: { type: 'string', default: `/Patient/${PERSONAS.ms.id}/$summary` },
    connections: { type: 'string', default: '32' },
    seconds: { type: 'string', default: '8' },
    rounds: { type: 'string', default: '2' },
  },
});
const path = values.path;
const TICK = 100; // USER_HZ

const fieldsOf = (stat: string): string[] => stat.slice(stat.lastIndexOf(')') + 2).split(' ');
const cpuOf = (stat: string): number => {
  const f = fieldsOf(stat);
  return Number(f[11]) + Number(f[12]);
};

/** CPU ticks per process (all its threads), and the server's main thread apart. */
function sample(serverPid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      out.set(`${pid}\u0000${comm}`, cpuOf(stat));
      if (Number(pid) === serverPid) {
        const main = readFileSync(`/proc/${pid}/task/${pid}/stat`, 'utf8');
        out.set('server main thread', cpuOf(main));
        out.set('server main thread in the kernel', Number(fieldsOf(main)[12]));
      }
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return out;
}

function idleTicks(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return f[3]! + f[4]!;
}

function groupOf(key: string, serverPid: number): string {
  if (key.startsWith('server main thread')) return key;
  const [pid, comm = ''] = key.split('\u0000');
  if (Number(pid) === serverPid) return 'server (all threads)';
  if (comm.startsWith('postgres')) return 'postgres';
  if (comm.startsWith('kworker') || comm.startsWith('ksoftirq')) return 'kernel workers';
  return 'other';
}

const pg = await acquirePostgres({ fresh: false, log: () => undefined });
if ('unavailable' in pg) throw new Error(pg.unavailable);
const srv = await startBenchServer({ store: 'postgres', dataDir: join(tmpdir(), 'helsebro-cpu-split'), pgUrl: pg.url, pgSchema: 'bench_http', precompute: [path] });
const cores = availableParallelism();
try {
  for (let round = 0; round < Number(values.rounds); round++) {
    for (const [name, origin] of [['baseline', srv.baselineUrl], ['real', srv.url]] as const) {
      const before = sample(srv.pid);
      const idle0 = idleTicks();
      const t0 = Date.now();
      const r = await runLoad({
        mode: 'throughput',
        origin,
        paths: [`/fhir${path}`],
        headers: { authorization: `Bearer ${srv.token}`, accept: path.includes('$ehdsi') ? 'application/xml' : 'application/fhir+json' },
        connections: Number(values.connections),
        seconds: Number(values.seconds),
        warmupSeconds: 0,
      });
      const seconds = (Date.now() - t0) / 1000;
      const after = sample(srv.pid);
      const requests = r.perSecond * seconds;
      const groups = new Map<string, number>();
      for (const [k, v] of after) {
        const d = v - (before.get(k) ?? 0);
        if (d > 0) groups.set(groupOf(k, srv.pid), (groups.get(groupOf(k, srv.pid)) ?? 0) + d);
      }
      const idle = (idleTicks() - idle0) / TICK / seconds / cores;
      const parts = [...groups].sort((a, b) => b[1] - a[1]).map(([g, t]) => `${g} ${Math.round(((t / TICK) * 1e6) / requests)} µs`);
      console.log(`${name.padEnd(8)} ${Math.round(r.perSecond)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, machine idle ${Math.round(idle * 100)}%; CPU per request: ${parts.join(', ')}`);
    }
  }
} finally {
  await srv.stop();
}
process.exit(0);
