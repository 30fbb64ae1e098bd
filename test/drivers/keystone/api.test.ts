/**
 * The API with `auth_strategy = keystone` against the real Keystone
 * (test/support/keystone.ts), end to end: a production-like `warre.conf`
 * ([keystone_authtoken], [service_auth], [oslo_limit], [warre] bot) is loaded
 * by `loadConfig`, wired by `startApiProcess` (src/cli/runtime.ts), and the
 * API is called over HTTP with real Keystone tokens.
 *
 * Variants of the same file (environment overrides) cover a short token
 * cache, limits found by service type, a service without registered limits,
 * and a Keystone that goes away: that one is a second uwsgi on its own port
 * (same database and keys, so tokens are valid on both), stopped and started
 * without disturbing the other test files.
 */

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Logger, pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type RunningApi, startApiProcess } from '../../../src/cli/api.js';
import { createServiceSession } from '../../../src/cli/runtime.js';
import { botSessions } from '../../../src/cli/worker-parts.js';
import { loadConfig, type WarreConfig } from '../../../src/config/load.js';
import { getUser } from '../../../src/drivers/keystone/identity.js';
import type { KeystoneSession } from '../../../src/drivers/keystone/session.js';
import { EndpointNotFoundError } from '../../../src/drivers/service-session.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import { countHttpRequests } from '../../support/http-spy.js';
import * as ks from '../../support/keystone.js';

/** Not 5011: test/drivers/keystone/keystone.test.ts may run its own outage at the same time. */
const OUTAGE_PORT = 5012;
const PUBLIC_KEYSTONE = 'https://keystone.example.org:5000/v3';
const UNAUTHENTICATED = { error_message: 'The request you have made requires authentication.' };
const UNAVAILABLE = { error_message: 'The Keystone service is temporarily unavailable.' };

interface Token {
  id: string;
  token: string;
}

let fx: ks.WarreFixtures;
let dir: string;
let confFile: string;
/** Member of fx.otherProject (`member`, which implies `reader`); that project's reservation limit is 2. */
let other: Token;
let outageStarted = false;
const running: { api: RunningApi; db: TestDatabase }[] = [];

interface Warre {
  url: string;
  config: WarreConfig;
  /** Every log line the API process wrote, parsed. */
  logs: Record<string, any>[];
}

/** Start the API on warre.conf plus environment overrides, on its own SQLite database. */
async function startWarre(env: Record<string, string> = {}): Promise<Warre> {
  const db = await createTestDatabase('sqlite');
  const config = loadConfig({
    argv: ['--config-file', confFile],
    env: { WARRE_DATABASE__CONNECTION: db.url, ...env },
    defaultConfigFile: null,
  });
  const logs: Record<string, any>[] = [];
  const log: Logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const api = await startApiProcess(config, log, { autoUpgrade: true, port: 0 });
  running.push({ api, db });
  return { url: api.url, config, logs };
}

interface Answer {
  status: number;
  headers: Headers;
  body: any;
}

