/**
 * One name for the request id (docs/operations.md#logs): every line logged while a request is
 * handled — by Fastify's request logger, a service, the Keystone authenticator or the token
 * validator under it — carries `request_id`, the id of the answer's X-Openstack-Request-Id,
 * once, and no line says `requestId`. The logger is the one the programs use
 * (src/cli/logging.ts), over real HTTP (reading a body must not lose the request). The
 * database does not take part in naming, so one dialect (SQLite) is enough; the Keystone
 * part uses the real Keystone of test/support/keystone.ts.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import type { Authenticator } from '../../src/auth/context.js';
import { KeystoneAuthenticator } from '../../src/auth/keystone.js';
import { NoAuthAuthenticator } from '../../src/auth/noauth.js';
import { processLogger } from '../../src/cli/logging.js';
import { PolicyEnforcer } from '../../src/policy/enforcer.js';
import { ConfigLimitsProvider } from '../../src/quota/config-limits.js';
import type { Services } from '../../src/services/dependencies.js';
import { ADMIN, MEMBER } from '../support/app.js';
import { migratedDatabase } from '../support/db.js';
import * as ks from '../support/keystone.js';

interface Captured {
  logger: Logger;
  /** Every line as written (JSON text). */
  raw: string[];
}

function capture(): Captured {
  const raw: string[] = [];
  const logger = processLogger({
    program: 'warre-api',
    level: 'debug',
    target: { log_file: null, log_dir: null },
    destination: { write: (s: string) => void raw.push(s) },
  });
  return { logger, raw };
}

interface Served {
  url: string;
  log: Captured;
  close(): Promise<void>;
}

async function serve(authenticator: (log: Logger) => Authenticator): Promise<Served> {
  const { db, close } = await migratedDatabase('sqlite');
  const log = capture();
  const svc: Services = {
    db,
    limits: new ConfigLimitsProvider({ quota: { default_reservation: 100, default_hours: 1_000_000 }, projectLimits: new Map() }),
    leases: null,
    serviceSession: null,
    // Work a request only triggers is not the request's: this line must not carry its id.
    nudgeWorker: (id) => log.logger.info({ reservation: id }, 'worker nudged'),
    now: () => Date.now(),
    log: log.logger,
  };
  const app: FastifyInstance = await buildApp({
    svc,
    authenticator: authenticator(log.logger),
    policy: new PolicyEnforcer({ policyFile: null }),
    logger: log.logger,
  });
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    url,
    log,
    close: async () => {
      await app.close();
      await close();
    },
  };
}

/** One request and the lines logged while it was handled. */
async function request(
  s: Served,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: unknown,
): Promise<{ status: number; json: any; requestId: string; lines: string[] }> {
  const from = s.log.raw.length;
  const res = await fetch(`${s.url}${path}`, {
    method,
    headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  // The 'request' line is written once the answer is sent; wait for it, not for a time.
  for (let i = 0; i < 100 && !s.log.raw.slice(from).some((l) => JSON.parse(l).msg === 'request'); i++) {
    await new Promise((r) => setImmediate(r));
  }
  return {
    status: res.status,
    json: text ? JSON.parse(text) : null,
    requestId: res.headers.get('x-openstack-request-id') ?? '',
    lines: s.log.raw.slice(from),
  };
}

/** Every line of the request carries its id once, under `request_id`; none says `requestId`. */
function expectOneName(lines: string[], requestId: string): void {
  expect(requestId).toMatch(/^req-[0-9a-f-]{36}$/);
  for (const line of lines) {
    expect(line, line).not.toContain('requestId');
    expect(line.match(/"request_id":/g)?.length, line).toBe(1);
    expect(JSON.parse(line).request_id, line).toBe(requestId);
  }
}

describe('request_id in every log line of a request (noauth)', () => {
  let s: Served;
  beforeAll(async () => {
    s = await serve(() => new NoAuthAuthenticator());
  });
  afterAll(async () => s?.close());

  it("a service's line (flavor created) and the request line carry the answer's request id", async () => {
    const r = await request(s, 'POST', '/v1/flavors/', ADMIN, { name: 'log.small', vcpu: 1, memory_mb: 512, disk_gb: 1, slots: 2 });
    expect(r.status).toBe(202);
    expect(r.lines.map((l) => JSON.parse(l).msg)).toEqual(['flavor created', 'request']);
    expectOneName(r.lines, r.requestId);
  });

  it('a reservation created, extended and deleted: each request its own id; the nudge carries none', async () => {
    const flavor = await request(s, 'POST', '/v1/flavors/', ADMIN, { name: 'log.large', vcpu: 1, memory_mb: 512, disk_gb: 1, slots: 2 });
    await request(s, 'POST', '/v1/flavorprojects/', ADMIN, { flavor_id: flavor.json.id, project_id: MEMBER['x-project-id'] });
    const start = Math.ceil(Date.now() / 60_000) * 60_000 + 3_600_000;
    const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00');
    const created = await request(s, 'POST', '/v1/reservations/', MEMBER, {
      flavor_id: flavor.json.id,
      start: iso(start),
      end: iso(start + 3_600_000),
    });
    expect(created.status, JSON.stringify(created.json)).toBe(200);
    const nudge = created.lines.filter((l) => JSON.parse(l).msg === 'worker nudged');
    expect(nudge).toHaveLength(1);
    expect(JSON.parse(nudge[0]!)).not.toHaveProperty('request_id');
    const own = created.lines.filter((l) => JSON.parse(l).msg !== 'worker nudged');
    expect(own.map((l) => JSON.parse(l).msg)).toEqual(['reservation created', 'request']);
    expectOneName(own, created.requestId);

    const deleted = await request(s, 'DELETE', `/v1/reservations/${created.json.id}/`, MEMBER);
    expect(deleted.status).toBe(204);
    expect(deleted.requestId).not.toBe(created.requestId);
    expect(deleted.lines.map((l) => JSON.parse(l).msg)).toContain('reservation deleted');
    expectOneName(deleted.lines, deleted.requestId);
  });

  it('a refused request (404) too', async () => {
    const r = await request(s, 'GET', '/v1/reservations/00000000-0000-0000-0000-000000000000/', MEMBER);
    expect(r.status).toBe(404);
    expect(r.lines.length).toBeGreaterThan(0);
    expectOneName(r.lines, r.requestId);
  });

  it('lines logged outside any request carry no request id', () => {
    const before = s.log.raw.length;
    s.log.logger.info('between requests');
    expect(JSON.parse(s.log.raw[before]!)).not.toHaveProperty('request_id');
  });
});

describe('request_id in every log line of a request (Keystone)', () => {
  let s: Served;
  beforeAll(async () => {
    const { authUrl, adminPassword } = await ks.ensureKeystone();
    s = await serve(
      (log) =>
        new KeystoneAuthenticator(
          {
            auth_url: authUrl,
            username: 'admin',
            password: adminPassword,
            user_domain_name: 'Default',
            project_name: 'admin',
            project_domain_name: 'Default',
          },
          log,
        ),
    );
  }, 900_000);
  afterAll(async () => s?.close());

  it("a token Keystone rejects: the validator's, the authenticator's and the request line carry the id", async () => {
    const r = await request(s, 'GET', '/v1/reservations/', { 'x-auth-token': 'gAAAAABnot-a-real-token' });
    expect(r.status).toBe(401);
    const msgs = r.lines.map((l) => JSON.parse(l).msg);
    expect(msgs.filter((m) => m === 'Authorization failed for token')).toHaveLength(2);
    expect(msgs.at(-1)).toBe('request');
    expectOneName(r.lines, r.requestId);
  });
});
