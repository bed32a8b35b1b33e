// No request may stall the server: hostile bodies that would hold the event loop are refused before the
// parser works on them, while health probes keep answering. The bounds are the ones issue 11 sets for a
// denial-of-service guard (100 ms per probe, 1 s for the refusal), scaled up only on a machine whose
// probes are slow without any flood. Before the pre-scan this body held the event loop for 29.8 s.
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OperationOutcome } from '@medplum/fhirtypes';
import { MESSAGE_ERROR_SYSTEM } from '../../src/xml/errors.ts';
import { engines } from '../support/db.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const NCP_SCOPE = 'system/MedicationRequest.crs system/MedicationDispense.crs system/Patient.r';

/** One start tag with `count` attributes: 2.3 MB at 200,000, as in the report that froze the server. */
function attributeFlood(count: number): string {
  const parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<MsgHead xmlns="http://www.kith.no/xmlstds/msghead/2006-05-24"'];
  for (let i = 0; i < count; i++) parts.push(` a${i}="x"`);
  parts.push('/>');
  return parts.join('');
}

const errorCode = (oo: OperationOutcome): string | undefined =>
  oo.issue[0]?.details?.coding?.find((c) => c.system === MESSAGE_ERROR_SYSTEM)?.code;

function postRaw(url: string, headers: Record<string, string>, body: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { ...headers, 'content-length': String(body.length) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('no request stalls the server', () => {
  let srv: TestServer;
  let ncp: string;
  /** 100 ms, or more on a machine whose probes are slow without a flood (set by the first test). */
  let probeBound = 100;
  const refusalBound = () => 10 * probeBound;
  beforeAll(async () => {
    srv = await startTestServer(engines[0]!);
    ncp = `Bearer ${await srv.token({ client: 'ncp-no', scope: NCP_SCOPE })}`;
  });
  afterAll(async () => {
    await srv.close();
  });

  /** Sequential /healthz probes, 5 ms apart: each one's answer time in ms. */
  async function probeHealth(count: number): Promise<number[]> {
    const times: number[] = [];
    for (let i = 0; i < count; i++) {
      const t = performance.now();
      const res = await fetch(`${srv.url}/healthz`);
      times.push(performance.now() - t);
      expect(res.status).toBe(200);
      await sleep(5);
    }
    return times;
  }

  it('refuses one start tag of 200,000 attributes within 1 s while /healthz answers every probe within 100 ms', async () => {
    const body = Buffer.from(attributeFlood(200_000));
    expect(body.length).toBeGreaterThan(2_200_000);
    // Warm the health route first, so the first probe does not measure connection set-up. The same 20
    // probes without a flood say how slow this machine is right now: on a machine shared with other work
    // the bounds grow with it (never below the issue's 100 ms and 1 s), so the test tells a server that
    // stalls (seconds, growing with the attribute count) from a scheduler that is merely busy.
    expect((await fetch(`${srv.url}/healthz`)).status).toBe(200);
    const baseline = await probeHealth(20);
    probeBound = Math.max(100, 10 * Math.max(...baseline));

    // Sent with node:http, which writes the buffer as it is: fetch would copy 2.3 MB on this same event loop.
    const started = performance.now();
    const flood = postRaw(`${srv.url}/fhir/MedicationRequest/$import-m1`, { authorization: ncp, 'content-type': 'application/xml' }, body).then(
      (res) => ({ res, ms: performance.now() - started, oo: JSON.parse(res.body) as OperationOutcome }),
    );

    const probes = await probeHealth(20);
    const { res, ms, oo } = await flood;

    const times = (xs: number[]) => xs.map((p) => p.toFixed(0)).join(', ');
    expect(Math.max(...probes), `probes ${times(probes)} ms; without the flood ${times(baseline)} ms`).toBeLessThan(probeBound);
    expect(ms).toBeLessThan(refusalBound());
    expect(res.status).toBe(400);
    expect(oo.resourceType).toBe('OperationOutcome');
    expect(errorCode(oo)).toBe('xml-too-many-attributes');
    expect(oo.issue[0]?.diagnostics).toMatch(/more than 64 attributes/);
    expect(oo.issue[0]?.expression).toEqual(['MsgHead']);
  });

  it.each([
    ['namespace declarations', (n: number) => `<r${Array.from({ length: n }, (_, i) => ` xmlns:p${i}="urn:x:${i}"`).join('')}/>`, 40, 'xml-too-many-attributes', /declares more than 32 namespaces/],
    ['one start tag longer than 64 KiB', (n: number) => `<r a="${'x'.repeat(n)}"/>`, 200_000, 'xml-tag-too-long', /start tag is longer than 65536/],
    ['elements nested 100,000 deep', (n: number) => `${'<a>'.repeat(n)}${'</a>'.repeat(n)}`, 100_000, 'xml-too-deep', /nested deeper than 64/],
  ])('refuses %s quickly with an OperationOutcome naming the limit', async (_what, make, n, code, says) => {
    const started = performance.now();
    const res = await fetch(`${srv.url}/fhir/MedicationRequest/$import-m1`, {
      method: 'POST',
      headers: { authorization: ncp, 'content-type': 'application/xml' },
      body: make(n),
    });
    const oo = (await res.json()) as OperationOutcome;
    expect(performance.now() - started).toBeLessThan(refusalBound());
    expect(res.status).toBe(400);
    expect(errorCode(oo)).toBe(code);
    expect(oo.issue[0]?.diagnostics).toMatch(says);
  });

  it.each([
    ['arrays', '['.repeat(5000) + ']'.repeat(5000)],
    ['objects', '{"a":'.repeat(5000) + '1' + '}'.repeat(5000)],
  ])('answers JSON %s nested 5,000 deep with a quick 400 that names the limit and no internals', async (_what, body) => {
    for (const path of ['/fhir/MedicationDispense', '/fhir/Bundle']) {
      const started = performance.now();
      const res = await fetch(`${srv.url}${path}`, {
        method: 'POST',
        headers: { authorization: ncp, 'content-type': 'application/fhir+json' },
        body,
      });
      const oo = (await res.json()) as OperationOutcome;
      expect(performance.now() - started, path).toBeLessThan(refusalBound());
      expect(res.status, path).toBe(400);
      expect(oo.resourceType).toBe('OperationOutcome');
      const text = JSON.stringify(oo);
      expect(text).toMatch(/nested deeper than \d+ levels/);
      expect(text).not.toMatch(/stack|Maximum call|RangeError|at position|\.ts\b|node_modules/i);
    }
  });
});
