// The clinician view over real HTTP without a browser: session and CSRF, the search that keeps the
// fødselsnummer out of URLs, one AuditEvent per page view, the Content-Security-Policy, production mode,
// and the EU prescription page over rows as the EU import stores them.
import type { AuditEvent, Bundle, Condition } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERSONAS } from '../../src/demo/personas.ts';
import { checkDigits, parsePersonNumber } from '../../src/fhir/identifiers.ts';
import { VIEW_CSP, VIEW_SCOPES } from '../../src/http/view/router.ts';
import { CSRF_COOKIE, SESSION_COOKIE } from '../../src/http/view/session.ts';
import { createSession } from '../../src/http/view/session-store.ts';
import { DEMO_VIEW_AUDIENCE } from '../../src/auth/demo-issuer.ts';
import type { Db } from '../../src/store/db.ts';
import { seedDemoSummarySources } from '../../src/summary/seed.ts';
import { engines, getTestDb } from '../support/db.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { viewClient } from './support/client.ts';
import { sessionCookie } from './support/session.ts';
import { tableRows, textOf } from './support/html.ts';
import { insertEuPrescription } from './support/prescriptions.ts';
import { PRODUCTION_ENV } from '../support/production-env.ts';

/** Born 31.12.1999 (month + 80: synthetic), individual numbers from 499 down: valid check digits, no demo patient. */
function unusedPersonNumber(): string {
  for (let individual = 499; individual > 400; individual--) {
    const stem = `319299${individual}`;
    const k = checkDigits(stem);
    if (k) return stem + k;
  }
  throw new Error('no valid synthetic number found');
}

const auditFor = async (db: Db, requestId: string) =>
  (await db.query<{ resource: AuditEvent; action: string; patient_id: string | null; patient_fnr: string | null }>(
    'select resource, action, patient_id, patient_fnr from audit_event where request_id = $1',
    [requestId],
  )).rows;