async function call(
  w: Warre,
  method: string,
  path: string,
  token?: string | null,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  const res = await fetch(`${w.url}${path}`, {
    method,
    headers: {
      ...(token ? { 'X-Auth-Token': token } : {}),
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // text/plain answers (healthcheck)
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/** Counts the calls this process makes to Keystone's token validation (GET /v3/auth/tokens). */
function countValidations(): { count: () => number } {
  return countHttpRequests('GET', '/v3/auth/tokens');
}

function expectUnauthenticated(res: Answer): void {
  expect(res.status).toBe(401);
  expect(res.headers.get('www-authenticate')).toBe(`Keystone uri="${PUBLIC_KEYSTONE}"`);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(res.body).toEqual(UNAUTHENTICATED);
}

async function memberToken(userId: string, password: string, projectId: string): Promise<string> {
  return (await ks.issueToken({ userId, password, projectId })).token;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A reservation of `hours` hours on day `day` of 2031 (always in the future). */
function reservationBody(flavorId: string, day: number, hours = 1) {
  const start = Date.UTC(2031, 0, day, 0, 0);
  return { flavor_id: flavorId, start: new Date(start).toISOString(), end: new Date(start + hours * 3_600_000).toISOString() };
}

function overLimit(projectId: string, resource: string, limit: number, usage: number, delta: number): { error_message: string } {
  return {
    error_message: `Project ${projectId} is over a limit for [Resource ${resource} is over limit of ${limit} due to current usage ${usage} and delta ${delta}]`,
  };
}

beforeAll(async () => {
  fx = await ks.createWarreFixtures();
  const otherPassword = `pw-${randomBytes(8).toString('hex')}`;
  const otherUser = await ks.createUser({ password: otherPassword });
  await ks.assignRole(fx.otherProject.id, otherUser.id, await ks.roleId('member'));
  other = { id: otherUser.id, token: await memberToken(otherUser.id, otherPassword, fx.otherProject.id) };
  await ks.createProjectLimit(fx.service.id, fx.otherProject.id, 'reservation', 2);

  dir = mkdtempSync(join(tmpdir(), 'warre-keystone-api-'));
  confFile = join(dir, 'warre.conf');
  const credentials = (section: string, scope: string[]) => [
    `[${section}]`,
    `auth_url = ${fx.authUrl}`,
    'auth_type = password',
    'username = admin',
    `password = ${fx.adminPassword}`,
    'user_domain_name = Default',
    ...scope,
  ];
  const projectScope = ['project_name = admin', 'project_domain_name = Default', 'region_name = RegionOne'];
  writeFileSync(
    confFile,
    [
      '# A production-like configuration: every Keystone-related section as an operator writes it.',
      '[DEFAULT]',
      'auth_strategy = keystone',
      '',
      '[api]',
      'host = 127.0.0.1',
      'workers = 1',
      '',
      ...credentials('keystone_authtoken', [
        ...projectScope,
        `www_authenticate_uri = ${PUBLIC_KEYSTONE}`,
        'service_token_roles = service',
        'service_token_roles_required = true',
      ]),
      '',
      ...credentials('service_auth', [...projectScope, 'interface = public']),
      '',
      ...credentials('oslo_limit', ['system_scope = all', `endpoint_id = ${fx.endpointId}`]),
      '',
      '[warre]',
      `bot_auth_url = ${fx.authUrl}`,
      `bot_user_id = ${fx.bot.id}`,
      `bot_password = ${fx.bot.password}`,
      `bot_role_id = ${fx.bot.roleId}`,
      '',
      '[oslo_policy]',
      'policy_file = policy.yaml',
      '',
    ].join('\n'),
  );
  // An operator rule reading what only a Keystone context carries: domains and is_admin_project.
  writeFileSync(
    join(dir, 'policy.yaml'),
    '"warre:flavorproject:list": "role:reader and user_domain_id:default and project_domain_id:default and is_admin_project:True"\n',
  );
}, 900_000);

afterAll(async () => {
  for (const { api, db } of running.splice(0)) {
    await api.close().catch(() => undefined);
    await db.drop();
  }
  if (outageStarted) await ks.stopKeystone(OUTAGE_PORT).catch(() => undefined);
  await fx?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 120_000);

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

// ------------------------------------------------------------------ the production-like configuration

describe('warre.conf with the Keystone sections', () => {
  let w: Warre;
  let flavorId: string;
  /** Reservations of fx.project (member) and fx.otherProject (other). */
  let mine: string;
  let theirs: string;

  beforeAll(async () => {
    w = await startWarre();
  });

  it('loads with the documented defaults and no unknown options', () => {
    expect(w.config.allInOne).toBe(false);
    expect(w.config.DEFAULT.auth_strategy).toBe('keystone');
    expect(w.config.unknownOptions).toEqual([]);
    // The one option of this file Warre accepts without applying says so (a warning at start-up).
    expect(w.config.notes).toEqual([
      '[keystone_authtoken] service_token_roles_required is set but ignored: Warre does not take X-Service-Token',
    ]);
    expect(w.config.keystone_authtoken.token_cache_time).toBe(300);
    expect(w.config.oslo_limit.cache_time).toBe(60);
    expect(w.config.oslo_limit.system_scope).toBe('all');
    expect(w.config.keystone_authtoken.service_token_roles).toEqual(['service']);
  });

  it('serves / and /healthcheck without a token', async () => {
    const root = await call(w, 'GET', '/');
    expect(root.status).toBe(200);
    expect(root.body.versions[0].id).toBe('v1');
    const health = await call(w, 'GET', '/healthcheck', 'garbage');
    expect(health.status).toBe(200);
    expect(health.body).toBe('OK');
  });

  it('answers 401 with WWW-Authenticate for a missing or garbage token', async () => {
    expectUnauthenticated(await call(w, 'GET', '/v1/flavors/'));
    expectUnauthenticated(await call(w, 'GET', '/v1/reservations/', 'garbage'));
    expectUnauthenticated(await call(w, 'POST', '/v1/reservations/', `${fx.member.token}x`, { flavor_id: 'x' }));
    // noauth headers mean nothing under keystone.
    expectUnauthenticated(await call(w, 'GET', '/v1/limits/', null, undefined, { 'X-Project-Id': fx.project.id, 'X-Roles': 'admin' }));
  });

  it('gives an admin token the admin rules', async () => {
    const created = await call(w, 'POST', '/v1/flavors/', fx.adminToken, {
      name: `ks-${ks.RUN_SUFFIX}`,
      vcpu: 1,
      memory_mb: 512,
      disk_gb: 1,
      slots: 50,
    });
    expect(created.status).toBe(202);
    flavorId = created.body.id;
    const refused = await call(w, 'POST', '/v1/flavors/', fx.member.token, { name: 'nope', vcpu: 1, memory_mb: 512, disk_gb: 1 });
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ error_message: 'Not authorised' });
  });

  it('records the token user and project on a reservation; roles come from the token, not headers', async () => {
    const spoof = { 'X-Roles': 'admin', 'X-Project-Id': fx.otherProject.id, 'X-User-Id': 'someone' };
    const r = await call(w, 'POST', '/v1/reservations/', fx.member.token, reservationBody(flavorId, 1), spoof);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ user_id: fx.member.id, project_id: fx.project.id, status: 'PENDING_CREATE' });
    mine = r.body.id;
    const t = await call(w, 'POST', '/v1/reservations/', other.token, reservationBody(flavorId, 1));
    expect(t.status).toBe(200);
    expect(t.body).toMatchObject({ user_id: other.id, project_id: fx.otherProject.id });
    theirs = t.body.id;
    expect((await call(w, 'POST', '/v1/flavors/', fx.member.token, { name: 'n', vcpu: 1, memory_mb: 1, disk_gb: 1 }, spoof)).status).toBe(
      403,
    );
  });

  it('shows a member only its project; another project gets 404; an admin lists all projects', async () => {
    const list = await call(w, 'GET', '/v1/reservations/?all_projects=true', fx.member.token);
    expect(list.status).toBe(200);
    expect(list.body.results.map((r: { id: string }) => r.id)).toEqual([mine]);
    expect((await call(w, 'GET', `/v1/reservations/${mine}/`, fx.member.token)).status).toBe(200);

    for (const method of ['GET', 'DELETE'] as const) {
      const foreign = await call(w, method, `/v1/reservations/${mine}/`, other.token);
      expect(foreign.status).toBe(404);
      expect(foreign.body).toEqual({ error_message: `Reservation ${mine} doesn't exist` });
    }
    expect((await call(w, 'PATCH', `/v1/reservations/${mine}/`, other.token, { end: '2031-01-01T05:00:00+00:00' })).status).toBe(404);

    const all = await call(w, 'GET', '/v1/reservations/?all_projects=true', fx.adminToken);
    expect(all.body.results.map((r: { id: string }) => r.id).sort()).toEqual([mine, theirs].sort());
    expect((await call(w, 'GET', `/v1/reservations/${theirs}/`, fx.adminToken)).body.project_id).toBe(fx.otherProject.id);
  });

  it("hands the token's domains, roles and is_admin_project to policy", async () => {
    // policy.yaml: role:reader and user_domain_id:default and project_domain_id:default and is_admin_project:True
    expect((await call(w, 'GET', '/v1/flavorprojects/', fx.member.token)).status).toBe(200); // member implies reader
    const password = `pw-${randomBytes(8).toString('hex')}`;
    const user = await ks.createUser({ password });
    await ks.assignRole(fx.otherProject.id, user.id, (await ks.createRole()).id);
    const token = await memberToken(user.id, password, fx.otherProject.id);
    expect((await call(w, 'GET', '/v1/flavorprojects/', token)).status).toBe(403);
    expect((await call(w, 'GET', '/v1/flavorprojects/', token, undefined, { 'X-Roles': 'reader' })).status).toBe(403);
  });

  it('enforces the registered default (5 reservations) with the oslo.limit text', async () => {
    for (let day = 2; day <= 5; day++)
      expect((await call(w, 'POST', '/v1/reservations/', fx.member.token, reservationBody(flavorId, day))).status).toBe(200);
    const refused = await call(w, 'POST', '/v1/reservations/', fx.member.token, reservationBody(flavorId, 6));
    expect(refused.status).toBe(413);
    expect(refused.body).toEqual(overLimit(fx.project.id, 'reservation', 5, 5, 1));
    const limits = await call(w, 'GET', '/v1/limits/', fx.member.token);
    expect(limits.body).toEqual({ absolute: { maxHours: 100, maxReservations: 5, totalHoursUsed: 5, totalReservationsUsed: 5 } });
  });

  it('enforces the project override (2 reservations) and the hours default, read with the system-scoped token', async () => {
    const hours = await call(w, 'POST', '/v1/reservations/', other.token, reservationBody(flavorId, 2, 100));
    expect(hours.status).toBe(413);
    expect(hours.body).toEqual(overLimit(fx.otherProject.id, 'hours', 100, 1, 100));
    expect((await call(w, 'POST', '/v1/reservations/', other.token, reservationBody(flavorId, 2, 99))).status).toBe(200);
    const count = await call(w, 'POST', '/v1/reservations/', other.token, reservationBody(flavorId, 3));
    expect(count.status).toBe(413);
    expect(count.body).toEqual(overLimit(fx.otherProject.id, 'reservation', 2, 2, 1));
    const expected = { absolute: { maxHours: 100, maxReservations: 2, totalHoursUsed: 100, totalReservationsUsed: 2 } };
    expect((await call(w, 'GET', '/v1/limits/', other.token)).body).toEqual(expected);
    expect((await call(w, 'GET', `/v1/limits/?project_id=${fx.otherProject.id}`, fx.adminToken)).body).toEqual(expected);
    expect((await call(w, 'GET', `/v1/limits/?project_id=${fx.project.id}`, other.token)).status).toBe(403);
  });

  it('answers 400 for an unknown project', async () => {
    const unknown = randomBytes(16).toString('hex');
    const res = await call(w, 'GET', `/v1/limits/?project_id=${unknown}`, fx.adminToken);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error_message: `Invalid project_id: ${unknown}` });
  });

  it('caches limits for [oslo_limit] cache_time (60 s by default)', async () => {
    const project = await ks.createProject();
    const limitId = await ks.createProjectLimit(fx.service.id, project.id, 'reservation', 3);
    const path = `/v1/limits/?project_id=${project.id}`;
    expect((await call(w, 'GET', path, fx.adminToken)).body.absolute.maxReservations).toBe(3);
    await ks.updateProjectLimit(limitId, 4);
    expect((await call(w, 'GET', path, fx.adminToken)).body.absolute.maxReservations).toBe(3);
  });

  it('keeps serving a revoked token from its cache (token_cache_time 300 s)', async () => {
    const token = await memberToken(fx.member.id, fx.member.password, fx.project.id);
    expect((await call(w, 'GET', '/v1/flavors/', token)).status).toBe(200);
    await ks.revokeToken(token);
    const validations = countValidations();
    expect((await call(w, 'GET', '/v1/flavors/', token)).status).toBe(200);
    expect(validations.count()).toBe(0);
  });

  it('rejects a cached token once it has expired', async () => {
    const { token, body } = await ks.issueToken({ userId: fx.member.id, password: fx.member.password, projectId: fx.project.id });
    expect((await call(w, 'GET', '/v1/flavors/', token)).status).toBe(200);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.parse(body.expires_at) + 1_000);
    const validations = countValidations();
    expectUnauthenticated(await call(w, 'GET', '/v1/flavors/', token));
    expect(validations.count()).toBe(0);
  });
});

