/**
 * What each Keystone call Warre makes needs (docs/keystone.md#roles), and the start-up checks
 * that say what is missing (docs/keystone.md#start-up-checks), against the real Keystone
 * (test/support/keystone.ts): a service user with only the `service` role validates tokens but
 * may not grant the bot role; wrong passwords, a wrong `[oslo_limit] endpoint_id` and wrong bot
 * settings are named at start-up, and rechecked until fixed; the API's 500 says what is wrong.
 * The worker's wiring is checked on the built `warre worker` process.
 */
import { randomBytes } from 'node:crypto';
import { type Logger, pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApi, startApiProcess } from '../../../src/cli/api.js';
import { loadConfig } from '../../../src/config/load.js';
import { checkServiceUser, checkTokenValidation, type EndpointNeed, type Finding } from '../../../src/drivers/keystone/checks.js';
import { getUser, grantProjectRole } from '../../../src/drivers/keystone/identity.js';
import { KeystoneAuthError, KeystoneSession, KeystoneUnavailableError } from '../../../src/drivers/keystone/session.js';
import { TokenValidator } from '../../../src/drivers/keystone/tokens.js';
import { UnifiedLimitsProvider } from '../../../src/quota/unified-limits.js';
import { createTestDatabase, migratedDatabase, type TestDatabase } from '../../support/db.js';
import * as ks from '../../support/keystone.js';
import { WarreProcess, waitFor, writeConfig } from '../../support/lifecycle-helpers.js';

let fx: ks.WarreFixtures;
/** A user with only the `service` role, on fx.project. */
let serviceOnly: ks.Named & { password: string };
const running: { api: RunningApi; db: TestDatabase }[] = [];
const procs: WarreProcess[] = [];

/** The `service` role (Keystone's bootstrap makes it only in newer releases). */
async function serviceRoleId(): Promise<string> {
  try {
    return await ks.roleId('service');
  } catch {
    await ks.adminRequest('POST', '/roles', { role: { name: 'service' } }, [201, 409]);
    return ks.roleId('service');
  }
}

beforeAll(async () => {
  fx = await ks.createWarreFixtures();
  const password = `svc-${randomBytes(8).toString('hex')}`;
  serviceOnly = { ...(await ks.createUser({ password })), password };
  await ks.assignRole(fx.project.id, serviceOnly.id, await serviceRoleId());
}, 900_000);

afterAll(async () => {
  for (const p of procs) await p.stop('SIGKILL');
  for (const { api, db } of running) {
    await api.close();
    await db.drop();
  }
  await fx?.cleanup();
}, 120_000);

const adminSession = () =>
  new KeystoneSession({
    auth_url: fx.authUrl,
    username: 'admin',
    password: fx.adminPassword,
    user_domain_name: 'Default',
    project_name: 'admin',
    project_domain_name: 'Default',
  });
const serviceOnlySession = (password = serviceOnly.password) =>
  new KeystoneSession({ auth_url: fx.authUrl, user_id: serviceOnly.id, password, project_id: fx.project.id });
const bot = (extra: Partial<{ userId: string; password: string; roleId: string }> = {}) => ({
  userId: fx.bot.id,
  password: fx.bot.password,
  roleId: fx.bot.roleId,
  authUrl: fx.authUrl,
  tls: { rejectUnauthorized: true },
  ...extra,
});
/** fx.service's endpoint: in the catalog. */
const warreEndpoint = (): EndpointNeed => ({ serviceType: fx.service.type, interface: 'public', region: null, consequence: 'x fails' });

const messages = (findings: Finding[]) => findings.map((f) => `${f.level} ${f.section}: ${f.message}`);