describe.each(engines)('the clinician view over HTTP (%s)', (engine) => {
  let srv: TestServer;
  let db: Db;

  beforeAll(async () => {
    db = await getTestDb(engine);
    await seedDemoSummarySources(db);
    srv = await startTestServer(engine);
  });
  afterAll(async () => {
    await srv.close();
  });

  it('serves the view under its own strict CSP and leaves the API its own', async () => {
    const page = await fetch(`${srv.url}/view/signin`);
    expect(page.headers.get('content-security-policy')).toBe(VIEW_CSP);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(page.headers.get('cache-control')).toBe('no-store');
    const api = await fetch(`${srv.url}/fhir/metadata`);
    expect(api.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
  });

  it('serves its stylesheet and script itself, and nothing else from the assets folder', async () => {
    const css = await fetch(`${srv.url}/view/assets/view.css`);
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(await css.text()).toContain('@media print');
    const js = await fetch(`${srv.url}/view/assets/view.js`);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    for (const path of ['/view/assets/patient-page.ts', '/view/assets/..%2F..%2Fconfig.ts', '/view/assets/%2e%2e%2fhtml.ts']) {
      expect((await fetch(`${srv.url}${path}`)).status, path).toBe(404);
    }
  });

  it('sends a visitor without a session to the demo sign-in, remembering the page', async () => {
    const res = await fetch(`${srv.url}/view/patient/ms`, { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/view/signin?next=%2Fview%2Fpatient%2Fms');
  });

  it('signs in with a CSRF-protected form into an HttpOnly, SameSite=Strict session of 30 minutes', async () => {
    const c = viewClient(srv.url);
    const form = await c.get('/view/signin?next=%2Fview%2Fpatient%2Fms');
    expect(form.status).toBe(200);
    const csrfCookie = form.headers.getSetCookie().find((l) => l.startsWith(`${CSRF_COOKIE}=`))!;
    expect(csrfCookie).toMatch(/; Path=\/view; HttpOnly; SameSite=Strict$/);
    expect(await c.post('/view/signin', { hpr: '9144889', next: '/view/patient/ms' })).toHaveProperty('status', 403);
    const res = await c.post('/view/signin', { hpr: '9144889', next: '/view/patient/ms', csrf: c.csrf()! });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/view/patient/ms');
    const session = res.headers.getSetCookie().find((l) => l.startsWith(`${SESSION_COOKIE}=`))!;
    expect(session).toMatch(/; Path=\/view; HttpOnly; SameSite=Strict; Max-Age=1800$/);
    expect(session).not.toContain('Secure'); // plain http on loopback
    // The CSRF token is replaced at sign-in.
    expect(res.headers.getSetCookie().some((l) => l.startsWith(`${CSRF_COOKIE}=`))).toBe(true);
    const page = await c.get('/view/patient/ms');
    expect(page.status).toBe(200);
    expect(textOf(await page.text())).toContain('Innlogget som Magnar Koman (HPR 9144889)');
  });

  it('ends the session the browser held when someone signs in again at it', async () => {
    const c = viewClient(srv.url);
    await c.get('/view/signin');
    expect((await c.post('/view/signin', { hpr: '9144889', csrf: c.csrf()! })).status).toBe(303);
    const first = c.cookies.get(SESSION_COOKIE)!;
    expect((await c.get('/view/patient/ms')).status).toBe(200);
    await c.get('/view/signin');
    expect((await c.post('/view/signin', { hpr: '565502011', csrf: c.csrf()! })).status).toBe(303);
    expect(c.cookies.get(SESSION_COOKIE)).not.toBe(first);
    // The first person's session is gone from the store, not merely replaced in this browser.
    const old = await fetch(`${srv.url}/view/patient/ms`, { headers: { cookie: `${SESSION_COOKIE}=${first}` }, redirect: 'manual' });
    expect([303, 401]).toContain(old.status);
    expect(old.status === 303 ? old.headers.get('location') : 'ended').not.toBe('/view/patient/ms');
  });

  it('reaches that patient only: another is refused with ACCESS-LAUNCH-CONTEXT, and the refusal is audited under them', async () => {
    // As the HelseID callback stores a launch (tokens.patient): the session remembers whom the EHR opened it for.
    const token = await srv.token({ audience: DEMO_VIEW_AUDIENCE, hpr: '9144889' });
    const { id } = await createSession(db, { accessToken: token, tokenExpiresAt: Math.floor(Date.now() / 1000) + 600, launchPatient: 'ms' }, new Date(), srv.config.viewSession);
    const get = (path: string, requestId?: string) =>
      fetch(`${srv.url}${path}`, { redirect: 'manual', headers: { cookie: `${SESSION_COOKIE}=${id}`, ...(requestId ? { 'x-request-id': requestId } : {}) } });
    expect((await get('/view/patient/ms')).status).toBe(200);
    const requestId = `launch-${Date.now()}`;
    const other = await get('/view/patient/addison', requestId);
    expect(other.status).toBe(403);
    expect(textOf(await other.text())).toContain('another patient');
    const audited = await auditFor(db, requestId);
    expect(audited).toHaveLength(1);
    expect(audited[0]!.patient_id).toBe('addison');
    expect(audited[0]!.resource.outcome).toBe('4');
    expect(audited[0]!.resource.outcomeDesc).toContain('forbidden');
  });

  it('never sends the browser off-site after sign-in', async () => {
    const c = viewClient(srv.url);
    await c.get('/view/signin');
    const res = await c.post('/view/signin', { hpr: '9144889', next: '//evil.example/', csrf: c.csrf()! });
    expect(res.headers.get('location')).toBe('/view/');
  });

  it('refuses a clinician who is not in the demo list', async () => {
    const c = viewClient(srv.url);
    await c.get('/view/signin');
    const res = await c.post('/view/signin', { hpr: '1234567', csrf: c.csrf()! });
    expect(res.status).toBe(400);
    expect(res.headers.getSetCookie().some((l) => l.startsWith(`${SESSION_COOKIE}=`))).toBe(false);
  });

  it('treats a forged or foreign session cookie as no session, and clears it', async () => {
    const forged = 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.';
    const res = await fetch(`${srv.url}/view/patient/ms`, { redirect: 'manual', headers: { cookie: `${SESSION_COOKIE}=${forged}` } });
    expect(res.status).toBe(303);
    expect(res.headers.getSetCookie().some((l) => l.startsWith(`${SESSION_COOKIE}=;`) && l.includes('Max-Age=0'))).toBe(true);
  });

  it('shows the view to health personnel only, not to a citizen token', async () => {
    const cookie = await sessionCookie(srv, db, { patient: PERSONAS.ms.fnr, scope: 'patient/Patient.r' });
    const res = await fetch(`${srv.url}/view/patient/ms`, { redirect: 'manual', headers: { cookie } });
    expect(res.status).toBe(403);
  });

  it('refuses a stored session whose token was issued for the API, not for the view', async () => {
    const cookie = await sessionCookie(srv, db, { scope: VIEW_SCOPES, audience: undefined });
    const res = await fetch(`${srv.url}/view/patient/ms`, { redirect: 'manual', headers: { cookie } });
    expect(res.status).toBe(401);
    expect(res.headers.getSetCookie().some((l) => l.startsWith(`${SESSION_COOKIE}=;`) && l.includes('Max-Age=0'))).toBe(true);
    // The refused session is gone: the same cookie again finds nothing.
    expect((await fetch(`${srv.url}/view/`, { redirect: 'manual', headers: { cookie } })).status).toBe(401);
  });

  it('applies the token scopes as the API does', async () => {
    const cookie = await sessionCookie(srv, db, { scope: 'user/Condition.rs' });
    const res = await fetch(`${srv.url}/view/patient/ms`, { redirect: 'manual', headers: { cookie, 'x-request-id': `view-scope-${engine}-01` } });
    expect(res.status).toBe(403);
    const rows = await auditFor(db, `view-scope-${engine}-01`);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.resource.outcome).toBe('4');
  });

  it('finds a patient by a POSTed fødselsnummer and redirects to the page without the number in any URL', async () => {
    const c = viewClient(srv.url);
    await c.signIn();
    await c.get('/view/');
    const requestId = `view-search-${engine}-01`;
    const res = await c.post('/view/search', { fnr: `${PERSONAS.ms.fnr.slice(0, 6)} ${PERSONAS.ms.fnr.slice(6)}`, csrf: c.csrf()! }, { 'x-request-id': requestId });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/view/patient/ms');
    expect(srv.logLines.filter((l) => l.includes(PERSONAS.ms.fnr))).toEqual([]);
    const rows = await auditFor(db, requestId);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.action).toBe('E');
    expect(rows[0]!.patient_fnr).toBe(PERSONAS.ms.fnr);
  });

  it('says when a number is invalid, without echoing it', async () => {
    const c = viewClient(srv.url);
    await c.signIn();
    await c.get('/view/');
    const invalid = await c.post('/view/search', { fnr: '12345678901', csrf: c.csrf()! });
    expect(invalid.status).toBe(400);
    const body = await invalid.text();
    expect(textOf(body)).toContain('ikke et gyldig fødselsnummer');
    expect(body).not.toContain('12345678901');
  });

  it('answers a valid but unknown number with not found', async () => {
    const c = viewClient(srv.url);
    await c.signIn();
    await c.get('/view/');
    // A synthetic number (month + 80) with valid check digits that no persona or demo patient has.
    const fnr = unusedPersonNumber();
    expect(parsePersonNumber(fnr)?.synthetic).toBe(true);
    const res = await c.post('/view/search', { fnr, csrf: c.csrf()! });
    const body = await res.text();
    expect(res.status, textOf(body)).toBe(404);
    expect(textOf(body)).toContain('Fant ingen pasient med det nummeret.');
  });

  it('refuses a search without the CSRF token or sent from another site', async () => {
    const c = viewClient(srv.url);
    await c.signIn();
    await c.get('/view/');
    expect((await c.post('/view/search', { fnr: PERSONAS.ms.fnr })).status).toBe(403);
    expect((await c.post('/view/search', { fnr: PERSONAS.ms.fnr, csrf: 'x'.repeat(43) })).status).toBe(403);
    expect((await c.post('/view/search', { fnr: PERSONAS.ms.fnr, csrf: c.csrf()! }, { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
  });

  it('audits every page view with the patient exactly like the API: one AuditEvent, action R, $summary', async () => {
    const c = viewClient(srv.url);
    await c.signIn();
    const requestId = `view-page-${engine}-01`;
    const res = await c.get('/view/patient/knee?sort=last-asc', { 'x-request-id': requestId });
    expect(res.status).toBe(200);
    const rows = await auditFor(db, requestId);
    expect(rows).toHaveLength(1);
    const event = rows[0]!.resource;
    expect(rows[0]!.action).toBe('R');
    expect(rows[0]!.patient_id).toBe('knee');
    expect(rows[0]!.patient_fnr).toBe(PERSONAS.knee.fnr);
    expect(event.outcome).toBe('0');
    expect(event.subtype?.map((s) => s.display ?? s.code)).toContain('$summary');
    expect(JSON.stringify(event.agent)).toContain('9144889');
  });

  it('shows exactly what the $summary document of the API says', async () => {
    const c = viewClient(srv.url);
    await c.signIn();
    const page = await (await c.get('/view/patient/ms')).text();
    const api = (await (await srv.fetchAs(VIEW_SCOPES, '/fhir/Patient/ms/$summary')).json()) as Bundle;
    const conditions = api.entry!.map((e) => e.resource).filter((r): r is Condition => r?.resourceType === 'Condition');
    const problems = page.slice(page.indexOf('id="problems"'));
    const rows = tableRows(problems);
    expect(rows.map((r) => r[0])).toEqual(conditions.map((c) => `ICD-10 ${c.code!.coding![0]!.code}`));
    expect(rows.map((r) => r[1])).toEqual(conditions.map((c) => c.code!.text));
  });

  it('answers an unknown patient with a not-found page, audited', async () => {
    const c = viewClient(srv.url);
    await c.signIn();
    const res = await c.get('/view/patient/nobody', { 'x-request-id': `view-404-${engine}-01` });
    expect(res.status).toBe(404);
    expect(textOf(await res.text())).toContain('Ikke funnet');
    expect(await auditFor(db, `view-404-${engine}-01`)).toHaveLength(1);
  });

  it('remembers English once chosen, and fetches the document in English', async () => {
    const c = viewClient(srv.url);
    await c.signIn();
    const en = await (await c.get('/view/patient/ms?lang=en')).text();
    expect(en).toContain('<html lang="en">');
    const again = await (await c.get('/view/patient/ms')).text();
    expect(again).toContain('<html lang="en">');
    expect(textOf(again)).toContain('Migraine without aura');
    expect(textOf(again)).toContain('Sources asked: Kjernejournal (critical information): answered');
    expect(await (await c.get('/view/patient/ms?lang=nb')).text()).toContain('<html lang="nb">');
  });

  it('signs out with the form, ending the session', async () => {
    const c = viewClient(srv.url);
    await c.signIn();
    await c.get('/view/');
    expect((await c.post('/view/signout', {})).status).toBe(403);
    const out = await c.post('/view/signout', { csrf: c.csrf()! });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/view/signin');
    expect(c.cookies.has(SESSION_COOKIE)).toBe(false);
    expect((await c.get('/view/patient/ms')).status).toBe(303);
  });

  it('shows a stored EU prescription for the pharmacy counter, by row id or prescription id, audited as a read', async () => {
    const rx = await insertEuPrescription(db, { patientFnr: PERSONAS.addison.fnr });
    const c = viewClient(srv.url);
    await c.signIn('565502372');
    const requestId = `view-rx-${engine}-${rx.id.slice(0, 8)}`;
    const res = await c.get(`/view/prescription/${rx.id}`, { 'x-request-id': requestId });
    const body = await res.text();
    expect(res.status, textOf(body)).toBe(200);
    expect(textOf(body)).toContain(`Resept-ID ${rx.prescriptionId}`);
    expect(textOf(body)).toContain('Kan utleveres');
    expect(textOf(body)).toContain('Thomas Engine');
    const rows = await auditFor(db, requestId);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.action).toBe('R');
    expect(rows[0]!.patient_fnr).toBe(PERSONAS.addison.fnr);
    expect(JSON.stringify(rows[0]!.resource.entity)).toContain(`MedicationRequest/${rx.id}`);

    const byPrescriptionId = await c.get(`/view/prescription?id=${encodeURIComponent(rx.prescriptionId)}`);
    expect(byPrescriptionId.headers.get('location')).toBe(`/view/prescription/${rx.prescriptionId}`);
    expect((await c.get(`/view/prescription/${rx.prescriptionId}`)).status).toBe(200);
    expect((await c.get('/view/prescription/no-such-rx')).status).toBe(404);
    expect((await c.get('/view/prescription?id=%3Cscript%3E')).status).toBe(404);
  });
});

describe.each(engines)('the clinician view behind https (%s)', (engine) => {
  let srv: TestServer;
  beforeAll(async () => {
    srv = await startTestServer(engine, { PUBLIC_BASE_URL: 'https://helsebro.example' });
  });
  afterAll(async () => {
    await srv.close();
  });

  it('marks its cookies Secure', async () => {
    const c = viewClient(srv.url);
    const form = await c.get('/view/signin');
    expect(form.headers.getSetCookie().every((l) => l.endsWith('; Secure'))).toBe(true);
    const res = await c.post('/view/signin', { hpr: '9144889', csrf: c.csrf()! });
    expect(res.headers.getSetCookie().find((l) => l.startsWith(`${SESSION_COOKIE}=`))).toMatch(/; Secure$/);
  });
});

describe.each(engines)('the clinician view in production mode (%s)', (engine) => {
  let srv: TestServer;
  beforeAll(async () => {
    // An issuer on a closed loopback port: HelseID cannot be reached (nothing leaves the machine).
    srv = await startTestServer(engine, {
      ...PRODUCTION_ENV,
      AUTH_JWKS_URL: 'http://127.0.0.1:9/.well-known/jwks.json',
      AUTH_ISSUER: 'http://127.0.0.1:9',
    });
  });
  afterAll(async () => {
    await srv.close();
  });

  it('has no sign-in page', async () => {
    expect((await fetch(`${srv.url}/view/signin`)).status).toBe(404);
    const c = viewClient(srv.url);
    await c.get('/view/signin');
    expect((await c.post('/view/signin', { hpr: '9144889', csrf: c.csrf() ?? '' })).status).toBe(404);
  });

  it('sends a visitor without a session to the HelseID sign-in, remembering the page', async () => {
    const res = await fetch(`${srv.url}/view/patient/ms`, { redirect: 'manual' });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/view/login?next=%2Fview%2Fpatient%2Fms');
  });

  it('answers 503 with a page, not a broken redirect, while HelseID cannot be reached', async () => {
    const res = await fetch(`${srv.url}/view/login?next=%2Fview%2F`, { redirect: 'manual' });
    expect(res.status).toBe(503);
    expect(textOf(await res.text())).toContain('HelseID kan ikke nås');
    expect(res.headers.getSetCookie().some((l) => l.startsWith('helsebro_view_login='))).toBe(false);
  });
});
