/**
 * Portal sign-in with `auth_strategy = keystone` against the real Keystone
 * (test/support/keystone.ts), in Debian's Chromium: a password (Domain
 * defaulting to Default), an application credential, switching project (the
 * token is re-scoped by Warre's /dashboard/api/tokens), sign-out (the token is
 * revoked), a revoked token sending the user back to the sign-in form, and a
 * refused password shown on the form. No log line holds a password or token.
 */

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApi, startApiProcess } from '../../src/cli/api.js';
import { loadConfig } from '../../src/config/load.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import * as ks from '../support/keystone.js';
import { expectAccessible, expectNoProblems, launch, openPage, QUICK } from './browser.js';

/** Waits on Keystone round trips (a sign-in or a switch is two or three of them; uwsgi is slow under load). */
const KEYSTONE_WAIT = 15_000;

let browser: Browser;
let api: RunningApi;
let db: TestDatabase;
let dir: string;
let base: string;
const logs: string[] = [];
const secrets: string[] = [];
let user: ks.Named & { password: string };
let projectA: ks.Named;
let projectB: ks.Named;
let appCred: { id: string; secret: string };

beforeAll(async () => {
  const { authUrl, adminPassword } = await ks.ensureKeystone();
  projectA = await ks.createProject();
  projectB = await ks.createProject();
  const password = `pw-${randomBytes(8).toString('hex')}`;
  user = { ...(await ks.createUser({ password })), password };
  const member = await ks.roleId('member');
  await ks.assignRole(projectA.id, user.id, member);
  await ks.assignRole(projectB.id, user.id, member);
  // An application credential of the user, bound to project A.
  const { token } = await ks.issueToken({ userId: user.id, password, projectId: projectA.id });
  const res = await fetch(`${authUrl}/users/${user.id}/application_credentials`, {
    method: 'POST',
    headers: { 'X-Auth-Token': token, 'Content-Type': 'application/json', Connection: 'close' },
    body: JSON.stringify({ application_credential: { name: ks.uniqueName('portal') } }),
  });
  const body = (await res.json()) as { application_credential: { id: string; secret: string } };
  if (res.status !== 201) throw new Error(`application credential: ${res.status} ${JSON.stringify(body)}`);
  appCred = { id: body.application_credential.id, secret: body.application_credential.secret };
  secrets.push(password, appCred.secret, adminPassword);

  dir = mkdtempSync(join(tmpdir(), 'warre-portal-ks-'));
  writeFileSync(
    join(dir, 'warre.conf'),
    [
      '[DEFAULT]',
      'auth_strategy = keystone',
      '[api]',
      'host = 127.0.0.1',
      'workers = 1',
      '[keystone_authtoken]',
      `auth_url = ${authUrl}`,
      'username = admin',
      `password = ${adminPassword}`,
      'user_domain_name = Default',
      'project_name = admin',
      'project_domain_name = Default',
      // Validate every request again: a revoked token must be refused at once.
      'token_cache_time = -1',
      '',
    ].join('\n'),
  );
  db = await createTestDatabase('sqlite');
  const config = loadConfig({
    argv: ['--config-file', join(dir, 'warre.conf')],
    env: { WARRE_DATABASE__CONNECTION: db.url },
    defaultConfigFile: null,
  });
  const log = pino({ level: 'debug' }, { write: (line: string) => void logs.push(line) });
  api = await startApiProcess(config, log, { autoUpgrade: true, port: 0 });
  base = api.url;
  browser = await launch();
}, 900_000);