describe('what each call needs (docs/keystone.md#roles)', () => {
  it('the service role validates tokens, but may not grant the bot role nor read other users', async () => {
    const validator = new TokenValidator({
      auth_url: fx.authUrl,
      user_id: serviceOnly.id,
      password: serviceOnly.password,
      project_id: fx.project.id,
    });
    expect((await validator.validate(fx.member.token)).userId).toBe(fx.member.id);
    const s = serviceOnlySession();
    const grant = await grantProjectRole(s, fx.project.id, fx.bot.id, fx.bot.roleId).catch((e: unknown) => e);
    expect(grant).toBeInstanceOf(KeystoneAuthError);
    expect((grant as KeystoneAuthError).status).toBe(403);
    expect((grant as Error).message).toContain('identity:create_grant');
    await expect(getUser(s, fx.member.id)).rejects.toThrow('identity:get_user');
  });

  it('a member (no service, admin or system reader role) may not validate tokens: every request would be 503', async () => {
    const validator = new TokenValidator({
      auth_url: fx.authUrl,
      user_id: fx.member.id,
      password: fx.member.password,
      project_id: fx.project.id,
    });
    const err = await validator.validate(fx.adminToken).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeystoneUnavailableError);
    expect((err as Error).message).toContain('identity:validate_token');
  });
});

describe('start-up checks', () => {
  it('[keystone_authtoken]: the service role passes; a member is told what role it lacks', async () => {
    expect(await checkTokenValidation(serviceOnlySession())).toEqual([]);
    expect(await checkTokenValidation(adminSession())).toEqual([]);
    const member = new KeystoneSession({
      auth_url: fx.authUrl,
      user_id: fx.member.id,
      password: fx.member.password,
      project_id: fx.project.id,
    });
    const findings = await checkTokenValidation(member);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ level: 'error', section: 'keystone_authtoken', recheck: false });
    expect(findings[0]!.message).toContain(`user ${fx.member.id} (project ${fx.project.id}) at ${fx.authUrl} has the roles [`);
    expect(findings[0]!.message).toContain('identity:validate_token) needs the service or admin role');
  });

  it('a wrong password is named (user, section, never the password) and rechecked', async () => {
    const findings = await checkTokenValidation(serviceOnlySession('not-the-password'));
    expect(findings).toEqual([
      {
        level: 'error',
        section: 'keystone_authtoken',
        recheck: true,
        message: expect.stringContaining(`[keystone_authtoken] Keystone refused the credentials of user ${serviceOnly.id}`),
      },
    ]);
    expect(findings[0]!.message).toContain('answered 503');
    expect(findings[0]!.message).not.toContain('not-the-password');
  });

  it('[service_auth] in the worker: a service-only user cannot grant the bot role or read users; admin passes', async () => {
    const findings = await checkServiceUser(serviceOnlySession(), { endpoints: [warreEndpoint()], grants: true, bot: bot() });
    expect(messages(findings)).toEqual([
      expect.stringMatching(
        /^error service_auth: \[service_auth\] user .* has the roles \[service\]: granting the bot role .*identity:create_grant\) needs the admin role/,
      ),
      expect.stringMatching(/^warn service_auth: .*may not read users \(identity:get_user/),
    ]);
    expect(await checkServiceUser(adminSession(), { endpoints: [warreEndpoint()], grants: true, bot: bot() })).toEqual([]);
    // The API grants nothing: the service role is all it needs there.
    expect(await checkServiceUser(serviceOnlySession(), { endpoints: [warreEndpoint()] })).toEqual([]);
  });

  it('names a bot that does not exist, a bot role that does not exist, a bot password Keystone refuses, a missing endpoint', async () => {
    const unknown = randomBytes(16).toString('hex');
    const findings = await checkServiceUser(adminSession(), {
      endpoints: [{ serviceType: 'no-such-type', interface: 'public', region: null, consequence: 'every lease fails' }],
      grants: true,
      bot: bot({ userId: unknown, roleId: 'no-such-role' }),
    });
    expect(messages(findings)).toEqual([
      expect.stringMatching(
        /^warn service_auth: \[service_auth\] No public endpoint for service type no-such-type in the catalog of user admin .*: every lease fails until it is registered\.$/,
      ),
      `error warre: [warre] bot_user_id ${unknown} is not a Keystone user: every lease fails.`,
      'error warre: [warre] bot_role_id no-such-role is not a Keystone role: every lease fails.',
      expect.stringMatching(new RegExp(`^error warre: \\[warre\\] Keystone refused bot_user_id ${unknown} with bot_password: `)),
    ]);
    const wrongPassword = await checkServiceUser(adminSession(), {
      endpoints: [],
      grants: true,
      bot: bot({ password: 'wrong-bot-password' }),
    });
    expect(wrongPassword).toEqual([expect.objectContaining({ level: 'error', section: 'warre', recheck: true })]);
    expect(wrongPassword[0]!.message).not.toContain('wrong-bot-password');
  });

  it('[oslo_limit]: a wrong endpoint_id, a service without registered limits', async () => {
    const opts = { auth_url: fx.authUrl, username: 'admin', password: fx.adminPassword, user_domain_name: 'Default', system_scope: 'all' };
    const silent = pino({ enabled: false });
    expect(await new UnifiedLimitsProvider({ ...opts, endpoint_id: fx.endpointId }, silent).check()).toEqual([]);
    expect(await new UnifiedLimitsProvider({ ...opts, endpoint_id: 'nope' }, silent).check()).toEqual([
      {
        level: 'error',
        section: 'oslo_limit',
        recheck: false,
        message:
          'Quota limits cannot be read: [oslo_limit] endpoint_id nope was not found in Keystone. ' +
          'Creating and extending reservations, offers and GET /v1/limits answer 500 until it is fixed.',
      },
    ]);
    const bare = await ks.createService(ks.uniqueName('warre-bare'), ks.uniqueName('nectar-reservation'));
    const bareEndpoint = await ks.createEndpoint(bare.id, 'http://127.0.0.1:8789/v1');
    const missing = await new UnifiedLimitsProvider({ ...opts, endpoint_id: bareEndpoint }, silent).check();
    expect(missing.map((f) => [f.level, f.message])).toEqual([
      ['warn', expect.stringContaining(`no registered limit for resource hours of service ${bare.id} in region RegionOne`)],
      ['warn', expect.stringContaining(`no registered limit for resource reservation of service ${bare.id} in region RegionOne`)],
    ]);
  });
});

