// The Folkeregisteret adapter: validation of the register's person document, address protection and
// guardianship read from it, the live client's answers, and how the facts fail closed.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decideAccess, type PatientFacts } from '../../src/auth/access-rules.ts';
import type { CitizenPrincipal } from '../../src/auth/principal.ts';
import { PERSONAS } from '../../src/demo/personas.ts';
import { combinePatientFacts } from '../../src/http/patient-facts.ts';
import { folkeregisteretHttpClient, FolkeregisteretError } from '../../src/registries/folkeregisteret/client.ts';
import { CONFIDENTIAL_MOTHER_FNR, demoPersonDocument, personaDocument } from '../../src/registries/folkeregisteret/demo.ts';
import { addressProtection, populationFacts, protectedAddress, readFregPerson } from '../../src/registries/folkeregisteret/read.ts';
import type { FregPerson } from '../../src/registries/folkeregisteret/types.ts';

const she = PERSONAS.confidential;
const resident = { fnr: PERSONAS.ms.fnr, given: ['Bjørn'], family: 'Haugland', city: 'Bergen', postalCode: '5003' };
const withProtection = (doc: FregPerson, grades: FregPerson['adressebeskyttelse']): FregPerson => ({ ...doc, adressebeskyttelse: grades });

describe('reading a Folkeregisteret person', () => {
  it('validates the document and that it is the person asked for', () => {
    const doc = demoPersonDocument(resident);
    expect(readFregPerson(JSON.parse(JSON.stringify(doc)), resident.fnr).identifikasjonsnummer[0]?.foedselsEllerDNummer).toBe(resident.fnr);
    expect(() => readFregPerson(doc, PERSONAS.knee.fnr)).toThrow(/another person/);
    expect(() => readFregPerson({ ...doc, adressebeskyttelse: [{ graderingsnivaa: 'hemmelig' }] }, resident.fnr)).toThrow(/malformed at adressebeskyttelse/);
    expect(() => readFregPerson({ navn: [] }, resident.fnr)).toThrow(FolkeregisteretError);
    expect(() => readFregPerson('<html>', resident.fnr)).toThrow(FolkeregisteretError);
  });

  it('takes the strictest address protection in force, ignoring entries no longer in force', () => {
    const doc = demoPersonDocument(resident);
    expect(addressProtection(doc)).toBe('ugradert');
    expect(addressProtection(withProtection(doc, [{ erGjeldende: true, graderingsnivaa: 'fortrolig' }, { erGjeldende: true, graderingsnivaa: 'strengtFortrolig' }]))).toBe('strengtFortrolig');
    expect(addressProtection(withProtection(doc, [{ erGjeldende: false, graderingsnivaa: 'strengtFortrolig' }, { erGjeldende: true, graderingsnivaa: 'ugradert' }]))).toBe('ugradert');
    // No entry marked: the last one is in force.
    expect(addressProtection(withProtection(doc, [{ graderingsnivaa: 'ugradert' }, { graderingsnivaa: 'fortrolig' }]))).toBe('fortrolig');
  });

  it('lets out the whole address, the post town only (fortrolig), or nothing at all (strengt fortrolig)', () => {
    const doc: FregPerson = {
      ...demoPersonDocument(resident),
      bostedsadresse: [{ erGjeldende: true, vegadresse: { kommunenummer: '4601', adressenavn: 'Strandgaten', adressenummer: { husnummer: '12', husbokstav: 'B' }, poststed: { poststedsnavn: 'Bergen', postnummer: '5003' } } }],
    };
    expect(protectedAddress(doc)).toEqual([{ use: 'home', line: ['Strandgaten 12B'], city: 'Bergen', postalCode: '5003', country: 'NO' }]);
    expect(protectedAddress(withProtection(doc, [{ erGjeldende: true, graderingsnivaa: 'fortrolig' }]))).toEqual([{ use: 'home', city: 'Bergen', country: 'NO' }]);
    expect(protectedAddress(withProtection(doc, [{ erGjeldende: true, graderingsnivaa: 'strengtFortrolig' }]))).toEqual([]);
    expect(JSON.stringify(protectedAddress(personaDocument(she)))).toBe('[]');
  });

  it('names who may act for the person: parental responsibility for this child, and a guardian', () => {
    expect(populationFacts(personaDocument(she), she.fnr)).toEqual({
      personNumber: she.fnr,
      addressProtection: 'strengtFortrolig',
      representatives: [{ personNumber: CONFIDENTIAL_MOTHER_FNR, basis: 'foreldreansvar' }],
    });
    const doc = demoPersonDocument(resident, { verge: PERSONAS.knee.fnr });
    // Responsibility registered for another child in the same document is not responsibility for this one.
    doc.foreldreansvar = [{ erGjeldende: true, ansvar: 'mor', ansvarlig: PERSONAS.addison.fnr, ansvarssubjekt: PERSONAS.child.fnr }];
    expect(populationFacts(doc, resident.fnr).representatives).toEqual([{ personNumber: PERSONAS.knee.fnr, basis: 'vergemaal' }]);
  });
});

