// Soak: the real server (bench/serve.ts, in its own process so its memory is its own) under a mixed load
// for SOAK_MINUTES (default 10): summaries, searches, and, where the routes exist, EU prescription imports,
// M1 imports and dispensations. Every answer must be the expected success, and the server's resident
// memory after warm-up must grow by less than 10%. On PostgreSQL when SOAK_DATABASE_URL or
// TEST_DATABASE_URL is set (own schema), else on embedded PGlite.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OID } from '../../src/fhir/identifiers.ts';
import { PERSONAS } from '../../src/demo/personas.ts';
import { allDocumentedRoutes } from '../../src/http/routes.ts';
import { startBenchServer, type BenchServer } from '../../bench/lib/server-process.ts';

const MINUTES = Number(process.env.SOAK_MINUTES ?? 10);
const DURATION_MS = MINUTES * 60_000;
const WARMUP_MS = Math.max(30_000, DURATION_MS * 0.2);
const SAMPLE_EVERY_MS = 5_000;
const IN_FLIGHT = 8;
const PG_URL = process.env.SOAK_DATABASE_URL ?? process.env.TEST_DATABASE_URL;

const served = (method: string, path: string): boolean => allDocumentedRoutes().some((r) => r.method === method && r.path === path);
const fixture = (path: string): string => readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8');

interface Op {
  name: string;
  weight: number;
  run(): Promise<{ status: number; ok: boolean; body: string }>;
}

