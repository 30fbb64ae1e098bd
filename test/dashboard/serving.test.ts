/**
 * How warre-api serves the portal (src/api/dashboard.ts), without a browser:
 * paths, cache headers, the Content-Security-Policy on every answer, no
 * identity needed for the pages, the session call's policy answers, the
 * sign-in endpoint refused under noauth, `[dashboard] enabled = false`, and a
 * tree without a built portal.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import type { DashboardOptions } from '../../src/api/dashboard.js';
import { NoAuthAuthenticator } from '../../src/auth/noauth.js';
import { PolicyEnforcer } from '../../src/policy/enforcer.js';
import { ConfigLimitsProvider } from '../../src/quota/config-limits.js';
import type { Services } from '../../src/services/dependencies.js';
import { ADMIN, MEMBER } from '../support/app.js';
import { migratedDatabase } from '../support/db.js';

let dir: string;
const closers: (() => Promise<void>)[] = [];

async function app(dashboard: DashboardOptions | undefined): Promise<FastifyInstance> {
  const { db, close } = await migratedDatabase('sqlite');
  const logger = pino({ level: 'silent' });
  const svc: Services = {
    db,
    limits: new ConfigLimitsProvider({ quota: { default_reservation: 5, default_hours: 100 }, projectLimits: new Map() }),
    leases: null,
    serviceSession: null,
    nudgeWorker: () => {},
    now: () => Date.now(),
    log: logger,
  };
  const a = await buildApp({
    svc,
    authenticator: new NoAuthAuthenticator(),
    policy: new PolicyEnforcer({ policyFile: null }),
    logger,
    dashboard,
  });
  await a.ready();
  closers.push(async () => {
    await a.close();
    await close();
  });
  return a;
}

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warre-dash-'));
  fs.mkdirSync(path.join(dir, 'assets'));
  fs.writeFileSync(path.join(dir, 'index.html'), '<!doctype html><script type="module" src="/dashboard/assets/app-abc123.js"></script>');
  fs.writeFileSync(path.join(dir, 'assets', 'app-abc123.js'), 'console.log(1)');
  fs.writeFileSync(path.join(dir, 'assets', 'app-abc123.css'), 'body{}');
});

afterAll(async () => {
  for (const c of closers.splice(0)) await c();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('the portal served by warre-api', () => {
  let a: FastifyInstance;
  beforeAll(async () => {
    a = await app({ enabled: true, dir, authStrategy: 'noauth' });
  });

  it('serves index.html for every page path, without identity, never cached stale', async () => {
    for (const url of ['/dashboard/', '/dashboard/find', '/dashboard/reservations?id=x', '/dashboard/flavors/']) {
      const res = await a.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.body).toContain('app-abc123.js');
    }
    const bare = await a.inject({ method: 'GET', url: '/dashboard' });
    expect(bare.statusCode).toBe(301);
    expect(bare.headers.location).toBe('/dashboard/');
    const head = await a.inject({ method: 'HEAD', url: '/dashboard/' });
    expect(head.statusCode).toBe(200);
    expect(head.body).toBe('');
  });

  it('puts a strict Content-Security-Policy on every answer', async () => {
    for (const url of ['/dashboard/', '/dashboard/assets/app-abc123.js', '/dashboard/assets/missing.js']) {
      const res = await a.inject({ method: 'GET', url });
      const csp = String(res.headers['content-security-policy']);
      expect(csp, url).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toMatch(/unsafe-(inline|eval)/);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
    }
  });

  it('caches hashed assets for a year, answers 304 to a matching ETag, 404 to a missing asset', async () => {
    const js = await a.inject({ method: 'GET', url: '/dashboard/assets/app-abc123.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const again = await a.inject({
      method: 'GET',
      url: '/dashboard/assets/app-abc123.js',
      headers: { 'if-none-match': String(js.headers.etag) },
    });
    expect(again.statusCode).toBe(304);
    const css = await a.inject({ method: 'GET', url: '/dashboard/assets/app-abc123.css' });
    expect(css.headers['content-type']).toBe('text/css; charset=utf-8');
    for (const url of [
      '/dashboard/assets/other.js',
      '/dashboard/%2e%2e/package.json',
      '/dashboard/..%2f..%2fpackage.json',
      '/dashboard/index.html.map',
    ]) {
      const res = await a.inject({ method: 'GET', url });
      // Dot segments are resolved before routing: /package.json is then an API path (401), never a file.
      expect([401, 404], url).toContain(res.statusCode);
      expect(res.body).not.toContain('"name": "warre"');
    }
  });

  it('says which sign-in form to show; the session call needs identity and answers what policy allows', async () => {
    expect((await a.inject({ method: 'GET', url: '/dashboard/api/config' })).json()).toEqual({ auth_strategy: 'noauth' });
    const anonymous = await a.inject({ method: 'GET', url: '/dashboard/api/session' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json().error_message).toMatch(/X-Project-Id/);
    const admin = (await a.inject({ method: 'GET', url: '/dashboard/api/session', headers: ADMIN })).json();
    expect(admin).toMatchObject({
      project_id: 'admin-project',
      roles: ['admin'],
      can: { manage_flavors: true, manage_maintenance: true, all_projects: true },
    });
    const member = (await a.inject({ method: 'GET', url: '/dashboard/api/session', headers: MEMBER })).json();
    expect(member.can).toEqual({
      manage_flavors: false,
      manage_grants: false,
      list_grants: false,
      manage_maintenance: false,
      all_projects: false,
      all_flavors: false,
    });
    expect((await a.inject({ method: 'GET', url: '/dashboard/api/nothing' })).statusCode).toBe(404);
  });

  it('refuses Keystone sign-in under noauth, in the one error shape', async () => {
    const res = await a.inject({
      method: 'POST',
      url: '/dashboard/api/tokens',
      payload: { method: 'password', username: 'u', password: 'p' },
    });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error_message: 'Keystone sign-in is not available: auth_strategy is not keystone' });
  });

  it('leaves the v1 API as it was: identity still required there', async () => {
    expect((await a.inject({ method: 'GET', url: '/v1/flavors/' })).statusCode).toBe(401);
  });
});

describe('[dashboard] enabled = false, or no built portal', () => {
  it('serves nothing at /dashboard/ when disabled', async () => {
    const a = await app({ enabled: false, dir, authStrategy: 'noauth' });
    const res = await a.inject({ method: 'GET', url: '/dashboard/' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toHaveProperty('error_message');
  });

  it('says how to build it when dist/dashboard is missing', async () => {
    const a = await app({ enabled: true, dir: path.join(dir, 'nowhere'), authStrategy: 'noauth' });
    const res = await a.inject({ method: 'GET', url: '/dashboard/' });
    expect(res.statusCode).toBe(503);
    expect(res.body).toContain('npm run build');
  });
});
