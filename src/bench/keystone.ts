/**
 * Keystone for `npm run bench -- --keystone`: creates, in a running Keystone,
 * what an API under `auth_strategy = keystone` needs (three projects, a
 * member and an admin user, a Warre service + endpoint with registered
 * limits high enough for every create of the run), issues their tokens once,
 * and deletes it all again in `cleanup()`.
 *
 * The API validates each token once per worker and then serves it from its
 * token cache (`token_cache_time`, 300 s), and reads limits once per project
 * per `[oslo_limit] cache_time` (60 s): the warm-cache case.
 */
import { randomBytes } from 'node:crypto';
import { errorMessage, KeystoneSession } from '../drivers/keystone/session.js';

export interface KeystoneBenchOptions {
  /** Keystone v3 URL, e.g. http://127.0.0.1:5001/v3. */
  authUrl: string;
  /** An admin able to create projects, users, services and limits (default `admin`). */
  adminUser?: string;
  adminPassword: string;
  /** The admin's project, which also scopes Warre's service token (default `admin`). */
  adminProject?: string;
  /** Domain of the admin user and project (default `Default`). */
  domain?: string;
  /** Region of Warre's endpoint and limits (default `RegionOne`). */
  region?: string;
}

export interface KeystoneBench {
  /** `WARRE_*` variables for the API process: keystone auth, token validation, unified limits. */
  env: Record<string, string>;
  /** Keystone project ids the benchmark data must use (seed the member/admin/create projects with them). */
  projects: { member: string; admin: string; create: string };
  /** `X-Auth-Token` of a member of `projects.member` (roles member, reader). */
  memberHeaders: Record<string, string>;
  /** `X-Auth-Token` of an admin of `projects.admin` (roles admin, member, reader). */
  adminHeaders: Record<string, string>;
  /** `X-Auth-Token` of the member in `projects.create`, for the sequential creates. */
  creatorHeaders: Record<string, string>;
  /** The headers for whoever calls with one of `projects`' ids (fits the bench's HeaderProvider). */
  headers(who: { projectId: string }): Promise<Record<string, string>>;
  /** Deletes everything created here (newest first). */
  cleanup(): Promise<void>;
}

/** Limits no run reaches: 200 creates of 20 hours each. */
const REGISTERED_LIMITS = { reservation: 1_000_000, hours: 1_000_000_000 };

export async function setupKeystoneBench(opts: KeystoneBenchOptions): Promise<KeystoneBench> {
  const adminUser = opts.adminUser ?? 'admin';
  const adminProject = opts.adminProject ?? 'admin';
  const domain = opts.domain ?? 'Default';
  const region = opts.region ?? 'RegionOne';
  const suffix = randomBytes(4).toString('hex');
  const admin = new KeystoneSession({
    auth_url: opts.authUrl,
    username: adminUser,
    password: opts.adminPassword,
    user_domain_name: domain,
    project_name: adminProject,
    project_domain_name: domain,
  });
  const created: string[] = [];

  /** An admin call that must succeed; returns the body. */
  // biome-ignore lint/suspicious/noExplicitAny: Keystone's JSON answers, read field by field by the bench set-up.
  const call = async (method: string, path: string, body?: unknown): Promise<any> => {
    const res = await admin.request(method, path, body === undefined ? {} : { body });
    if (res.status < 200 || res.status > 299) throw new Error(`Keystone ${method} ${path}: ${res.status} ${errorMessage(res.body)}`);
    return res.body;
  };
  const create = async (path: string, key: string, body: unknown): Promise<string> => {
    const res = await call('POST', path, { [key]: body });
    const id: string = Array.isArray(res[key]) ? res[key][0].id : res[key].id;
    created.push(`${path}/${id}`);
    return id;
  };
  const roleId = async (name: string): Promise<string> => {
    const { roles } = await call('GET', `roles?name=${encodeURIComponent(name)}`);
    if (!roles[0]) throw new Error(`Keystone has no role ${name}`);
    return roles[0].id;
  };
  const cleanup = async (): Promise<void> => {
    for (const path of created.splice(0).reverse()) {
      await admin.request('DELETE', path).catch(() => undefined); // best effort: a leftover is harmless
    }
  };

  try {
    const domainId: string = (await admin.getAccess()).project?.domain?.id ?? 'default';
    const project = (name: string) => create('projects', 'project', { name: `warre-bench-${name}-${suffix}`, domain_id: domainId });
    const projects = { member: await project('member'), admin: await project('admin'), create: await project('create') };

    const password = `bench-${randomBytes(12).toString('hex')}`;
    const user = (name: string) => create('users', 'user', { name: `warre-bench-${name}-${suffix}`, domain_id: domainId, password });
    const memberId = await user('member');
    const adminId = await user('admin');
    const [member, adminRole] = [await roleId('member'), await roleId('admin')];
    for (const p of [projects.member, projects.create]) await call('PUT', `projects/${p}/users/${memberId}/roles/${member}`);
    await call('PUT', `projects/${projects.admin}/users/${adminId}/roles/${adminRole}`);

    // oslo.limit finds the limits through an endpoint of Warre's service; a bench-only type keeps a real one untouched.
    const serviceId = await create('services', 'service', {
      name: `warre-bench-${suffix}`,
      type: `nectar-reservation-bench-${suffix}`,
      enabled: true,
    });
    const endpointId = await create('endpoints', 'endpoint', {
      service_id: serviceId,
      interface: 'public',
      region_id: region,
      url: 'http://127.0.0.1:8787/v1',
      enabled: true,
    });
    for (const [resource, limit] of Object.entries(REGISTERED_LIMITS)) {
      await create('registered_limits', 'registered_limits', [
        { service_id: serviceId, region_id: region, resource_name: resource, default_limit: limit },
      ]);
    }

    const token = async (userId: string, projectId: string) => ({
      'X-Auth-Token': await new KeystoneSession({ auth_url: opts.authUrl, user_id: userId, password, project_id: projectId }).getToken(),
    });
    const memberHeaders = await token(memberId, projects.member);
    const adminHeaders = await token(adminId, projects.admin);
    const creatorHeaders = await token(memberId, projects.create);
    const byProject = new Map([
      [projects.member, memberHeaders],
      [projects.admin, adminHeaders],
      [projects.create, creatorHeaders],
    ]);

    const service = {
      auth_url: opts.authUrl,
      username: adminUser,
      password: opts.adminPassword,
      user_domain_name: domain,
    };
    const env: Record<string, string> = {
      WARRE_DEFAULT__AUTH_STRATEGY: 'keystone',
      ...section('KEYSTONE_AUTHTOKEN', {
        ...service,
        project_name: adminProject,
        project_domain_name: domain,
        www_authenticate_uri: opts.authUrl,
      }),
      ...section('OSLO_LIMIT', { ...service, system_scope: 'all', endpoint_id: endpointId }),
    };

    return {
      env,
      projects,
      memberHeaders,
      adminHeaders,
      creatorHeaders,
      headers: async (who) => {
        const h = byProject.get(who.projectId);
        if (!h) throw new Error(`no Keystone token for project ${who.projectId}: seed with the ids in KeystoneBench.projects`);
        return h;
      },
      cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** `{auth_url: x}` of section `OSLO_LIMIT` → `{WARRE_OSLO_LIMIT__AUTH_URL: x}`. */
function section(name: string, options: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(options).map(([k, v]) => [`WARRE_${name}__${k.toUpperCase()}`, v]));
}
