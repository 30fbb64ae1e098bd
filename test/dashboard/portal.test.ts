/**
 * The portal in a real browser (Debian's Chromium, playwright-core) against a
 * real `warre all` (API + worker + lease simulator + periodic tasks) on SQLite
 * and on MariaDB: an operator creates flavors, grants one, adds a maintenance
 * window and sees the timeline turn busy; a researcher sees the timeline, finds
 * a slot, books it, watches it become ALLOCATED, downloads the calendar file,
 * deletes it; an over-quota booking shows the API's 413 text. axe-core runs in
 * every page; a CSP violation or page error fails the test. Elements are found
 * by role and accessible name only.
 *
 * Needs `npm run build` (dist/cli and dist/dashboard).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Flavor } from '../../src/domain/types.js';
import { createTestDatabase, type Dialect, type TestDatabase } from '../support/db.js';
import { HOUR, ROOT, seedReservation, WarreProcess, waitFor } from '../support/lifecycle-helpers.js';
import { expectAccessible, expectNoProblems, launch, openPage, QUICK, signInNoauth } from './browser.js';

const DIST = path.join(ROOT, 'dist', 'dashboard');
const RESEARCHER = { user: 'ada', project: 'proj-ada', roles: 'member,reader' };
const OPERATOR = { user: 'olga', project: 'ops', roles: 'admin,member,reader' };
const SCREENSHOTS = process.env.WARRE_SCREENSHOTS === '1';

let browser: Browser;

beforeAll(async () => {
  if (!fs.existsSync(path.join(DIST, 'index.html'))) throw new Error(`${DIST} is missing: run "npm run build" before the portal tests`);
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
});

describe('the build', () => {
  it('ships at most 150 KB of gzipped JavaScript and loads nothing from elsewhere', () => {
    const assets = fs.readdirSync(path.join(DIST, 'assets'));
    const js = assets.filter((f) => f.endsWith('.js'));
    expect(js.length).toBeGreaterThan(0);
    const gz = js.reduce((n, f) => n + gzipSync(fs.readFileSync(path.join(DIST, 'assets', f))).length, 0);
    expect(gz).toBeLessThanOrEqual(150 * 1024);
    const html = fs.readFileSync(path.join(DIST, 'index.html'), 'utf8');
    // Only this origin's files: no CDN, no web fonts, no inline script.
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    for (const f of assets)
      expect(fs.readFileSync(path.join(DIST, 'assets', f), 'utf8')).not.toMatch(/fonts\.googleapis|cdn\.jsdelivr|unpkg\.com/);
  });
});

describe.each<Dialect>(['sqlite', 'mysql'])('the portal on %s', (dialect) => {
  let dir: string;
  let db: TestDatabase;
  let warre: WarreProcess;
  let base: string;
  const suffix = `${dialect}-${Date.now().toString(36)}`;
  const small = `portal.small-${suffix}`;
  const gpu = `portal.gpu-${suffix}`;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warre-portal-'));
    db = await createTestDatabase(dialect);
    warre = new WarreProcess(['all'], {
      WARRE_DATABASE__CONNECTION: db.url,
      WARRE_API__HOST: '127.0.0.1',
      WARRE_API__PORT: '0',
      WARRE_QUOTA__DEFAULT_HOURS: '100',
      WARRE_QUOTA__DEFAULT_RESERVATION: '5',
    });
    await waitFor(() => /Portal:\s+(http:\/\/\S+)\/dashboard\//.exec(warre.stdout) || !warre.alive, 'the all-in-one banner', 60_000);
    if (!warre.alive) throw new Error(`warre all exited:\n${warre.stderr}\n${warre.stdout}`);
    base = /Portal:\s+(http:\/\/\S+)\/dashboard\//.exec(warre.stdout)![1]!;
  });

  afterAll(async () => {
    if (warre && !warre.alive) console.error(`warre all exited early:\n${warre.stderr.slice(-3000)}\n${warre.stdout.slice(-3000)}`);
    await warre?.stop();
    await db?.drop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves every page with a strict CSP and cache headers', async () => {
    const page = await fetch(`${base}/dashboard/reservations`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    const html = await page.text();
    const asset = /src="(\/dashboard\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const js = await fetch(`${base}${asset}`);
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(js.headers.get('content-type')).toMatch(/javascript/);
    const again = await fetch(`${base}${asset}`, { headers: { 'If-None-Match': js.headers.get('etag')! } });
    expect(again.status).toBe(304);
    expect((await fetch(`${base}/dashboard/assets/missing.js`)).status).toBe(404);
  });

  it('an operator creates flavors, grants one, adds a maintenance window and sees the timeline turn busy', async () => {
    const w = await openPage(browser);
    const { page } = w;
    try {
      await signInNoauth(page, base, OPERATOR, { axe: true });
      const nav = page.getByRole('navigation', { name: 'Main' });
      for (const name of ['Availability', 'Find a slot', 'My reservations', 'Flavors', 'Maintenance']) {
        await expect.poll(() => nav.getByRole('link', { name, exact: true }).count(), { timeout: QUICK }).toBe(1);
      }
      await nav.getByRole('link', { name: 'Flavors', exact: true }).click();
      await page.getByRole('heading', { level: 1, name: 'Flavors' }).waitFor();
      await createFlavor(page, { name: small, slots: '2', public: true });
      await createFlavor(page, { name: gpu, slots: '1', public: false });
      const table = page.getByRole('table', { name: 'Flavors' });
      await table
        .getByRole('row', { name: new RegExp(gpu) })
        .getByText('Private')
        .waitFor();
      await expectAccessible(page, 'Flavors');
      if (SCREENSHOTS) await shot(page, 'dashboard-flavors.png');

      // A refusal of the API is shown next to the field that caused it.
      await page.getByRole('button', { name: 'New flavor' }).click();
      const dialog = page.getByRole('dialog', { name: 'New flavor' });
      await dialog.getByRole('textbox', { name: 'Name' }).fill(`portal.bad-${suffix}`);
      await dialog.getByRole('textbox', { name: 'Bookable from' }).fill('2030-01-02T00:00');
      await dialog.getByRole('textbox', { name: 'Bookable until' }).fill('2030-01-01T00:00');
      await dialog.getByRole('button', { name: 'Create flavor' }).click();
      await dialog.getByText('Must be after start.', { exact: true }).waitFor();
      await dialog.getByRole('alert').getByText('Correct the marked field (end).').waitFor();
      await expect.poll(() => dialog.getByRole('textbox', { name: 'Bookable until' }).getAttribute('aria-invalid')).toBe('true');
      await dialog.getByRole('button', { name: 'Cancel' }).click();

      // Grant the private flavor to the researcher's project.
      await page.getByRole('button', { name: `Projects of ${gpu}` }).click();
      const grants = page.getByRole('dialog', { name: `Projects that may book ${gpu}` });
      await grants.getByText('No project may book this private flavor yet.').waitFor();
      await grants.getByRole('textbox', { name: 'Project ID' }).fill(RESEARCHER.project);
      await grants.getByRole('button', { name: 'Grant' }).click();
      await grants.getByRole('list', { name: 'Granted projects' }).getByText(RESEARCHER.project).waitFor();
      await expectAccessible(page, 'the grants dialog');
      await grants.getByRole('button', { name: 'Close' }).click();

      // The flavor is free on the timeline before the window.
      await nav.getByRole('link', { name: 'Availability', exact: true }).click();
      const grid = page.getByRole('grid', { name: 'Availability' });
      await grid.getByRole('row', { name: gpu }).waitFor();
      await expect
        .poll(() =>
          grid
            .getByRole('row', { name: gpu })
            .getByRole('button', { name: /1 of 1 free/ })
            .count(),
        )
        .toBeGreaterThan(0);
      await expect
        .poll(() =>
          grid
            .getByRole('row', { name: gpu })
            .getByRole('button', { name: /maintenance/ })
            .count(),
        )
        .toBe(0);

      await nav.getByRole('link', { name: 'Maintenance', exact: true }).click();
      await page.getByRole('heading', { level: 1, name: 'Maintenance' }).waitFor();
      await page.getByText('No maintenance is planned.').waitFor();
      await page.getByRole('button', { name: 'New maintenance window' }).click();
      const win = page.getByRole('dialog', { name: 'New maintenance window' });
      await win.getByRole('textbox', { name: 'Note' }).fill('GPU firmware');
      await win.getByRole('checkbox', { name: gpu }).check();
      await expectAccessible(page, 'the maintenance dialog');
      await win.getByRole('button', { name: 'Create window' }).click();
      await page.getByRole('table', { name: 'Maintenance windows' }).getByRole('cell', { name: 'GPU firmware' }).waitFor();
      await expectAccessible(page, 'Maintenance');
      if (SCREENSHOTS) await shot(page, 'dashboard-maintenance.png');

      await nav.getByRole('link', { name: 'Availability', exact: true }).click();
      const busy = page
        .getByRole('grid', { name: 'Availability' })
        .getByRole('row', { name: gpu })
        .getByRole('button', { name: /0 of 1 free, maintenance/ });
      await busy.first().waitFor();
      await expectAccessible(page, 'Availability (operator)');
      expectNoProblems(w);
    } finally {
      await w.context.close();
    }
  });

  it('a researcher sees the timeline, finds a slot, books it, sees it allocated, downloads the calendar and deletes it', async () => {
    const w = await openPage(browser);
    const { page } = w;
    try {
      await signInNoauth(page, base, RESEARCHER);
      const nav = page.getByRole('navigation', { name: 'Main' });
      await expect.poll(() => nav.getByRole('link').allInnerTexts()).toEqual(['Availability', 'Find a slot', 'My reservations']);

      // The timeline: a row per bookable flavor (the granted private one too), keyboard-operable.
      const grid = page.getByRole('grid', { name: 'Availability' });
      await grid.getByRole('row', { name: small }).waitFor();
      await grid.getByRole('row', { name: gpu }).waitFor();
      await page.getByRole('list', { name: 'Legend' }).getByText('Fully booked').waitFor();
      await expectAccessible(page, 'Availability');
      const firstStretch = grid
        .getByRole('row', { name: small })
        .getByRole('button', { name: /2 of 2 free/ })
        .first();
      await firstStretch.focus();
      // Rows are sorted by name: the GPU flavor is above.
      await page.keyboard.press('ArrowUp');
      await expect
        .poll(() => page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? ''))
        .toMatch(new RegExp(`^${escapeRe(gpu)}: `));
      await page.keyboard.press('ArrowDown');
      await expect
        .poll(() => page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? ''))
        .toMatch(new RegExp(`^${escapeRe(small)}: .* 2 of 2 free`));
      // Enter on a free stretch opens the booking form, pre-filled and already checked.
      await page.keyboard.press('Enter');
      const pre = page.getByRole('dialog', { name: `Book ${small}` });
      await pre.getByText('Eligible').waitFor();
      await expectAccessible(page, 'the booking form');
      await pre.getByRole('button', { name: 'Cancel' }).click();
      await expect.poll(() => pre.count()).toBe(0);

      // Zoom in to hours and out to three months: the same rows, another axis.
      const range = page.getByRole('combobox', { name: 'Range' });
      await range.selectOption({ label: '2 days (hours)' });
      await page
        .getByText(/^Free slots of every flavor you may book, from .* to /)
        .filter({ hasText: /\d{4}/ })
        .waitFor();
      await grid
        .getByRole('row', { name: small })
        .getByRole('button', { name: /2 of 2 free/ })
        .first()
        .waitFor();
      await page.getByRole('button', { name: 'Later' }).click();
      await expect.poll(() => page.getByRole('button', { name: 'Earlier' }).isEnabled()).toBe(true);
      await range.selectOption({ label: '3 months' });
      await grid
        .getByRole('row', { name: small })
        .getByRole('button', { name: /2 of 2 free/ })
        .first()
        .waitFor();
      await range.selectOption({ label: '4 weeks' });

      // Search narrows the rows.
      await page.getByRole('searchbox', { name: 'Search' }).fill('gpu');
      await expect.poll(() => grid.getByRole('row', { name: small }).count()).toBe(0);
      await page.getByRole('searchbox', { name: 'Search' }).fill('');

      // Find a slot → Book → dry run says eligible → confirm → My reservations.
      await nav.getByRole('link', { name: 'Find a slot', exact: true }).click();
      await page.getByRole('heading', { level: 1, name: 'Find a slot' }).waitFor();
      await page.getByRole('spinbutton', { name: 'Instances' }).fill('2');
      await page.getByRole('button', { name: '1 day' }).click();
      await expect(await page.getByRole('spinbutton', { name: 'Hours' }).inputValue()).toBe('24');
      await page.getByRole('spinbutton', { name: 'Hours' }).fill('3');
      await page.getByRole('button', { name: 'Search' }).click();
      const offers = page.getByRole('region', { name: 'Offers' });
      await offers.getByRole('heading', { name: small }).waitFor();
      await expectAccessible(page, 'Find a slot');
      if (SCREENSHOTS) await shot(page, 'dashboard-find.png');
      await offers
        .getByRole('listitem')
        .filter({ has: page.getByRole('heading', { name: small }) })
        .getByRole('button', { name: /^Book/ })
        .click();
      const booking = page.getByRole('dialog', { name: `Book ${small}` });
      await booking.getByText('Eligible').waitFor();
      if (SCREENSHOTS) await shot(page, 'dashboard-booking.png', false);
      await booking.getByRole('button', { name: 'Confirm booking' }).click();

      await page.getByRole('heading', { level: 1, name: 'My reservations' }).waitFor();
      const table = page.getByRole('table', { name: 'Reservations' });
      const row = table.getByRole('row', { name: new RegExp(escapeRe(small)) });
      await row.waitFor();
      // The status refreshes by itself (no reload): PENDING_CREATE → ALLOCATED.
      await row.getByText(/Allocated/).waitFor({ timeout: 20_000 });
      await expect.poll(() => row.getByRole('cell').nth(0).textContent()).toBe('2');
      const quota = page.getByRole('region', { name: 'Quota' });
      await quota.getByText('1 of 5 reservations used').waitFor();
      await quota.getByText('6 of 100 hours used').waitFor();
      await expect.poll(() => quota.getByRole('meter', { name: 'Hours' }).getAttribute('aria-valuenow')).toBe('6');
      await expectAccessible(page, 'My reservations');
      if (SCREENSHOTS) await shot(page, 'dashboard-reservations.png');

      // Add to calendar: an .ics file of this reservation.
      const [download] = await Promise.all([page.waitForEvent('download'), row.getByRole('button', { name: /Add to calendar/ }).click()]);
      const file = path.join(dir, `${suffix}.ics`);
      await download.saveAs(file);
      const ics = fs.readFileSync(file, 'utf8');
      expect(ics).toContain('BEGIN:VCALENDAR');
      expect(ics).toContain('BEGIN:VEVENT');

      // Extend is only offered on ACTIVE reservations.
      expect(await row.getByRole('button', { name: /Extend/ }).count()).toBe(0);

      // Delete, with confirmation.
      await row.getByRole('button', { name: /Delete/ }).click();
      const confirm = page.getByRole('dialog', { name: 'Delete this reservation?' });
      await expectAccessible(page, 'the delete confirmation');
      await confirm.getByRole('button', { name: 'Delete reservation' }).click();
      await page.getByText('You have no reservations yet.').waitFor();
      await quota.getByText('0 of 5 reservations used').waitFor();
      expectNoProblems(w);
    } finally {
      await w.context.close();
    }
  });

  it('an over-quota booking shows the 413 text of the API', async () => {
    const w = await openPage(browser);
    const { page } = w;
    try {
      await signInNoauth(page, base, { ...RESEARCHER, project: `${RESEARCHER.project}-2` });
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Find a slot', exact: true }).click();
      await page.getByRole('spinbutton', { name: 'Instances' }).fill('1');
      await page.getByRole('spinbutton', { name: 'Hours' }).fill('120');
      await page.getByRole('button', { name: 'Search' }).click();
      const offer = page
        .getByRole('region', { name: 'Offers' })
        .getByRole('listitem')
        .filter({ has: page.getByRole('heading', { name: small }) });
      await offer.getByText(/Over quota/).waitFor();
      await offer.getByRole('button', { name: /^Book/ }).click();
      const booking = page.getByRole('dialog', { name: `Book ${small}` });
      await booking.getByText(/Not eligible: Project .* is over a limit for \[Resource hours is over limit of 100/).waitFor();
      expect(await booking.getByRole('button', { name: 'Confirm booking' }).isDisabled()).toBe(true);
      await expectAccessible(page, 'an over-quota booking');
      expectNoProblems(w);
    } finally {
      await w.context.close();
    }
  });

  it('a researcher extends an ACTIVE reservation (refusal shown); an operator edits, is refused deleting a flavor in use, revokes, removes maintenance', async () => {
    // A reservation that began an hour ago, straight in the database: the worker makes its lease
    // and the simulator starts it at once (a booking through the API would wait for its start).
    const flavors = (await (
      await fetch(`${base}/v1/flavors/?all_projects=true`, { headers: { 'X-Project-Id': 'ops', 'X-Roles': 'admin' } })
    ).json()) as { results: Flavor[] };
    const smallFlavor = flavors.results.find((f) => f.name === small)!;
    const now = Math.floor(Date.now() / 60_000) * 60_000;
    const conn = db.open();
    try {
      await seedReservation(conn, {
        flavor: smallFlavor,
        projectId: RESEARCHER.project,
        userId: RESEARCHER.user,
        status: 'PENDING_CREATE',
        start: now - HOUR,
        end: now + 2 * HOUR,
        instanceCount: 1,
        leaseId: null,
      });
    } finally {
      await conn.close();
    }
    // Any booking through the API wakes the worker, which then claims the oldest due one (the seeded one).
    const iso = (t: number) => new Date(t).toISOString().replace(/\.\d{3}Z$/, '+00:00');
    const wake = await fetch(`${base}/v1/reservations/`, {
      method: 'POST',
      headers: { 'X-Project-Id': 'wake-up', 'Content-Type': 'application/json' },
      body: JSON.stringify({ flavor_id: smallFlavor.id, start: iso(now + 20 * 24 * HOUR), end: iso(now + 20 * 24 * HOUR + HOUR) }),
    });
    expect(wake.status).toBe(200);
    const local = (page: Page, t: number) =>
      page.evaluate((ms) => {
        const d = new Date(ms);
        const p = (n: number) => String(n).padStart(2, '0');
        return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
      }, t);

    const w = await openPage(browser);
    const { page } = w;
    try {
      await signInNoauth(page, base, RESEARCHER);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'My reservations' }).click();
      const row = page.getByRole('table', { name: 'Reservations' }).getByRole('row', { name: new RegExp(escapeRe(small)) });
      await row.getByText('Active').waitFor({ timeout: 20_000 });
      await row.getByRole('button', { name: /Extend/ }).click();
      const dialog = page.getByRole('dialog', { name: `Extend ${small}` });
      const end = dialog.getByRole('textbox', { name: 'New end' });
      await end.fill(await local(page, now + 300 * HOUR));
      await dialog.getByRole('button', { name: 'Extend' }).click();
      await dialog.getByRole('alert').waitFor();
      expect(await dialog.getByRole('alert').textContent()).toMatch(/\w/);
      await expectAccessible(page, 'the extend dialog with a refusal');
      await end.fill(await local(page, now + 5 * HOUR));
      await dialog.getByRole('button', { name: 'Extend' }).click();
      await expect
        .poll(
          async () =>
            (await dialog.count()) === 0 ||
            (await dialog
              .getByRole('alert')
              .textContent()
              .catch(() => '')),
          { timeout: QUICK },
        )
        .toBe(true);
      await expect.poll(async () => row.locator('time').nth(1).getAttribute('datetime')).toBe(new Date(now + 5 * HOUR).toISOString());
      expectNoProblems(w);
    } finally {
      await w.context.close();
    }

    const o = await openPage(browser);
    try {
      const p = o.page;
      await signInNoauth(p, base, OPERATOR);
      const nav = p.getByRole('navigation', { name: 'Main' });
      await nav.getByRole('link', { name: 'Flavors', exact: true }).click();
      // Deleting a flavor with a reservation: the API's refusal in the dialog.
      await p.getByRole('button', { name: `Delete ${small}` }).click();
      const del = p.getByRole('dialog', { name: `Delete flavor ${small}?` });
      await del.getByRole('button', { name: 'Delete' }).click();
      await del
        .getByRole('alert')
        .getByText(/is in use/)
        .waitFor();
      await del.getByRole('button', { name: 'Cancel' }).click();
      // Edit: more slots.
      await p.getByRole('button', { name: `Edit ${gpu}` }).click();
      const edit = p.getByRole('dialog', { name: `Edit ${gpu}` });
      expect(await edit.getByRole('spinbutton', { name: 'vCPUs' }).isDisabled()).toBe(true);
      await edit.getByRole('spinbutton', { name: 'Slots' }).fill('3');
      await edit.getByRole('button', { name: 'Save flavor' }).click();
      await expect.poll(() => edit.count()).toBe(0);
      await expect
        .poll(() =>
          p
            .getByRole('table', { name: 'Flavors' })
            .getByRole('row', { name: new RegExp(escapeRe(gpu)) })
            .getByRole('cell')
            .nth(1)
            .textContent(),
        )
        .toBe('3');
      // Revoke the grant.
      await p.getByRole('button', { name: `Projects of ${gpu}` }).click();
      const grants = p.getByRole('dialog', { name: `Projects that may book ${gpu}` });
      await grants.getByRole('button', { name: `Revoke ${RESEARCHER.project}` }).click();
      await grants.getByText('No project may book this private flavor yet.').waitFor();
      await grants.getByRole('button', { name: 'Close' }).click();
      // Remove the maintenance window.
      await nav.getByRole('link', { name: 'Maintenance', exact: true }).click();
      await p.getByRole('button', { name: /^Delete window from/ }).click();
      await p.getByRole('dialog', { name: 'Delete this maintenance window?' }).getByRole('button', { name: 'Delete' }).click();
      await p.getByText('No maintenance is planned.').waitFor();
      expectNoProblems(o);
    } finally {
      await o.context.close();
    }
  });

  it('works with the keyboard only: sign-in, navigation with visible focus, one tab stop in the timeline', async () => {
    const w = await openPage(browser);
    const { page } = w;
    /** The focused element's role-ish description: its text or aria-label, and whether it sits in the timeline grid. */
    const focused = () =>
      page.evaluate(() => {
        const e = document.activeElement as HTMLElement | null;
        const style = e ? getComputedStyle(e) : null;
        return {
          name: (e?.getAttribute('aria-label') ?? e?.textContent ?? '').trim(),
          tag: e?.tagName ?? '',
          inGrid: !!e?.closest('[role=grid]'),
          outline: style ? `${style.outlineStyle} ${style.outlineWidth}` : '',
        };
      });
    const tabTo = async (want: (f: Awaited<ReturnType<typeof focused>>) => boolean, max = 60) => {
      for (let i = 0; i < max; i++) {
        await page.keyboard.press('Tab');
        const f = await focused();
        if (want(f)) return f;
      }
      throw new Error('focus never reached the wanted element');
    };
    try {
      await page.goto(`${base}/dashboard/`);
      await page.getByRole('heading', { name: 'Sign in to Warre' }).waitFor();
      await tabTo((f) => f.tag === 'INPUT');
      await page.keyboard.type('kim');
      await page.keyboard.press('Tab');
      await page.keyboard.type('proj-kim');
      await page.keyboard.press('Enter');
      await page.getByRole('grid', { name: 'Availability' }).getByRole('row', { name: small }).waitFor();

      const link = await tabTo((f) => f.name === 'My reservations');
      expect(link.outline).not.toMatch(/^none/);
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { level: 1, name: 'My reservations' }).waitFor();
      await page.getByRole('region', { name: 'Quota' }).getByText('0 of 5 reservations used').waitFor();

      await page.keyboard.press('Shift+Tab');
      await tabTo((f) => f.name === 'Availability', 80);
      await page.keyboard.press('Enter');
      const stretch = await tabTo((f) => f.inGrid);
      expect(stretch.name).toMatch(/ of \d+ free/);
      expect(stretch.outline).not.toMatch(/^none/);
      await page.keyboard.press('ArrowRight');
      expect((await focused()).inGrid).toBe(true);
      // One tab stop: the next Tab leaves the grid.
      await page.keyboard.press('Tab');
      expect((await focused()).inGrid).toBe(false);
      expectNoProblems(w);
    } finally {
      await w.context.close();
    }
  });

  it('works 360 px wide (phone): navigation, timeline and reservations reachable', async () => {
    const w = await openPage(browser, { width: 360, height: 740 });
    const { page } = w;
    try {
      await signInNoauth(page, base, RESEARCHER, { axe: true });
      await page.getByRole('grid', { name: 'Availability' }).getByRole('row', { name: small }).waitFor();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow).toBeLessThanOrEqual(1);
      await expectAccessible(page, 'Availability at 360 px');
      await page.getByRole('link', { name: 'My reservations' }).click();
      await page.getByRole('region', { name: 'Quota' }).waitFor();
      expectNoProblems(w);
    } finally {
      await w.context.close();
    }
  });
});

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

