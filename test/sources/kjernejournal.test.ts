import type { AllergyIntolerance, Composition, Condition, Device, DeviceUseStatement, Flag, Procedure, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CODE_SYSTEM, OID } from '../../src/fhir/identifiers.ts';
import { assembleSummary } from '../../src/summary/assemble.ts';
import { fetchOne } from '../../src/summary/fetch-all.ts';
import { PERSONAS } from '../../src/demo/personas.ts';
import { KJ_TYPE_SYSTEM, IPS_PROFILE } from '../../src/sources/ips.ts';
import { KJ_WITHHELD, kjernejournalSource, readKjernejournal, withheldReason } from '../../src/sources/kjernejournal/adapter.ts';
import { kjernejournalHttpClient, type KjernejournalClient } from '../../src/sources/kjernejournal/client.ts';
import { kjDemoPopulation } from '../../src/sources/kjernejournal/demo-data.ts';
import { kjernejournalStoreClient, seedDemoKjernejournal } from '../../src/sources/kjernejournal/demo-store.ts';
import { conditionKind, mapAllergy, mapCondition, mapDevice, mapFlag, mapProcedure } from '../../src/sources/kjernejournal/mapper.ts';
import { parseSearchset, parseStatus } from '../../src/sources/kjernejournal/parse.ts';
import { KJ_CONDITION_KIND, KJ_PRESUMED_EXT, KJ_READ_TYPES, kjAllergyIntolerance, kjCondition, kjDeviceUseStatement, kjFlag, kjProcedure } from '../../src/sources/kjernejournal/types.ts';
import { MalformedSourceError, SourceUnavailableError, sourcesOf, type PatientKey } from '../../src/sources/source.ts';
import type { Db } from '../../src/store/db.ts';
import { engines, getTestDb } from '../support/db.ts';
import { startFakeUpstream, type FakeUpstream } from '../fixtures/summary/upstream.ts';

const patient: PatientKey = { id: 'p1', fnr: PERSONAS.addison.fnr };
const never = new AbortController().signal;
const searchset = (...resources: unknown[]) => ({ resourceType: 'Bundle', type: 'searchset', entry: resources.map((resource) => ({ resource })) });

const allergy = (over: Record<string, unknown> = {}) =>
  kjAllergyIntolerance.parse({
    resourceType: 'AllergyIntolerance',
    id: 'a1',
    clinicalStatus: { coding: [{ code: 'active' }] },
    verificationStatus: { coding: [{ code: 'confirmed' }] },
    category: ['medication'],
    criticality: 'high',
    code: { coding: [{ system: 'urn:oid:2.16.578.1.12.4.1.1.7180', code: 'J01CE02', display: 'Fenoksymetylpenicillin', userSelected: true }] },
    reaction: [{ manifestation: [{ text: 'Anafylaksi' }], severity: 'severe' }],
    ...over,
  });

const condition = (profile: string, over: Record<string, unknown> = {}) =>
  kjCondition.parse({
    resourceType: 'Condition',
    id: 'c1',
    meta: { profile: [profile] },
    clinicalStatus: { coding: [{ code: 'active' }] },
    verificationStatus: { coding: [{ code: 'confirmed' }] },
    code: { coding: [{ system: CODE_SYSTEM.icd10, code: 'E27.1' }], text: 'Addisons sykdom' },
    onsetDateTime: '2013-05-06',
    ...over,
  });

