// HelseID sign-in of the clinician view in a real browser, against the in-process provider playing HelseID
// (test/support/helseid-provider.ts, on another site than Helsebro): sign in, launch from a simulated
// EPJ page into the patient's summary without a search, sign out at Helsebro and HelseID; and the
// refusals: a tampered state, a replayed code (the whole callback, and the code inside a fresh sign-in),
// an expired session, a launch for a patient the clinician may not see (refused as the API refuses it),
// and the session cookie or its token used as a bearer token on the API.
import { createHash } from 'node:crypto';
import type { Page, Route } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PERSONAS } from '../../src/demo/personas.ts';
import { SESSION_COOKIE } from '../../src/http/view/session.ts';
import type { Db } from '../../src/store/db.ts';
import { engines, getTestDb } from '../support/db.ts';
import { CLINICIANS } from '../support/helseid-provider.ts';
import { launchChromium, type Browser } from './support/browser.ts';
import { API_AUDIENCE, startWithHelseId, type HelseIdSetup } from './support/helseid.ts';

const fullName = (key: keyof typeof PERSONAS): string => [...PERSONAS[key].given, PERSONAS[key].family].join(' ');

/** At HelseID's login page, picks the clinician; returns once the browser is back on Helsebro. */
async function helseIdLogin(page: Page, name: string, helsebro: string): Promise<void> {
  await page.getByRole('button', { name: `Logg inn som ${name}` }).click();
  await page.waitForURL((u) => u.href.startsWith(helsebro) && !u.pathname.endsWith('/callback'));
}

/**
 * Starts a sign-in at Helsebro while HelseID's session is live (no login page), following its redirects
 * outside the page (with the browser's cookies) up to HelseID's redirect back, which is returned instead of
 * made. The page then shows a placeholder; the browser holds the sign-in cookie the start set.
 */
async function holdCallback(page: Page, url: string): Promise<string> {
  const pattern = `${url}/view/login`;
  let held: string | undefined;
  const handler = async (route: Route): Promise<void> => {
    let next = route.request().url();
    for (let hop = 0; hop < 10 && !next.startsWith(`${url}/view/callback`); hop++) {
      const res = await page.context().request.get(next, { maxRedirects: 0 });
      const location = res.headers().location;
      if (!location) throw new Error(`sign-in stopped at ${next} with ${res.status()}`);
      next = new URL(location, next).href;
    }
    held = next;
    await route.fulfill({ status: 200, contentType: 'text/html', body: '<!doctype html><title>held</title>' });
  };
  await page.route(pattern, handler);
  await page.goto(pattern);
  await page.unroute(pattern, handler);
  if (!held) throw new Error('no callback held');
  return held;
}

/** Signs in through HelseID's login page, noting the callback the browser was sent to. */
async function signInNoting(page: Page, url: string): Promise<string> {
  let callback: string | undefined;
  const note = (r: { url(): string }): void => {
    if (r.url().startsWith(`${url}/view/callback`)) callback = r.url();
  };
  page.on('request', note);
  await page.goto(`${url}/view/login`);
  await helseIdLogin(page, CLINICIANS.koman.name, url);
  await page.waitForURL(`${url}/view/`);
  page.off('request', note);
  if (!callback) throw new Error('no callback seen');
  return callback;
}

