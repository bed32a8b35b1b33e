// Live upstreams that misbehave: the summary still arrives by the deadline (plus a little), the affected
// sections say unavailable and the response carries a warning naming the source.
import type { Bundle, Composition } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERSONAS } from '../../src/demo/personas.ts';
import { personaPatient } from '../../src/demo/population.ts';
import { buildSummarySources } from '../../src/summary/build-sources.ts';
import { seedDemoSummarySources } from '../../src/summary/seed.ts';
import { summarizePatient } from '../../src/summary/summarize.ts';
import type { Db } from '../../src/store/db.ts';
import { engines, getTestDb } from '../support/db.ts';
import { validateIpsDocument } from '../support/ips-validate.ts';
import { startFakeUpstream, type Behaviour, type FakeUpstream } from '../fixtures/summary/upstream.ts';

// Long enough that a source answering 'ok' makes it on a busy test machine; a hang still ends at the deadline.
const DEADLINE_MS = 1500;
const SLACK_MS = 1000;
const operator = { name: 'Norsk helsenett SF', orgnr: '994598759' };
const sectionByCode = (b: Bundle, loinc: string) => (b.entry![0]!.resource as Composition).section?.find((s) => s.code?.coding?.[0]?.code === loinc);

describe.each(engines)('summary with live upstreams (%s)', (engine) => {
  let db: Db;
  let kj: FakeUpstream;
  let pll: FakeUpstream;

  beforeAll(async () => {
    db = await getTestDb(engine);
    await seedDemoSummarySources(db);
    kj = await startFakeUpstream();
    pll = await startFakeUpstream();
  });
  afterAll(async () => {
    await kj.close();
    await pll.close();
  });

  async function summarize(kjBehaviour: Behaviour, pllBehaviour: Behaviour) {
    kj.behaviour = kjBehaviour;
    pll.behaviour = pllBehaviour;
    const sources = buildSummarySources({ mode: 'production', sources: { kjernejournalBaseUrl: `${kj.url}/api/critical-information/v1`, medicationListBaseUrl: `${pll.url}/sfm` } }, db);
    const started = performance.now();
    const result = await summarizePatient(personaPatient(PERSONAS.ms), PERSONAS.ms.fnr, { sources, timeoutMs: DEADLINE_MS, lang: 'en', operator });
    return { ...result, elapsed: performance.now() - started };
  }

  it('uses the live upstreams when they answer', async () => {
    const { bundle, warnings } = await summarize('ok', 'ok');
    expect(warnings).toEqual([]);
    expect(sectionByCode(bundle, '46264-8')?.entry).toHaveLength(1);
    expect(sectionByCode(bundle, '10160-0')?.entry).toHaveLength(2);
    expect(validateIpsDocument(bundle).errors).toEqual([]);
  });

  it.each([
    ['fails', 'fail', 'failed'],
    ['hangs past the deadline', 'hang', 'timeout'],
    ['stalls in the middle of its answer', 'stall-body', 'timeout'],
    ['returns garbage', 'garbage', 'malformed'],
    ['returns an answer far too large', 'huge', 'malformed'],
    ['answers for another patient', 'wrong-patient', 'malformed'],
  ] as const)('still arrives in time when Kjernejournal %s, with its sections unavailable and a warning', async (_what, behaviour, status) => {
    const { bundle, warnings, sourceResults, elapsed } = await summarize(behaviour, 'ok');
    expect(elapsed).toBeLessThan(DEADLINE_MS + SLACK_MS);
    expect(sourceResults.find((r) => r.source === 'kjernejournal')?.status).toBe(status);
    for (const loinc of ['48765-2', '46264-8', '104605-1']) {
      expect(sectionByCode(bundle, loinc)?.emptyReason?.coding?.[0]?.code, loinc).toBe('unavailable');
    }
    // The other sources still fill their sections.
    expect(sectionByCode(bundle, '10160-0')?.entry).toHaveLength(2);
    expect(sectionByCode(bundle, '11450-4')?.entry?.length).toBeGreaterThan(0);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ severity: 'warning', code: 'incomplete' });
    expect(warnings[0]!.diagnostics).toContain('Kjernejournal');
    // Nothing the upstream said reaches the response.
    expect(JSON.stringify({ bundle, warnings })).not.toContain('Ola Nordmann');
    expect(validateIpsDocument(bundle).errors).toEqual([]);
  });

  it.each([
    ['fails', 'fail'],
    ['hangs past the deadline', 'hang'],
    ['returns garbage', 'garbage'],
  ] as const)('still arrives in time when the medication list %s, with Medications unavailable', async (_what, behaviour) => {
    const { bundle, warnings, elapsed } = await summarize('ok', behaviour);
    expect(elapsed).toBeLessThan(DEADLINE_MS + SLACK_MS);
    const meds = sectionByCode(bundle, '10160-0')!;
    expect(meds.emptyReason?.coding?.[0]?.code).toBe('unavailable');
    expect(meds.emptyReason?.text).toBe("Source unavailable: Patient's medication list (PLL)");
    expect(warnings.map((w) => w.diagnostics)).toEqual([expect.stringContaining("Patient's medication list (PLL)")]);
    expect(validateIpsDocument(bundle).errors).toEqual([]);
  });

  it('still arrives in time when both upstreams hang', async () => {
    const { bundle, warnings, elapsed } = await summarize('hang', 'hang');
    expect(elapsed).toBeLessThan(DEADLINE_MS + SLACK_MS);
    expect(warnings).toHaveLength(2);
    expect(sectionByCode(bundle, '11450-4')?.entry?.length).toBeGreaterThan(0);
    expect(validateIpsDocument(bundle).errors).toEqual([]);
  });

  it('answers unavailable, not demo data, for an upstream production has no URL for', async () => {
    const sources = buildSummarySources({ mode: 'production', sources: { kjernejournalBaseUrl: undefined, medicationListBaseUrl: undefined } }, db);
    const { sourceResults, warnings } = await summarizePatient(personaPatient(PERSONAS.ms), PERSONAS.ms.fnr, { sources, timeoutMs: DEADLINE_MS, lang: 'nb', operator });
    expect(sourceResults.slice(0, 2)).toEqual([
      { source: 'kjernejournal', status: 'failed', message: 'not configured (KJERNEJOURNAL_BASE_URL is not set)' },
      { source: 'medication-list', status: 'failed', message: 'not configured (MEDICATION_LIST_BASE_URL is not set)' },
    ]);
    expect(warnings).toHaveLength(2);
  });
});