afterAll(async () => {
  await browser?.close();
  await api?.close();
  await db?.drop();
  await ks.cleanupKeystone();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The token the page holds (sessionStorage), to check what Keystone thinks of it. */
async function pageToken(page: import('playwright-core').Page): Promise<string | null> {
  return page.evaluate(() => {
    const raw = sessionStorage.getItem('warre.session');
    return raw ? ((JSON.parse(raw) as { token?: string }).token ?? null) : null;
  });
}

async function tokenValid(token: string): Promise<boolean> {
  const res = await fetch(`${ks.keystoneUrl()}/auth/tokens`, {
    headers: { 'X-Auth-Token': await ks.adminToken(), 'X-Subject-Token': token, Connection: 'close' },
  });
  await res.arrayBuffer();
  return res.status === 200;
}

describe('portal sign-in with Keystone', () => {
  it('signs in with a password, switches project, signs out (the token is revoked)', async () => {
    const w = await openPage(browser);
    const { page } = w;
    try {
      await page.goto(`${base}/dashboard/`);
      await page.getByRole('heading', { name: 'Sign in to Warre' }).waitFor();
      expect(await page.getByRole('textbox', { name: 'Domain' }).inputValue()).toBe('Default');
      await expectAccessible(page, 'the Keystone sign-in form');

      // A refused password is said on the form.
      await page.getByRole('textbox', { name: 'User name' }).fill(user.name);
      await page.getByRole('textbox', { name: 'Password' }).fill('wrong-password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page
        .getByRole('alert')
        .getByText(/not accepted by Keystone/)
        .waitFor({ timeout: KEYSTONE_WAIT });

      await page.getByRole('textbox', { name: 'Password' }).fill(user.password);
      await page.getByRole('textbox', { name: 'Project', exact: true }).fill(projectA.name);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { level: 1, name: 'Availability' }).waitFor({ timeout: KEYSTONE_WAIT });
      const projectSelect = page.getByRole('combobox', { name: 'Project' });
      await expect.poll(() => projectSelect.inputValue(), { timeout: QUICK }).toBe(projectA.id);
      const first = await pageToken(page);
      expect(first).toBeTruthy();
      secrets.push(first!);

      // Switch project: Warre re-scopes the token; the pages now act for project B.
      await projectSelect.selectOption(projectB.id);
      await expect
        .poll(async () => (await page.getByRole('alert').allInnerTexts()).join(' ') || projectSelect.inputValue(), {
          timeout: KEYSTONE_WAIT,
        })
        .toBe(projectB.id);
      await expect.poll(() => pageToken(page)).not.toBe(first);
      const second = (await pageToken(page))!;
      secrets.push(second);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'My reservations' }).click();
      await page
        .getByRole('region', { name: 'Quota' })
        .getByText(/of \d+ reservations used/)
        .waitFor();
      const session = await (await fetch(`${base}/dashboard/api/session`, { headers: { 'X-Auth-Token': second } })).json();
      expect(session).toMatchObject({ user_id: user.id, project_id: projectB.id, auth_strategy: 'keystone' });
      await expectAccessible(page, 'My reservations (Keystone)');

      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in to Warre' }).waitFor({ timeout: KEYSTONE_WAIT });
      await page.getByText('You are signed out.').waitFor();
      expect(await pageToken(page)).toBeNull();
      expect(await tokenValid(second)).toBe(false);
      expectNoProblems(w);
    } finally {
      await w.context.close();
    }
  });

  it('signs in with an application credential (bound to its project: no switch)', async () => {
    const w = await openPage(browser);
    const { page } = w;
    try {
      await page.goto(`${base}/dashboard/`);
      await page.getByRole('radio', { name: 'Application credential' }).check();
      await page.getByRole('textbox', { name: 'Application credential ID' }).fill(appCred.id);
      await page.getByRole('textbox', { name: 'Secret' }).fill(appCred.secret);
      await expectAccessible(page, 'the application credential form');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { level: 1, name: 'Availability' }).waitFor({ timeout: KEYSTONE_WAIT });
      await page.getByRole('banner').getByText(projectA.name).waitFor();
      expect(await page.getByRole('combobox', { name: 'Project' }).count()).toBe(0);
      secrets.push((await pageToken(page))!);
      expectNoProblems(w);
    } finally {
      await w.context.close();
    }
  });

  it('a token that stops being valid sends the user back to the sign-in form with a message', async () => {
    const w = await openPage(browser);
    const { page } = w;
    try {
      await page.goto(`${base}/dashboard/`);
      await page.getByRole('textbox', { name: 'User name' }).fill(user.name);
      await page.getByRole('textbox', { name: 'Password' }).fill(user.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { level: 1, name: 'Availability' }).waitFor({ timeout: KEYSTONE_WAIT });
      const token = (await pageToken(page))!;
      secrets.push(token);
      await ks.revokeToken(token);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Find a slot' }).click();
      await page.getByRole('spinbutton', { name: 'Hours' }).fill('2');
      await page.getByRole('button', { name: 'Search' }).click();
      await page.getByRole('heading', { name: 'Sign in to Warre' }).waitFor();
      await page.getByText('Your session has expired or was ended. Sign in again.').waitFor();
      expect(await pageToken(page)).toBeNull();
      expectNoProblems(w);
    } finally {
      await w.context.close();
    }
  });

  it('never writes a password or a token into a log line', () => {
    const text = logs.join('\n');
    expect(text).toContain('portal sign-in');
    for (const s of secrets) expect(text.includes(s), 'a secret in the logs').toBe(false);
  });
});
