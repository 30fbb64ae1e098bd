/**
 * A real Keystone for tests (the Debian `keystone` package, MariaDB database,
 * uwsgi on 127.0.0.1:5001), plus admin helpers over plain fetch.
 *
 * `ensureKeystone()` reuses a Keystone that already answers; otherwise it installs
 * the packages (once per machine, ~1 min), creates the `keystone_test` database,
 * writes keystone.conf into a scratch directory, bootstraps admin/secret and
 * starts uwsgi, recording the master PID in the scratch directory. A lock
 * directory makes concurrent test workers wait for one setup.
 *
 * Everything the helpers create is named with a per-run random suffix and
 * recorded, so `cleanupKeystone()` can delete it and reruns never collide.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';

const run = promisify(execFile);

export const KEYSTONE_PORT = 5001;
export const ADMIN_PASSWORD = 'secret';
export const REGION = 'RegionOne';
const DB_NAME = 'keystone_test';
/** Fixed scratch directory, so a later run finds the PID files of the uwsgi it started. */
export const KEYSTONE_DIR = process.env.WARRE_KEYSTONE_DIR ?? join(tmpdir(), 'warre-keystone');
const LOCK_DIR = `${KEYSTONE_DIR}.lock`;

export function keystoneUrl(port = KEYSTONE_PORT): string {
  return `http://127.0.0.1:${port}/v3`;
}

/** Per-run suffix used in every name the helpers create. */
export const RUN_SUFFIX = randomBytes(4).toString('hex');
export function uniqueName(prefix: string): string {
  return `${prefix}-${RUN_SUFFIX}-${randomBytes(3).toString('hex')}`;
}

/**
 * fetch with `Connection: close`: uwsgi drops idle keep-alive sockets, so a
 * reused connection fails now and then (docs/interop.md#http-connections).
 */
