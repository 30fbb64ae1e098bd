/**
 * Keystone drivers against a real Keystone (Debian package, MariaDB), started
 * once by test/support/keystone.ts. The outage test runs a second uwsgi on its
 * own port (same database and keys), so stopping it never disturbs other files.
 */
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuthError } from '../../../src/auth/context.js';
import { KeystoneAuthenticator } from '../../../src/auth/keystone.js';
import type { Logger } from '../../../src/domain/logger.js';
import { botSession, getUser, grantProjectRole } from '../../../src/drivers/keystone/identity.js';
import type { AuthTokenOptions, OsloLimitOptions } from '../../../src/drivers/keystone/options.js';
import { identityBase, KeystoneAuthError, KeystoneSession, passwordAuthBody } from '../../../src/drivers/keystone/session.js';
import { InvalidTokenError, TokenValidator } from '../../../src/drivers/keystone/tokens.js';
import { EndpointNotFoundError } from '../../../src/drivers/service-session.js';
import { LimitsConfigurationError, LimitsUnavailableError, UnknownProjectError } from '../../../src/quota/limits.js';
import { formatOverLimit } from '../../../src/quota/messages.js';
import { UnifiedLimitsProvider } from '../../../src/quota/unified-limits.js';
import { countHttpRequests } from '../../support/http-spy.js';
import * as ks from '../../support/keystone.js';

const OUTAGE_PORT = 5011;
let fx: ks.WarreFixtures;
let outageStarted = false;

beforeAll(async () => {
  fx = await ks.createWarreFixtures();
}, 900_000);

afterAll(async () => {
  if (outageStarted) await ks.stopKeystone(OUTAGE_PORT).catch(() => undefined);
  await fx?.cleanup();
}, 120_000);

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

