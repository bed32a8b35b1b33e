// The HelseID sign-in endpoints over HTTP without a browser: malformed, hostile and incomplete input to
// /view/launch and /view/callback answered with a 4xx page naming what was wrong; the sign-in cookie
// (SameSite=Lax, short-lived) and the session store's timeouts; and, in demo mode, the session cookie
// and the stored view token refused as bearer tokens on the API (issue 11, point 7).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_VIEW_AUDIENCE } from '../../src/auth/demo-issuer.ts';
import { PERSONAS } from '../../src/demo/personas.ts';
import {
  createLogin,
  createSession,
  deleteSession,
  findSession,
  sessionEnd,
  sessionState,
  takeLogin,
  touchSession,
} from '../../src/http/view/session-store.ts';
import { LOGIN_COOKIE, SESSION_COOKIE } from '../../src/http/view/session.ts';
import type { Db } from '../../src/store/db.ts';
import { engines, getTestDb } from '../support/db.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { viewClient } from './support/client.ts';
import { textOf } from './support/html.ts';
import { startWithHelseId, type HelseIdSetup } from './support/helseid.ts';

describe('session timeouts', () => {
  const t0 = new Date('2026-12-06T08:00:00Z');
  const at = (min: number): Date => new Date(t0.getTime() + min * 60_000);

  it('ends a session after idleSec without a request and at its absolute end, whichever comes first', () => {
    const s = { lastSeenAt: t0, expiresAt: at(480) };
    expect(sessionState(s, at(14), 900)).toBe('active');
    expect(sessionState(s, at(15), 900)).toBe('idle');
    expect(sessionState({ lastSeenAt: at(479), expiresAt: at(480) }, at(480), 900)).toBe('expired');
    expect(sessionState({ lastSeenAt: at(470), expiresAt: at(480) }, at(481), 900)).toBe('expired');
  });

  it('never lets a session outlive its access token', () => {
    expect(sessionEnd(t0, t0.getTime() / 1000 + 1800, 28_800)).toEqual(at(30));
    expect(sessionEnd(t0, t0.getTime() / 1000 + 86_400, 28_800)).toEqual(at(480));
  });
});

describe.each(engines)('the view session store (%s)', (engine) => {
  let db: Db;
  beforeAll(async () => {
    db = await getTestDb(engine);
  });

  it('keeps only a hash of the id, finds, touches and deletes by the id', async () => {
    const now = new Date();
    const { id } = await createSession(db, { accessToken: 'a.b.c', idToken: 'i.d.t', launchPatient: 'ms', tokenExpiresAt: Math.floor(now.getTime() / 1000) + 600 }, now, { idleSec: 900, maxSec: 3600 });
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const stored = await db.query<{ id_hash: string }>('select id_hash from view_session where access_token = $1', ['a.b.c']);
    expect(stored.rows.map((r) => r.id_hash)).not.toContain(id);
    expect(await findSession(db, id)).toMatchObject({ accessToken: 'a.b.c', idToken: 'i.d.t', launchPatient: 'ms' });
    const later = new Date(now.getTime() + 60_000);
    await touchSession(db, id, later);
    expect((await findSession(db, id))?.lastSeenAt.getTime()).toBe(later.getTime());
    expect((await deleteSession(db, id))?.idToken).toBe('i.d.t');
    expect(await findSession(db, id)).toBeUndefined();
    expect(await findSession(db, 'x'.repeat(43))).toBeUndefined();
  });

  it('gives a sign-in in progress back once, and not after ten minutes', async () => {
    const now = new Date();
    const pending = { state: 's', nonce: 'n', codeVerifier: 'v', launch: 'l', next: '/view/' };
    const id = await createLogin(db, pending, now);
    expect(await takeLogin(db, id, now)).toEqual(pending);
    expect(await takeLogin(db, id, now)).toBeUndefined();
    const old = await createLogin(db, pending, now);
    expect(await takeLogin(db, old, new Date(now.getTime() + 10 * 60_000))).toBeUndefined();
  });
});

