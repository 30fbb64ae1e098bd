/**
 * The web portal (docs/dashboard.md): the built single-page application of
 * `dist/dashboard/` at `/dashboard/`, and the portal's own small API under
 * `/dashboard/api/`:
 *
 * - `GET  /dashboard/api/config`  (public) which sign-in form to show;
 * - `GET  /dashboard/api/session` (identity required) who the caller is and
 *   which portal pages policy lets them use;
 * - `POST /dashboard/api/tokens`  (public, keystone only) password, application
 *   credential or re-scope (token) sign-in, forwarded to Keystone's
 *   `/v3/auth/tokens`, so Keystone needs no CORS set-up;
 * - `DELETE /dashboard/api/tokens` revokes the caller's token (sign-out).
 *
 * Static files are read into memory once, at start-up: the build output is a
 * handful of files, so a hand-written handler (exact paths, no directory
 * walking at request time, precomputed ETags) is smaller than a static-file
 * dependency and cannot serve anything outside that set.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RequestContext } from '../auth/context.js';
import { BadRequest, NotFound } from '../domain/errors.js';
import type { TlsOptions } from '../drivers/http.js';
import { errorMessage, identityBase, KeystoneUnavailableError, keystoneFetch } from '../drivers/keystone/session.js';
import type { Authorizer } from './request.js';
import { isObject } from './validate.js';

export const DASHBOARD_PREFIX = '/dashboard';

/** Paths of the portal that need no identity: everything but the session call. */
export function isPublicDashboardPath(p: string): boolean {
  if (p !== DASHBOARD_PREFIX && !p.startsWith(`${DASHBOARD_PREFIX}/`)) return false;
  return p !== '/dashboard/api/session' && p !== '/dashboard/api/session/';
}

/** The strict policy every portal answer carries: only this origin's scripts and styles. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
};

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

interface StaticFile {
  body: Buffer;
  type: string;
  etag: string;
  /** Vite's content-hashed assets never change under their name. */
  immutable: boolean;
}

export interface KeystoneSignIn {
  /** `[keystone_authtoken] auth_url` (Warre's own way to Keystone), else `www_authenticate_uri`. */
  authUrl: string;
  tls?: TlsOptions;
  timeoutMs: number;
}

export interface DashboardOptions {
  enabled: boolean;
  /** Directory of the built portal; default: `dist/dashboard` next to the compiled server. */
  dir?: string;
  authStrategy: 'noauth' | 'keystone';
  keystone?: KeystoneSignIn | null;
}

/** `dist/api/dashboard.js` → `dist/dashboard`; from the sources (tests) → `<repo>/dist/dashboard`. */
export function defaultDashboardDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const beside = path.resolve(here, '../dashboard');
  if (fs.existsSync(path.join(beside, 'assets'))) return beside;
  return path.resolve(here, '../../dist/dashboard');
}

function loadFiles(dir: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  const walk = (sub: string) => {
    for (const entry of fs.readdirSync(path.join(dir, sub), { withFileTypes: true })) {
      const rel = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (entry.name !== '.vite') walk(rel);
        continue;
      }
      const type = TYPES[path.extname(entry.name)];
      if (!type) continue;
      const body = fs.readFileSync(path.join(dir, rel));
      const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
      files.set(rel, { body, type, etag, immutable: rel.startsWith('assets/') });
    }
  };
  if (fs.existsSync(path.join(dir, 'index.html'))) walk('');
  return files;
}