function captureLogger(): { logger: Logger; lines: { level: string; obj: object; msg?: string }[] } {
  const lines: { level: string; obj: object; msg?: string }[] = [];
  const at = (level: string) => (obj: object | string, msg?: string) =>
    void lines.push(typeof obj === 'string' ? { level, obj: {}, msg: obj } : { level, obj, msg });
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

/** Counts the HTTP calls to Keystone matching a method and path fragment. */
function countCalls(method: string, fragment: string): { count: () => number } {
  return countHttpRequests(method, fragment);
}

const adminOpts = () => ({
  auth_url: fx.authUrl,
  username: 'admin',
  password: fx.adminPassword,
  user_domain_name: 'Default',
});

const authTokenOpts = (extra: Partial<AuthTokenOptions> = {}): AuthTokenOptions => ({
  ...adminOpts(),
  project_name: 'admin',
  project_domain_name: 'Default',
  ...extra,
});

// ------------------------------------------------------------------ session

describe('KeystoneSession', () => {
  it('builds the auth body keystoneauth sends (names + domains, ids only, system, unscoped)', () => {
    expect(
      passwordAuthBody({
        auth_url: 'x',
        username: 'admin',
        password: 'secret',
        user_domain_name: 'Default',
        project_name: 'admin',
        project_domain_name: 'Default',
      }),
    ).toEqual({
      auth: {
        identity: { methods: ['password'], password: { user: { password: 'secret', name: 'admin', domain: { name: 'Default' } } } },
        scope: { project: { name: 'admin', domain: { name: 'Default' } } },
      },
    });
    expect(
      passwordAuthBody({
        auth_url: 'x',
        user_id: 'u1',
        password: 'p',
        user_domain_id: 'default',
        project_id: 'p1',
        project_domain_id: 'default',
      }),
    ).toEqual({
      auth: { identity: { methods: ['password'], password: { user: { password: 'p', id: 'u1' } } }, scope: { project: { id: 'p1' } } },
    });
    expect(
      passwordAuthBody({ auth_url: 'x', username: 'a', password: 'p', user_domain_id: 'default', system_scope: 'all' }).auth.scope,
    ).toEqual({ system: { all: true } });
    expect(passwordAuthBody({ auth_url: 'x', username: 'a', password: 'p', project_name: null }).auth.scope).toBeUndefined();
    expect(() => passwordAuthBody({ auth_url: 'x', username: 'a', password: 'p', project_id: 'p', system_scope: 'all' })).toThrow(
      /multiple targets/,
    );
    expect(['http://k:5000', 'http://k:5000/', 'http://k:5000/v3', 'http://k:5000/v3/'].map(identityBase)).toEqual(
      Array(4).fill('http://k:5000/v3'),
    );
  });

  it('takes a pino logger', () => {
    const logger: Logger = pino({ enabled: false });
    expect(
      () => new UnifiedLimitsProvider({ auth_url: 'http://k:5000', username: 'u', password: 'p', project_id: 'x' }, logger),
    ).not.toThrow();
  });

  it('authenticates with project scope by name and keeps the token body', async () => {
    const s = new KeystoneSession(authTokenOpts());
    const token = await s.getToken();
    expect(token).toMatch(/^gAAAAA/);
    const access = await s.getAccess();
    expect(access.user.name).toBe('admin');
    expect(access.project?.name).toBe('admin');
    expect(access.roles?.map((r) => r.name)).toContain('admin');
    expect(access.catalog?.length).toBeGreaterThan(0);
    expect(await s.getToken()).toBe(token);
  });

  it('authenticates with system scope', async () => {
    const s = new KeystoneSession({ ...adminOpts(), system_scope: 'all' });
    const access = await s.getAccess();
    expect(access.system).toEqual({ all: true });
    expect(access.project).toBeUndefined();
    expect(await s.getProjectId()).toBeNull();
  });

  it('authenticates by user id and project id', async () => {
    const s = new KeystoneSession({ auth_url: fx.authUrl, user_id: fx.member.id, password: fx.member.password, project_id: fx.project.id });
    expect(await s.getUserId()).toBe(fx.member.id);
    expect(await s.getProjectId()).toBe(fx.project.id);
    expect((await s.getAccess()).roles?.map((r) => r.name).sort()).toEqual(['member', 'reader']);
  });

  it('refuses a wrong password with KeystoneAuthError 401', async () => {
    const s = new KeystoneSession({ ...adminOpts(), password: 'wrong' });
    const err = await s.getToken().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeystoneAuthError);
    expect((err as KeystoneAuthError).status).toBe(401);
  });

  it('shares one in-flight authentication between concurrent callers', async () => {
    const calls = countCalls('POST', '/v3/auth/tokens');
    const s = new KeystoneSession(authTokenOpts());
    const tokens = await Promise.all(Array.from({ length: 10 }, () => s.getToken()));
    expect(new Set(tokens).size).toBe(1);
    expect(calls.count()).toBe(1);
    s.invalidate();
    const fresh = await s.getToken();
    expect(calls.count()).toBe(2);
    expect(fresh).not.toBe(tokens[0]);
  });

  it('renews the token when less than 60 s remain', async () => {
    const calls = countCalls('POST', '/v3/auth/tokens');
    const s = new KeystoneSession(authTokenOpts());
    const first = await s.getToken();
    const expires = Date.parse((await s.getAccess()).expires_at);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(expires - 120_000);
    expect(await s.getToken()).toBe(first);
    vi.setSystemTime(expires - 30_000);
    const renewed = await s.getToken();
    expect(renewed).not.toBe(first);
    expect(calls.count()).toBe(2);
  });

  it('finds catalog endpoints by type, interface and region', async () => {
    const s = new KeystoneSession(authTokenOpts());
    expect(await s.getEndpoint('identity')).toBe(`${fx.authUrl}/`);
    expect(await s.getEndpoint(fx.service.type, { region: 'RegionOne' })).toBe('http://127.0.0.1:8787/v1');
    expect(await s.getEndpoint(fx.service.type, { interface: 'publicURL' })).toBe('http://127.0.0.1:8787/v1');
    await expect(s.getEndpoint(fx.service.type, { interface: 'internal' })).rejects.toBeInstanceOf(EndpointNotFoundError);
    await expect(s.getEndpoint(fx.service.type, { region: 'RegionTwo' })).rejects.toBeInstanceOf(EndpointNotFoundError);
    await expect(s.getEndpoint('no-such-type')).rejects.toThrow('No public endpoint for service type no-such-type in the catalog');
    const regional = new KeystoneSession(authTokenOpts({ region_name: 'RegionTwo' }));
    await expect(regional.getEndpoint('identity')).rejects.toBeInstanceOf(EndpointNotFoundError);
  });

  it('has no catalog when unscoped', async () => {
    const s = new KeystoneSession(adminOpts());
    expect((await s.getAccess()).project).toBeUndefined();
    await expect(s.getEndpoint('identity')).rejects.toBeInstanceOf(EndpointNotFoundError);
  });

  it('re-authenticates once when its token was revoked', async () => {
    const calls = countCalls('POST', '/v3/auth/tokens');
    const s = new KeystoneSession(authTokenOpts());
    await ks.revokeToken(await s.getToken());
    const res = await s.request('GET', `users/${fx.member.id}`);
    expect(res.status).toBe(200);
    expect(res.body.user.id).toBe(fx.member.id);
    expect(calls.count()).toBe(2);
  });
});