// ------------------------------------------------------------------ variants of the file

describe('short caches and limits found by service type', () => {
  let w: Warre;

  beforeAll(async () => {
    w = await startWarre({
      WARRE_KEYSTONE_AUTHTOKEN__TOKEN_CACHE_TIME: '2',
      WARRE_OSLO_LIMIT__CACHE_TIME: '2',
      WARRE_OSLO_LIMIT__ENDPOINT_ID: '',
      WARRE_OSLO_LIMIT__ENDPOINT_SERVICE_TYPE: fx.service.type,
      WARRE_OSLO_LIMIT__ENDPOINT_REGION_NAME: 'RegionOne',
    });
  });

  it('refuses a revoked token once token_cache_time has passed', async () => {
    const token = await memberToken(fx.member.id, fx.member.password, fx.project.id);
    expect((await call(w, 'GET', '/v1/reservations/', token)).status).toBe(200);
    await ks.revokeToken(token);
    expect((await call(w, 'GET', '/v1/reservations/', token)).status).toBe(200);
    await sleep(2_200);
    expectUnauthenticated(await call(w, 'GET', '/v1/reservations/', token));
  });

  it('refuses a revoked token it has not cached at once', async () => {
    const token = await memberToken(fx.member.id, fx.member.password, fx.project.id);
    await ks.revokeToken(token);
    expectUnauthenticated(await call(w, 'GET', '/v1/reservations/', token));
  });

  it('applies the project override and sees a changed limit after cache_time', async () => {
    expect((await call(w, 'GET', '/v1/limits/', other.token)).body.absolute.maxReservations).toBe(2);
    const project = await ks.createProject();
    const limitId = await ks.createProjectLimit(fx.service.id, project.id, 'hours', 10);
    const path = `/v1/limits/?project_id=${project.id}`;
    expect((await call(w, 'GET', path, fx.adminToken)).body.absolute).toMatchObject({ maxHours: 10, maxReservations: 5 });
    await ks.updateProjectLimit(limitId, 20);
    expect((await call(w, 'GET', path, fx.adminToken)).body.absolute.maxHours).toBe(10);
    await sleep(2_200);
    expect((await call(w, 'GET', path, fx.adminToken)).body.absolute.maxHours).toBe(20);
  });
});