describe.each(engines)('HelseID sign-in endpoints over HTTP (%s)', (engine) => {
  let setup: HelseIdSetup;
  let base: string;
  beforeAll(async () => {
    setup = await startWithHelseId(engine);
    base = setup.srv.url;
  });
  afterAll(async () => {
    await setup?.close();
  });

  const get = (path: string, cookie?: string): Promise<Response> => fetch(`${base}${path}`, { redirect: 'manual', headers: cookie ? { cookie } : {} });
  const launch = (iss: string, id: string): string => `/view/launch?iss=${encodeURIComponent(iss)}&launch=${encodeURIComponent(id)}`;

  it('starts a launch with a short-lived SameSite=Lax sign-in cookie and a redirect to HelseID', async () => {
    const res = await get(launch(`${base}/fhir`, 'abc-123'));
    expect(res.status).toBe(303);
    const to = new URL(res.headers.get('location')!);
    expect(to.origin).toBe(setup.provider.issuer);
    expect(to.searchParams.get('launch')).toBe('abc-123');
    const cookie = res.headers.getSetCookie().find((l) => l.startsWith(`${LOGIN_COOKIE}=`));
    expect(cookie).toMatch(/^helsebro_view_login=[A-Za-z0-9_-]{43}; Path=\/view; HttpOnly; SameSite=Lax; Max-Age=600$/);
  });

  it.each([
    ['another FHIR server as iss', () => launch('https://evil.example/fhir', 'abc'), 'en annen FHIR-tjener'],
    ['no iss', () => '/view/launch?launch=abc', 'en annen FHIR-tjener'],
    ['iss twice', () => `/view/launch?iss=${encodeURIComponent(`${base}/fhir`)}&iss=x&launch=abc`, 'en annen FHIR-tjener'],
    ['no launch', () => `/view/launch?iss=${encodeURIComponent(`${base}/fhir`)}`, 'gyldig launch-verdi'],
    ['a launch with markup', () => launch(`${base}/fhir`, '<script>alert(1)</script>'), 'gyldig launch-verdi'],
    ['an oversized launch', () => launch(`${base}/fhir`, 'a'.repeat(513)), 'gyldig launch-verdi'],
  ])('refuses a launch with %s: 400 naming the parameter, no sign-in started', async (_what, path, says) => {
    const res = await get(path());
    expect(res.status).toBe(400);
    const body = await res.text();
    expect(textOf(body)).toContain(says);
    expect(body).not.toContain('<script>alert');
    expect(res.headers.getSetCookie().some((l) => l.startsWith(`${LOGIN_COOKIE}=`))).toBe(false);
  });

  it.each([
    ['no sign-in cookie', '/view/callback?code=x&state=y', undefined],
    ['a forged sign-in cookie', '/view/callback?code=x&state=y', `${LOGIN_COOKIE}=${'A'.repeat(43)}`],
    ['a malformed sign-in cookie', '/view/callback?code=x&state=y', `${LOGIN_COOKIE}=<script>`],
  ])('refuses a callback with %s: 400, no session', async (_what, path, cookie) => {
    const res = await get(path, cookie);
    expect(res.status).toBe(400);
    expect(textOf(await res.text())).toContain('Innloggingen er utløpt eller allerede brukt');
    expect(res.headers.getSetCookie().some((l) => l.startsWith(`${SESSION_COOKIE}=`) && !l.includes('Max-Age=0'))).toBe(false);
  });

  it.each([
    ['HelseID\'s error (the clinician cancelled)', (state: string) => `error=access_denied&state=${state}&iss=${encodeURIComponent(setup.provider.issuer)}`],
    ['no code', (state: string) => `state=${state}&iss=${encodeURIComponent(setup.provider.issuer)}`],
    ['a code HelseID never issued', (state: string) => `code=forged&state=${state}&iss=${encodeURIComponent(setup.provider.issuer)}`],
    ['another issuer', (state: string) => `code=x&state=${state}&iss=${encodeURIComponent('https://evil.example')}`],
    ['a hostile state', () => `code=x&state=${encodeURIComponent('"><script>alert(1)</script>')}`],
  ])('refuses a callback with %s: 400 page, the sign-in used up', async (_what, query) => {
    const started = await get('/view/login');
    const cookie = started.headers.getSetCookie().find((l) => l.startsWith(`${LOGIN_COOKIE}=`))!.split(';')[0]!;
    const state = new URL(started.headers.get('location')!).searchParams.get('state')!;
    const res = await get(`/view/callback?${query(state)}`, cookie);
    expect(res.status).toBe(400);
    const body = await res.text();
    expect(textOf(body)).toContain('HelseID-innloggingen kunne ikke godtas');
    expect(body).not.toContain('<script>alert');
    expect((await get(`/view/callback?${query(state)}`, cookie)).status).toBe(400);
  });

  it('has no demo sign-in page in production, and the signed-out page is public', async () => {
    expect((await get('/view/signin')).status).toBe(404);
    const out = await get('/view/signed-out');
    expect(out.status).toBe(200);
    expect(textOf(await out.text())).toContain('Du er logget ut');
  });
});

describe.each(engines)('the demo view session is the view\'s only (%s)', (engine) => {
  let srv: TestServer;
  let db: Db;
  beforeAll(async () => {
    db = await getTestDb(engine);
    srv = await startTestServer(engine);
  });
  afterAll(async () => {
    await srv?.close();
  });

  it('refuses the session cookie and the stored view token as bearer tokens on /fhir (401), while the API token works', async () => {
    const c = viewClient(srv.url);
    await c.signIn();
    const id = c.cookies.get(SESSION_COOKIE)!;
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const session = await findSession(db, id);
    expect(session).toBeDefined();
    const claims = JSON.parse(Buffer.from(session!.accessToken.split('.')[1]!, 'base64url').toString()) as { aud: string };
    expect(claims.aud).toBe(DEMO_VIEW_AUDIENCE);
    for (const bearer of [id, session!.accessToken]) {
      const res = await fetch(`${srv.url}/fhir/Patient/${PERSONAS.ms.id}`, { headers: { authorization: `Bearer ${bearer}` } });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { resourceType: string }).resourceType).toBe('OperationOutcome');
    }
    expect((await srv.fetchAs('user/Patient.rs', `/fhir/Patient/${PERSONAS.ms.id}`)).status).toBe(200);
  });

  it('ends the stored session at sign-out, so the cookie opens nothing afterwards', async () => {
    const c = viewClient(srv.url);
    await c.signIn();
    const cookie = `${SESSION_COOKIE}=${c.cookies.get(SESSION_COOKIE)}`;
    await c.get('/view/');
    await c.post('/view/signout', { csrf: c.csrf()! });
    const res = await fetch(`${srv.url}/view/`, { redirect: 'manual', headers: { cookie } });
    expect(res.status).toBe(401);
    expect(textOf(await res.text())).toContain('Økten er avsluttet');
  });
});