// ------------------------------------------------------------------ authenticator

describe('KeystoneAuthenticator', () => {
  it('fills the context of a member token', async () => {
    const auth = new KeystoneAuthenticator(authTokenOpts(), captureLogger().logger);
    const ctx = await auth.authenticate({ 'x-auth-token': fx.member.token }, 'req-1');
    expect(ctx).toEqual({
      userId: fx.member.id,
      userName: fx.member.name,
      userDomainId: 'default',
      userDomainName: 'Default',
      projectId: fx.project.id,
      projectName: fx.project.name,
      projectDomainId: 'default',
      projectDomainName: 'Default',
      domainId: null,
      domainName: null,
      roles: expect.arrayContaining(['member', 'reader']),
      isAdminProject: true,
      systemScope: null,
      requestId: 'req-1',
      authToken: fx.member.token,
    });
    expect(ctx.roles).toHaveLength(2);
  });

  it('reports the admin roles and system scope', async () => {
    const auth = new KeystoneAuthenticator(authTokenOpts(), captureLogger().logger);
    const ctx = await auth.authenticate({ 'x-auth-token': fx.adminToken }, 'req-2');
    expect(ctx.roles.sort()).toEqual(['admin', 'member', 'reader']);
    expect(ctx.projectName).toBe('admin');
    const { token: systemToken } = await ks.issueToken({ username: 'admin', password: fx.adminPassword, system: true });
    const sys = await auth.authenticate({ 'X-Auth-Token': [systemToken] }, 'req-3');
    expect(sys.systemScope).toBe('all');
    expect(sys.projectId).toBeNull();
    expect(sys.roles).toContain('admin');
  });

  it('answers 401 for a missing, garbage or unknown token; a rejection is remembered briefly (docs/operations.md)', async () => {
    const auth = new KeystoneAuthenticator(authTokenOpts(), captureLogger().logger);
    const expect401 = async (headers: Record<string, string | undefined>) => {
      const err = await auth.authenticate(headers, 'r').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AuthError);
      expect((err as AuthError).status).toBe(401);
      expect((err as AuthError).message).toBe('The request you have made requires authentication.');
    };
    await expect401({});
    await expect401({ 'x-auth-token': '   ' });
    await expect401({ 'x-auth-token': 'garbage' });
    await expect401({ 'x-auth-token': `${fx.member.token}x` });
    const before = auth.validator.keystoneCalls;
    await expect401({ 'x-auth-token': 'garbage' });
    expect(auth.validator.keystoneCalls).toBe(before); // from the negative cache
    await expect(auth.validator.validate('garbage')).rejects.toBeInstanceOf(InvalidTokenError);
  });

  it('names the Keystone URI in WWW-Authenticate', () => {
    expect(new KeystoneAuthenticator(authTokenOpts(), captureLogger().logger).wwwAuthenticate()).toBe(`Keystone uri="${fx.authUrl}"`);
    expect(
      new KeystoneAuthenticator(authTokenOpts({ www_authenticate_uri: 'https://id.example/v3' }), captureLogger().logger).wwwAuthenticate(),
    ).toBe('Keystone uri="https://id.example/v3"');
  });

  it('serves a validated token from the cache without calling Keystone', async () => {
    const calls = countCalls('GET', '/v3/auth/tokens');
    const validator = new TokenValidator(authTokenOpts());
    const a = await validator.validate(fx.member.token);
    const b = await validator.validate(fx.member.token);
    expect(b).toEqual(a);
    expect(calls.count()).toBe(1);
    expect(validator.keystoneCalls).toBe(1);
  });

  it('makes one Keystone call for 20 concurrent validations of a new token', async () => {
    const { token } = await ks.issueToken({ userId: fx.member.id, password: fx.member.password, projectId: fx.project.id });
    const calls = countCalls('GET', '/v3/auth/tokens');
    const validator = new TokenValidator(authTokenOpts());
    const results = await Promise.all(Array.from({ length: 20 }, () => validator.validate(token)));
    expect(results.every((r) => r.userId === fx.member.id)).toBe(true);
    expect(calls.count()).toBe(1);
  });

  it('keeps serving a revoked token from the cache until token_cache_time passes', async () => {
    const { token } = await ks.issueToken({ userId: fx.member.id, password: fx.member.password, projectId: fx.project.id });
    const auth = new KeystoneAuthenticator(authTokenOpts({ token_cache_time: 2 }), captureLogger().logger);
    vi.useFakeTimers({ toFake: ['Date'] });
    const t0 = Date.now();
    expect((await auth.authenticate({ 'x-auth-token': token }, 'r')).userId).toBe(fx.member.id);
    await ks.revokeToken(token);
    // keystonemiddleware behaviour: still accepted from the cache (no Keystone call).
    expect((await auth.authenticate({ 'x-auth-token': token }, 'r')).userId).toBe(fx.member.id);
    expect(auth.validator.keystoneCalls).toBe(1);
    vi.setSystemTime(t0 + 2_100);
    await expect(auth.authenticate({ 'x-auth-token': token }, 'r')).rejects.toMatchObject({ status: 401 });
    expect(auth.validator.keystoneCalls).toBe(2);
  });

  it('rejects a cached entry once the token itself has expired', async () => {
    const validator = new TokenValidator(authTokenOpts({ token_cache_time: 100_000 }));
    const data = await validator.validate(fx.member.token);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(data.expiresAt.getTime() + 1);
    await expect(validator.validate(fx.member.token)).rejects.toThrow('Token has expired');
    expect(validator.keystoneCalls).toBe(1);
  });

  it('answers anonymously with delay_auth_decision', async () => {
    const auth = new KeystoneAuthenticator(authTokenOpts({ delay_auth_decision: true }), captureLogger().logger);
    const ctx = await auth.authenticate({ 'x-auth-token': 'garbage' }, 'r9');
    expect(ctx.userId).toBeNull();
    expect(ctx.roles).toEqual([]);
    expect(ctx.requestId).toBe('r9');
  });

  it('answers 503 when its own credentials are refused', async () => {
    const auth = new KeystoneAuthenticator(authTokenOpts({ password: 'wrong' }), captureLogger().logger);
    await expect(auth.authenticate({ 'x-auth-token': fx.member.token }, 'r')).rejects.toMatchObject({
      status: 503,
      message: 'The Keystone service is temporarily unavailable.',
    });
  });
});