// ------------------------------------------------------------------ the processes

/** warre-api in this process on its own SQLite database, logs collected. */
async function startApi(sections: Record<string, Record<string, string>>): Promise<{ api: RunningApi; logs: Record<string, any>[] }> {
  const db = await createTestDatabase('sqlite');
  const file = writeConfig({ DEFAULT: { auth_strategy: 'keystone' }, database: { connection: db.url }, ...sections });
  const config = loadConfig({ argv: ['--config-file', file], env: {}, defaultConfigFile: null });
  const logs: Record<string, any>[] = [];
  const log: Logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const api = await startApiProcess(config, log, {
    autoUpgrade: true,
    port: 0,
    keystoneCheckTiming: { recheckMs: 100, maxRecheckMs: 200 },
  });
  running.push({ api, db });
  return { api, logs };
}

const credentials = (user: { id: string; password: string }, scope: Record<string, string>) => ({
  auth_url: fx.authUrl,
  user_id: user.id,
  password: user.password,
  ...scope,
});

describe('warre-api at start-up', () => {
  it('names a refused [keystone_authtoken] password, keeps running (503), and says when Keystone accepts it', async () => {
    const password = `pw-${randomBytes(8).toString('hex')}`;
    const user = await ks.createUser({ password: `${password}-old` });
    await ks.assignRole(fx.project.id, user.id, await serviceRoleId());
    const { api, logs } = await startApi({ keystone_authtoken: credentials({ id: user.id, password }, { project_id: fx.project.id }) });
    await api.keystoneChecked;
    const refused = logs.filter((l) => l.level === 50 && l.section === 'keystone_authtoken');
    expect(refused.length).toBeGreaterThanOrEqual(1);
    expect(refused[0]!.msg).toContain(`[keystone_authtoken] Keystone refused the credentials of user ${user.id}`);
    expect(refused[0]!.msg).toMatch(/checking again in \d+ s\)$/);
    expect(JSON.stringify(logs)).not.toContain(password);
    const before = await fetch(`${api.url}/v1/limits/`, { headers: { 'X-Auth-Token': fx.member.token } });
    expect(before.status).toBe(503);

    // The operator fixes the password in Keystone: the next recheck says so, and requests work.
    await ks.adminRequest('PATCH', `/users/${user.id}`, { user: { password } });
    await waitFor(
      () => logs.some((l) => l.msg === '[keystone_authtoken] Keystone can be used now (credentials accepted)'),
      'the recheck',
      30_000,
    );
    // The request path's own session logs in again on its next call; on a loaded machine that may
    // come a moment after the recheck's line, so the answer is awaited, not sampled once.
    await waitFor(
      async () => (await fetch(`${api.url}/v1/limits/`, { headers: { 'X-Auth-Token': fx.member.token } })).status === 200,
      'a 200 once Keystone accepts the credentials',
      15_000,
    );
  }, 60_000);

  it('names a wrong [oslo_limit] endpoint_id at start-up, and the 500 says what is wrong', async () => {
    const adminAuth = { auth_url: fx.authUrl, username: 'admin', password: fx.adminPassword, user_domain_name: 'Default' };
    const { api, logs } = await startApi({
      keystone_authtoken: { ...adminAuth, project_name: 'admin', project_domain_name: 'Default' },
      oslo_limit: { ...adminAuth, system_scope: 'all', endpoint_id: 'no-such-endpoint' },
    });
    await api.keystoneChecked;
    const line = logs.find((l) => l.level === 50 && l.section === 'oslo_limit');
    expect(line?.msg).toBe(
      'Quota limits cannot be read: [oslo_limit] endpoint_id no-such-endpoint was not found in Keystone. ' +
        'Creating and extending reservations, offers and GET /v1/limits answer 500 until it is fixed.',
    );
    expect(logs.find((l) => l.section === 'keystone_authtoken')?.msg).toBe('[keystone_authtoken] checked in Keystone: no problem found');
    const res = await fetch(`${api.url}/v1/limits/`, { headers: { 'X-Auth-Token': fx.member.token } });
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({
      error_message: 'Quota limits cannot be read: [oslo_limit] endpoint_id no-such-endpoint was not found in Keystone',
    });
  }, 60_000);
});

describe('warre-worker at start-up', () => {
  it('says that a service-only [service_auth] user cannot grant the bot role (built process)', async () => {
    const { testDb, close } = await migratedDatabase('sqlite');
    try {
      const conf = writeConfig({
        DEFAULT: { debug: false },
        database: { connection: testDb.url },
        warre: {
          lease_backend: 'blazar',
          user_notifier: 'logging',
          bot_user_id: fx.bot.id,
          bot_password: fx.bot.password,
          bot_role_id: fx.bot.roleId,
        },
        service_auth: credentials(serviceOnly, { project_id: fx.project.id }),
      });
      const worker = new WarreProcess(['worker', '--config-file', conf]);
      procs.push(worker);
      const line = await worker.waitForLog('identity:create_grant', { section: 'service_auth' }, 45_000);
      expect(line['level']).toBe(50);
      expect(String(line['msg'])).toContain(`user ${serviceOnly.id} (project ${fx.project.id})`);
      expect(worker.alive).toBe(true);
      expect((await worker.stop('SIGTERM')).code).toBe(0);
    } finally {
      await close();
    }
  }, 90_000);
});