function ksFetch(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { ...init, headers: { Connection: 'close', ...(init.headers as Record<string, string> | undefined) } });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** True when `GET /v3` on that port answers 200. */
export async function keystoneAnswers(port = KEYSTONE_PORT): Promise<boolean> {
  try {
    const res = await ksFetch(keystoneUrl(port), { signal: AbortSignal.timeout(3000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

/** Make sure Keystone runs on 127.0.0.1:5001 (install and bootstrap if needed). */
export async function ensureKeystone(): Promise<{ authUrl: string; adminPassword: string }> {
  if (!(await keystoneAnswers())) {
    await withLock(async () => {
      if (await keystoneAnswers()) return;
      await installPackages();
      await setupKeystone();
      await startKeystone();
    });
  }
  return { authUrl: keystoneUrl(), adminPassword: ADMIN_PASSWORD };
}

async function withLock(fn: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      mkdirSync(LOCK_DIR);
      writeFileSync(join(LOCK_DIR, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const owner = Number(safeRead(join(LOCK_DIR, 'pid')));
      if (owner && !pidAlive(owner)) {
        rmSync(LOCK_DIR, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${LOCK_DIR}`);
      await sleep(500);
    }
  }
  try {
    await fn();
  } finally {
    rmSync(LOCK_DIR, { recursive: true, force: true });
  }
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function installPackages(): Promise<void> {
  if (existsSync('/usr/bin/keystone-manage') && existsSync('/usr/bin/keystone-wsgi-public') && existsSync('/usr/bin/uwsgi')) return;
  const args = ['install', '-y', '-q', '--no-install-recommends', '-o', 'DPkg::Lock::Timeout=600', 'keystone', 'python3-openstackclient'];
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const opts = { env, maxBuffer: 64 * 1024 * 1024, timeout: 15 * 60_000 };
  try {
    await run('apt-get', args, opts);
  } catch {
    await run('apt-get', ['update', '-q', '-o', 'DPkg::Lock::Timeout=600'], opts);
    await run('apt-get', args, opts);
  }
}

/** Fresh database, configuration, keys and bootstrap in {@link KEYSTONE_DIR}. */
async function setupKeystone(): Promise<void> {
  rmSync(KEYSTONE_DIR, { recursive: true, force: true });
  mkdirSync(KEYSTONE_DIR, { recursive: true });
  const db = await mysql.createConnection({ host: '127.0.0.1', port: 3306, user: 'root' });
  try {
    await db.query(`DROP DATABASE IF EXISTS ${DB_NAME}`);
    await db.query(`CREATE DATABASE ${DB_NAME}`);
  } finally {
    await db.end();
  }
  const conf = join(KEYSTONE_DIR, 'keystone.conf');
  writeFileSync(
    conf,
    [
      '[DEFAULT]',
      `log_file = ${join(KEYSTONE_DIR, 'keystone.log')}`,
      '',
      '[database]',
      `connection = mysql+pymysql://root@127.0.0.1:3306/${DB_NAME}`,
      '',
      '[token]',
      'provider = fernet',
      '',
      '[fernet_tokens]',
      `key_repository = ${join(KEYSTONE_DIR, 'fernet-keys')}`,
      '',
      '[credential]',
      `key_repository = ${join(KEYSTONE_DIR, 'credential-keys')}`,
      '',
    ].join('\n'),
  );
  const manage = (...a: string[]) =>
    run('keystone-manage', ['--config-file', conf, ...a], { maxBuffer: 64 * 1024 * 1024, timeout: 10 * 60_000 });
  await manage('db_sync');
  await manage('fernet_setup', '--keystone-user', 'root', '--keystone-group', 'root');
  await manage('credential_setup', '--keystone-user', 'root', '--keystone-group', 'root');
  await manage(
    'bootstrap',
    '--bootstrap-password',
    ADMIN_PASSWORD,
    '--bootstrap-region-id',
    REGION,
    '--bootstrap-public-url',
    `${keystoneUrl()}/`,
    '--bootstrap-admin-url',
    `${keystoneUrl()}/`,
  );
}

function pidFile(port: number): string {
  return join(KEYSTONE_DIR, `uwsgi-${port}.pid`);
}

/**
 * Start uwsgi serving Keystone on a port (default 5001) from the scratch
 * directory's configuration, and wait until it answers. A second port gives a
 * separate server on the same database (tokens are valid on both), which an
 * outage test can stop without disturbing other test files.
 */
export async function startKeystone(port = KEYSTONE_PORT): Promise<void> {
  if (await keystoneAnswers(port)) return;
  const conf = join(KEYSTONE_DIR, 'keystone.conf');
  if (!existsSync(conf)) throw new Error(`${conf} missing: call ensureKeystone() first`);
  const log = openSync(join(KEYSTONE_DIR, `uwsgi-${port}.log`), 'a');
  const child = spawn(
    'uwsgi',
    [
      '--plugin',
      'python3',
      '--http-socket',
      `127.0.0.1:${port}`,
      '--wsgi-file',
      '/usr/bin/keystone-wsgi-public',
      '--processes',
      '2',
      '--threads',
      '1',
      '--master',
      '--die-on-term',
    ],
    {
      detached: true, // setsid: survives the test worker, reused by the next run
      stdio: ['ignore', log, log],
      env: { ...process.env, OS_KEYSTONE_CONFIG_FILES: conf },
    },
  );
  closeSync(log);
  child.unref();
  if (!child.pid) throw new Error('uwsgi did not start');
  writeFileSync(pidFile(port), String(child.pid));
  const deadline = Date.now() + 120_000;
  while (!(await keystoneAnswers(port))) {
    if (!pidAlive(child.pid)) throw new Error(`uwsgi exited; see ${join(KEYSTONE_DIR, `uwsgi-${port}.log`)}`);
    if (Date.now() > deadline) throw new Error(`Keystone on port ${port} did not answer within 120 s`);
    await sleep(300);
  }
}

/** SIGINT to the uwsgi master this harness started on that port; waits until it is gone. */
export async function stopKeystone(port = KEYSTONE_PORT): Promise<void> {
  const pid = Number(safeRead(pidFile(port)));
  if (!pid) throw new Error(`no uwsgi PID recorded for port ${port} in ${KEYSTONE_DIR}: not started by this harness`);
  if (pidAlive(pid)) process.kill(pid, 'SIGINT');
  const deadline = Date.now() + 60_000;
  while (pidAlive(pid) || (await keystoneAnswers(port))) {
    if (Date.now() > deadline) throw new Error(`uwsgi ${pid} did not stop`);
    await sleep(200);
  }
  rmSync(pidFile(port), { force: true });
}

// ---------------------------------------------------------------- admin helpers

export interface Named {
  id: string;
  name: string;
}

/** Things created through the helpers, deleted (in reverse) by cleanupKeystone(). */
const created: { path: string }[] = [];

/** A password token as `{token, body}`; scope by project id, `'system'`, or none. */
export async function issueToken(opts: {
  userId?: string;
  username?: string;
  password: string;
  projectId?: string;
  system?: boolean;
  authUrl?: string;
}): Promise<{ token: string; body: Record<string, any> }> {
  const user = opts.userId
    ? { id: opts.userId, password: opts.password }
    : { name: opts.username, domain: { id: 'default' }, password: opts.password };
  const auth: Record<string, unknown> = { identity: { methods: ['password'], password: { user } } };
  if (opts.system) auth.scope = { system: { all: true } };
  else if (opts.projectId) auth.scope = { project: { id: opts.projectId } };
  const res = await ksFetch(`${opts.authUrl ?? keystoneUrl()}/auth/tokens`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ auth }),
  });
  const body = (await res.json()) as Record<string, any>;
  const token = res.headers.get('x-subject-token');
  if (res.status !== 201 || !token) throw new Error(`token request failed: ${res.status} ${JSON.stringify(body)}`);
  return { token, body: body.token };
}

let adminTokenCache: { token: string; expires: number } | null = null;

/** A project-scoped (admin project) admin token, reused while it is fresh. */
export async function adminToken(): Promise<string> {
  if (adminTokenCache && adminTokenCache.expires - Date.now() > 300_000) return adminTokenCache.token;
  const projectRes = await ksFetch(`${keystoneUrl()}/auth/tokens`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: { methods: ['password'], password: { user: { name: 'admin', domain: { name: 'Default' }, password: ADMIN_PASSWORD } } },
        scope: { project: { name: 'admin', domain: { name: 'Default' } } },
      },
    }),
  });
  const body = (await projectRes.json()) as { token: { expires_at: string } };
  const token = projectRes.headers.get('x-subject-token');
  if (projectRes.status !== 201 || !token) throw new Error(`admin login failed: ${projectRes.status}`);
  adminTokenCache = { token, expires: Date.parse(body.token.expires_at) };
  return token;
}