describe('a service without registered limits', () => {
  it('refuses every reservation (limit 0) and logs resource, service and region', async () => {
    const service = await ks.createService(ks.uniqueName('warre-nolimits'), ks.uniqueName('nectar-reservation'));
    const endpointId = await ks.createEndpoint(service.id, 'http://127.0.0.1:8789/v1');
    const w = await startWarre({ WARRE_OSLO_LIMIT__ENDPOINT_ID: endpointId });
    const res = await call(w, 'POST', '/v1/reservations/', fx.member.token, reservationBody('00000000-0000-4000-8000-000000000000', 1));
    expect(res.status).toBe(413);
    expect(res.body).toEqual(overLimit(fx.project.id, 'reservation', 0, 0, 1));
    expect((await call(w, 'GET', '/v1/limits/', fx.member.token)).body.absolute).toMatchObject({ maxHours: 0, maxReservations: 0 });
    const errors = w.logs.filter((l) => l.level === 50 && String(l.msg).startsWith('Unable to find registered limit'));
    expect(errors.map((l) => [l.msg, l.resource, l.service, l.region])).toEqual([
      [`Unable to find registered limit for resource hours for ${service.id} in region RegionOne.`, 'hours', service.id, 'RegionOne'],
      [
        `Unable to find registered limit for resource reservation for ${service.id} in region RegionOne.`,
        'reservation',
        service.id,
        'RegionOne',
      ],
    ]);
  });
});

