// The access matrix, generated from the route table: every protected route against every kind of caller,
// over HTTP against the running app. The expected answer of each cell follows from the route's
// declaration (admitted roles, scope, how the patient is found, the route's own rules); the request names
// a stored patient other than most callers (addison), and routes that read by id read a stored resource of
// hers. A route added to the table is in the matrix without a test being written for it; a route whose
// patient locator names a kind of body or stored resource the matrix cannot make fails here until it can.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessTarget } from '../../src/auth/access-rules.ts';
import { demoClaims, type DemoTokenOptions } from '../../src/auth/demo-issuer.ts';
import { isInvalidClaims, principalFromClaims, type Principal } from '../../src/auth/principal.ts';
import { DEMO_SYSTEM_CLIENTS, rolesOf, withSystemRole, type Role } from '../../src/auth/roles.ts';
import { PERSONAS } from '../../src/demo/personas.ts';
import { parseEuPrescriptionCda } from '../../src/edispensation/eu/parse-prescription-cda.ts';
import { storeEuPrescriptions } from '../../src/edispensation/eu/prescription-store.ts';
import { OID } from '../../src/fhir/identifiers.ts';
import { isProblem } from '../../src/fhir/outcomes.ts';
import { createLogger } from '../../src/log.ts';
import { loadDemoFest } from '../../src/registries/fest/ingest.ts';
import { allDocumentedRoutes } from '../../src/http/routes.ts';
import type { FhirRequest, ProtectedRoute, RouteContext, RouteDef } from '../../src/http/types.ts';
import type { Db } from '../../src/store/db.ts';
import { engines, openIsolatedDb } from '../support/db.ts';
import { DEMO_HPR, startTestServer, type TestServer } from '../support/server.ts';
import { fixture } from '../edispensation/support/fixtures.ts';
import { czechCda, euPrescriptionBundle, euPrescriptionCda, mpdDispense, pharmacyM10 } from '../edispensation/support/messages.ts';
import { insertNoPrescription } from '../edispensation/support/store.ts';

const TARGET = PERSONAS.addison;

/** Every kind of caller the issue names; `scope` is each one's widest, so roles and patients decide. */
const CALLERS = {
  'citizen own': { patient: TARGET.fnr, scope: 'patient/*.cruds' },
  'citizen other': { patient: PERSONAS.ms.fnr, scope: 'patient/*.cruds' },
  guardian: { patient: PERSONAS.knee.fnr, actingFor: { fnr: TARGET.fnr, relation: 'guardian' }, scope: 'patient/*.cruds' },
  'clinician, care purpose': { hpr: DEMO_HPR, purpose: 'TREAT', scope: 'user/*.cruds' },
  'clinician, no care purpose': { hpr: DEMO_HPR, purpose: 'HRESCH', scope: 'user/*.cruds' },
  ncp: { client: 'ncp-no', scope: 'system/*.cruds' },
  // The organisation of the official sample M10s' sender: a pharmacy reports in its own name only.
  pharmacy: { client: 'pharmacy-matrix', org: '983044778', scope: 'system/*.cruds' },
  operator: { client: 'operator', scope: 'system/*.cruds' },
  auditor: { client: 'auditor', scope: 'system/*.cruds' },
} satisfies Record<string, DemoTokenOptions>;
type CallerName = keyof typeof CALLERS | 'no token' | 'token without the scope';

const protectedRoutes = allDocumentedRoutes().filter((r): r is ProtectedRoute<unknown> => r.access !== 'public');

function principalOf(opts: DemoTokenOptions): Principal {
  const p = principalFromClaims({ ...demoClaims(opts), iss: 'urn:matrix', exp: 4_000_000_000 });
  if (isInvalidClaims(p)) throw new Error(p.invalid);
  return withSystemRole(p, DEMO_SYSTEM_CLIENTS);
}

/** What the stored data and the request bodies are made from. */
interface Seeds {
  patientId: string;
  /** By the locator's `via`: the id of a stored resource of TARGET. */
  stored: Record<string, string>;
  noPrescriptionId: string;
  euPrescriptionId: string;
}

