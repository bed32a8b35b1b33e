// The Reseptformidleren source: the M9.7 and M9.1 Helsebro sends pass their official schemas; the M9.8 and
// M9.2 it reads are read strictly, so that a hostile, broken or foreign answer is a typed failure and never
// a number; the live client over HTTP, each failure mode a typed result by the deadline; the demo stand-in.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERSONAS } from '../../src/demo/personas.ts';
import { DEMO_CHAIN_STATES } from '../../src/demo/prescription-chain.ts';
import { registry } from '../../src/metrics/registry.ts';
import { reseptformidlerenSource } from '../../src/sources/reseptformidleren/adapter.ts';
import { reseptformidlerenHttpClient } from '../../src/sources/reseptformidleren/client.ts';
import { recordDemoM10, reseptformidlerenStoreClient, seedDemoReseptformidleren, storeDemoChainState } from '../../src/sources/reseptformidleren/demo-store.ts';
import { buildM91, buildM92, buildM97, buildM98 } from '../../src/sources/reseptformidleren/messages.ts';
import { parseM92, parseM98 } from '../../src/sources/reseptformidleren/parse.ts';
import { MAX_DISPENSINGS, NS, RESEPTFORMIDLEREN_PARTY, type RfDispensings, type RfResult } from '../../src/sources/reseptformidleren/types.ts';
import { MalformedSourceError } from '../../src/sources/source.ts';
import type { Db } from '../../src/store/db.ts';
import { escapeXml } from '../../src/fhir/xhtml.ts';
import { parseMsgHead } from '../../src/xml/msghead.ts';
import { insertNoPrescription } from '../edispensation/support/store.ts';
import { engines, getTestDb } from '../support/db.ts';
import { validateXml, validateXmlAll } from '../support/xsd.ts';
import { startFakeRf, type FakeRf, type RfBehaviour } from '../fixtures/reseptformidleren/fake-rf.ts';

const fixture = (name: string): string => readFileSync(new URL(`../fixtures/reseptformidleren/${name}`, import.meta.url), 'utf8');
const NCP = { name: 'NCP Norge (Helsebro)', orgnr: '994598759', herId: '8142520' };
const env = (inReplyTo?: string) => ({ msgId: randomUUID(), now: new Date('2026-03-02T10:00:00+01:00'), ...(inReplyTo ? { inReplyTo } : {}) });
const MS = PERSONAS.ms.fnr;

/** Whether reading throws exactly a MalformedSourceError (the typed failure), and nothing else. */
function refused(read: () => unknown): boolean {
  try {
    read();
    return false;
  } catch (err) {
    if (err instanceof MalformedSourceError) return true;
    throw err;
  }
}