describe('Keystone unreachable', () => {
  it('answers 503 (never 500, never lets the request through) and recovers', async () => {
    await ks.startKeystone(OUTAGE_PORT);
    outageStarted = true;
    const outageUrl = ks.keystoneUrl(OUTAGE_PORT);
    const w = await startWarre({ WARRE_KEYSTONE_AUTHTOKEN__AUTH_URL: outageUrl, WARRE_OSLO_LIMIT__AUTH_URL: outageUrl });
    expect((await call(w, 'GET', '/v1/flavors/', other.token)).status).toBe(200); // validated and cached
    const fresh = await memberToken(fx.member.id, fx.member.password, fx.project.id);

    await ks.stopKeystone(OUTAGE_PORT);
    for (const [method, path] of [
      ['GET', '/v1/reservations/'],
      ['POST', '/v1/reservations/'],
    ] as const) {
      const down = await call(
        w,
        method,
        path,
        fresh,
        method === 'POST' ? reservationBody('00000000-0000-4000-8000-000000000000', 1) : undefined,
      );
      expect(down.status).toBe(503);
      expect(down.headers.get('www-authenticate')).toBeNull();
      expect(down.body).toEqual(UNAVAILABLE);
    }
    // A cached token still passes, but its project's limits cannot be read.
    const limits = await call(w, 'GET', '/v1/limits/', other.token);
    expect(limits.status).toBe(503);
    expect(limits.body).toEqual({ error_message: 'Quota limits are temporarily unavailable, please try again later' });
    const create = await call(w, 'POST', '/v1/reservations/', other.token, reservationBody('00000000-0000-4000-8000-000000000000', 1));
    expect(create.status).toBe(503);
    expect((await call(w, 'GET', '/healthcheck')).status).toBe(200);
    expect(w.logs.some((l) => l.level === 50 && l.msg === 'Unable to validate token')).toBe(true);

    await ks.startKeystone(OUTAGE_PORT);
    expect((await call(w, 'GET', '/v1/reservations/', fresh)).status).toBe(200);
    expect((await call(w, 'GET', '/v1/limits/', other.token)).body.absolute.maxReservations).toBe(2);
    await ks.stopKeystone(OUTAGE_PORT);
    outageStarted = false;
  }, 180_000);
});

