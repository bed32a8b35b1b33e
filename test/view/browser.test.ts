// The clinician view in a real browser (Debian's Chromium, headless, driven by playwright-core): every demo
// persona's page, the hostile name as inert text, a failed source, the English toggle, keyboard use, an
// axe-core accessibility check, the CSP and same-origin loading, and the README's screenshot.
import { mkdirSync, readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PERSONAS, type PersonaKey } from '../../src/demo/personas.ts';
import { VIEW_CSP } from '../../src/http/view/router.ts';
import { seedDemoSummarySources } from '../../src/summary/seed.ts';
import { engines, getTestDb } from '../support/db.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { summaryVocabulary } from '../../src/http/view/vocabulary.ts';
import { renderPatientPage } from '../../src/view/patient-page.ts';
import { axeViolations, launchChromium, signIn, type Browser } from './support/browser.ts';
import { FIXED_NOW, personaDocument, withManyProblems } from './support/documents.ts';
import { insertEuPrescription } from './support/prescriptions.ts';

const SCREENSHOT = new URL('../../docs/screenshots/ms-persona.png', import.meta.url);
const SECTION_TITLES = [
  'Medisinske varsler',
  'Allergier og intoleranser',
  'Implantater og medisinsk utstyr',
  'Legemidler',
  'Diagnoser og problemer',
  'Prosedyrer og undersøkelser',
];
const fullName = (key: PersonaKey): string => [...PERSONAS[key].given, PERSONAS[key].family].join(' ');

/** Collects what a page asked for and any CSP refusal it reported. */
function watch(page: Page): { requests: string[]; cspErrors: string[] } {
  const seen = { requests: [] as string[], cspErrors: [] as string[] };
  page.on('request', (r) => seen.requests.push(r.url()));
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) seen.cspErrors.push(m.text());
  });
  return seen;
}

/** Tab from the top of the page until the focused element matches, or give up after `max` presses. */
async function tabTo(page: Page, selector: string, max = 60): Promise<number> {
  await page.evaluate(() => {
    (document.activeElement as HTMLElement | null)?.blur();
    window.scrollTo(0, 0);
  });
  for (let i = 1; i <= max; i++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate((sel) => document.activeElement?.matches(sel) ?? false, selector)) return i;
  }
  return -1;
}