/** The request for a route, naming TARGET the way the route's declaration says its patient is found. */
function requestFor(route: ProtectedRoute<unknown>, seeds: Seeds): { path: string; init: RequestInit } {
  const { from, via } = route.access.patient;
  let id = '';
  if (from === 'path-id') id = seeds.patientId;
  if (from === 'stored') {
    id = seeds.stored[via ?? ''] ?? '';
    if (!id) throw new Error(`the matrix has no stored ${via} for ${route.method} ${route.path}: add one to the seeds`);
  }
  let path = `/fhir${route.path.replace(':id', encodeURIComponent(id))}`;
  const headers: Record<string, string> = { accept: route.produces === 'xml' ? 'application/xml' : 'application/fhir+json' };
  const query = new URLSearchParams();
  let body: string | undefined;
  const identifier = `${OID.fnr}|${TARGET.fnr}`;
  if (from === 'identifier' || from === 'parameters-body') {
    const param: Record<string, string> = via === 'identifier' ? { identifier } : { patient: `Patient/${seeds.patientId}` };
    const kind = route.accepts?.[0];
    if (kind === 'form') {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(param).toString();
    } else if (kind === 'json') {
      headers['content-type'] = 'application/fhir+json';
      body = JSON.stringify({ resourceType: 'Parameters', parameter: [{ name: 'identifier', valueString: identifier }] });
    } else for (const [k, v] of Object.entries(param)) query.set(k, v);
  } else if (from === 'message-body') {
    const made = messageBody(via ?? '', seeds);
    headers['content-type'] = made.contentType;
    body = made.body;
  } else if (route.accepts?.includes('json')) {
    headers['content-type'] = 'application/fhir+json';
    // A patient named by the path (POST Patient/:id/$summary): its locator reads the body's parameters by the
    // operation's definition before deciding, so the call carries none rather than the terminology's.
    const parameter = from === 'path-id' ? [] : [{ name: 'system', valueUri: 'http://www.whocc.no/atc' }, { name: 'code', valueCode: 'H02AB09' }];
    body = JSON.stringify({ resourceType: 'Parameters', parameter });
  }
  if (route.path.endsWith('$outbox-retry')) query.set('id', randomUUID());
  if (query.size) path += `?${query}`;
  return { path, init: { method: route.method, headers, ...(body !== undefined ? { body } : {}) } };
}

/** A realistic message of each kind a message-body locator reads, about TARGET's stored prescriptions. */
function messageBody(via: string, seeds: Seeds): { body: string; contentType: string } {
  const json = (v: unknown) => ({ body: JSON.stringify(v), contentType: 'application/fhir+json' });
  const xml = (body: string) => ({ body, contentType: 'application/xml' });
  switch (via) {
    case 'mpd-dispense':
      return json(mpdDispense(seeds.noPrescriptionId));
    case 'ehdsi-dispense-cda':
      return xml(czechCda(seeds.noPrescriptionId).xml);
    case 'm10':
      return xml(pharmacyM10(seeds.euPrescriptionId).xml);
    case 'eu-prescription-bundle':
      return json(euPrescriptionBundle().bundle);
    case 'eu-prescription-cda':
      return xml(euPrescriptionCda().xml);
    case 'm1':
      return xml(fixture('m1/valid/01-pakning-hydrokortison.xml'));
    default:
      throw new Error(`the matrix cannot make a '${via}' body: add it to messageBody`);
  }
}

/**
 * The expected answer from the declaration alone: 401 without a token; 403 when no role of the caller is
 * admitted, the scope is missing, the caller is a citizen and the patient is someone else, or a clinician
 * has no care purpose; otherwise what the route's own rules say about the stored resource; else through.
 */
async function expected(route: ProtectedRoute<unknown>, caller: CallerName, seeds: Seeds, ctx: () => RouteContext): Promise<401 | 403 | 'through'> {
  if (caller === 'no token') return 401;
  if (caller === 'token without the scope') return 403;
  const opts = CALLERS[caller];
  const principal = principalOf(opts);
  const personal = route.access.patient.from !== 'none';
  const roles: Role[] = rolesOf(principal, personal ? TARGET.fnr : undefined);
  const kindRoles: Role[] = rolesOf(principal, undefined);
  if (!kindRoles.some((r) => route.access.admits.includes(r))) return 403;
  if (personal && !roles.some((r) => route.access.admits.includes(r))) return 403;
  if (personal && principal.kind === 'clinician' && principal.purposeOfUse === 'HRESCH') return 403;
  if (route.access.rules?.length) {
    const { path, init } = requestFor(route, seeds);
    const url = new URL(`http://x${path}`);
    const req: FhirRequest = {
      method: route.method,
      params: { id: decodeURIComponent(url.pathname.split('/')[3] ?? '') },
      query: url.searchParams,
      body: typeof init.body === 'string' && init.body.startsWith('{') ? JSON.parse(init.body) : init.body,
      bodyKind: undefined,
      headers: {},
      baseUrl: '',
      lang: 'en',
      requestId: 'matrix',
    };
    const found = await route.access.patient.find(req, ctx());
    if (isProblem(found)) throw new Error(`the matrix's stored resource for ${route.path} was not found`);
    const target: AccessTarget = { resourceType: route.access.scope.resourceType, interaction: route.access.scope.interaction, level: 'request' };
    if (route.access.rules.some((rule) => rule(principal, found, target).some((o) => o.effect === 'deny'))) return 403;
  }
  return 'through';
}