async function createFlavor(page: Page, f: { name: string; slots: string; public: boolean }): Promise<void> {
  await page.getByRole('button', { name: 'New flavor' }).click();
  const dialog = page.getByRole('dialog', { name: 'New flavor' });
  await dialog.getByRole('textbox', { name: 'Name' }).fill(f.name);
  await dialog.getByRole('textbox', { name: 'Description' }).fill('Portal test flavor');
  await dialog.getByRole('spinbutton', { name: 'vCPUs' }).fill('4');
  await dialog.getByRole('spinbutton', { name: 'Memory (MB)' }).fill('8192');
  await dialog.getByRole('spinbutton', { name: 'Slots' }).fill(f.slots);
  await dialog.getByRole('spinbutton', { name: 'Longest reservation (hours)' }).fill('168');
  await dialog.getByRole('textbox', { name: 'Category' }).fill(f.public ? 'standard' : 'gpu');
  if (!f.public) await dialog.getByRole('checkbox', { name: /Public/ }).uncheck();
  await dialog.getByRole('button', { name: 'Create flavor' }).click();
  await expect.poll(() => dialog.count(), { timeout: QUICK }).toBe(0);
  await page.getByRole('table', { name: 'Flavors' }).getByRole('rowheader', { name: f.name }).waitFor();
}

/** A screenshot into docs/; a modal dialog's backdrop is drawn only over the viewport, so those are not full-page. */
async function shot(page: Page, name: string, fullPage = true): Promise<void> {
  await page.screenshot({ path: path.join(ROOT, 'docs', name), fullPage });
}