describe('the messages Helsebro sends Reseptformidleren', () => {
  it('M9.7 and M9.1 pass their official schemas inside MsgHead v1.2, addressed to RF as the official sample addresses it', async () => {
    const m97 = buildM97('6f1d2a80-3c4b-4e5f-9a01-ms000000su06', NCP, env());
    const m91 = buildM91(MS, NCP, env());
    for (const [doc, schema] of [
      [m97, 'm97'],
      [m91, 'm91'],
    ] as const) {
      const v = await validateXml(doc, schema);
      expect(v.errors, schema).toEqual([]);
      expect(v.valid).toBe(true);
    }
    const ours = parseMsgHead(m97);
    const official = parseMsgHead(fixture('official/M97-A-foresporsel-om-utleveringer.xml'));
    if (!ours.ok || !official.ok) throw new Error('not readable');
    expect(ours.value.head.type.code).toBe(official.value.head.type.code);
    expect(ours.value.head.receiver.idents.map((i) => i.id).sort()).toEqual(official.value.head.receiver.idents.map((i) => i.id).sort());
    expect(RESEPTFORMIDLEREN_PARTY.herId).toBe('80624');
    expect(m97).toContain(`<M97 xmlns="${NS.m97}">`);
    expect(m91).toContain('<AlleResepter V="1" DN="Ja"/>');
  });

  it('escapes whatever it is given and stays schema-valid', async () => {
    const hostile = 'x<&>"\'';
    const doc = buildM97(hostile, { ...NCP, name: '<script>alert(1)</script> & Co' }, env());
    expect(doc).not.toContain('<script>');
    expect((await validateXml(doc, 'm97')).valid).toBe(true);
  });

  it('the answers the stand-in writes, and the fixtures in the official samples\' shape, pass the M9.8 and M9.2 schemas', async () => {
    const answers = [
      ...(['count', 'no-prescription', 'patient-reservation'] as const).map((kind) =>
        buildM98(kind === 'count' ? { kind, count: 7 } : { kind }, NCP, env(randomUUID())),
      ),
      fixture('M98-2018-antall.xml'),
    ];
    for (const r of await validateXmlAll(answers, 'm98')) expect(r.errors).toEqual([]);
    const lists = [
      buildM92([{ reseptId: 'a-1', status: 'E', issued: '2026-01-05', patient: { nin: MS, given: 'Bjørn Erik', family: 'Haugland' }, prescriber: { hpr: '1', name: '' } }], NCP, env()),
      buildM92([], NCP, env()),
      fixture('M92-2023-reseptliste.xml'),
    ];
    for (const r of await validateXmlAll(lists, 'm92')) expect(r.errors).toEqual([]);
  });
});