/** A token of the first admitted kind, with a scope of its context for a type no route serves. */
function withoutScope(route: ProtectedRoute<unknown>): DemoTokenOptions {
  const first = (Object.keys(CALLERS) as (keyof typeof CALLERS)[]).find((c) => rolesOf(principalOf(CALLERS[c]), undefined).some((r) => route.access.admits.includes(r)))!;
  const opts = CALLERS[first];
  const context = 'hpr' in opts ? 'user' : 'client' in opts ? 'system' : 'patient';
  return { ...opts, scope: `${context}/Basic.r` };
}

const name = (r: RouteDef): string => `${r.method} ${r.path}`;

describe.each(engines)('the access matrix (%s)', (engine) => {
  let srv: TestServer;
  let db: Db;
  let seeds: Seeds;
  const tokens = new Map<string, string>();

  beforeAll(async () => {
    // A store of its own: the prescriptions and dispensations made here stay out of other files' counts.
    db = await openIsolatedDb(engine);
    await loadDemoFest(db);
    srv = await startTestServer(engine, { OUTBOX_WORKERS: '0', RATE_LIMIT_PER_MINUTE: '100000' }, { db });
    const ncp = await srv.token(CALLERS.ncp);
    const asNcp = (path: string, init: RequestInit) => fetch(`${srv.url}${path}`, { ...init, headers: { ...init.headers, authorization: `Bearer ${ncp}` } });
    // TARGET's Norwegian prescription as the M1 made it (exportable), one she has dispensed abroad, and an EU one.
    const m1 = await asNcp('/fhir/MedicationRequest/$import-m1', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: fixture('m1/valid/01-pakning-hydrokortison.xml') });
    expect([200, 201]).toContain(m1.status);
    const exported = m1.headers.get('location')!.split('/').pop()!;
    const rx = await insertNoPrescription(db, { dispensingsAllowed: 99, quantityPrescribed: 999 });
    const dispensed = await asNcp('/fhir/MedicationDispense', { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(mpdDispense(rx.prescriptionId)) });
    expect(dispensed.status).toBe(201);
    const dispensationId = ((await dispensed.json()) as { id: string }).id;
    const eu = euPrescriptionCda('lantus');
    const parsed = parseEuPrescriptionCda(eu.xml);
    if (!parsed.ok) throw new Error('the EU prescription fixture does not parse');
    // The EU patient, here one Helsebro knows by her Norwegian number, so her own access can be checked.
    const stored = await storeEuPrescriptions(db, [{ prescription: { ...parsed.value, patientFnr: TARGET.fnr }, cdaXml: eu.xml }]);
    if (!stored.ok) throw new Error('the EU prescription was not stored');
    seeds = {
      patientId: TARGET.id,
      stored: { MedicationDispense: dispensationId, MedicationRequest: stored.stored[0]!.id, 'MedicationRequest-NO': exported, NcpDocument: `ep-${exported}-l3` },
      noPrescriptionId: rx.prescriptionId,
      euPrescriptionId: eu.prescriptionId,
    };
  });
  afterAll(async () => {
    await srv?.close();
    await db?.close();
  });

  const inProcess = (): RouteContext => ({
    db,
    config: srv.config,
    log: createLogger('silent'),
    principal: undefined,
    audit: {},
    patientFacts: async (p) => ({ ...p, kjernejournalReserved: false, guardianAccessReserved: false, restrictions: [] }),
  });

  async function tokenFor(key: string, opts: DemoTokenOptions): Promise<string> {
    let t = tokens.get(key);
    if (!t) tokens.set(key, (t = await srv.token(opts)));
    return t;
  }

  it('covers every protected route of the table', () => {
    expect(protectedRoutes.length).toBeGreaterThan(30);
    for (const r of protectedRoutes) expect(r.access.admits.length, name(r)).toBeGreaterThan(0);
  });

  for (const route of protectedRoutes) {
    it(`${name(route)}: every caller gets the answer its declaration gives`, async () => {
      const cells: string[] = [];
      const callers: CallerName[] = [...(Object.keys(CALLERS) as (keyof typeof CALLERS)[]), 'no token', 'token without the scope'];
      for (const caller of callers) {
        const want = await expected(route, caller, seeds, inProcess);
        const { path, init } = requestFor(route, seeds);
        const headers = new Headers(init.headers);
        if (caller === 'token without the scope') headers.set('authorization', `Bearer ${await tokenFor(`noscope ${name(route)}`, withoutScope(route))}`);
        else if (caller !== 'no token') headers.set('authorization', `Bearer ${await tokenFor(caller, CALLERS[caller])}`);
        const res = await fetch(`${srv.url}${path}`, { ...init, headers });
        const text = await res.text();
        const ok = want === 'through' ? res.status !== 401 && res.status !== 403 && res.status < 500 : res.status === want;
        if (!ok) cells.push(`${caller}: expected ${want}, got ${res.status} ${text.slice(0, 160)}`);
      }
      expect(cells).toEqual([]);
    });
  }
});