describe('Kjernejournal mapper', () => {
  it('keeps criticality, reaction and the ATC code (normalised to whocc) of a drug reaction', () => {
    const a = mapAllergy(allergy(), patient)!;
    expect(a.meta?.profile).toEqual([IPS_PROFILE.allergyIntolerance]);
    expect(sourcesOf(a)).toEqual(['kjernejournal']);
    expect(a.criticality).toBe('high');
    expect(a.code?.coding?.[0]).toMatchObject({ system: CODE_SYSTEM.atc, code: 'J01CE02' });
    expect(a.code?.text).toBe('Fenoksymetylpenicillin');
    expect(a.reaction?.[0]?.severity).toBe('severe');
    expect(a.patient).toEqual({ reference: 'Patient/p1' });
  });

  it('keeps the KI certainty level "sannsynlig" (KjPresumed) and the unconfirmed verification status', () => {
    const a = mapAllergy(allergy({ verificationStatus: { coding: [{ code: 'unconfirmed' }] }, extension: [{ url: KJ_PRESUMED_EXT, valueBoolean: true }] }), patient)!;
    expect(a.extension).toEqual([{ url: KJ_PRESUMED_EXT, valueBoolean: true }]);
    expect(a.verificationStatus?.coding?.[0]?.code).toBe('unconfirmed');
  });

  it('drops entered-in-error allergies and keeps refuted ones as inactive', () => {
    expect(mapAllergy(allergy({ verificationStatus: { coding: [{ code: 'entered-in-error' }] } }), patient)).toBeUndefined();
    const refuted = mapAllergy(allergy({ clinicalStatus: undefined, verificationStatus: { coding: [{ code: 'refuted' }] } }), patient)!;
    expect(refuted.clinicalStatus?.coding?.[0]?.code).toBe('inactive');
  });

  it('raises an active critical medical condition as both a problem and an alert', () => {
    const out = mapCondition(condition(KJ_CONDITION_KIND.critical), patient);
    const c = out.find((r): r is Condition => r.resourceType === 'Condition')!;
    const f = out.find((r): r is Flag => r.resourceType === 'Flag')!;
    expect(c.category?.some((cat) => cat.coding?.some((x) => x.system === KJ_TYPE_SYSTEM && x.code === 'CriticalMedicalCondition'))).toBe(true);
    expect(f.status).toBe('active');
    expect(f.meta?.profile).toEqual([IPS_PROFILE.flag]);
    expect(f.code).toEqual(c.code);
  });

  it('makes no alert for an inactive condition or a transplant, and drops refuted conditions', () => {
    expect(mapCondition(condition(KJ_CONDITION_KIND.critical, { clinicalStatus: { coding: [{ code: 'inactive' }] } }), patient).map((r) => r.resourceType)).toEqual(['Condition']);
    expect(mapCondition(condition(KJ_CONDITION_KIND.transplant), patient).map((r) => r.resourceType)).toEqual(['Condition']);
    expect(mapCondition(condition(KJ_CONDITION_KIND.infection, { verificationStatus: { coding: [{ code: 'refuted' }] } }), patient)).toEqual([]);
  });

  it('tells condition kinds apart by Kj profile, then by KI category code', () => {
    expect(conditionKind(condition(`${KJ_CONDITION_KIND.anesthesia}|1.0.0`))).toBe('anesthesia');
    expect(conditionKind(kjCondition.parse({ resourceType: 'Condition', id: 'x', code: { text: 'Smitte' }, category: [{ coding: [{ code: '10' }] }] }))).toBe('infection');
    expect(conditionKind(kjCondition.parse({ resourceType: 'Condition', id: 'x', code: { text: 'x' } }))).toBe('other');
  });

  it('turns an implant into a DeviceUseStatement dated by the implanted extension and a Device from the contained KjDevice', () => {
    const [dus, dev] = mapDevice(kjDeviceUseStatement.parse(kjDemoPopulation().find((p) => p.fnr === PERSONAS.ms.fnr)!.records.find((r) => r.resourceType === 'DeviceUseStatement')), patient) as [DeviceUseStatement, Device];
    expect(dus.timingDateTime).toBe('2019-05-14');
    expect(dus.device.reference).toBe(`Device/${dev.id}`);
    expect(dev.manufacturer).toBe('Medtronic');
    expect(dev.deviceName?.[0]?.name).toContain('InterStim');
  });

  it('marks an implant date it does not know as data-absent rather than inventing one', () => {
    const [dus] = mapDevice(kjDeviceUseStatement.parse({ resourceType: 'DeviceUseStatement', id: 'd', status: 'active', device: { display: 'Pacemaker' } }), patient);
    expect((dus as unknown as Record<string, unknown>)._timingDateTime).toEqual({ extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'unknown' }] });
  });

  it('keeps only active KjFlags (IPS alerts are active by definition) and maps ongoing treatment to an in-progress Procedure', () => {
    expect(mapFlag(kjFlag.parse({ resourceType: 'Flag', id: 'f', status: 'inactive', code: { text: 'x' } }), patient)).toBeUndefined();
    const pr = mapProcedure(kjProcedure.parse({ resourceType: 'Procedure', id: 'p', status: 'in-progress', code: { text: 'Dialyse' }, performedPeriod: { start: '2024-01-01' } }), patient) as Procedure;
    expect(pr.status).toBe('in-progress');
    expect(pr.performedPeriod?.start).toBe('2024-01-01');
    expect(mapProcedure(kjProcedure.parse({ resourceType: 'Procedure', id: 'p', status: 'entered-in-error', code: { text: 'x' } }), patient)).toBeUndefined();
  });

  it('gives every record an id derived from the patient and the record: a UUID, even for upstream ids that are not valid FHIR ids', () => {
    const a = mapAllergy(allergy({ id: '<script>alert(1)</script>' }), patient)!;
    expect(a.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a.identifier?.[0]?.value).toBe('<script>alert(1)</script>');
    expect(mapAllergy(allergy({ id: '<script>alert(1)</script>' }), patient)!.id).toBe(a.id);
    expect(mapAllergy(allergy({ id: '<script>alert(1)</script>' }), { ...patient, id: 'someone-else' })!.id).not.toBe(a.id);
    expect(mapAllergy(allergy({ id: 'another-record' }), patient)!.id).not.toBe(a.id);
  });
});

