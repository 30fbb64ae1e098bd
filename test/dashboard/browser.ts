/**
 * The portal's browser-test harness (docs/dashboard.md "Tests"): Debian's
 * Chromium driven by playwright-core, axe-core run inside the page, and a
 * watch on Content-Security-Policy violations and failed page scripts.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { expect } from 'vitest';

export const CHROMIUM = process.env.WARRE_TEST_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Short waits that fail fast: a portal page answers in well under a second. */
export const QUICK = 5_000;

export async function launch(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run installs it)`);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, timeout: 30_000 });
}

export interface Watched {
  context: BrowserContext;
  page: Page;
  /** CSP violations, page errors and console errors other than failed API answers the page shows. */
  problems: string[];
}

/** A fresh context (own sessionStorage) and page, with its problems recorded. */
export async function openPage(browser: Browser, opts: { width?: number; height?: number; timezone?: string } = {}): Promise<Watched> {
  const context = await browser.newContext({
    viewport: { width: opts.width ?? 1280, height: opts.height ?? 800 },
    timezoneId: opts.timezone ?? 'Australia/Melbourne',
    locale: 'en-AU',
    acceptDownloads: true,
  });
  context.setDefaultTimeout(QUICK);
  context.setDefaultNavigationTimeout(15_000);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    const text = m.text();
    if (/Content Security Policy|Refused to (load|execute|apply)/i.test(text)) problems.push(`CSP: ${text}`);
  });
  return { context, page, problems };
}

const require = createRequire(import.meta.url);
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[] }[];
}

/**
 * axe-core in the page (evaluated through the DevTools protocol, which the
 * page's CSP does not govern); fails on any serious or critical violation.
 */
export async function expectAccessible(page: Page, what: string): Promise<void> {
  const has = await page.evaluate('typeof window.axe !== "undefined"');
  if (!has) await page.evaluate(AXE_SOURCE);
  const violations = (await page.evaluate(
    `axe.run(document, { resultTypes: ['violations'] }).then(r => r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map(n => ({ target: n.target })) })))`,
  )) as AxeViolation[];
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(bad, `axe on ${what}: ${JSON.stringify(bad, null, 1)}`).toEqual([]);
}

/** Sign in on the noauth form (the all-in-one's). */
export async function signInNoauth(
  page: Page,
  baseUrl: string,
  who: { user: string; project: string; roles: string },
  opts: { axe?: boolean } = {},
): Promise<void> {
  await page.goto(`${baseUrl}/dashboard/`);
  await page.getByText('meant for a laptop').waitFor();
  if (opts.axe) await expectAccessible(page, 'the noauth sign-in form');
  await page.getByRole('textbox', { name: 'User', exact: true }).fill(who.user);
  await page.getByRole('textbox', { name: 'Project', exact: true }).fill(who.project);
  await page.getByRole('textbox', { name: 'Roles' }).fill(who.roles);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Availability' }).waitFor();
}

export function expectNoProblems(w: Watched): void {
  expect(w.problems).toEqual([]);
}