describe(`soak: ${MINUTES} minutes of mixed load (${PG_URL ? 'postgres' : 'pglite'})`, () => {
  let srv: BenchServer;
  let dir: string;
  const tokens: Record<'clinician' | 'ncp' | 'pharmacy', string> = { clinician: '', ncp: '', pharmacy: '' };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'helsebro-soak-'));
    srv = await startBenchServer({
      store: PG_URL ? 'postgres' : 'pglite',
      dataDir: dir,
      ...(PG_URL ? { pgUrl: PG_URL, pgSchema: 'helsebro_soak' } : {}),
      logFile: join(dir, 'server.log'),
      env: { BENCH_DEMO_FEST: '1' },
    });
    tokens.clinician = srv.token;
    tokens.ncp = await srv.tokenFor('system/MedicationRequest.cruds system/MedicationDispense.cruds', 'ncp-no');
    // Registered clients: the role comes from the client id (src/auth/roles.ts: ncp-no, pharmacy-*).
    tokens.pharmacy = await srv.tokenFor('system/MedicationRequest.rs system/MedicationDispense.cruds', 'pharmacy-apotek-1-ski');
  });
  afterAll(async () => {
    await srv?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function call(token: string, path: string, init: RequestInit = {}, expected: number[] = [200]) {
    const headers = new Headers(init.headers);
    headers.set('authorization', `Bearer ${token}`);
    const res = await fetch(`${srv.url}/fhir${path}`, { ...init, headers });
    const body = await res.text();
    return { status: res.status, ok: expected.includes(res.status), body };
  }
  const post = (token: string, path: string, contentType: string, body: string, expected: number[]) =>
    call(token, path, { method: 'POST', headers: { 'content-type': contentType }, body }, expected);

  function operations(): Op[] {
    const people = [PERSONAS.ms, PERSONAS.addison, PERSONAS.knee, PERSONAS.nodata];
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)]!;
    const ops: Op[] = [
      { name: 'summary', weight: 4, run: () => call(tokens.clinician, `/Patient/${pick(people).id}/$summary`) },
      {
        name: 'patient search',
        weight: 2,
        run: () => call(tokens.clinician, `/Patient?identifier=${encodeURIComponent(`${OID.fnr}|${pick(people).fnr}`)}`),
      },
      { name: 'condition search', weight: 2, run: () => call(tokens.clinician, `/Condition?patient=Patient/${pick(people).id}`) },
      { name: 'medication search', weight: 1, run: () => call(tokens.clinician, `/MedicationStatement?patient=Patient/${pick(people).id}`) },
    ];
    if (served('POST', '/MedicationRequest/$import-m1')) {
      const m1 = fixture('m1/valid/01-pakning-hydrokortison.xml');
      ops.push({
        name: 'M1 import',
        weight: 1,
        // The NCP imports M1s (the route admits no clinician).
        run: () => post(tokens.ncp, '/MedicationRequest/$import-m1', 'application/xml', m1.replace(/<MsgId>[^<]*<\/MsgId>/, `<MsgId>${randomUUID()}</MsgId>`), [200, 201]),
      });
    }
    if (served('POST', '/MedicationRequest/$import-ehdsi-cda') && served('POST', '/MedicationDispense/$import-m10')) {
      const cda = fixture('edispensation/eP-L3-lantus-W8.openncp.xml');
      const m10 = fixture('m10/sample-ekspedering-utlevering.xml').replace(/<Signature xmlns="http:\/\/www.w3.org\/2000\/09\/xmldsig#">[\s\S]*<\/Signature>/, '');
      ops.push({
        name: 'EU prescription import and its dispensation',
        weight: 1,
        run: async () => {
          const id = `EU-${randomUUID()}`;
          const imported = await post(tokens.ncp, '/MedicationRequest/$import-ehdsi-cda', 'application/xml', cda.replace('<id extension="3000.1.1" root="2.16.17.710.850.1000.990.1"', `<id extension="${id}" root="2.16.17.710.850.1000.990.1"`), [201]);
          if (!imported.ok) return imported;
          // The EU prescription's patient (the sample M10 names a Norwegian one, refused as DISP-PATIENT-MISMATCH).
          const report = m10
            .replace(/<ReseptId>[^<]*<\/ReseptId>/, `<ReseptId>${id}</ReseptId>`)
            .replace(/<MsgId>[^<]*<\/MsgId>/, `<MsgId>${randomUUID()}</MsgId>`)
            .replace(/<Patient>[\s\S]*?<\/Patient>/, '<Patient><FamilyName>Schuman</FamilyName><GivenName>Robert</GivenName></Patient>');
          return post(tokens.pharmacy, '/MedicationDispense/$import-m10', 'application/xml', report, [201]);
        },
      });
    }
    return ops;
  }

  it('answers every request with success and keeps its memory flat after warm-up', async () => {
    const ops = operations();
    const total = ops.reduce((n, o) => n + o.weight, 0);
    const choose = (): Op => {
      let r = Math.random() * total;
      for (const o of ops) if ((r -= o.weight) < 0) return o;
      return ops[0]!;
    };
    const counts = new Map<string, number>();
    const failures: string[] = [];
    const samples: { at: number; rss: number }[] = [];
    const started = Date.now();
    const end = started + DURATION_MS;

    const worker = async (): Promise<void> => {
      while (Date.now() < end && failures.length < 20) {
        const op = choose();
        try {
          const r = await op.run();
          counts.set(op.name, (counts.get(op.name) ?? 0) + 1);
          if (!r.ok) failures.push(`${op.name}: ${r.status} ${r.body.slice(0, 200)}`);
        } catch (err) {
          failures.push(`${op.name}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    };
    const sampler = (async () => {
      while (Date.now() < end) {
        await new Promise((r) => setTimeout(r, SAMPLE_EVERY_MS));
        samples.push({ at: Date.now() - started, rss: (await srv.memory()).rss });
      }
    })();
    await Promise.all([...Array.from({ length: IN_FLIGHT }, worker), sampler]);

    const requests = [...counts.values()].reduce((a, b) => a + b, 0);
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
    const afterWarmup = samples.filter((s) => s.at >= WARMUP_MS);
    const window = Math.max(3, Math.round(30_000 / SAMPLE_EVERY_MS));
    const first = median(afterWarmup.slice(0, window).map((s) => s.rss));
    const last = median(afterWarmup.slice(-window).map((s) => s.rss));
    const growth = last / first - 1;
    const mb = (b: number): string => `${Math.round(b / 1024 / 1024)} MB`;
    process.stdout.write(
      `soak: ${requests} requests in ${MINUTES} min (${[...counts].map(([k, n]) => `${k} ${n}`).join(', ')}); ` +
        `server RSS after warm-up ${mb(first)} -> ${mb(last)} (${(growth * 100).toFixed(1)}%)\n`,
    );
    expect(failures).toEqual([]);
    expect(requests).toBeGreaterThan(0);
    expect(afterWarmup.length).toBeGreaterThanOrEqual(2 * window);
    expect(growth).toBeLessThan(0.1);
  });
});