function sendFile(req: FastifyRequest, reply: FastifyReply, f: StaticFile): FastifyReply {
  void reply.headers(SECURITY_HEADERS);
  void reply.header('Content-Type', f.type).header('ETag', f.etag);
  void reply.header('Cache-Control', f.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
  if (req.headers['if-none-match'] === f.etag) return reply.status(304).send();
  return reply.status(200).send(req.method === 'HEAD' ? undefined : f.body);
}

/** Which portal pages policy lets this caller open (the same rules the API applies). */
function capabilities(authz: Authorizer, req: FastifyRequest) {
  return {
    manage_flavors: authz.allowed(req, 'warre:flavor:create'),
    manage_grants: authz.allowed(req, 'warre:flavorproject:create'),
    list_grants: authz.allowed(req, 'warre:flavorproject:list'),
    manage_maintenance: authz.allowed(req, 'warre:maintenancewindow:create'),
    all_projects: authz.allowed(req, 'warre:reservation:list:all'),
    all_flavors: authz.allowed(req, 'warre:flavor:list:all'),
  };
}

function sessionView(c: RequestContext) {
  return {
    user_id: c.userId,
    user_name: c.userName,
    project_id: c.projectId,
    project_name: c.projectName,
    roles: c.roles,
  };
}

// ------------------------------------------------------------------ Keystone sign-in

class SignInRefused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function str(body: Record<string, unknown>, name: string, max = 255): string | null {
  const v = body[name];
  if (v === undefined || v === null || v === '') return null;
  if (typeof v !== 'string') throw new BadRequest(`${name} must be a string`);
  if (v.length > max) throw new BadRequest(`${name} is too long`);
  return v;
}

/** The Keystone `auth` object for a sign-in body; the secret never leaves this function but in it. */
function authRequest(body: Record<string, unknown>, currentToken: string | null): { auth: Record<string, unknown>; wantsProject: boolean } {
  const method = str(body, 'method') ?? 'password';
  if (method === 'password') {
    const username = str(body, 'username');
    const password = str(body, 'password', 4096);
    if (!username || !password) throw new BadRequest('Give a user name and a password');
    const domain = str(body, 'domain') ?? 'Default';
    const project = str(body, 'project');
    const auth: Record<string, unknown> = {
      identity: { methods: ['password'], password: { user: { name: username, domain: { name: domain }, password } } },
    };
    if (project) auth.scope = { project: { name: project, domain: { name: domain } } };
    return { auth, wantsProject: !project };
  }
  if (method === 'application_credential') {
    const id = str(body, 'application_credential_id');
    const secret = str(body, 'secret', 4096);
    if (!id || !secret) throw new BadRequest('Give an application credential ID and its secret');
    // An application credential is bound to its project: no scope may be asked for.
    return { auth: { identity: { methods: ['application_credential'], application_credential: { id, secret } } }, wantsProject: false };
  }
  if (method === 'token') {
    const projectId = str(body, 'project_id', 64);
    if (!currentToken) throw new BadRequest('Send the current token in X-Auth-Token to switch project');
    if (!projectId) throw new BadRequest('Give the project_id to switch to');
    return {
      auth: { identity: { methods: ['token'], token: { id: currentToken } }, scope: { project: { id: projectId } } },
      wantsProject: false,
    };
  }
  throw new BadRequest('method must be password, application_credential or token');
}

interface Issued {
  token: string;
  body: {
    expires_at: string;
    methods?: string[];
    user: { id: string; name: string; domain?: { id: string; name: string } };
    project?: { id: string; name: string; domain?: { id: string; name: string } };
    roles?: { id: string; name: string }[];
    application_credential?: { id: string };
  };
}

async function issue(ks: KeystoneSignIn, auth: Record<string, unknown>): Promise<Issued> {
  const base = identityBase(ks.authUrl);
  const res = await keystoneFetch('POST', `${base}/auth/tokens?nocatalog`, {
    body: { auth },
    timeoutMs: ks.timeoutMs,
    ...(ks.tls ? { tls: ks.tls } : {}),
  });
  const token = res.headers['x-subject-token'];
  if (res.status === 201 && typeof token === 'string') return { token, body: (res.body as { token: Issued['body'] }).token };
  if (res.status === 401)
    throw new SignInRefused(401, 'The user name, password or domain (or the application credential) was not accepted by Keystone.');
  if (res.status === 403 || res.status === 404) throw new SignInRefused(403, `Keystone refused the scope: ${errorMessage(res.body)}`);
  throw new SignInRefused(res.status >= 400 && res.status < 500 ? 400 : 502, `Keystone answered ${res.status}: ${errorMessage(res.body)}`);
}

async function projectsOf(ks: KeystoneSignIn, token: string): Promise<{ id: string; name: string }[]> {
  const res = await keystoneFetch('GET', `${identityBase(ks.authUrl)}/auth/projects`, {
    headers: { 'X-Auth-Token': token },
    timeoutMs: ks.timeoutMs,
    ...(ks.tls ? { tls: ks.tls } : {}),
  });
  if (res.status !== 200) return [];
  const list = (res.body as { projects?: { id: string; name: string; enabled?: boolean }[] }).projects ?? [];
  return list
    .filter((p) => p.enabled !== false)
    .map((p) => ({ id: p.id, name: p.name }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

function tokenView(t: Issued, projects: { id: string; name: string }[]) {
  const project = t.body.project ? { id: t.body.project.id, name: t.body.project.name } : null;
  const list = projects.length > 0 ? projects : project ? [project] : [];
  return {
    token: t.token,
    expires_at: t.body.expires_at,
    user: { id: t.body.user.id, name: t.body.user.name, domain: t.body.user.domain?.name ?? null },
    project,
    roles: (t.body.roles ?? []).map((r) => r.name).sort(),
    projects: list,
    application_credential: Boolean(t.body.application_credential) || (t.body.methods ?? []).includes('application_credential'),
  };
}

function headerToken(req: FastifyRequest): string | null {
  const v = req.headers['x-auth-token'];
  const s = Array.isArray(v) ? v[0] : v;
  return s?.trim() ? s.trim() : null;
}

export async function dashboardRoutes(app: FastifyInstance, opts: DashboardOptions, authz: Authorizer): Promise<void> {
  if (!opts.enabled) return;
  const dir = opts.dir ?? defaultDashboardDir();
  const files = loadFiles(dir);
  const index = files.get('index.html');

  app.get('/dashboard/api/config', async (_req, reply) => {
    void reply.header('Cache-Control', 'no-cache');
    return { auth_strategy: opts.authStrategy };
  });

  app.get('/dashboard/api/session', async (req, reply) => {
    void reply.header('Cache-Control', 'no-store');
    const c = req.warreContext!;
    return { auth_strategy: opts.authStrategy, ...sessionView(c), can: capabilities(authz, req) };
  });

  app.post('/dashboard/api/tokens', async (req, reply) => {
    void reply.header('Cache-Control', 'no-store');
    const ks = opts.keystone;
    if (opts.authStrategy !== 'keystone' || !ks) throw new NotFound('Keystone sign-in is not available: auth_strategy is not keystone');
    const body = req.body;
    if (!isObject(body)) throw new BadRequest('The request body must be a JSON object');
    const { auth, wantsProject } = authRequest(body, headerToken(req));
    try {
      let issued = await issue(ks, auth);
      let projects = issued.body.application_credential ? [] : await projectsOf(ks, issued.token);
      // Signed in without a project: scope to the first one the user has.
      if (wantsProject && !issued.body.project && projects[0]) {
        issued = await issue(ks, {
          identity: { methods: ['token'], token: { id: issued.token } },
          scope: { project: { id: projects[0].id } },
        });
        projects = await projectsOf(ks, issued.token);
      }
      req.log.info({ user: issued.body.user.id, project: issued.body.project?.id ?? null, methods: issued.body.methods }, 'portal sign-in');
      return tokenView(issued, projects);
    } catch (err) {
      if (err instanceof SignInRefused) return reply.status(err.status).send({ error_message: err.message });
      if (err instanceof KeystoneUnavailableError) {
        req.log.error({ error: err.message }, 'portal sign-in: Keystone unavailable');
        return reply.status(503).send({ error_message: 'The Keystone service is temporarily unavailable.' });
      }
      throw err;
    }
  });

  app.delete('/dashboard/api/tokens', async (req, reply) => {
    const ks = opts.keystone;
    if (opts.authStrategy !== 'keystone' || !ks) throw new NotFound('Keystone sign-in is not available: auth_strategy is not keystone');
    const token = headerToken(req);
    if (!token) throw new BadRequest('Send the token to revoke in X-Auth-Token');
    try {
      // A user may revoke their own token: the same token authenticates and is the subject.
      await keystoneFetch('DELETE', `${identityBase(ks.authUrl)}/auth/tokens`, {
        headers: { 'X-Auth-Token': token, 'X-Subject-Token': token },
        timeoutMs: ks.timeoutMs,
        ...(ks.tls ? { tls: ks.tls } : {}),
      });
    } catch (err) {
      // Sign-out still forgets the token in the page; an unrevoked token only expires later.
      if (!(err instanceof KeystoneUnavailableError)) throw err;
      req.log.warn({ error: err.message }, 'portal sign-out: token not revoked, Keystone unavailable');
    }
    return reply.status(204).send();
  });

  app.route({
    method: ['GET', 'HEAD'],
    url: '/dashboard/api/*',
    handler: async (req) => {
      throw new NotFound(`No portal call ${req.url.split('?')[0]}`);
    },
  });

  const serve = async (req: FastifyRequest, reply: FastifyReply) => {
    const urlPath = (req.url.split('?')[0] ?? '').replace(/^\/dashboard\/?/, '');
    if (!index) {
      void reply.headers(SECURITY_HEADERS);
      return reply
        .status(503)
        .header('Content-Type', 'text/plain; charset=utf-8')
        .header('Cache-Control', 'no-store')
        .send(`The portal is not built (no ${path.join(dir, 'index.html')}): run "npm run build".\n`);
    }
    let rel: string;
    try {
      rel = decodeURIComponent(urlPath);
    } catch {
      rel = urlPath;
    }
    const file = files.get(rel);
    if (file && rel !== 'index.html') return sendFile(req, reply, file);
    // A missing asset is a 404 (a stale page must not get index.html as script).
    if (rel.startsWith('assets/') || /\.[a-z0-9]+$/i.test(rel)) {
      void reply.headers(SECURITY_HEADERS);
      return reply.status(404).header('Content-Type', 'text/plain; charset=utf-8').send('Not found\n');
    }
    // Every other path is a page of the single-page application.
    return sendFile(req, reply, index);
  };
  // The router ignores trailing slashes: /dashboard and /dashboard/ reach this one route.
  app.route({
    method: ['GET', 'HEAD'],
    url: '/dashboard',
    handler: async (req, reply) => ((req.url.split('?')[0] ?? '').endsWith('/') ? serve(req, reply) : reply.redirect('/dashboard/', 301)),
  });
  app.route({ method: ['GET', 'HEAD'], url: '/dashboard/*', handler: serve });
}