// ------------------------------------------------------------------ outage

describe('Keystone outage', () => {
  it('answers 503 / LimitsUnavailableError while Keystone is down and recovers when it is back', async () => {
    await ks.startKeystone(OUTAGE_PORT);
    outageStarted = true;
    const authUrl = ks.keystoneUrl(OUTAGE_PORT);
    const { logger, lines } = captureLogger();
    const auth = new KeystoneAuthenticator(
      authTokenOpts({ auth_url: authUrl, http_request_max_retries: 1, http_connect_timeout: 5 }),
      logger,
    );
    const limits = new UnifiedLimitsProvider(
      { ...adminOpts(), auth_url: authUrl, system_scope: 'all', endpoint_id: fx.endpointId },
      logger,
    );
    expect((await auth.authenticate({ 'x-auth-token': fx.member.token }, 'r')).userId).toBe(fx.member.id);
    const { token: fresh } = await ks.issueToken({ userId: fx.member.id, password: fx.member.password, projectId: fx.project.id });

    await ks.stopKeystone(OUTAGE_PORT);
    await expect(auth.authenticate({ 'x-auth-token': fresh }, 'r')).rejects.toMatchObject({
      status: 503,
      message: 'The Keystone service is temporarily unavailable.',
    });
    // Already-validated tokens are still served from the cache.
    expect((await auth.authenticate({ 'x-auth-token': fx.member.token }, 'r')).userId).toBe(fx.member.id);
    await expect(limits.getLimits(fx.project.id)).rejects.toBeInstanceOf(LimitsUnavailableError);
    expect(lines.some((l) => l.level === 'error' && l.msg === 'Unable to validate token')).toBe(true);

    await ks.startKeystone(OUTAGE_PORT);
    expect((await auth.authenticate({ 'x-auth-token': fresh }, 'r')).projectId).toBe(fx.project.id);
    expect(await limits.getLimits(fx.project.id)).toEqual({ hours: 100, reservation: 5 });
    await ks.stopKeystone(OUTAGE_PORT);
    outageStarted = false;
  }, 180_000);
});