describe('Kjernejournal answers that do not read', () => {
  const nin = PERSONAS.addison.fnr;
  it.each([
    ['not a Bundle', { resourceType: 'OperationOutcome' }],
    ['a Bundle of the wrong type', { resourceType: 'Bundle', type: 'collection', entry: [] }],
    ['a string', 'Service Unavailable'],
    ['null', null],
    ['an allergy without a code', searchset({ resourceType: 'AllergyIntolerance', id: 'a' })],
    ['an allergy whose code names nothing', searchset({ resourceType: 'AllergyIntolerance', id: 'a', code: { coding: [{ system: 'x' }] } })],
    ['an unknown criticality', searchset({ resourceType: 'AllergyIntolerance', id: 'a', code: { text: 'x' }, criticality: 'deadly' })],
    ['a date that is not a date', searchset({ resourceType: 'AllergyIntolerance', id: 'a', code: { text: 'x' }, onsetDateTime: 'yesterday' })],
    ['a record of another patient', searchset({ resourceType: 'AllergyIntolerance', id: 'a', code: { text: 'x' }, patient: { identifier: { value: PERSONAS.ms.fnr } } })],
    ['an oversized text', searchset({ resourceType: 'AllergyIntolerance', id: 'a', code: { text: 'x'.repeat(20_000) } })],
  ])('rejects %s as malformed', (_what, raw) => {
    expect(() => parseSearchset('AllergyIntolerance', raw, nin)).toThrow(MalformedSourceError);
  });

  it('never echoes upstream values in its error messages', () => {
    try {
      parseSearchset('AllergyIntolerance', searchset({ resourceType: 'AllergyIntolerance', id: 'a', code: { text: 'x' }, onsetDateTime: 'Ola Nordmann 12345678901' }), nin);
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).not.toContain('Ola');
      expect((err as Error).message).toContain('onsetDateTime');
    }
  });

  it('skips OperationOutcome entries of a searchset and keeps hostile text as data', () => {
    const records = parseSearchset(
      'AllergyIntolerance',
      searchset({ resourceType: 'OperationOutcome', issue: [] }, { resourceType: 'AllergyIntolerance', id: 'a', code: { text: '<script>alert(1)</script>' }, ['__proto__']: { polluted: true } }),
      nin,
    );
    expect(records).toHaveLength(1);
    expect(records[0]!.code.text).toBe('<script>alert(1)</script>');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  const outcome = (severity: string, code: string) => ({ resourceType: 'OperationOutcome', issue: [{ severity, code, diagnostics: 'Noen poster kunne ikke hentes' }] });

  it.each([
    ['an error outcome entry', searchset(outcome('error', 'processing'), allergy())],
    ['a fatal outcome entry', searchset(allergy(), outcome('fatal', 'exception'))],
    ['a warning that results were left out', searchset(outcome('warning', 'incomplete'), allergy())],
    ['a warning that the search was too costly', searchset(outcome('warning', 'too-costly'))],
    ['an outcome entry that does not read', searchset({ resourceType: 'OperationOutcome' }, allergy())],
    ['a further page', { ...searchset(allergy()), link: [{ relation: 'self', url: 'https://kj.example/AllergyIntolerance' }, { relation: 'next', url: 'https://kj.example/AllergyIntolerance?page=2' }] }],
    ['a total above the records that came', { ...searchset(allergy()), total: 3 }],
    ['a total with no records on the page', { ...searchset(), total: 2 }],
  ])('takes %s as a partial answer: the source is unavailable, never shown as whole', (_what, raw) => {
    expect(() => parseSearchset('AllergyIntolerance', raw, nin)).toThrow(SourceUnavailableError);
  });

  it('reads an answer whose outcome entries only inform, and whose total matches what came', () => {
    expect(parseSearchset('AllergyIntolerance', { ...searchset(outcome('information', 'informational'), outcome('warning', 'business-rule'), allergy()), total: 1 }, nin)).toHaveLength(1);
    expect(parseSearchset('AllergyIntolerance', { ...searchset(), total: 0, link: [{ relation: 'self', url: 'https://kj.example/x' }] }, nin)).toEqual([]);
  });

  it('reads the privacy settings of the status answer', () => {
    expect(withheldReason(parseStatus({ hasCriticalInformation: true, privacySetting: { hasReservationKjernejournal: true } }, nin))).toBe(KJ_WITHHELD.reservation);
    expect(withheldReason(parseStatus({ hasCriticalInformation: true, privacySetting: { isRestricted: true } }, nin))).toBe(KJ_WITHHELD.restriction);
    expect(withheldReason(parseStatus({ hasCriticalInformation: true, privacySetting: { isBlocked: true } }, nin))).toBe(KJ_WITHHELD.blocked);
    expect(withheldReason(parseStatus({ hasCriticalInformation: false }, nin))).toBeUndefined();
    expect(() => parseStatus({ hasCriticalInformation: 'yes' }, nin)).toThrow(MalformedSourceError);
    expect(() => parseStatus({ patientNIN: PERSONAS.ms.fnr, hasCriticalInformation: true }, nin)).toThrow(/another patient/);
  });
});

describe('Kjernejournal adapter', () => {
  function fakeClient(status: unknown, records: Record<string, unknown[]> = {}): KjernejournalClient & { reads: string[] } {
    const reads: string[] = [];
    return {
      reads,
      status: async () => status,
      read: async (type) => {
        reads.push(type);
        return searchset(...(records[type] ?? []));
      },
    };
  }

  it('asks for the status first and reads nothing when the patient has reserved against Kjernejournal', async () => {
    const client = fakeClient({ patientNIN: patient.fnr, hasCriticalInformation: true, privacySetting: { hasReservationKjernejournal: true } });
    expect(await kjernejournalSource(client).fetch(patient, never)).toEqual({ status: 'withheld', reason: KJ_WITHHELD.reservation });
    expect(client.reads).toEqual([]);
  });

  it('reads nothing when the status says there is no critical information', async () => {
    const client = fakeClient({ hasCriticalInformation: false });
    expect(await kjernejournalSource(client).fetch(patient, never)).toEqual({ status: 'ok', resources: [] });
    expect(client.reads).toEqual([]);
  });

  it('reads every record type and maps them', async () => {
    const client = fakeClient({ hasCriticalInformation: true }, { AllergyIntolerance: [allergy()], Condition: [condition(KJ_CONDITION_KIND.critical)] });
    const answer = await kjernejournalSource(client).fetch(patient, never);
    expect(client.reads.sort()).toEqual(['AllergyIntolerance', 'Condition', 'DeviceUseStatement', 'Flag', 'Procedure']);
    expect(answer.status === 'ok' && answer.resources.map((r: Resource) => r.resourceType).sort()).toEqual(['AllergyIntolerance', 'Condition', 'Flag']);
  });

  it('a partial answer for one record type leaves the whole source unavailable, so no section says "none recorded"', async () => {
    const partial = { ...searchset(), total: 2, link: [{ relation: 'next', url: 'https://kj.example/AllergyIntolerance?page=2' }] };
    const client: KjernejournalClient = { status: async () => ({ hasCriticalInformation: true }), read: async (t) => (t === 'AllergyIntolerance' ? partial : searchset()) };
    const result = await fetchOne(kjernejournalSource(client), patient, { timeoutMs: 2000 });
    expect(result.status).toBe('failed');
    const doc = assembleSummary({
      patient: { resourceType: 'Patient', id: patient.id, identifier: [{ system: OID.fnr, value: patient.fnr }] },
      sourceResults: [result],
      lang: 'en',
      now: new Date('2026-12-07T12:00:00Z'),
      operator: { name: 'Helsebro', orgnr: '999999999' },
    });
    const allergies = (doc.bundle.entry![0]!.resource as Composition).section!.find((s) => s.code?.coding?.[0]?.code === '48765-2')!;
    expect(allergies.entry).toBeUndefined();
    expect(allergies.emptyReason?.coding?.[0]?.code).toBe('unavailable');
    expect(allergies.text?.div).not.toContain('No information was found');
    expect(doc.warnings.map((w) => w.details?.coding?.[0]?.code)).toEqual(['source-failed']);
  });

  it('fails the whole source when one record type does not read', async () => {
    const client: KjernejournalClient = { status: async () => ({ hasCriticalInformation: true }), read: async (t) => (t === 'Flag' ? { nonsense: true } : searchset()) };
    await expect(readKjernejournal(client, patient.fnr, never)).rejects.toThrow(MalformedSourceError);
  });
});

describe('Kjernejournal HTTP client', () => {
  let upstream: FakeUpstream;
  beforeAll(async () => {
    upstream = await startFakeUpstream();
  });
  afterAll(async () => {
    await upstream.close();
  });
  const client = () => kjernejournalHttpClient({ baseUrl: `${upstream.url}/api/critical-information/v1/`, headers: () => ({ authorization: 'Bearer test-token' }) });

  it('posts the status call and sends the identity number in a header, never in the URL', async () => {
    upstream.behaviour = 'ok';
    upstream.requests.length = 0;
    const nin = PERSONAS.ms.fnr;
    const records = await readKjernejournal(client(), nin, never);
    expect('withheld' in records).toBe(false);
    const status = upstream.requests.find((r) => r.url.endsWith('/status'))!;
    expect(status.method).toBe('POST');
    expect(JSON.parse(status.body)).toEqual({ nin });
    for (const r of upstream.requests) {
      expect(r.url).not.toContain(nin);
      expect(r.headers['nhn-patient-nin']).toBe(nin);
      expect(r.headers.authorization).toBe('Bearer test-token');
    }
    expect(upstream.requests.map((r) => r.url).sort()).toContain('/api/critical-information/v1/DeviceUseStatement');
  });

  it('turns an error status into SourceUnavailableError without the upstream text', async () => {
    upstream.behaviour = 'fail';
    const err = await client().status(PERSONAS.ms.fnr, never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceUnavailableError);
    expect((err as Error).message).toBe('upstream answered HTTP 503');
  });

  it('turns HTML and oversized answers into MalformedSourceError', async () => {
    upstream.behaviour = 'garbage';
    await expect(client().status(PERSONAS.ms.fnr, never)).rejects.toThrow(MalformedSourceError);
    upstream.behaviour = 'huge';
    await expect(client().read('Flag', PERSONAS.ms.fnr, never)).rejects.toThrow(/larger than/);
  });

  it('gives up when the signal aborts, also while the body is still arriving', async () => {
    upstream.behaviour = 'hang';
    await expect(client().status(PERSONAS.ms.fnr, AbortSignal.timeout(100))).rejects.toMatchObject({ name: 'TimeoutError' });
    upstream.behaviour = 'stall-body';
    await expect(client().read('Flag', PERSONAS.ms.fnr, AbortSignal.timeout(100))).rejects.toMatchObject({ name: 'TimeoutError' });
  });

  it('reports an unreachable upstream as unavailable', async () => {
    const dead = kjernejournalHttpClient({ baseUrl: 'http://127.0.0.1:9/' });
    await expect(dead.status(PERSONAS.ms.fnr, never)).rejects.toThrow(SourceUnavailableError);
  });
});

describe.each(engines)('Kjernejournal demo store (%s)', (engine) => {
  let db: Db;
  beforeAll(async () => {
    db = await getTestDb(engine);
    await seedDemoKjernejournal(db);
  });

  it('seeds idempotently', async () => {
    const count = async () => (await db.query<{ n: number }>('select count(*)::int as n from kj_demo_record')).rows[0]!.n;
    const before = await count();
    await seedDemoKjernejournal(db);
    expect(await count()).toBe(before);
    expect(before).toBeGreaterThanOrEqual(kjDemoPopulation().reduce((n, p) => n + p.records.length, 0));
  });

  it('serves the personas in the API shapes through the adapter', async () => {
    const source = kjernejournalSource(kjernejournalStoreClient(db));
    const addison = await source.fetch({ id: 'addison', fnr: PERSONAS.addison.fnr }, never);
    expect(addison.status).toBe('ok');
    const resources = addison.status === 'ok' ? addison.resources : [];
    const e271 = resources.find((r): r is Condition => r.resourceType === 'Condition' && r.code?.coding?.[0]?.code === 'E27.1');
    expect(e271?.note?.[0]?.text).toContain('hydrokortison');
    expect(resources.some((r) => r.resourceType === 'Flag')).toBe(true);
    expect(resources.find((r): r is AllergyIntolerance => r.resourceType === 'AllergyIntolerance')?.criticality).toBe('high');
  });

  it('says withheld for the reserved persona although records are stored', async () => {
    const stored = await db.query('select 1 from kj_demo_record where patient_fnr = $1', [PERSONAS.reserved.fnr]);
    expect(stored.rowCount).toBeGreaterThan(0);
    const answer = await kjernejournalSource(kjernejournalStoreClient(db)).fetch({ id: 'reserved', fnr: PERSONAS.reserved.fnr }, never);
    expect(answer).toEqual({ status: 'withheld', reason: KJ_WITHHELD.reservation });
  });

  it('answers an unknown patient with no critical information', async () => {
    const answer = await kjernejournalSource(kjernejournalStoreClient(db)).fetch({ id: 'x', fnr: '01010100000' }, never);
    expect(answer).toEqual({ status: 'ok', resources: [] });
  });

  it('answers in one call exactly what the status and the per-type reads answer', async () => {
    const client = kjernejournalStoreClient(db);
    for (const fnr of [PERSONAS.addison.fnr, PERSONAS.ms.fnr, PERSONAS.reserved.fnr, '01010100000']) {
      const all = await client.readAll!(fnr, never);
      expect(all.status).toEqual(await client.status(fnr, never));
      for (const type of KJ_READ_TYPES) expect(all.records[type]).toEqual(await client.read(type, fnr, never));
    }
  });

  it('maps the same resources whether the records come in one call or per type', async () => {
    const { readAll: _one, ...perType } = kjernejournalStoreClient(db);
    const key = { id: 'addison', fnr: PERSONAS.addison.fnr };
    const one = await kjernejournalSource(kjernejournalStoreClient(db)).fetch(key, never);
    expect(one.status === 'ok' && one.resources.length).toBeGreaterThan(1);
    expect(one).toEqual(await kjernejournalSource(perType).fetch(key, never));
  });
});
