/**
 * A database that stalls or goes away (docs/operations.md "Database"), through a TCP proxy
 * the test controls in front of the shared MariaDB and PostgreSQL servers (never stopped):
 *
 * - stalled (no byte forwarded, nothing closed): every request is answered 503
 *   `{"error_message": "…database…"}` with its request id within the configured limits
 *   (short here), and `/healthcheck?detail` within its own shorter limit;
 * - refusing connections: 503, never 500; one log line when it goes and one when it is back,
 *   not one stack trace per request;
 * - back again: the first requests succeed (stale pooled connections are dropped and the
 *   statement run again on a fresh one where that is safe).
 *
 * SQLite is a file, not a network service: it cannot stall or refuse like this, so it is
 * not tested here (its busy timeout bounds lock waits, src/db/connect.ts).
 */

import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { NoAuthAuthenticator } from '../../src/auth/noauth.js';
import type { DatabaseTarget } from '../../src/config/database-url.js';
import { type Db, openDatabase } from '../../src/db/connect.js';
import { upgrade } from '../../src/db/migrate.js';
import { DatabaseUnavailableError } from '../../src/db/resilience.js';
import { writeTransaction } from '../../src/db/transaction.js';
import type { LeaseBackend } from '../../src/drivers/lease-backend.js';
import type { Messenger } from '../../src/notification/messenger.js';
import { PolicyEnforcer } from '../../src/policy/enforcer.js';
import { ConfigLimitsProvider } from '../../src/quota/config-limits.js';
import { LeaseWorker } from '../../src/worker/lease-worker.js';
import { ADMIN, MEMBER } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { TcpProxy } from '../support/tcp-proxy.js';

/** Short limits, so that the test is quick (the defaults are 5, 5, 10 and 2 s). */
const LIMITS = { connectTimeoutMs: 800, acquireTimeoutMs: 800, statementTimeoutMs: 1000 };
const HEALTH_MS = 400;
const POOL = 3;

const FLAVOR = { name: 'outage', vcpu: 1, memory_mb: 1, disk_gb: 1, slots: 1 };

interface Setup {
  app: FastifyInstance;
  db: Db;
  proxy: TcpProxy;
  testDb: TestDatabase;
  logs: Record<string, any>[];
  logger: pino.Logger;
}

