// The load generator, in its own process so that it never shares an event loop with the server under test.
// Reads a LoadSpec (JSON file named by argv[2]), runs it, prints a LoadResult as JSON on stdout.
//   throughput: autocannon with N connections for a duration (after a warm-up that is not counted);
//   latency:    one request at a time (keep-alive) for a duration, every latency kept, exact percentiles.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import autocannon from 'autocannon';

export interface LoadSpec {
  mode: 'throughput' | 'latency';
  /** Server origin, e.g. http://127.0.0.1:4000 */
  origin: string;
  /** Request paths (with /fhir); each request picks one at random. */
  paths: string[];
  headers: Record<string, string>;
  connections: number;
  seconds: number;
  warmupSeconds: number;
}

export interface LoadResult {
  requests: number;
  perSecond: number;
  p50: number;
  p99: number;
  /** Responses outside 2xx, and transport errors/timeouts. */
  non2xx: number;
  errors: number;
  statusCodes: Record<string, number>;
}

const pick = (paths: string[]): string => paths[Math.floor(Math.random() * paths.length)]!;

async function throughput(spec: LoadSpec, seconds: number): Promise<LoadResult> {
  const opts: autocannon.Options = {
    url: spec.origin + spec.paths[0],
    connections: spec.connections,
    duration: seconds,
    headers: spec.headers,
    timeout: 30,
    ...(spec.paths.length > 1
      ? { requests: [{ method: 'GET', setupRequest: (req: autocannon.Request) => ({ ...req, path: pick(spec.paths) }) }] }
      : {}),
  };
  const r = await autocannon(opts);
  const statusCodes: Record<string, number> = {};
  for (const [code, s] of Object.entries((r as unknown as { statusCodeStats?: Record<string, { count: number }> }).statusCodeStats ?? {})) {
    statusCodes[code] = s.count;
  }
  return {
    requests: r.requests.total,
    perSecond: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    statusCodes,
  };
}

async function latency(spec: LoadSpec, seconds: number): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const times: number[] = [];
  const statusCodes: Record<string, number> = {};
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    const path = pick(spec.paths);
    const t0 = performance.now();
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.get(spec.origin + path, { agent, headers: spec.headers }, (res) => {
          res.on('data', () => undefined);
          res.on('end', () => resolve(res.statusCode ?? 0));
          res.on('error', reject);
        });
        req.on('error', reject);
      });
      times.push(performance.now() - t0);
      statusCodes[status] = (statusCodes[status] ?? 0) + 1;
    } catch {
      errors++;
    }
  }
  agent.destroy();
  times.sort((a, b) => a - b);
  const q = (p: number): number => times[Math.min(times.length - 1, Math.floor(p * times.length))] ?? NaN;
  const non2xx = Object.entries(statusCodes).filter(([c]) => !c.startsWith('2')).reduce((n, [, k]) => n + k, 0);
  return { requests: times.length, perSecond: times.length / seconds, p50: q(0.5), p99: q(0.99), non2xx, errors, statusCodes };
}

async function main(): Promise<void> {
  const spec = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as LoadSpec;
  const run = spec.mode === 'throughput' ? throughput : latency;
  if (spec.warmupSeconds > 0) await run(spec, spec.warmupSeconds);
  const result = await run(spec, spec.seconds);
  process.stdout.write(JSON.stringify(result) + '\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`load worker: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