// ------------------------------------------------------------------ identity

describe('identity', () => {
  const session = () => new KeystoneSession(authTokenOpts());

  it('grants the bot role idempotently and logs the bot in scoped to the project', async () => {
    const s = session();
    await grantProjectRole(s, fx.project.id, fx.bot.id, fx.bot.roleId);
    await grantProjectRole(s, fx.project.id, fx.bot.id, fx.bot.roleId);
    const assignments = await ks.adminRequest('GET', `/role_assignments?user.id=${fx.bot.id}&scope.project.id=${fx.project.id}`);
    expect(assignments.role_assignments.map((a: { role: { id: string } }) => a.role.id)).toEqual([fx.bot.roleId]);

    const bot = botSession({ auth_url: fx.authUrl, bot_user_id: fx.bot.id, bot_password: fx.bot.password, projectId: fx.project.id });
    expect(await bot.getProjectId()).toBe(fx.project.id);
    expect(await bot.getUserId()).toBe(fx.bot.id);
    expect((await bot.getAccess()).roles?.map((r) => r.id)).toEqual([fx.bot.roleId]);
  });

  it('reports a failed grant', async () => {
    await expect(grantProjectRole(session(), fx.project.id, fx.bot.id, 'no-such-role')).rejects.toThrow(
      /Granting role no-such-role .* 404 Could not find role/,
    );
  });

  it('reads users with and without e-mail and full name', async () => {
    const s = session();
    expect(await getUser(s, fx.member.id)).toEqual({
      id: fx.member.id,
      name: fx.member.name,
      email: 'member@example.edu',
      full_name: 'Member Example',
    });
    const admin = await s.getUserId();
    expect(await getUser(s, admin)).toEqual({ id: admin, name: 'admin', email: null, full_name: null });
    expect(await getUser(s, '0123456789abcdef0123456789abcdef')).toBeNull();
  });
});

