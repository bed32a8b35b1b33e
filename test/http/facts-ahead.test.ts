// The access decision asks for a patient's facts in the same tick as it loads the stored patient when an
// earlier request taught it the person number behind the path id (src/http/person-numbers.ts): the two
// reads then travel as one statement. The facts are always fetched fresh, and used only for the person
// the stored patient turns out to be.
import { beforeAll, describe, expect, it } from 'vitest';
import type { PatientFacts } from '../../src/auth/access-rules.ts';
import { loadConfig } from '../../src/config.ts';
import { PERSONAS } from '../../src/demo/personas.ts';
import { seedDemo } from '../../src/demo/seed.ts';
import { isProblem } from '../../src/fhir/outcomes.ts';
import { decideRequest } from '../../src/http/decide.ts';
import { patientFromPath, type StoredPatient } from '../../src/http/locate.ts';
import { patientFactsFrom } from '../../src/http/patient-facts.ts';
import { PersonNumbers } from '../../src/http/person-numbers.ts';
import type { Access, FhirRequest, RouteContext } from '../../src/http/types.ts';
import { createLogger } from '../../src/log.ts';
import { folkeregisteretDemoClient } from '../../src/registries/folkeregisteret/demo.ts';
import { kjernejournalStoreClient } from '../../src/sources/kjernejournal/demo-store.ts';
import { seedDemoSummarySources } from '../../src/summary/seed.ts';
import type { Db, Queryable } from '../../src/store/db.ts';
import { testClinician } from '../auth/principals.ts';
import { engines, getTestDb } from '../support/db.ts';

const clinician = testClinician('user/Patient.rs');
const access: Access<StoredPatient> = {
  admits: ['clinician'],
  scope: { resourceType: 'Patient', interaction: 'r' },
  audit: 'R',
  patient: patientFromPath,
};
const request = (id: string): FhirRequest => ({
  method: 'GET',
  params: { id },
  query: new URLSearchParams(),
  body: undefined,
  bodyKind: undefined,
  headers: {},
  baseUrl: '',
  lang: 'en',
  requestId: 'facts-ahead',
});

/** The store, counting the statements sent to it (the coalesced reads of one tick are one statement). */
function counting(db: Db): { q: Db; statements: string[] } {
  const statements: string[] = [];
  const q = Object.create(db) as Db;
  q.query = ((sql: string, ...rest: unknown[]) => {
    statements.push(sql);
    return (db.query as (...a: unknown[]) => unknown)(sql, ...rest);
  }) as Db['query'];
  return { q, statements };
}

function contextOver(db: Queryable & Db, personNumbers: PersonNumbers, patientFacts: RouteContext['patientFacts']): RouteContext {
  return { db, config: loadConfig({}), log: createLogger('silent'), principal: clinician, audit: {}, patientFacts, personNumbers };
}

describe.each(engines)('facts asked for ahead of the patient lookup (%s)', (engine) => {
  let db: Db;
  beforeAll(async () => {
    db = await getTestDb(engine);
    await seedDemo(db, 0, [{ name: 'summary-sources', run: seedDemoSummarySources }]);
  });

  it('the second request for a patient reads the stored patient and her Kjernejournal status in one statement', async () => {
    const { q, statements } = counting(db);
    const facts = patientFactsFrom({ population: folkeregisteretDemoClient(q), kjernejournal: kjernejournalStoreClient(q), timeoutMs: 5000 });
    const memo = new PersonNumbers();
    const ctx = () => contextOver(q, memo, (p) => facts(q, p));

    const first = await decideRequest(access, clinician, request(PERSONAS.ms.id), ctx());
    expect(isProblem(first)).toBe(false);
    expect(statements).toHaveLength(2);
    expect(statements[0]).toContain('from patient where id');
    expect(statements[1]).toContain('kj_demo_status');

    statements.length = 0;
    const second = await decideRequest(access, clinician, request(PERSONAS.ms.id), ctx());
    if (isProblem(second)) throw new Error(JSON.stringify(second));
    expect(statements).toHaveLength(1);
    expect(statements[0]).toContain('kj_demo_status');
    expect(statements[0]).toContain('from patient where id');
    expect(second.facts?.fnr).toBe(PERSONAS.ms.fnr);
    expect(second.patient).toEqual({ id: PERSONAS.ms.id, fnr: PERSONAS.ms.fnr });
  });

  it('when the id now stands for another person number, the facts used are that person\'s, asked for again', async () => {
    const memo = new PersonNumbers();
    const asked: string[] = [];
    // Kjernejournal's answer per person: the remembered number has reserved, the current one has not.
    const facts = async (p: { id: string; fnr: string }): Promise<PatientFacts> => {
      asked.push(p.fnr);
      return { ...p, kjernejournalReserved: p.fnr === '13116900216', guardianAccessReserved: false, restrictions: [] };
    };
    memo.set(PERSONAS.ms.id, '13116900216');
    const decided = await decideRequest(access, clinician, request(PERSONAS.ms.id), contextOver(db, memo, facts));
    if (isProblem(decided)) throw new Error(JSON.stringify(decided));
    expect(asked).toEqual(['13116900216', PERSONAS.ms.fnr]);
    expect(decided.facts).toMatchObject({ fnr: PERSONAS.ms.fnr, kjernejournalReserved: false });
    expect(memo.get(PERSONAS.ms.id)).toBe(PERSONAS.ms.fnr);
  });

  it('a lookup that fails after the facts were asked for answers its 404, and the early facts do not go unhandled', async () => {
    const memo = new PersonNumbers();
    memo.set('gone-1', PERSONAS.ms.fnr);
    let rejected = false;
    const facts = (): Promise<PatientFacts> => {
      const p = Promise.reject(new Error('register down'));
      p.catch(() => (rejected = true));
      return p;
    };
    const r = await decideRequest(access, clinician, request('gone-1'), contextOver(db, memo, facts));
    expect(isProblem(r) && r.status).toBe(404);
    expect(rejected).toBe(true);
  });
});

describe('PersonNumbers', () => {
  it('keeps at most its capacity, dropping the least recently used', () => {
    const m = new PersonNumbers(2);
    m.set('a', '1');
    m.set('b', '2');
    expect(m.get('a')).toBe('1');
    m.set('c', '3');
    expect(m.size).toBe(2);
    expect(m.get('b')).toBeUndefined();
    expect(m.get('a')).toBe('1');
    expect(m.get('c')).toBe('3');
  });

  it('an id seen with a new number keeps only the new one', () => {
    const m = new PersonNumbers(2);
    m.set('a', '1');
    m.set('a', '9');
    expect(m.size).toBe(1);
    expect(m.get('a')).toBe('9');
  });
});
