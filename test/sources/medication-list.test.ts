import type { Medication, MedicationStatement, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CODE_SYSTEM, OID } from '../../src/fhir/identifiers.ts';
import { PERSONAS } from '../../src/demo/personas.ts';
import { IPS_PROFILE } from '../../src/sources/ips.ts';
import { medicationListSource } from '../../src/sources/medication-list/adapter.ts';
import { medicationListHttpClient } from '../../src/sources/medication-list/client.ts';
import { pllDemoPopulation } from '../../src/sources/medication-list/demo-data.ts';
import { medicationListStoreClient, seedDemoMedicationList } from '../../src/sources/medication-list/demo-store.ts';
import { isPllId, mapMedicationList, RESTRICTED_LABEL } from '../../src/sources/medication-list/mapper.ts';
import { parseMedicationList } from '../../src/sources/medication-list/parse.ts';
import { MalformedSourceError, SourceUnavailableError, type PatientKey } from '../../src/sources/source.ts';
import type { Db } from '../../src/store/db.ts';
import { engines, getTestDb } from '../support/db.ts';
import { startFakeUpstream, type FakeUpstream } from '../fixtures/summary/upstream.ts';

const never = new AbortController().signal;
const answerOf = (fnr: string) => pllDemoPopulation().find((p) => p.fnr === fnr)!.answer;
const patient: PatientKey = { id: 'addison', fnr: PERSONAS.addison.fnr };

function bundleWith(...entries: Array<{ fullUrl?: string; resource: Record<string, unknown> }>) {
  return { resourceType: 'Bundle', type: 'document', entry: [{ resource: { resourceType: 'Composition', status: 'final' } }, ...entries] };
}
const statement = (over: Record<string, unknown> = {}) => ({
  resourceType: 'MedicationStatement',
  identifier: [{ type: { text: 'PLL-id' }, value: 'pll-1' }],
  status: 'active',
  medicationCodeableConcept: { coding: [{ system: 'urn:oid:2.16.578.1.12.4.1.1.7180', code: 'C08CA01', display: 'Amlodipin' }], text: 'Amlodipin Sandoz tab 5 mg' },
  dosage: [{ text: '1 tablett daglig' }],
  ...over,
});

describe('medication list parser', () => {
  it('takes the medication Bundle out of the $getMedication Parameters and keeps only heads of renewal chains', () => {
    const items = parseMedicationList(answerOf(PERSONAS.addison.fnr));
    // Hydrocortisone has a renewed (completed, part-of) prescription in the bundle; it is not a list item.
    expect(items.map((i) => i.medication?.code.text)).toEqual(['Hydrokortison Orifarm tab 10 mg', 'Florinef tab 0,1 mg']);
    expect(items.every((i) => !i.statement.partOf)).toBe(true);
  });

  it('accepts the Bundle answered on its own', () => {
    expect(parseMedicationList(bundleWith({ resource: statement() }))).toHaveLength(1);
  });

  it.each([
    ['HTML', '<html>Moved</html>'],
    ['an OperationOutcome', { resourceType: 'OperationOutcome', issue: [] }],
    ['Parameters without the medication bundle', { resourceType: 'Parameters', parameter: [{ name: 'RFHentetTidspunkt', valueDateTime: '2026-01-01' }] }],
    ['a searchset instead of a document', { resourceType: 'Bundle', type: 'searchset', entry: [] }],
    ['a statement naming a medication the bundle lacks', bundleWith({ resource: statement({ medicationCodeableConcept: undefined, medicationReference: { reference: 'urn:uuid:missing' } }) })],
    ['a statement naming no medication', bundleWith({ resource: statement({ medicationCodeableConcept: undefined }) })],
    ['an unknown status', bundleWith({ resource: statement({ status: 'taken-maybe' }) })],
    ['a Medication without code', bundleWith({ resource: { resourceType: 'Medication' } })],
  ])('rejects %s as malformed', (_what, raw) => {
    expect(() => parseMedicationList(raw)).toThrow(MalformedSourceError);
  });
});

