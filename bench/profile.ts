// Profiles the server under the bench's load: the real stack in its own process, the same load generator
// as `npm run bench`, the V8 profiler on for the measured window only (after an unprofiled warm-up), then the top of the profile (self time per function, and time per
// source module) written to bench/results/profile-<path>-<label>.md, so a change can be shown before and after.
//   node bench/profile.ts [--label before] [--seconds 20] [--path /Patient/ms/$summary] [--keep file.cpuprofile]   (BENCH_PG_URL: on PostgreSQL)
// (also /Patient/ms/$ehdsi-ps, asked for as XML).
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PERSONAS } from '../src/demo/personas.ts';
import { runLoad } from './lib/load.ts';
import { startBenchServer } from './lib/server-process.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/**
 * Self time (ms) per function and per source file, from the sampled stacks, and the inclusive time of the
 * project's own functions (src/: the time spent in them and in everything they call).
 */
export function summarise(profile: CpuProfile): { functions: [string, number][]; files: [string, number][]; inclusive: [string, number][]; totalMs: number } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000));
  const functions = new Map<string, number>();
  const files = new Map<string, number>();
  const inclusive = new Map<string, number>();
  let totalMs = 0;
  const nameOf = (id: number): { name: string; file: string } => {
    const f = byId.get(id)!.callFrame;
    const file = f.url ? shortUrl(f.url) : `(${f.functionName || 'native'})`;
    return { name: `${f.functionName || '(anonymous)'} ${f.url ? `${file}:${f.lineNumber + 1}` : ''}`.trim(), file };
  };
  for (const [id, ms] of self) {
    const { name, file } = nameOf(id);
    functions.set(name, (functions.get(name) ?? 0) + ms);
    files.set(file, (files.get(file) ?? 0) + ms);
    totalMs += ms;
    // Each function once per stack, however deep its recursion.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const n = nameOf(at);
      if (n.file.startsWith('src/') && !seen.has(n.name)) {
        seen.add(n.name);
        inclusive.set(n.name, (inclusive.get(n.name) ?? 0) + ms);
      }
    }
  }
  const top = (m: Map<string, number>): [string, number][] => [...m].sort((a, b) => b[1] - a[1]);
  return { functions: top(functions), files: top(files), inclusive: top(inclusive), totalMs };
}

function shortUrl(url: string): string {
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const rel = relative(ROOT, path);
  const nm = rel.lastIndexOf('node_modules/');
  if (nm >= 0) return rel.slice(nm + 'node_modules/'.length).split('/').slice(0, rel.includes('/@', nm) ? 2 : 1).join('/') + ' (dependency)';
  return rel.startsWith('..') ? path : rel;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { label: { type: 'string', default: 'now' }, seconds: { type: 'string', default: '20' }, path: { type: 'string' }, keep: { type: 'string' } },
  });
  const path = values.path ?? `/Patient/${PERSONAS.ms.id}/$summary`;
  const dataDir = mkdtempSync(join(tmpdir(), 'helsebro-profile-'));
  const pgUrl = process.env.BENCH_PG_URL;
  const srv = await startBenchServer({ store: pgUrl ? 'postgres' : 'pglite', dataDir, ...(pgUrl ? { pgUrl } : {}) });
  const spec = (seconds: number, warmupSeconds: number) => ({
    mode: 'throughput' as const,
    origin: srv.url,
    paths: [`/fhir${path}`],
    // $ehdsi-ps answers XML only.
    headers: { authorization: `Bearer ${srv.token}`, accept: path.includes('$ehdsi-') ? 'application/xml' : 'application/fhir+json' },
    connections: 32,
    seconds,
    warmupSeconds,
  });
  // Warm up unprofiled (JIT, caches, pools), then profile only the measured window.
  await runLoad(spec(3, 0));
  const file = join(dataDir, 'server.cpuprofile');
  const load = await srv.profile(file, () => runLoad(spec(Number(values.seconds), 0)));
  await srv.stop();
  const s = summarise(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile);
  if (values.keep) copyFileSync(file, values.keep);
  rmSync(dataDir, { recursive: true, force: true });
  const pct = (ms: number): string => `${((100 * ms) / s.totalMs).toFixed(1)}%`;
  const lines = [
    `# CPU profile: GET /fhir${path} (${values.label})`,
    '',
    `${new Date().toISOString()}: 32 connections for ${values.seconds} s on ${srv.engine}, ${Math.round(load.perSecond)} req/s, p99 ${load.p99} ms under the profiler (which slows it). ` +
      `Reproduce: \`node bench/profile.ts --label ${values.label}${values.path ? ` --path '${values.path}'` : ''}\`.`,
    '',
    '## Self time by function (top 30)',
    '',
    '| function | self | share |',
    '|---|---|---|',
    ...s.functions.slice(0, 30).map(([name, ms]) => `| \`${name}\` | ${ms.toFixed(0)} ms | ${pct(ms)} |`),
    '',
    '## Self time by source file (top 20)',
    '',
    '| file | self | share |',
    '|---|---|---|',
    ...s.files.slice(0, 20).map(([name, ms]) => `| \`${name}\` | ${ms.toFixed(0)} ms | ${pct(ms)} |`),
    '',
    '## Inclusive time of our own functions (src/, top 30)',
    '',
    '| function | with callees | share |',
    '|---|---|---|',
    ...s.inclusive.slice(0, 30).map(([name, ms]) => `| \`${name}\` | ${ms.toFixed(0)} ms | ${pct(ms)} |`),
    '',
  ];
  const slug = path.replace(/[^A-Za-z0-9$]+/g, '-').replace(/^-|-$/g, '').replace('$', '');
  const out = fileURLToPath(new URL(`results/profile-${slug}-${values.label}.md`, import.meta.url));
  writeFileSync(out, lines.join('\n'));
  console.log(`wrote ${relative(ROOT, out)}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