// ------------------------------------------------------------------ unified limits

describe('UnifiedLimitsProvider', () => {
  const limitOpts = (extra: Partial<OsloLimitOptions> = {}): OsloLimitOptions => ({
    ...adminOpts(),
    system_scope: 'all',
    endpoint_id: fx.endpointId,
    ...extra,
  });

  it('uses the registered default when the project has no limit', async () => {
    const { logger, lines } = captureLogger();
    const p = new UnifiedLimitsProvider(limitOpts(), logger);
    expect(await p.getLimits(fx.project.id)).toEqual({ hours: 100, reservation: 5 });
    expect(lines.filter((l) => l.level !== 'debug')).toEqual([]);
  });

  it('applies a project override (and finds the service by type and name)', async () => {
    const project = await ks.createProject();
    await ks.createProjectLimit(fx.service.id, project.id, 'reservation', 2);
    const byEndpoint = new UnifiedLimitsProvider(limitOpts(), captureLogger().logger);
    expect(await byEndpoint.getLimits(project.id)).toEqual({ hours: 100, reservation: 2 });
    const byService = new UnifiedLimitsProvider(
      limitOpts({
        endpoint_id: null,
        endpoint_service_type: fx.service.type,
        endpoint_service_name: fx.service.name,
        endpoint_region_name: 'RegionOne',
        endpoint_interface: 'publicURL',
      }),
      captureLogger().logger,
    );
    expect(await byService.getLimits(project.id)).toEqual({ hours: 100, reservation: 2 });
    expect(await byService.target()).toEqual({ serviceId: fx.service.id, regionId: 'RegionOne' });
  });

  it('hides overrides from a project-scoped token, with a warning', async () => {
    const project = await ks.createProject();
    await ks.createProjectLimit(fx.service.id, project.id, 'hours', 7);
    const { logger, lines } = captureLogger();
    const p = new UnifiedLimitsProvider(limitOpts({ system_scope: null, project_name: 'admin', project_domain_name: 'Default' }), logger);
    expect(lines.filter((l) => l.level === 'warn')).toHaveLength(1);
    expect(await p.getLimits(project.id)).toEqual({ hours: 100, reservation: 5 });
  });

  it('falls back to 0 and logs when neither a project nor a registered limit exists', async () => {
    const service = await ks.createService(ks.uniqueName('warre-nolimits'), ks.uniqueName('nectar-reservation'));
    const endpointId = await ks.createEndpoint(service.id, 'http://127.0.0.1:8788/v1');
    const { logger, lines } = captureLogger();
    const p = new UnifiedLimitsProvider(limitOpts({ endpoint_id: endpointId }), logger);
    expect(await p.getLimits(fx.project.id)).toEqual({ hours: 0, reservation: 0 });
    expect(lines.filter((l) => l.level === 'error').map((l) => l.msg)).toEqual([
      `Unable to find registered limit for resource hours for ${service.id} in region RegionOne.`,
      `Unable to find registered limit for resource reservation for ${service.id} in region RegionOne.`,
    ]);
  });

  it('caches limits for cache_time seconds', async () => {
    const project = await ks.createProject();
    const limitId = await ks.createProjectLimit(fx.service.id, project.id, 'reservation', 3);
    const calls = countCalls('GET', '/v3/limits?');
    const p = new UnifiedLimitsProvider(limitOpts({ cache_time: 2 }), captureLogger().logger);
    vi.useFakeTimers({ toFake: ['Date'] });
    const t0 = Date.now();
    expect((await p.getLimits(project.id)).reservation).toBe(3);
    await ks.updateProjectLimit(limitId, 4);
    expect((await p.getLimits(project.id)).reservation).toBe(3);
    expect(calls.count()).toBe(1);
    vi.setSystemTime(t0 + 2_100);
    expect((await p.getLimits(project.id)).reservation).toBe(4);
    expect(calls.count()).toBe(2);
  });

  it('throws UnknownProjectError for an unknown project, and caches that', async () => {
    const calls = countCalls('GET', '/v3/projects/');
    const p = new UnifiedLimitsProvider(limitOpts(), captureLogger().logger);
    const unknown = '0123456789abcdef0123456789abcdef';
    await expect(p.getLimits(unknown)).rejects.toBeInstanceOf(UnknownProjectError);
    await expect(p.getLimits(unknown)).rejects.toThrow(`Invalid project_id: ${unknown}`);
    expect(calls.count()).toBe(1);
    await expect(p.getLimits('')).rejects.toBeInstanceOf(UnknownProjectError);
  });

  it('fails clearly on an unknown endpoint id, naming the option (a LimitsConfigurationError: 500 with that text)', async () => {
    const p = new UnifiedLimitsProvider(limitOpts({ endpoint_id: 'no-such-endpoint' }), captureLogger().logger);
    const err = await p.getLimits(fx.project.id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LimitsConfigurationError);
    expect((err as Error).message).toBe('Quota limits cannot be read: [oslo_limit] endpoint_id no-such-endpoint was not found in Keystone');
    const byService = new UnifiedLimitsProvider(
      limitOpts({ endpoint_id: null, endpoint_service_type: 'no-such-type', endpoint_service_name: null }),
      captureLogger().logger,
    );
    await expect(byService.getLimits(fx.project.id)).rejects.toThrow(
      'Quota limits cannot be read: Keystone has no service matching [oslo_limit] endpoint_service_type no-such-type, endpoint_service_name (any)',
    );
  });

  it('names a limits user that may not read endpoints (LimitsConfigurationError), not "temporarily unavailable"', async () => {
    // The member has no system role: Keystone refuses it identity:get_endpoint.
    const p = new UnifiedLimitsProvider(
      { auth_url: fx.authUrl, user_id: fx.member.id, password: fx.member.password, project_id: fx.project.id, endpoint_id: fx.endpointId },
      captureLogger().logger,
    );
    const err = await p.getLimits(fx.project.id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LimitsConfigurationError);
    expect((err as Error).message).toBe(
      'Quota limits cannot be read: Keystone does not let the [oslo_limit] user read endpoints (it needs the reader role on the system: system_scope = all)',
    );
  });
});