describe('reading an M9.8', () => {
  const answer = (payload: string, inReplyTo = 'q-1') =>
    buildM98({ kind: 'count', count: 1 }, NCP, env(inReplyTo)).replace(/<M98 xmlns="[^"]+">[\s\S]*<\/M98>/, payload);
  const m98 = (inner: string, ns: string = NS.m98) => `<M98 xmlns="${ns}">${inner}</M98>`;

  it('reads the count, IngenResept and Pasientreservasjon', () => {
    expect(parseM98({ xml: fixture('M98-2018-antall.xml'), inReplyTo: '0b6a4c1e-7d2f-4e59-8a3c-91f0d2e4b7a5' })).toEqual({ kind: 'count', count: 11 });
    expect(parseM98({ xml: answer(m98('<AntallUtleveringer>0</AntallUtleveringer>')), inReplyTo: 'q-1' })).toEqual({ kind: 'count', count: 0 });
    expect(parseM98({ xml: answer(m98('<AntallUtleveringer> +012 </AntallUtleveringer>')) })).toEqual({ kind: 'count', count: 12 });
    expect(parseM98({ xml: answer(m98('<IngenResept>true</IngenResept>')) })).toEqual({ kind: 'no-prescription' });
    expect(parseM98({ xml: answer(m98('<Pasientreservasjon>1</Pasientreservasjon>')) })).toEqual({ kind: 'patient-reservation' });
  });

  it('round-trips every count the stand-in can write', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_DISPENSINGS }), (count) => {
        const id = randomUUID();
        expect(parseM98({ xml: buildM98({ kind: 'count', count }, NCP, env(id)), inReplyTo: id })).toEqual({ kind: 'count', count });
      }),
    );
  });

  const official2015 = fixture('official/M98-A-utleveringer-pa-resept.xml');
  it.each([
    ['the official 2015 sample (another schema version, the element misspelt)', official2015],
    ['the right element in the 2015 namespace', answer(m98('<AntallUtleveringer>2</AntallUtleveringer>', 'http://www.kith.no/xmlstds/eresept/m98/2015-10-15'))],
    ['a payload in no namespace', answer('<M98><AntallUtleveringer>2</AntallUtleveringer></M98>')],
    ['a child in another namespace', answer(m98('<AntallUtleveringer xmlns="urn:evil">2</AntallUtleveringer>'))],
    ['a negative count', answer(m98('<AntallUtleveringer>-1</AntallUtleveringer>'))],
    ['minus zero', answer(m98('<AntallUtleveringer>-0</AntallUtleveringer>'))],
    ['a fraction', answer(m98('<AntallUtleveringer>1.5</AntallUtleveringer>'))],
    ['an exponent', answer(m98('<AntallUtleveringer>1e3</AntallUtleveringer>'))],
    ['an empty count', answer(m98('<AntallUtleveringer/>'))],
    ['hex', answer(m98('<AntallUtleveringer>0x10</AntallUtleveringer>'))],
    ['an absurdly large count', answer(m98(`<AntallUtleveringer>${MAX_DISPENSINGS + 1}</AntallUtleveringer>`))],
    ['a count beyond xs:int', answer(m98('<AntallUtleveringer>99999999999</AntallUtleveringer>'))],
    ['two answers at once', answer(m98('<AntallUtleveringer>2</AntallUtleveringer><IngenResept>true</IngenResept>'))],
    ['no answer at all', answer(m98(''))],
    ['IngenResept false', answer(m98('<IngenResept>false</IngenResept>'))],
    ['Pasientreservasjon not a boolean', answer(m98('<Pasientreservasjon>kanskje</Pasientreservasjon>'))],
    ['an M9.2 where an M9.8 was asked for', buildM92([], NCP, env('q-1'))],
    ['not XML', 'AntallUtleveringer=11'],
    ['HTML', '<html><body>11</body></html>'],
    ['an external entity (XXE)', answer(m98('<AntallUtleveringer>&x;</AntallUtleveringer>')).replace('?>', '?>\n<!DOCTYPE MsgHead [<!ENTITY x SYSTEM "file:///etc/passwd">]>')],
    ['an entity bomb', answer(m98('<AntallUtleveringer>&b;</AntallUtleveringer>')).replace('?>', `?>\n<!DOCTYPE MsgHead [<!ENTITY a "1111111111"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>`)],
    ['a huge answer', answer(m98(`<!--${'x'.repeat(70 * 1024)}--><AntallUtleveringer>2</AntallUtleveringer>`))],
    ['a deeply nested answer', answer(m98(`${'<a>'.repeat(200)}${'</a>'.repeat(200)}`))],
    ['a base64 container instead of XML', answer('<Base64Container xmlns="http://www.kith.no/xmlstds/base64container">MTE=</Base64Container>')],
  ])('refuses %s', (_what, xml) => {
    expect(refused(() => parseM98({ xml }))).toBe(true);
  });

  it('refuses an answer to another query (ConversationRef/RefToParent), and one with none when a query was sent', () => {
    const xml = answer(m98('<AntallUtleveringer>2</AntallUtleveringer>'), 'q-1');
    expect(parseM98({ xml, inReplyTo: 'q-1' })).toEqual({ kind: 'count', count: 2 });
    expect(refused(() => parseM98({ xml, inReplyTo: 'q-2' }))).toBe(true);
    const anonymous = buildM98({ kind: 'count', count: 2 }, NCP, env());
    expect(refused(() => parseM98({ xml: anonymous, inReplyTo: 'q-1' }))).toBe(true);
  });

  it('never gives a number it did not read in exactly the schema\'s form, and never throws anything but the typed failure', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 24 }), (text) => {
        const xml = answer(m98(`<AntallUtleveringer>${escapeXml(text)}</AntallUtleveringer>`));
        const trimmed = text.trim();
        const valid = /^\+?\d{1,9}$/.test(trimmed) && Number(trimmed) <= MAX_DISPENSINGS;
        if (valid) expect(parseM98({ xml })).toEqual({ kind: 'count', count: Number(trimmed) });
        else expect(refused(() => parseM98({ xml }))).toBe(true);
      }),
    );
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (xml) => {
        expect(refused(() => parseM98({ xml }))).toBe(true);
      }),
    );
  });
});