describe('medication list mapper', () => {
  it('maps a list item to an IPS MedicationStatement and Medication with the ATC coding first and the PLL id kept', () => {
    const resources = mapMedicationList(parseMedicationList(answerOf(PERSONAS.addison.fnr)), patient);
    const statements = resources.filter((r): r is MedicationStatement => r.resourceType === 'MedicationStatement');
    const medications = resources.filter((r): r is Medication => r.resourceType === 'Medication');
    expect(statements).toHaveLength(2);
    const hc = statements[0]!;
    expect(hc.meta?.profile).toEqual([IPS_PROFILE.medicationStatement]);
    expect(hc.identifier?.some((i) => i.type?.text === 'PLL-id' && i.value)).toBe(true);
    expect(hc.subject).toEqual({ reference: 'Patient/addison' });
    expect(hc.dosage?.[0]?.text).toContain('Dobbel dose');
    const med = medications.find((m) => `Medication/${m.id}` === hc.medicationReference?.reference)!;
    expect(med.meta?.profile).toEqual([IPS_PROFILE.medication]);
    expect(med.code?.coding?.[0]).toMatchObject({ system: CODE_SYSTEM.atc, code: 'H02AB09' });
    expect(med.form?.coding?.[0]?.system).toBe(CODE_SYSTEM.volven(7448));
  });

  it('leaves out stopped medication and says when a start date is unknown', () => {
    const knee = mapMedicationList(parseMedicationList(answerOf(PERSONAS.knee.fnr)), { id: 'knee', fnr: PERSONAS.knee.fnr });
    const names = knee.filter((r): r is MedicationStatement => r.resourceType === 'MedicationStatement').map((s) => s.medicationReference?.display);
    expect(names).toEqual(['Amlodipin Sandoz tab 5 mg', 'Atorvastatin Krka tab 20 mg', 'Paracet tab 500 mg']);
    const [undated] = mapMedicationList(parseMedicationList(bundleWith({ resource: statement() })), patient) as [MedicationStatement];
    expect((undated as unknown as Record<string, unknown>)._effectiveDateTime).toBeDefined();
    expect(undated.medicationCodeableConcept?.coding?.[0]?.system).toBe(CODE_SYSTEM.atc);
  });

  it('labels a prescription with guardian-access reservation as restricted', () => {
    const child = mapMedicationList(parseMedicationList(answerOf(PERSONAS.child.fnr)), { id: 'child', fnr: PERSONAS.child.fnr });
    const restricted = child.filter((r: Resource) => r.meta?.security?.some((s) => s.code === RESTRICTED_LABEL.code));
    expect(restricted.map((r) => (r as MedicationStatement).medicationReference?.display)).toEqual(['Microgynon tab']);
  });

  it('recognises the PLL id by its type', () => {
    expect(isPllId({ type: { text: 'PLL-id' }, value: 'x' })).toBe(true);
    expect(isPllId({ type: { coding: [{ code: 'PLL' }] }, value: 'x' })).toBe(true);
    expect(isPllId({ type: { text: 'ReseptId' }, value: 'x' })).toBe(false);
  });
});

describe('medication list HTTP client', () => {
  let upstream: FakeUpstream;
  beforeAll(async () => {
    upstream = await startFakeUpstream();
  });
  afterAll(async () => {
    await upstream.close();
  });

  it('posts $getMedication with the patient as SFM wants it (identifier, name, address)', async () => {
    upstream.behaviour = 'ok';
    upstream.requests.length = 0;
    const client = medicationListHttpClient({ baseUrl: `${upstream.url}/sfm/`, headers: async () => ({ authorization: 'Bearer t' }) });
    const source = medicationListSource(client);
    const answer = await source.fetch(
      { id: 'ms', fnr: PERSONAS.ms.fnr, resource: { resourceType: 'Patient', name: [{ family: 'Haugland', given: ['Bjørn'] }], address: [{ city: 'Bergen' }] } },
      never,
    );
    expect(answer.status).toBe('ok');
    const req = upstream.requests[0]!;
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/sfm/Patient/$getMedication');
    expect(req.url).not.toContain(PERSONAS.ms.fnr);
    const body = JSON.parse(req.body);
    expect(body.resourceType).toBe('Parameters');
    expect(body.parameter[0].resource).toMatchObject({ identifier: [{ system: OID.fnr, value: PERSONAS.ms.fnr }], name: [{ family: 'Haugland' }], address: [{ city: 'Bergen' }] });
    expect(req.headers.authorization).toBe('Bearer t');
  });

  it('reports failure and garbage as typed errors', async () => {
    const client = medicationListHttpClient({ baseUrl: upstream.url });
    upstream.behaviour = 'fail';
    await expect(client.getMedication(patient, never)).rejects.toThrow(SourceUnavailableError);
    upstream.behaviour = 'garbage';
    await expect(client.getMedication(patient, never)).rejects.toThrow(MalformedSourceError);
  });
});

describe.each(engines)('medication list demo store (%s)', (engine) => {
  let db: Db;
  beforeAll(async () => {
    db = await getTestDb(engine);
    await seedDemoMedicationList(db);
  });

  it('seeds idempotently and serves the stored answer through the adapter', async () => {
    await seedDemoMedicationList(db);
    const rows = await db.query('select 1 from pll_demo_answer');
    expect(rows.rowCount).toBe(pllDemoPopulation().length);
    const answer = await medicationListSource(medicationListStoreClient(db)).fetch({ id: 'ms', fnr: PERSONAS.ms.fnr }, never);
    const names = answer.status === 'ok' ? answer.resources.filter((r): r is Medication => r.resourceType === 'Medication').map((m) => m.code?.text) : [];
    expect(names).toContain('Tysabri inf konsentrat 300 mg');
  });

  it('answers a patient without prescriptions with an empty list', async () => {
    const answer = await medicationListSource(medicationListStoreClient(db)).fetch({ id: 'x', fnr: '01010100000' }, never);
    expect(answer).toEqual({ status: 'ok', resources: [] });
  });
});
