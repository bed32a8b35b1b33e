// Chromium (from @sparticuz/chromium, see test/support/chromium.ts) driven by playwright-core, headless,
// with the flags that keep it off the network and a fresh profile directory per launch.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { browserExecutable } from '../../support/chromium.ts';


const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-zygote',
];

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * `bypassCSP` turns the page's Content-Security-Policy off: for proving that escaping alone keeps hostile
 * names inert (with the CSP on, an injected inline script would be blocked anyway) and for injecting axe.
 */
export async function launchChromium(opts: { bypassCSP?: boolean } = {}): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'helsebro-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: await browserExecutable(),
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 900 },
    deviceScaleFactor: 1,
    locale: 'nb-NO',
    timezoneId: 'Europe/Oslo',
    bypassCSP: opts.bypassCSP ?? false,
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Signs in through the demo sign-in page as the clinician with this HPR number; leaves the page on the search form. */
export async function signIn(page: Page, baseUrl: string, hpr = '9144889'): Promise<void> {
  await page.goto(`${baseUrl}/view/signin`);
  await page.locator(`#hpr-${hpr}`).check();
  await page.getByRole('button', { name: /^(Logg inn|Sign in)$/ }).click();
  await page.waitForURL(`${baseUrl}/view/`);
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/** WCAG 2.1 A and AA rules of axe-core on the current page (the context must bypass the CSP to inject it). */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.addScriptTag({ content: axeSource });
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: unknown, opts: unknown): Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target })) }));
  });
}