describe('reading an M9.2', () => {
  it('reads ReseptId and Status of every Reseptinfo', () => {
    expect(parseM92({ xml: fixture('M92-2023-reseptliste.xml'), inReplyTo: '3f8a1d26-b94e-4c70-a215-6e0d7b9c4f13' }, MS)).toEqual([
      { reseptId: '6f1d2a80-3c4b-4e5f-9a01-ms000000su06', status: 'E' },
      { reseptId: '6f1d2a80-3c4b-4e5f-9a01-ms000000nt03', status: 'U' },
      { reseptId: 'c8d2f0a4-61b7-4e3a-9d58-0f2a7e6b1c94', status: 'T' },
    ]);
    expect(parseM92({ xml: buildM92([], NCP, env()) }, MS)).toEqual([]);
  });

  const info = (reseptId: string, status: string, nin = MS) => ({ reseptId, status, issued: '2026-01-05', patient: { nin, given: 'A', family: 'B' }, prescriber: { hpr: '1', name: 'C' } });

  it('refuses a list that names another patient, the official 2013 sample (another version), and malformed entries', () => {
    expect(refused(() => parseM92({ xml: fixture('M92-2023-reseptliste.xml') }, PERSONAS.addison.fnr))).toBe(true);
    expect(refused(() => parseM92({ xml: fixture('official/M92-reseptliste-utleverer.xml') }, '21014605158'))).toBe(true);
    const one = buildM92([info('r-1', 'E')], NCP, env());
    for (const broken of [
      one.replace(/<Status [^>]*\/>/, ''),
      one.replace('V="E"', 'V="e"'),
      one.replace('V="E"', 'V="EE"'),
      one.replace('V="E"', 'V=""'),
      one.replace('<ReseptId>r-1</ReseptId>', '<ReseptId></ReseptId>'),
      one.replace(/<ReseptId>r-1<\/ReseptId>/, '<ReseptId>r-1</ReseptId><ReseptId>r-2</ReseptId>'),
    ]) {
      expect(refused(() => parseM92({ xml: broken }, MS))).toBe(true);
    }
    expect(refused(() => parseM92({ xml: buildM92([info('r-1', 'E'), info('r-1', 'T')], NCP, env()) }, MS))).toBe(true);
    expect(parseM92({ xml: buildM92([info('r-1', 'T'), info('r-1', 'T')], NCP, env()) }, MS)).toEqual([{ reseptId: 'r-1', status: 'T' }]);
    // A ReseptId is only compared, never written: one in any text is read as it is.
    const odd = "x'; drop table prescription; -- <&>";
    expect(parseM92({ xml: buildM92([info(odd, 'E')], NCP, env()) }, MS)).toEqual([{ reseptId: odd, status: 'E' }]);
  });
});