async function setup(dialect: 'mysql' | 'postgres'): Promise<Setup> {
  const testDb = await createTestDatabase(dialect);
  const direct = testDb.open();
  await upgrade(direct);
  await direct.close();
  const t = testDb.target as DatabaseTarget & { host: string; port: number };
  const proxy = new TcpProxy(t.host, t.port);
  const port = await proxy.start();
  const logs: Record<string, any>[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const db = openDatabase({ ...t, host: '127.0.0.1', port } as DatabaseTarget, { poolSize: POOL, ...LIMITS, logger });
  const app = await buildApp({
    svc: {
      db,
      limits: new ConfigLimitsProvider({ quota: { default_reservation: 100, default_hours: 1_000_000 }, projectLimits: new Map() }),
      leases: null,
      serviceSession: null,
      nudgeWorker: () => {},
      now: () => Date.now(),
      log: logger,
    },
    authenticator: new NoAuthAuthenticator(),
    policy: new PolicyEnforcer({ policyFile: null }),
    logger,
    timeouts: { healthMs: HEALTH_MS },
  });
  await app.ready();
  return { app, db, proxy, testDb, logs, logger };
}

function expectDatabaseUnavailable(res: LightMyRequestResponse): void {
  expect(res.statusCode, res.body).toBe(503);
  expect(res.headers['x-openstack-request-id']).toMatch(/^req-/);
  expect(res.json()).toEqual({ error_message: expect.stringMatching(/database/i) });
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  const value = await fn();
  return { value, ms: Date.now() - started };
}

const list = (s: Setup) => s.app.inject({ method: 'GET', url: '/v1/flavors/', headers: MEMBER });
const create = (s: Setup, name: string) =>
  s.app.inject({ method: 'POST', url: '/v1/flavors/', headers: ADMIN, payload: { ...FLAVOR, name } });
const outageLines = (s: Setup) => s.logs.filter((l) => /database (unavailable|available again)/.test(l.msg ?? '') && l.level >= 30);
const errorLines = (s: Setup) => s.logs.filter((l) => l.level >= 50);

describe.each(['mysql', 'postgres'] as const)('%s behind a proxy', (dialect) => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup(dialect);
  });
  afterAll(async () => {
    await s?.app.close();
    await s?.db.close();
    await s?.proxy.close();
    await s?.testDb.drop();
  });

  it('serves requests while the proxy passes', async () => {
    expect((await create(s, 'before')).statusCode).toBe(202);
    // Fill the pool with idle connections, so later outages find stale ones.
    const answers = await Promise.all(Array.from({ length: POOL * 2 }, () => list(s)));
    for (const r of answers) expect(r.statusCode).toBe(200);
  });

  it('stalled: 503 naming the database within the statement and pool limits, health check within its own', async () => {
    s.proxy.stall();
    // More requests than pooled connections: some wait for a statement, others for a connection.
    const { value: answers, ms } = await timed(() => Promise.all(Array.from({ length: POOL + 3 }, () => list(s))));
    for (const r of answers) expectDatabaseUnavailable(r);
    // Statement limit + pool limit + connect limit is the worst case; far below the 20 s or
    // "never" of unbounded waits.
    expect(ms).toBeLessThan(LIMITS.statementTimeoutMs + LIMITS.acquireTimeoutMs + LIMITS.connectTimeoutMs + 1000);
    const write = await timed(() => create(s, 'stalled'));
    expectDatabaseUnavailable(write.value);
    expect(write.ms).toBeLessThan(LIMITS.statementTimeoutMs + LIMITS.acquireTimeoutMs + 1000);

    const health = await timed(() => s.app.inject({ method: 'GET', url: '/healthcheck?detail' }));
    expect(health.value.statusCode).toBe(503);
    expect(health.value.json().database).toMatchObject({ ok: false, dialect });
    expect(health.ms).toBeLessThan(HEALTH_MS + 500);
    console.info(
      `${dialect} stalled: ${answers.length} concurrent reads answered 503 after ${ms} ms, a write after ${write.ms} ms, /healthcheck?detail after ${health.ms} ms`,
    );

    await s.proxy.pass();
    const after = await list(s);
    expect(after.statusCode, after.body).toBe(200);
  });

  it('refusing: 503 "database unavailable" (never 500), one log line down and one up; the first requests after it succeed', async () => {
    s.logs.length = 0;
    // Idle pooled connections again, which the outage leaves stale.
    await Promise.all(Array.from({ length: POOL }, () => list(s)));
    await s.proxy.refuse();
    const { value: answers, ms } = await timed(async () => {
      const out: LightMyRequestResponse[] = [];
      for (let i = 0; i < 20; i++) out.push(i % 4 === 0 ? await create(s, `refused-${i}`) : await list(s));
      return out;
    });
    for (const r of answers) expectDatabaseUnavailable(r);
    console.info(`${dialect} refusing: 20 requests answered 503 in ${ms} ms`);
    expect(errorLines(s)).toEqual([]);
    expect(outageLines(s).map((l) => l.msg)).toEqual(['database unavailable: answering 503 until it is back']);

    const health = await s.app.inject({ method: 'GET', url: '/healthcheck' });
    expect(health.statusCode).toBe(503);

    await s.proxy.pass();
    // The very first requests after the database is back succeed: reads and a write.
    const reads = await Promise.all(Array.from({ length: POOL + 2 }, () => list(s)));
    for (const r of reads) expect(r.statusCode, r.body).toBe(200);
    expect((await create(s, 'after')).statusCode).toBe(202);
    expect(outageLines(s).map((l) => l.msg)).toEqual(['database unavailable: answering 503 until it is back', 'database available again']);
    const names = (await list(s))
      .json()
      .results.map((f: { name: string }) => f.name)
      .sort();
    expect(names).toEqual(['after', 'before']);
  });

  it('the lease worker polling a refusing database logs the outage once, not once per poll', async () => {
    s.logs.length = 0;
    await s.proxy.refuse();
    const worker = new LeaseWorker({
      db: s.db,
      leases: {} as LeaseBackend,
      botSession: async () => null,
      messenger: {} as Messenger,
      log: s.logger,
      claimTtlMs: 60_000,
      retryTimeoutMs: 60_000,
      pollMs: 50,
      concurrency: 4,
    });
    worker.start();
    await new Promise((r) => setTimeout(r, 600));
    await worker.stop();
    const failedPolls = s.logs.filter((l) => /cannot claim lease jobs/.test(l.msg ?? '')).length;
    expect(failedPolls).toBeGreaterThan(4);
    expect(errorLines(s)).toEqual([]);
    expect(outageLines(s).map((l) => l.msg)).toEqual(['database unavailable: answering 503 until it is back']);
    await s.proxy.pass();
    expect((await list(s)).statusCode).toBe(200);
  });

  it('drops pooled connections the database closed while idle and runs the read again (no 5xx)', async () => {
    await Promise.all(Array.from({ length: POOL }, () => list(s)));
    // The server side of every pooled connection goes away; the proxy keeps listening.
    await s.proxy.refuse();
    await s.proxy.pass();
    const answers = await Promise.all(Array.from({ length: POOL }, () => list(s)));
    for (const r of answers) expect(r.statusCode, r.body).toBe(200);
    const write = await create(s, 'fresh');
    expect(write.statusCode, write.body).toBe(202);
  });

  it('runs a transaction whose connection was lost before COMMIT once more, as a whole', async () => {
    let attempts = 0;
    const inserted = await writeTransaction(s.db, async (tx) => {
      attempts++;
      await tx.kysely.selectFrom('flavor').select('id').execute();
      // The connection goes away in the middle of the first attempt.
      if (attempts === 1) {
        await s.proxy.refuse();
        await s.proxy.pass();
      }
      await tx.kysely
        .insertInto('warre_project_lock')
        .values({ project_id: `tx-retry-${dialect}` })
        .execute();
      return attempts;
    });
    expect(inserted).toBe(2);
    const rows = await s.db.kysely
      .selectFrom('warre_project_lock')
      .select('project_id')
      .where('project_id', '=', `tx-retry-${dialect}`)
      .execute();
    expect(rows).toHaveLength(1);
  });

  it('repeats a write on a pooled connection that died idle (it never reached the server)', async () => {
    // Hold every pooled connection at once, so the pool keeps them all.
    await Promise.all(Array.from({ length: POOL }, () => s.db.kysely.selectFrom('flavor').select('id').execute()));
    await s.proxy.refuse();
    await s.proxy.pass();
    await Promise.all(
      Array.from({ length: POOL }, (_, i) =>
        s.db.kysely
          .insertInto('warre_project_lock')
          .values({ project_id: `stale-${dialect}-${i}` })
          .execute(),
      ),
    );
    const rows = await s.db.kysely
      .selectFrom('warre_project_lock')
      .select('project_id')
      .where('project_id', 'like', `stale-${dialect}-%`)
      .execute();
    expect(rows).toHaveLength(POOL);
  });

  it('never repeats a write whose answer was lost (it may have been done): 503, not retriable', async () => {
    await s.db.kysely.selectFrom('flavor').select('id').execute();
    s.proxy.stall();
    const err = await s.db.kysely
      .insertInto('warre_project_lock')
      .values({ project_id: `lost-${dialect}` })
      .execute()
      .catch((e: unknown) => e);
    await s.proxy.pass();
    expect(err).toBeInstanceOf(DatabaseUnavailableError);
    expect((err as DatabaseUnavailableError).retriable).toBe(false);
    expect((err as Error).message).toMatch(/statement_timeout|pool_timeout/);
    // Sent once only: the proxy swallowed it, so it is not there (and nothing sent it again).
    const rows = await s.db.kysely
      .selectFrom('warre_project_lock')
      .select('project_id')
      .where('project_id', '=', `lost-${dialect}`)
      .execute();
    expect(rows).toHaveLength(0);
  });
});