describe.each(engines)('the clinician view in Chromium (%s)', (engine) => {
  let srv: TestServer;
  let strict: Browser;
  let loose: Browser;
  let page: Page;

  beforeAll(async () => {
    await seedDemoSummarySources(await getTestDb(engine));
    srv = await startTestServer(engine);
    strict = await launchChromium();
    loose = await launchChromium({ bypassCSP: true });
    page = await strict.context.newPage();
    await signIn(page, srv.url);
    await signIn(await loose.context.newPage(), srv.url);
  });
  afterAll(async () => {
    await strict?.close();
    await loose?.close();
    await srv?.close();
  });

  it('reaches the search field by keyboard and finds a patient, the number never in a URL', async () => {
    const seen = watch(page);
    await page.goto(`${srv.url}/view/`);
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.className)).toBe('skip-link');
    expect(await tabTo(page, '#fnr')).toBeGreaterThan(0);
    await page.keyboard.type(PERSONAS.ms.fnr);
    await page.keyboard.press('Enter');
    await page.waitForURL(`${srv.url}/view/patient/ms`);
    await expect.poll(() => page.locator('h1').innerText()).toContain(fullName('ms'));
    expect(seen.requests.filter((u) => u.includes(PERSONAS.ms.fnr))).toEqual([]);
  });

  it.each(Object.keys(PERSONAS) as PersonaKey[])('renders every section for persona %s under the CSP, loading only from itself', async (key) => {
    const p = await strict.context.newPage();
    const seen = watch(p);
    const res = await p.goto(`${srv.url}/view/patient/${PERSONAS[key].id}`);
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-security-policy']).toBe(VIEW_CSP);
    expect(await p.locator('h1').innerText()).toContain(fullName(key).replace(/\u202E|\u202C/g, '').slice(0, 5));
    const titles = await p.locator('section.summary-section h2').allInnerTexts();
    expect(titles.map((t) => t.replace(/\s*\(\d+\)$/, ''))).toEqual(SECTION_TITLES);
    for (const section of await p.locator('section.summary-section').all()) {
      const content = section.locator('table.data, .state-statement');
      expect(await content.first().isVisible()).toBe(true);
    }
    // The script ran (it reveals the print button) although the CSP forbids inline script: it is our own file.
    await expect.poll(() => p.locator('[data-print]').isVisible()).toBe(true);
    expect(seen.cspErrors).toEqual([]);
    const origin = new URL(srv.url).origin;
    expect(seen.requests.filter((u) => new URL(u).origin !== origin)).toEqual([]);
    expect(seen.requests.some((u) => u.endsWith('/view/assets/view.css'))).toBe(true);
    await p.close();
  });

  it('shows the hostile persona as inert text: no script from the data runs, even with the CSP switched off', async () => {
    const p = await loose.context.newPage();
    const dialogs: string[] = [];
    p.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    // The payloads call alert(); wrapping it leaves a flag even if a dialog were missed.
    await p.addInitScript(() => {
      const w = window as unknown as { __payloadRan: boolean; alert: (m?: string) => void };
      w.__payloadRan = false;
      const original = window.alert.bind(window);
      w.alert = (m?: string) => {
        w.__payloadRan = true;
        original(m);
      };
    });
    for (const lang of ['nb', 'en']) {
      await p.goto(`${srv.url}/view/patient/hostile?lang=${lang}`);
      const name = await p.locator('h1 bdi').textContent();
      expect(name).toBe(fullName('hostile').replace(/[\u202A-\u202E\u2066-\u2069]/g, ''));
      expect(await p.locator('main img').count()).toBe(0);
      expect(await p.locator('script').count()).toBe(1);
      expect(await p.locator('main b, main i').count()).toBe(0);
      expect(await p.evaluate(() => (window as unknown as { __payloadRan: boolean }).__payloadRan)).toBe(false);
    }
    expect(dialogs).toEqual([]);
    await p.close();
  });

  it('switches to English and back with the toggle', async () => {
    await page.goto(`${srv.url}/view/patient/ms`);
    await page.getByRole('link', { name: 'English (vis siden på engelsk)' }).click();
    await page.waitForURL(/lang=en/);
    expect(await page.getAttribute('html', 'lang')).toBe('en');
    expect(await page.locator('section.summary-section h2').first().innerText()).toBe('Medical alerts (1)');
    expect(await page.locator('#problems-table').innerText()).toContain('Migraine without aura');
    expect(await page.locator('#problems-table').innerText()).toContain('1993-03-11');
    await page.getByRole('link', { name: 'Norsk (show the page in Norwegian)' }).click();
    await page.waitForURL(/lang=nb/);
    expect(await page.getAttribute('html', 'lang')).toBe('nb');
    expect(await page.locator('#problems-table').innerText()).toContain('11.03.1993');
  });

  it('reaches the diagnosis sort control by keyboard and sorts by last date', async () => {
    await page.goto(`${srv.url}/view/patient/ms`);
    expect(await tabTo(page, 'a.sort')).toBeGreaterThan(0);
    await page.keyboard.press('Enter');
    await page.waitForURL(/sort=last-desc/);
    expect(await page.getAttribute('#problems-table th[aria-sort]', 'aria-sort')).toBe('descending');
    const last = await page.locator('#problems-table tbody tr td:nth-child(4)').allInnerTexts();
    expect(last).toEqual(['10.03.2025', '31.10.2024', '26.08.2019']);
    // Focus is visible: the focused link has an outline.
    await page.locator('a.sort').focus();
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    expect(outline).toBe('solid');
  });

  it('prints without navigation and controls', async () => {
    await page.goto(`${srv.url}/view/patient/knee`);
    await page.emulateMedia({ media: 'print' });
    expect(await page.locator('.tools').isVisible()).toBe(false);
    expect(await page.locator('.sections-nav').isVisible()).toBe(false);
    expect(await page.locator('#problems-table').isVisible()).toBe(true);
    await page.emulateMedia({ media: 'screen' });
  });

  it('opens collapsed rows for printing and closes them after (view.js), and shows the print button', async () => {
    const p = await strict.context.newPage();
    await p.goto(`${srv.url}/view/`);
    // A page of this origin (so its assets load) with a list long enough to collapse.
    await p.setContent(
      renderPatientPage({
        bundle: withManyProblems(personaDocument('ms'), 9),
        lang: 'nb',
        vocabulary: summaryVocabulary,
        now: FIXED_NOW,
        path: '/view/patient/ms',
        shell: { demo: true },
      }),
      { waitUntil: 'load' },
    );
    await expect.poll(() => p.locator('[data-print]').isVisible()).toBe(true);
    expect(await p.locator('details.more').getAttribute('open')).toBeNull();
    await p.evaluate(() => window.dispatchEvent(new Event('beforeprint')));
    expect(await p.locator('details.more').getAttribute('open')).toBe('');
    await p.evaluate(() => window.dispatchEvent(new Event('afterprint')));
    expect(await p.locator('details.more').getAttribute('open')).toBeNull();
    await p.close();
  });

  // About twenty pages, each loaded and scanned: the timeout is generous for a loaded 2-core machine.
  it('has no serious or critical WCAG 2.1 A/AA violations (axe-core) on any page', async () => {
    const rx = await insertEuPrescription(await getTestDb(engine), { patientFnr: PERSONAS.addison.fnr });
    const p = await loose.context.newPage();
    // Every page in Norwegian, and the main ones in English too (the language sticks, so it is explicit here).
    const pages = [
      '/view/?lang=nb',
      '/view/signin?lang=nb',
      ...Object.values(PERSONAS).map((x) => `/view/patient/${x.id}?lang=nb`),
      `/view/prescription/${rx.id}?lang=nb`,
      '/view/patient/nobody?lang=nb',
      '/view/?lang=en',
      '/view/patient/ms?lang=en&sort=last-asc',
      '/view/patient/reserved?lang=en',
      `/view/prescription/${rx.id}?lang=en`,
    ];
    const found: string[] = [];
    for (const path of pages) {
      await p.goto(`${srv.url}${path}`);
      const serious = (await axeViolations(p)).filter((v) => v.impact === 'serious' || v.impact === 'critical');
      found.push(...serious.map((v) => `${path}: ${v.id} (${v.impact}) ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`));
    }
    await p.goto(`${srv.url}/view/?lang=nb`);
    await p.close();
    expect(found).toEqual([]);
    // The check itself works: it finds what a page without a title, language or labels gets wrong.
    const bad = await loose.context.newPage();
    await bad.setContent('<html><body><img src="x.png"><input></body></html>');
    expect((await axeViolations(bad)).map((v) => v.id).sort()).toEqual(['document-title', 'html-has-lang', 'image-alt', 'label']);
    await bad.close();
  }, 120_000);

  it('renders an EU prescription for the pharmacy counter', async () => {
    const rx = await insertEuPrescription(await getTestDb(engine));
    const p = await strict.context.newPage();
    const seen = watch(p);
    await p.goto(`${srv.url}/view/`);
    await p.getByLabel(/EU-resept/).fill(rx.prescriptionId);
    await p.getByRole('button', { name: 'Vis resept' }).click();
    await p.waitForURL(`${srv.url}/view/prescription/${rx.prescriptionId}`);
    expect(await p.locator('.big-id').innerText()).toBe(rx.prescriptionId);
    expect(await p.locator('.verdict').innerText()).toContain('Kan utleveres');
    expect(seen.cspErrors).toEqual([]);
    await p.close();
  });

  it('writes the screenshot of the MS persona for the README', async () => {
    const p = await strict.context.newPage();
    await p.goto(`${srv.url}/view/patient/ms?lang=nb`);
    // The assembly time changes on every run; pinning its text keeps the committed image stable.
    await p.evaluate(() => {
      const time = document.querySelector('.assembled time');
      if (time) time.textContent = '23.11.2026 kl. 13:00';
    });
    mkdirSync(new URL('.', SCREENSHOT), { recursive: true });
    await p.screenshot({ path: SCREENSHOT.pathname, fullPage: true, animations: 'disabled' });
    await p.close();
    const png = readFileSync(SCREENSHOT);
    expect(png.subarray(1, 4).toString('latin1')).toBe('PNG');
    expect(png.length).toBeGreaterThan(20_000);
  });
});

describe.each(engines)('the clinician view in Chromium with Kjernejournal down (%s)', (engine) => {
  let srv: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    await seedDemoSummarySources(await getTestDb(engine));
    // Port 9 (discard) on loopback: nothing listens, every call fails at once.
    srv = await startTestServer(engine, { KJERNEJOURNAL_BASE_URL: 'http://127.0.0.1:9/' });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await srv?.close();
  });

  it("names the failed source in each section it feeds and still shows the other sources' data", async () => {
    const p = await browser.context.newPage();
    await signIn(p, srv.url);
    await p.goto(`${srv.url}/view/patient/addison`);
    for (const id of ['alerts', 'allergies', 'devices', 'procedures']) {
      const text = await p.locator(`#${id}`).innerText();
      expect(text, id).toContain('Kjernejournal (kritisk informasjon) var ikke tilgjengelig');
      expect(text, id).toContain('Ikke tilgjengelig');
    }
    expect(await p.locator('#problems .notice-unavailable').innerText()).toContain('Kjernejournal');
    expect(await p.locator('#problems-table').innerText()).toContain('E27.1');
    expect(await p.locator('#medications-table').innerText()).toContain('H02AB09');
    await p.close();
  });
});