describe('the live client over HTTP', () => {
  let rf: FakeRf;
  beforeAll(async () => {
    rf = await startFakeRf();
  });
  afterAll(async () => {
    await rf.close();
  });
  const DEADLINE = 600;
  const source = () => reseptformidlerenSource(reseptformidlerenHttpClient({ baseUrl: `${rf.url}/rf/`, sender: NCP }), { timeoutMs: DEADLINE });

  it('sends schema-valid queries, the person number in the body only, and reads the answers', async () => {
    rf.behaviour = 'ok';
    rf.requests = [];
    rf.dispensings.set('r-11', { kind: 'count', count: 11 });
    rf.lists.set(MS, [{ reseptId: 'r-11', status: 'E' }, { reseptId: 'r-t', status: 'T' }]);
    const states = await source().states(MS, ['r-11', 'r-t', 'r-unknown']);
    expect(states.get('r-11')).toEqual({ status: 'ok', value: { dispensings: { kind: 'count', count: 11 }, listed: { reseptId: 'r-11', status: 'E' } } });
    expect(states.get('r-t')).toEqual({ status: 'ok', value: { dispensings: { kind: 'no-prescription' }, listed: { reseptId: 'r-t', status: 'T' } } });
    expect(states.get('r-unknown')).toEqual({ status: 'ok', value: { dispensings: { kind: 'no-prescription' }, listed: undefined } });
    expect(rf.requests.map((r) => r.url).sort()).toEqual(['/rf/m91', '/rf/m97', '/rf/m97', '/rf/m97']);
    for (const r of rf.requests) {
      expect(r.url).not.toContain(MS);
      expect(r.headers['content-type']).toMatch(/^application\/xml/);
      expect(r.headers['x-message-id']).toMatch(/^[0-9a-f-]{36}$/);
      const v = await validateXml(r.body, r.url.endsWith('m97') ? 'm97' : 'm91');
      expect(v.errors).toEqual([]);
    }
  });

  it.each<[RfBehaviour, RfResult<unknown>['status']]>([
    ['fail', 'failed'],
    ['not-found', 'failed'],
    ['hang', 'timeout'],
    ['stall-body', 'timeout'],
    ['garbage', 'malformed'],
    ['huge', 'malformed'],
    ['xxe', 'malformed'],
    ['old-version', 'malformed'],
    ['other-query', 'malformed'],
    ['negative', 'malformed'],
    ['absurd', 'malformed'],
  ])('an upstream that answers %s is a typed %s by the deadline, never a count', async (behaviour, status) => {
    rf.behaviour = behaviour;
    rf.dispensings.set('r-2', { kind: 'count', count: 2 });
    rf.lists.set(MS, [{ reseptId: 'r-2', status: 'E' }]);
    const started = performance.now();
    const count = await source().dispensings('r-2');
    const states = await source().states(MS, ['r-2']);
    expect(performance.now() - started).toBeLessThan(2 * DEADLINE + 1500);
    expect(count.status).toBe(status);
    // The list may still read when only the count is broken; the prescription's state never does.
    expect(states.get('r-2')?.status).toBe(status);
    // Nothing the upstream said reaches the message.
    expect(JSON.stringify([count, states.get('r-2')])).not.toMatch(/Ola Nordmann|passwd/);
  });

  it('reports each call to the source metric with its outcome', async () => {
    // The histogram itself, not a whole scrape (a scrape also reads the outbox of whatever server started last).
    const text = await registry.getSingleMetricAsString('helsebro_source_request_duration_seconds');
    expect(text).toMatch(/helsebro_source_request_duration_seconds_count\{source="reseptformidleren-m97",outcome="ok"\} \d+/);
    expect(text).toMatch(/helsebro_source_request_duration_seconds_count\{source="reseptformidleren-m91",outcome="timeout"\} \d+/);
    expect(text).toMatch(/source="reseptformidleren-m97",outcome="malformed"/);
  });

  it('is cut off when the caller goes away', async () => {
    rf.behaviour = 'hang';
    const controller = new AbortController();
    const pending = reseptformidlerenSource(reseptformidlerenHttpClient({ baseUrl: rf.url, sender: NCP }), { timeoutMs: 60_000 }).dispensings('r-2', controller.signal);
    setTimeout(() => controller.abort(), 50);
    expect(await pending).toEqual({ status: 'timeout', message: 'the request was cancelled' });
  });
});