describe('the live register client', () => {
  let server: Server;
  let base: string;
  const answers = new Map<string, { status: number; body: string }>();
  const asked: string[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      asked.push(req.url ?? '');
      const number = /\/personer\/(\d+)/.exec(req.url ?? '')?.[1] ?? '';
      const a = answers.get(number) ?? { status: 404, body: '{}' };
      res.writeHead(a.status, { 'content-type': 'application/json' }).end(a.body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('asks for the parts it reads and answers the document, undefined for an unknown person, an error otherwise', async () => {
    const client = folkeregisteretHttpClient({ baseUrl: base, headers: () => ({ authorization: 'Bearer maskinporten' }) });
    const signal = AbortSignal.timeout(5000);
    answers.set(she.fnr, { status: 200, body: JSON.stringify(personaDocument(she)) });
    expect(readFregPerson(await client.person(she.fnr, signal), she.fnr).adressebeskyttelse?.[0]?.graderingsnivaa).toBe('strengtFortrolig');
    expect(asked.at(-1)).toMatch(/part=adressebeskyttelse.*part=foreldreansvar.*part=vergemaalEllerFremtidsfullmakt/);
    expect(await client.person(PERSONAS.ms.fnr, signal)).toBeUndefined();
    answers.set(PERSONAS.knee.fnr, { status: 503, body: 'down' });
    await expect(client.person(PERSONAS.knee.fnr, signal)).rejects.toThrow(/HTTP 503/);
    answers.set(PERSONAS.addison.fnr, { status: 200, body: '<html>' });
    await expect(client.person(PERSONAS.addison.fnr, signal)).rejects.toThrow(/not JSON/);
    expect(await client.person('../admin', signal)).toBeUndefined();
  });
});

describe('patient facts from the sources', () => {
  const patient = { id: she.id, fnr: she.fnr };
  const population = { facts: populationFacts(personaDocument(she), she.fnr) };
  const kj = (privacy: Record<string, boolean>) => ({ facts: { hasCriticalInformation: false, privacySetting: privacy } });

  it('carries the register and Kjernejournal facts', () => {
    const facts = combinePatientFacts(patient, population, kj({ hasGuardianAccessReservation: true }));
    expect(facts).toEqual({
      id: she.id,
      fnr: she.fnr,
      kjernejournalReserved: false,
      guardianAccessReserved: true,
      restrictions: [{ kind: 'confidential-address', grade: 'strengt-fortrolig' }],
      guardians: [CONFIDENTIAL_MOTHER_FNR],
    });
    expect(combinePatientFacts(patient, 'absent', kj({ hasReservationKjernejournal: true }))).toMatchObject({ kjernejournalReserved: true, guardianAccessReserved: false, restrictions: [], guardians: [] });
  });

  it('fails closed when a source cannot answer: address withheld, guardians refused', () => {
    const facts = combinePatientFacts(patient, 'failed', 'failed');
    expect(facts.restrictions).toEqual([{ kind: 'confidential-address', grade: 'unknown' }]);
    expect(facts.guardianAccessReserved).toBe(true);
    expect(facts.guardians).toEqual([]);
  });

  it('lets the rules refuse a guardian the register does not name, and only a guardian', () => {
    const citizen = (fnr: string, actingFor?: CitizenPrincipal['actingFor']): CitizenPrincipal => ({
      kind: 'citizen', subject: fnr, clientId: 'app', scopes: [{ context: 'patient', resourceType: 'Patient', interactions: new Set(['r'] as const), raw: 'patient/Patient.r' }],
      scopeText: 'patient/Patient.r', issuer: 'x', expiresAt: 0, fnr, actingFor,
    });
    const facts: PatientFacts = { ...combinePatientFacts(patient, population, kj({})) };
    const target = { resourceType: 'Patient', interaction: 'r' as const, level: 'request' as const };
    const rulesOf = (who: CitizenPrincipal) => decideAccess(who, facts, target).outcomes.filter((o) => o.effect === 'deny').map((o) => o.rule);
    expect(rulesOf(citizen(CONFIDENTIAL_MOTHER_FNR, { fnr: she.fnr, relation: 'guardian' }))).toEqual([]);
    expect(rulesOf(citizen(PERSONAS.knee.fnr, { fnr: she.fnr, relation: 'guardian' }))).toEqual(['ACCESS-GUARDIAN-NOT-REGISTERED']);
    expect(rulesOf(citizen(she.fnr))).toEqual([]);
    // Unknown guardianship (no register asked): the rule has nothing to go on and stays out.
    expect(decideAccess(citizen(PERSONAS.knee.fnr, { fnr: she.fnr, relation: 'guardian' }), { ...facts, guardians: undefined }, target).effect).not.toBe('deny');
  });
});