describe('formatOverLimit', () => {
  it("words the message exactly as oslo.limit's ProjectOverLimit", () => {
    expect(formatOverLimit('c038f464e4094302a2559df2bef45b40', [{ resource: 'reservation', limit: 5, usage: 5, delta: 1 }])).toBe(
      'Project c038f464e4094302a2559df2bef45b40 is over a limit for [Resource reservation is over limit of 5 due to current usage 5 and delta 1]',
    );
    expect(
      formatOverLimit('c038f464e4094302a2559df2bef45b40', [
        { resource: 'reservation', limit: 5, usage: 5, delta: 1 },
        { resource: 'hours', limit: 100, usage: 95, delta: 10 },
      ]),
    ).toBe(
      'Project c038f464e4094302a2559df2bef45b40 is over a limit for [Resource hours is over limit of 100 due to current usage 95 and delta 10, Resource reservation is over limit of 5 due to current usage 5 and delta 1]',
    );
    expect(formatOverLimit('92b01fdd59264e3fb8fd1ae94fb87f2e', [{ resource: 'reservation', limit: 2, usage: 2.9, delta: 1 }])).toBe(
      'Project 92b01fdd59264e3fb8fd1ae94fb87f2e is over a limit for [Resource reservation is over limit of 2 due to current usage 2 and delta 1]',
    );
  });
});