describe.each(engines)('the demo stand-in (%s)', (engine) => {
  let db: Db;
  beforeAll(async () => {
    db = await getTestDb(engine);
  });
  const stand = () => reseptformidlerenSource(reseptformidlerenStoreClient(db, NCP), { timeoutMs: 5000 });
  const count = async (reseptId: string): Promise<RfDispensings | undefined> => {
    const r = await stand().dispensings(reseptId);
    return r.status === 'ok' ? r.value : undefined;
  };

  it('knows every Norwegian prescription Helsebro holds: dispensable with no dispensings unless it has a row of its own', async () => {
    const rx = await insertNoPrescription(db, { patientFnr: PERSONAS.addison.fnr });
    expect(await count(rx.prescriptionId)).toEqual({ kind: 'count', count: 0 });
    const list = await stand().prescriptionList(PERSONAS.addison.fnr);
    expect(list.status === 'ok' && list.value.find((p) => p.reseptId === rx.prescriptionId)).toEqual({ reseptId: rx.prescriptionId, status: 'E' });
    // One it does not hold is unknown.
    expect(await count(randomUUID())).toEqual({ kind: 'no-prescription' });
  });

  it('answers from its own row: status and count, RF not knowing it, a reservation', async () => {
    const rx = await insertNoPrescription(db, { patientFnr: PERSONAS.addison.fnr });
    const listed = async () => {
      const l = await stand().prescriptionList(PERSONAS.addison.fnr);
      return l.status === 'ok' ? l.value.find((p) => p.reseptId === rx.prescriptionId) : 'failed';
    };
    await storeDemoChainState(db, { reseptId: rx.prescriptionId, status: 'T', dispensings: 2, patientReservation: false });
    expect(await count(rx.prescriptionId)).toEqual({ kind: 'count', count: 2 });
    expect(await listed()).toEqual({ reseptId: rx.prescriptionId, status: 'T' });
    await storeDemoChainState(db, { reseptId: rx.prescriptionId, status: 'E', dispensings: 2, patientReservation: true });
    expect(await count(rx.prescriptionId)).toEqual({ kind: 'patient-reservation' });
    await storeDemoChainState(db, { reseptId: rx.prescriptionId, status: null, dispensings: 0, patientReservation: false });
    expect(await count(rx.prescriptionId)).toEqual({ kind: 'no-prescription' });
    expect(await listed()).toBeUndefined();
  });

  it('counts each M10 Helsebro delivers once per MsgId, an Annullering as one less', async () => {
    const rx = await insertNoPrescription(db, { patientFnr: PERSONAS.addison.fnr });
    const sample = readFileSync(new URL('../fixtures/m10/sample-ekspedering-utlevering.xml', import.meta.url), 'utf8');
    const m10 = (msgId: string, annullering: boolean) =>
      sample
        .replace(/<MsgId>[^<]+<\/MsgId>/, `<MsgId>${msgId}</MsgId>`)
        .replace(/<ReseptId>[^<]+<\/ReseptId>/, `<ReseptId>${rx.prescriptionId}</ReseptId>`)
        .replace('<Annullering>false</Annullering>', `<Annullering>${annullering}</Annullering>`);
    const first = m10(randomUUID(), false);
    expect(await recordDemoM10(db, first)).toBe(true);
    expect(await recordDemoM10(db, first)).toBe(true);
    expect(await count(rx.prescriptionId)).toEqual({ kind: 'count', count: 1 });
    expect(await recordDemoM10(db, m10(randomUUID(), false))).toBe(true);
    expect(await count(rx.prescriptionId)).toEqual({ kind: 'count', count: 2 });
    expect(await recordDemoM10(db, m10(randomUUID(), true))).toBe(true);
    expect(await count(rx.prescriptionId)).toEqual({ kind: 'count', count: 1 });
    expect(await recordDemoM10(db, '<not-an-m10/>')).toBe(false);
  });

  it('is seeded with the demo prescriptions\' state, idempotently', async () => {
    await seedDemoReseptformidleren(db);
    await seedDemoReseptformidleren(db);
    const rows = await db.query<{ resept_id: string; status: string; dispensings: number }>(
      'select resept_id, status, dispensings from rf_demo_prescription where resept_id = any($1) order by resept_id',
      [DEMO_CHAIN_STATES.map((s) => s.reseptId)],
    );
    expect(rows.rows).toEqual(
      [...DEMO_CHAIN_STATES].sort((a, b) => a.reseptId.localeCompare(b.reseptId)).map((s) => ({ resept_id: s.reseptId, status: s.status, dispensings: s.dispensings })),
    );
  });
});