/** Admin call to Keystone; returns the parsed body (null when empty). Throws on unexpected status. */
export async function adminRequest(method: string, path: string, body?: unknown, expect: number[] = [200, 201, 204]): Promise<any> {
  const res = await ksFetch(`${keystoneUrl()}${path}`, {
    method,
    headers: {
      'X-Auth-Token': await adminToken(),
      Accept: 'application/json',
      ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!expect.includes(res.status)) throw new Error(`${method} ${path} → ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

export async function createProject(name = uniqueName('warre-proj')): Promise<Named> {
  const { project } = await adminRequest('POST', '/projects', { project: { name, domain_id: 'default' } });
  created.push({ path: `/projects/${project.id}` });
  return { id: project.id, name: project.name };
}

export async function createUser(opts: { name?: string; password: string; email?: string; full_name?: string }): Promise<Named> {
  const user: Record<string, unknown> = { name: opts.name ?? uniqueName('warre-user'), domain_id: 'default', password: opts.password };
  if (opts.email !== undefined) user.email = opts.email;
  if (opts.full_name !== undefined) user.full_name = opts.full_name;
  const res = await adminRequest('POST', '/users', { user });
  created.push({ path: `/users/${res.user.id}` });
  return { id: res.user.id, name: res.user.name };
}

export async function createRole(name = uniqueName('warre-role')): Promise<Named> {
  const { role } = await adminRequest('POST', '/roles', { role: { name } });
  created.push({ path: `/roles/${role.id}` });
  return { id: role.id, name: role.name };
}

/** Id of an existing role by name (e.g. `member`, `admin`, `reader`). */
export async function roleId(name: string): Promise<string> {
  const { roles } = await adminRequest('GET', `/roles?name=${encodeURIComponent(name)}`);
  if (!roles[0]) throw new Error(`no role ${name}`);
  return roles[0].id;
}

export async function assignRole(projectId: string, userId: string, role: string): Promise<void> {
  await adminRequest('PUT', `/projects/${projectId}/users/${userId}/roles/${role}`);
}

export async function createService(name = uniqueName('warre'), type = 'nectar-reservation'): Promise<Named & { type: string }> {
  const { service } = await adminRequest('POST', '/services', { service: { name, type, enabled: true } });
  created.push({ path: `/services/${service.id}` });
  return { id: service.id, name: service.name, type: service.type };
}

export async function createEndpoint(serviceId: string, url: string, iface = 'public', region = REGION): Promise<string> {
  const { endpoint } = await adminRequest('POST', '/endpoints', {
    endpoint: { service_id: serviceId, url, interface: iface, region_id: region, enabled: true },
  });
  created.push({ path: `/endpoints/${endpoint.id}` });
  return endpoint.id;
}

export async function createRegisteredLimit(serviceId: string, resource: string, defaultLimit: number, region = REGION): Promise<string> {
  const { registered_limits } = await adminRequest('POST', '/registered_limits', {
    registered_limits: [{ service_id: serviceId, region_id: region, resource_name: resource, default_limit: defaultLimit }],
  });
  created.push({ path: `/registered_limits/${registered_limits[0].id}` });
  return registered_limits[0].id;
}

/** A project limit; a registered limit for that service/region/resource must exist (Keystone rule). */
export async function createProjectLimit(
  serviceId: string,
  projectId: string,
  resource: string,
  limit: number,
  region = REGION,
): Promise<string> {
  const { limits } = await adminRequest('POST', '/limits', {
    limits: [{ service_id: serviceId, project_id: projectId, region_id: region, resource_name: resource, resource_limit: limit }],
  });
  created.push({ path: `/limits/${limits[0].id}` });
  return limits[0].id;
}

export async function updateProjectLimit(limitId: string, limit: number): Promise<void> {
  await adminRequest('PATCH', `/limits/${limitId}`, { limit: { resource_limit: limit } });
}

/** Revoke a token (`DELETE /v3/auth/tokens`); Keystone rejects it from then on. */
export async function revokeToken(token: string): Promise<void> {
  const res = await ksFetch(`${keystoneUrl()}/auth/tokens`, {
    method: 'DELETE',
    headers: { 'X-Auth-Token': await adminToken(), 'X-Subject-Token': token },
  });
  await res.arrayBuffer();
  if (res.status !== 204) throw new Error(`revoke failed: ${res.status}`);
}

/** Delete everything the helpers created in this process (newest first). */
export async function cleanupKeystone(): Promise<void> {
  const items = created.splice(0).reverse();
  for (const item of items) {
    await adminRequest('DELETE', item.path, undefined, [204, 404]).catch(() => undefined);
  }
}

// ---------------------------------------------------------------- fixtures

export interface WarreFixtures {
  authUrl: string;
  adminPassword: string;
  /** A project with a member user (`member` + `reader` roles). */
  project: Named;
  member: Named & { password: string; token: string };
  /** The bootstrap admin, token scoped to the `admin` project (roles admin, member, reader). */
  adminToken: string;
  /** A second project, for "someone else's project" cases. */
  otherProject: Named;
  /** Service `warre-<suffix>` of type `nectar-reservation-<suffix>` with one public RegionOne endpoint. */
  service: Named & { type: string };
  endpointId: string;
  /** Registered limits on that service: hours 100, reservation 5. */
  registeredLimits: { hours: number; reservation: number };
  /** The bot user and the role the worker grants it. */
  bot: { id: string; password: string; roleId: string };
  cleanup(): Promise<void>;
}

/**
 * Everything an API-level test needs: users, tokens, a Warre service endpoint
 * with registered limits. The service type is namespaced per call so the
 * catalog never holds two `nectar-reservation` entries from different runs.
 */
export async function createWarreFixtures(): Promise<WarreFixtures> {
  const { authUrl, adminPassword } = await ensureKeystone();
  const project = await createProject();
  const otherProject = await createProject();
  const password = `pw-${randomBytes(8).toString('hex')}`;
  const memberUser = await createUser({ password, email: 'member@example.edu', full_name: 'Member Example' });
  await assignRole(project.id, memberUser.id, await roleId('member'));
  await assignRole(project.id, memberUser.id, await roleId('reader'));
  const { token } = await issueToken({ userId: memberUser.id, password, projectId: project.id });
  const service = await createService(uniqueName('warre'), uniqueName('nectar-reservation'));
  const endpointId = await createEndpoint(service.id, 'http://127.0.0.1:8787/v1');
  await createRegisteredLimit(service.id, 'hours', 100);
  await createRegisteredLimit(service.id, 'reservation', 5);
  const botPassword = `bot-${randomBytes(8).toString('hex')}`;
  const botUser = await createUser({ password: botPassword });
  const botRole = await createRole();
  return {
    authUrl,
    adminPassword,
    project,
    otherProject,
    member: { ...memberUser, password, token },
    adminToken: await adminToken(),
    service,
    endpointId,
    registeredLimits: { hours: 100, reservation: 5 },
    bot: { id: botUser.id, password: botPassword, roleId: botRole.id },
    cleanup: cleanupKeystone,
  };
}