describe.each(engines)('HelseID sign-in and EPJ launch in Chromium (%s)', (engine) => {
  let setup: HelseIdSetup;
  let db: Db;
  let url: string;
  // Each test has a browser of its own: its own cookies at Helsebro and at HelseID.
  let browser: Browser;

  beforeAll(async () => {
    db = await getTestDb(engine);
    setup = await startWithHelseId(engine);
    url = setup.srv.url;
  });
  beforeEach(async () => {
    browser = await launchChromium();
  });
  afterEach(async () => {
    await browser?.close();
  });
  afterAll(async () => {
    await setup?.close();
  });

  /** The session cookie as the browser holds it (Path=/view). */
  const sessionCookieValue = async (): Promise<string | undefined> =>
    (await browser.context.cookies(`${url}/view/`)).find((c) => c.name === SESSION_COOKIE)?.value;

  it('signs in at HelseID (code flow with PKCE), shows the clinician from HelseID\'s claims, and signs out at Helsebro and HelseID', async () => {
    const page = await browser.context.newPage();
    const seen: string[] = [];
    page.on('request', (r) => seen.push(r.url()));
    await page.goto(`${url}/view/patient/ms`);
    // At the provider: the authorization request as the view sends it.
    const authorize = new URL(seen.find((u) => u.startsWith(`${setup.provider.issuer}/auth?`))!);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(authorize.searchParams.get('state')).toBeTruthy();
    expect(authorize.searchParams.get('nonce')).toBeTruthy();
    expect(authorize.searchParams.get('resource')).toBe('nhn:helsebro/view');
    expect(authorize.searchParams.get('scope')).toContain('helseid://scopes/hpr/hpr_number');
    expect(authorize.searchParams.get('scope')).not.toContain('launch');
    await helseIdLogin(page, CLINICIANS.koman.name, url);
    await page.waitForURL(`${url}/view/patient/ms`);
    await expect.poll(() => page.locator('h1').innerText()).toContain(fullName('ms'));
    expect(await page.locator('.user').innerText()).toContain(`Magnar Koman (HPR ${CLINICIANS.koman.hpr})`);
    // The cookie is an opaque id, not a token.
    const cookie = await sessionCookieValue();
    expect(cookie).toMatch(/^[A-Za-z0-9_-]{43}$/);

    await page.getByRole('button', { name: 'Logg ut' }).click();
    await page.waitForURL((u) => u.href.startsWith(`${setup.provider.issuer}/session/end`));
    await page.getByRole('button', { name: 'Logg ut' }).click();
    await page.waitForURL(`${url}/view/signed-out`);
    expect(await page.locator('h1').innerText()).toBe('Du er logget ut');
    expect(await sessionCookieValue()).toBeUndefined();
    // The session is gone at Helsebro (the old cookie opens nothing) and at HelseID (it asks for a login again).
    const reuse = await fetch(`${url}/view/`, { redirect: 'manual', headers: { cookie: `${SESSION_COOKIE}=${cookie}` } });
    expect(reuse.status).toBe(401);
    await page.goto(`${url}/view/`);
    await expect.poll(() => page.getByRole('button', { name: `Logg inn som ${CLINICIANS.koman.name}` }).isVisible()).toBe(true);
    await page.close();
  });

  it('opens from the EPJ in the patient\'s context: SMART EHR launch, straight to the summary without a search', async () => {
    const page = await browser.context.newPage();
    const seen: string[] = [];
    page.on('request', (r) => seen.push(r.url()));
    await page.goto(setup.provider.epjUrl(PERSONAS.addison.id));
    await page.locator('#open-summary').click();
    await helseIdLogin(page, CLINICIANS.koman.name, url);
    await page.waitForURL(`${url}/view/patient/${PERSONAS.addison.id}`);
    await expect.poll(() => page.locator('h1').innerText()).toContain(fullName('addison'));

    const authorize = new URL(seen.find((u) => u.startsWith(`${setup.provider.issuer}/auth?`))!);
    expect(authorize.searchParams.get('scope')!.split(' ')).toContain('launch');
    expect(authorize.searchParams.get('aud')).toBe(`${url}/fhir`);
    expect(authorize.searchParams.get('launch')).toBeTruthy();
    expect(seen.some((u) => u.startsWith(`${url}/view/search`))).toBe(false);
    await page.close();
  });

  it('refuses a launch for a patient the clinician may not see, as the API refuses the same clinician', async () => {
    const page = await browser.context.newPage();
    await page.goto(setup.provider.epjUrl(PERSONAS.ms.id));
    await page.locator('#open-summary').click();
    await helseIdLogin(page, CLINICIANS.aasen.name, url);
    await page.waitForURL(`${url}/view/patient/${PERSONAS.ms.id}`);
    const viewText = await page.locator('main').innerText();
    const apiToken = await setup.provider.mintAccessToken(CLINICIANS.aasen, API_AUDIENCE, 'user/Patient.rs');
    const api = await fetch(`${url}/fhir/Patient/${PERSONAS.ms.id}/$summary`, { headers: { authorization: `Bearer ${apiToken}` } });
    expect(api.status).toBe(403);
    const outcome = (await api.json()) as { issue: { diagnostics?: string; details?: { coding?: { code?: string }[] } }[] };
    const diagnostics = outcome.issue.map((i) => i.diagnostics).filter(Boolean);
    expect(diagnostics.length).toBeGreaterThan(0);
    expect(viewText).toContain('Ingen tilgang');
    for (const d of diagnostics) expect(viewText).toContain(d);
  });

  it('refuses a tampered state, and the callback once its sign-in has been used', async () => {
    const page = await browser.context.newPage();
    await signInNoting(page, url);
    const before = await sessionCookieValue();
    const callback = await holdCallback(page, url);
    const tampered = new URL(callback);
    tampered.searchParams.set('state', `${tampered.searchParams.get('state')}x`);
    const refused = await page.goto(tampered.href);
    expect(refused?.status()).toBe(400);
    expect(await page.locator('main').innerText()).toContain('HelseID-innloggingen kunne ikke godtas');
    expect(await sessionCookieValue()).toBe(before); // no new session
    // The untampered callback cannot be used either now: its sign-in was taken by the attempt.
    const after = await page.goto(callback);
    expect(after?.status()).toBe(400);
    expect(await page.locator('main').innerText()).toContain('utløpt eller allerede brukt');
    expect(await sessionCookieValue()).toBe(before);
    expect(setup.srv.logLines.some((l) => l.includes('view sign-in refused') && l.includes('"reason"'))).toBe(true);
  });

  it('refuses a replayed code: the whole callback again, and the code inside a fresh sign-in (HelseID: invalid_grant)', async () => {
    const page = await browser.context.newPage();
    const first = await signInNoting(page, url);
    expect(await sessionCookieValue()).toBeDefined();
    // The same callback again (a stolen or replayed URL).
    expect((await page.goto(first))?.status()).toBe(400);
    // A fresh sign-in whose callback carries the old code.
    const second = await holdCallback(page, url);
    const replay = new URL(second);
    replay.searchParams.set('code', new URL(first).searchParams.get('code')!);
    const before = setup.provider.invalidGrants();
    const refused = await page.goto(replay.href);
    expect(refused?.status()).toBe(400);
    expect(await page.locator('main').innerText()).toContain('HelseID-innloggingen kunne ikke godtas');
    expect(setup.provider.invalidGrants()).toBe(before + 1);
  });

  it('ends a session after the idle timeout and refuses it from then on', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${url}/view/`);
    await helseIdLogin(page, CLINICIANS.koman.name, url);
    await page.waitForURL(`${url}/view/`);
    // Sixteen minutes pass without a request (the idle timeout is 15): this browser's session row, by its id's hash.
    const idHash = createHash('sha256').update((await sessionCookieValue())!).digest('hex');
    const moved = await db.query(
      "update view_session set last_seen_at = last_seen_at - interval '16 minutes', created_at = created_at - interval '16 minutes' where id_hash = $1",
      [idHash],
    );
    expect(moved.rowCount).toBe(1);
    const res = await page.goto(`${url}/view/patient/ms`);
    expect(res?.status()).toBe(401);
    expect(await page.locator('main').innerText()).toContain('Økten ble avsluttet etter en tid uten bruk');
    expect(await sessionCookieValue()).toBeUndefined();
  });

  it('never accepts the session cookie, or the token behind it, as a bearer token on the API', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${url}/view/`);
    await helseIdLogin(page, CLINICIANS.koman.name, url);
    await page.waitForURL(`${url}/view/`);
    const cookie = (await sessionCookieValue())!;
    const { rows } = await db.query<{ access_token: string }>('select access_token from view_session order by created_at desc limit 1');
    const viewToken = rows[0]!.access_token;
    expect(JSON.parse(Buffer.from(viewToken.split('.')[1]!, 'base64url').toString()).aud).toBe('nhn:helsebro/view');
    for (const bearer of [cookie, viewToken]) {
      const res = await fetch(`${url}/fhir/Patient/${PERSONAS.ms.id}`, { headers: { authorization: `Bearer ${bearer}` } });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('invalid_token');
    }
    // The API's own token with the same claims works, so the 401s above are about the audience.
    const apiToken = await setup.provider.mintAccessToken(CLINICIANS.koman, API_AUDIENCE, 'user/Patient.rs');
    expect((await fetch(`${url}/fhir/Patient/${PERSONAS.ms.id}`, { headers: { authorization: `Bearer ${apiToken}` } })).status).toBe(200);
  });
});


