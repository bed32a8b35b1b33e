// GET /metrics: the Prometheus exposition, closed to everyone but the operator role, and moved by what the
// service does: a summary whose Kjernejournal call fails counts a failed source call and a 200 on the route.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERSONAS } from '../../src/demo/personas.ts';
import { seedDemoSummarySources } from '../../src/summary/seed.ts';
import { engines, getTestDb } from '../support/db.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { startFakeUpstream, type FakeUpstream } from '../fixtures/summary/upstream.ts';

/** The value of one sample line (`name{labels} value`), 0 when the series does not exist yet. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${name} `) && Object.keys(labels).length === 0) return Number(line.slice(name.length + 1));
    if (!line.startsWith(`${name}{`)) continue;
    const inside = line.slice(name.length + 1, line.lastIndexOf('}'));
    const has = Object.entries(labels).every(([k, v]) => inside.includes(`${k}="${v}"`));
    if (has) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

describe.each(engines)('GET /metrics (%s)', (engine) => {
  let srv: TestServer;
  let kj: FakeUpstream;

  beforeAll(async () => {
    await seedDemoSummarySources(await getTestDb(engine));
    kj = await startFakeUpstream('fail');
    srv = await startTestServer(engine, { KJERNEJOURNAL_BASE_URL: `${kj.url}/api/critical-information/v1`, SUMMARY_SOURCE_TIMEOUT_MS: '5000' });
  });
  afterAll(async () => {
    await srv?.close();
    await kj?.close();
  });

  const scrape = async (): Promise<string> => {
    const res = await srv.fetchAs('system/Patient.r', '/metrics', {}, { client: 'operator' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return res.text();
  };

  it('answers 401 without a token and 403 to a clinician, a citizen, the NCP or an unregistered system client', async () => {
    const none = await fetch(`${srv.url}/metrics`);
    expect(none.status).toBe(401);
    expect(((await none.json()) as { resourceType: string }).resourceType).toBe('OperationOutcome');
    expect((await srv.fetchAs('user/Patient.r', '/metrics')).status).toBe(403);
    expect((await srv.fetchAs('patient/Patient.r', '/metrics', {}, { patient: PERSONAS.ms.fnr })).status).toBe(403);
    expect((await srv.fetchAs('system/Patient.r', '/metrics', {}, { client: 'ncp-no' })).status).toBe(403);
    expect((await srv.fetchAs('system/Patient.r', '/metrics', {}, { client: 'monitoring' })).status).toBe(403);
  });

  it('counts a summary whose Kjernejournal call failed: the source failure, the request and its latency', async () => {
    const before = await scrape();
    const res = await srv.fetchAs('user/Patient.r', `/fhir/Patient/${PERSONAS.ms.id}/$summary`);
    expect(res.status).toBe(200);
    const after = await scrape();
    const failed = { source: 'kjernejournal', outcome: 'failed' };
    expect(sample(after, 'helsebro_source_request_duration_seconds_count', failed) - sample(before, 'helsebro_source_request_duration_seconds_count', failed)).toBe(1);
    const route = { route: '/fhir/Patient/:id/$summary', method: 'GET', status: '200' };
    expect(sample(after, 'helsebro_http_requests_total', route) - sample(before, 'helsebro_http_requests_total', route)).toBe(1);
    const latency = { route: '/fhir/Patient/:id/$summary', method: 'GET' };
    expect(sample(after, 'helsebro_http_request_duration_seconds_count', latency)).toBeGreaterThan(sample(before, 'helsebro_http_request_duration_seconds_count', latency));
    // The audit write of that summary was timed too.
    expect(sample(after, 'helsebro_audit_write_duration_seconds_count', {})).toBeGreaterThan(0);
  });

  it('reports the outbox per channel and state, and never a fødselsnummer or a URL', async () => {
    const text = await scrape();
    expect(text).toMatch(/^# TYPE helsebro_outbox_messages gauge$/m);
    for (const p of Object.values(PERSONAS)) {
      expect(text).not.toContain(p.fnr);
      expect(text).not.toContain(`/Patient/${p.id}`);
    }
  });
});