describe('Keystone hanging', () => {
  it('answers 503 after [keystone_authtoken] http_connect_timeout', async () => {
    const sockets = new Set<Socket>();
    const server = createServer((s) => {
      sockets.add(s); // accept, never answer
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const w = await startWarre({
        WARRE_KEYSTONE_AUTHTOKEN__AUTH_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v3`,
        WARRE_KEYSTONE_AUTHTOKEN__HTTP_CONNECT_TIMEOUT: '1',
      });
      const res = await call(w, 'GET', '/v1/flavors/', fx.member.token);
      expect(res.status).toBe(503);
      expect(res.body).toEqual(UNAVAILABLE);
      const logged = w.logs.find((l) => l.msg === 'Unable to validate token');
      expect(logged?.error).toMatch(/^Keystone did not answer POST http:\/\/127\.0\.0\.1:\d+\/v3\/auth\/tokens within 1 s$/);
    } finally {
      for (const s of sockets) s.destroy();
      server.close();
    }
  });
});

// ------------------------------------------------------------------ service identities

describe('[service_auth] and the bot', () => {
  let config: WarreConfig;
  let session: KeystoneSession;

  beforeAll(() => {
    config = loadConfig({ argv: ['--config-file', confFile], env: {}, defaultConfigFile: null });
    session = createServiceSession(config, pino({ enabled: false }))!;
  });

  it('finds endpoints in the catalog by service type, interface and region', async () => {
    expect(await session.getEndpoint(fx.service.type)).toBe('http://127.0.0.1:8787/v1');
    expect(await session.getEndpoint('identity', { region: 'RegionOne' })).toBe(`${fx.authUrl}/`);
    await expect(session.getEndpoint(fx.service.type, { interface: 'internal' })).rejects.toBeInstanceOf(EndpointNotFoundError);
    await expect(session.getEndpoint(fx.service.type, { region: 'RegionTwo' })).rejects.toBeInstanceOf(EndpointNotFoundError);
  });

  it('looks users up by id with name, email and full name', async () => {
    expect(await getUser(session, fx.member.id)).toEqual({
      id: fx.member.id,
      name: fx.member.name,
      email: 'member@example.edu',
      full_name: 'Member Example',
    });
    expect(await getUser(session, randomBytes(16).toString('hex'))).toBeNull();
  });

  it('grants the bot role (idempotently) and returns a session scoped to the project', async () => {
    const project = await ks.createProject();
    const bot = botSessions(config, session);
    const first = (await bot(project.id)) as KeystoneSession;
    const again = (await bot(project.id)) as KeystoneSession;
    expect(again).toBe(first);
    const assignments = await ks.adminRequest('GET', `/role_assignments?user.id=${fx.bot.id}&scope.project.id=${project.id}`);
    expect(assignments.role_assignments.map((a: { role: { id: string } }) => a.role.id)).toEqual([fx.bot.roleId]);
    const access = await first.getAccess();
    expect(access.user.id).toBe(fx.bot.id);
    expect(access.project?.id).toBe(project.id);
    expect(access.roles?.map((r) => r.id)).toEqual([fx.bot.roleId]);
  });
});
