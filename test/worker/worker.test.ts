/**
 * The lease worker on each database against a fake Blazar (docs/interop.md#blazar-leases):
 * PENDING_CREATE → ALLOCATED, permanent and transient failures, the retry
 * deadline, recovery of a lease created before a crash, racing workers and a
 * reservation deleted while its lease is being created.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import type { Db } from '../../src/db/connect.js';
import { claimLeaseJob, completeLeaseJob } from '../../src/db/repositories/lease-jobs.js';
import { deleteReservation } from '../../src/db/repositories/reservations.js';
import { type LeaseFailureKind, leaseFailure } from '../../src/domain/lifecycle.js';
import { BlazarLeaseBackend } from '../../src/drivers/blazar/client.js';
import { KeystoneAuthError, KeystoneUnavailableError } from '../../src/drivers/keystone/session.js';
import { type LeaseBackend, LeaseError } from '../../src/drivers/lease-backend.js';
import { describeLeaseFailure, LeaseWorker, type LeaseWorkerOptions } from '../../src/worker/lease-worker.js';
import { DIALECTS, migratedDatabase, type TestDatabase } from '../support/db.js';
import { FakeBlazar } from '../support/fake-blazar.js';
import { FakeSession } from '../support/fake-session.js';
import {
  DAY,
  HOUR,
  RecordingMessenger,
  ROOT,
  recordingLogger,
  requireBuild,
  reservationRow,
  seedFlavor,
  seedReservation,
  statuses,
  waitFor,
} from '../support/lifecycle-helpers.js';

const DIST = path.join(ROOT, 'dist');

const blazar = new FakeBlazar();

beforeAll(async () => {
  requireBuild();
  await blazar.start();
});
afterAll(async () => {
  await blazar.stop();
});

/** A settable clock for the worker (the fake Blazar keeps the real one). */
class Clock {
  t = Date.now();
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

describe.each(DIALECTS)('lease worker on %s', (dialect) => {
  let db: Db;
  let testDb: TestDatabase;
  let close: () => Promise<void>;
  let session: FakeSession;
  let messenger: RecordingMessenger;
  let log: ReturnType<typeof recordingLogger>;

  beforeAll(async () => {
    ({ db, testDb, close } = await migratedDatabase(dialect));
  });
  afterAll(async () => {
    await close();
  });
  beforeEach(() => {
    blazar.reset();
    blazar.leases.clear();
    session = new FakeSession({ reservation: blazar.url });
    messenger = new RecordingMessenger();
    log = recordingLogger();
  });

  function worker(o: Partial<LeaseWorkerOptions> = {}): LeaseWorker {
    return new LeaseWorker({
      db,
      leases: new BlazarLeaseBackend(),
      botSession: async () => session,
      messenger,
      log,
      claimTtlMs: 60_000,
      retryTimeoutMs: 900_000,
      retryBaseMs: 1_000,
      ...o,
    });
  }

  const future = (days = 1) => {
    const start = Math.floor((Date.now() + days * DAY) / 60_000) * 60_000;
    return { start, end: start + 48 * HOUR };
  };

  it('creates the lease as python-blazarclient does, stores lease_id and compute_flavor, sends "create" once', async () => {
    const flavor = await seedFlavor(db);
    const { start, end } = future();
    const id = await seedReservation(db, { flavor, start, end, instanceCount: 2, projectId: 'p-create' });
    const botProjects: string[] = [];
    const w = worker({
      botSession: async (p) => {
        botProjects.push(p);
        return session;
      },
    });

    expect(await w.runOnce()).toBe(1);

    const posts = blazar.requestsFor('POST');
    expect(posts).toHaveLength(1);
    const post = posts[0]!;
    expect(post.path).toBe('/v1/leases');
    expect(post.headers['x-auth-token']).toBe('token-1');
    expect(post.headers['content-type']).toBe('application/json');
    expect(post.headers['accept']).toBe('application/json');
    expect(post.headers['user-agent']).toBe('python-blazarclient');
    const fmt = (ms: number) => new Date(ms).toISOString().slice(0, 16).replace('T', ' ');
    expect(post.body).toEqual({
      name: `Reservation ${id}`,
      start_date: fmt(start),
      end_date: fmt(end),
      reservations: [
        {
          resource_type: 'virtual:instance',
          amount: 2,
          vcpus: 4,
          memory_mb: 16384,
          disk_gb: 30,
          ephemeral_gb: 0,
          affinity: null,
          resource_properties: '["=", "$gpu", "a100"]',
          extra_specs: { 'resources:VGPU': '1', 'trait:CUSTOM_A100': 'required' },
        },
      ],
      events: [],
      before_end_date: null,
    });
    // The first attempt does not look the lease up first.
    expect(blazar.requestsFor('GET')).toHaveLength(0);
    expect(botProjects).toEqual(['p-create']);

    const lease = [...blazar.leases.values()][0]!;
    const row = await reservationRow(db, id);
    expect(row).toMatchObject({ status: 'ALLOCATED', lease_id: lease.id, compute_flavor: lease.reservationId, status_reason: null });
    // reservations[0].flavor_id of Blazar's answer
    expect((blazar.render(lease).reservations as { flavor_id: string }[])[0]!.flavor_id).toBe(row!.compute_flavor);
    expect(await db.kysely.selectFrom('warre_lease_job').selectAll().execute()).toEqual([]);

    expect(messenger.of(id)).toEqual(['user:create']);
    expect(messenger.sent[0]!.reservation).toMatchObject({ status: 'ALLOCATED', lease_id: lease.id });

    // Nothing left to do: no second lease, no second message.
    expect(await w.runOnce()).toBe(0);
    expect(blazar.requestsFor('POST')).toHaveLength(1);
    expect(messenger.of(id)).toEqual(['user:create']);
  });

  it('500 "Not enough hosts available" → ERROR with the client\'s message, not retried', async () => {
    const flavor = await seedFlavor(db);
    const { start, end } = future();
    blazar.capacity = 1;
    const id = await seedReservation(db, { flavor, start, end, instanceCount: 2 });
    const w = worker();
    expect(await w.runOnce()).toBe(1);
    expect(await reservationRow(db, id)).toMatchObject({
      status: 'ERROR',
      status_reason: 'ERROR: Not enough hosts available',
      lease_id: null,
    });
    expect(blazar.requestsFor('POST')).toHaveLength(1);
    expect(await w.runOnce()).toBe(0);
    expect(blazar.requests).toHaveLength(1);
    expect(messenger.sent).toEqual([]);
    expect(await db.kysely.selectFrom('warre_lease_job').selectAll().execute()).toEqual([]);
  });

  it('a long error message is cut to 255 characters in status_reason', async () => {
    const flavor = await seedFlavor(db);
    const { start, end } = future();
    const id = await seedReservation(db, { flavor, start, end });
    blazar.failNext(1, 400, `Invalid ${'x'.repeat(400)}`);
    await worker().runOnce();
    const row = await reservationRow(db, id);
    expect(row!.status).toBe('ERROR');
    expect(row!.status_reason).toBe(`ERROR: Invalid ${'x'.repeat(400)}`.slice(0, 255));
  });

  it('503 for a while → retried with growing backoff, then ALLOCATED', async () => {
    const flavor = await seedFlavor(db);
    const { start, end } = future();
    const id = await seedReservation(db, { flavor, start, end });
    const clock = new Clock();
    const w = worker({ now: clock.now, retryBaseMs: 10_000 });
    // Attempt 1 (POST) and the look-ups of attempts 2 and 3 (GET) fail.
    blazar.failNext(3, 503);

    const delays: number[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      expect(await w.runOnce()).toBe(1);
      expect((await reservationRow(db, id))!.status).toBe('PENDING_CREATE');
      const job = await db.kysely.selectFrom('warre_lease_job').selectAll().where('reservation_id', '=', id).executeTakeFirstOrThrow();
      expect(job.attempts).toBe(attempt);
      expect(job.claimed_until).toBeNull();
      expect(job.last_error).toBe('ERROR: Service Unavailable');
      const next = Date.parse(`${String(job.next_attempt_at).replace(' ', 'T').slice(0, 19)}Z`);
      delays.push(next - Math.floor(clock.t / 1000) * 1000);
      // Not due yet: nothing is claimed.
      expect(await w.runOnce()).toBe(0);
      clock.advance(5 * 60_000);
    }
    expect(delays[1]!).toBeGreaterThan(delays[0]!);
    expect(delays[2]!).toBeGreaterThan(delays[1]!);
    expect(log.lines.filter((l) => l.msg === 'lease creation failed; will retry')).toHaveLength(3);

    expect(await w.runOnce()).toBe(1);
    const row = await reservationRow(db, id);
    expect(row!.status).toBe('ALLOCATED');
    expect(blazar.leases.size).toBe(1);
    expect(row!.lease_id).toBe([...blazar.leases.keys()][0]);
    // POST (503), GET (503), GET (503), GET (none) + POST (201)
    expect(blazar.requests.map((r) => r.method)).toEqual(['POST', 'GET', 'GET', 'GET', 'POST']);
    expect(messenger.of(id)).toEqual(['user:create']);
  });

  it('transient failures past lease_retry_timeout → ERROR', async () => {
    const flavor = await seedFlavor(db);
    const { start, end } = future();
    const id = await seedReservation(db, { flavor, start, end });
    const clock = new Clock();
    const w = worker({ now: clock.now, retryTimeoutMs: 120_000, retryBaseMs: 10_000 });
    blazar.failNext(100, 503);
    expect(await w.runOnce()).toBe(1);
    clock.advance(60_000);
    expect(await w.runOnce()).toBe(1);
    expect((await reservationRow(db, id))!.status).toBe('PENDING_CREATE');
    clock.advance(61_000);
    expect(await w.runOnce()).toBe(1);
    // The member reads a plain reason; the error itself is in the log (docs/api.md#lease-failures).
    expect(await reservationRow(db, id)).toMatchObject({ status: 'ERROR', status_reason: leaseFailure('unavailable', '').reason });
    const line = log.lines.find((l) => l.msg === 'lease creation failed; reservation in ERROR');
    expect(line?.obj).toMatchObject({ reservation: id, kind: 'unavailable', error: 'ERROR: Service Unavailable' });
    expect(blazar.leases.size).toBe(0);
    expect(messenger.sent).toEqual([]);
  });

  it('status_reason: a plain reason per failure class, never the ids, roles or policy names of the detail (logged instead)', async () => {
    const flavor = await seedFlavor(db);
    const { start, end } = future();
    const grantDetail =
      'Keystone refused PUT projects/p-plain/users/0bd1c2a3b4c5d6e7f8091a2b3c4d5e6f/roles/9a8b7c6d5e4f: You are not authorized to perform the requested action: identity:create_grant.';
    const cases: { name: string; setup: () => Partial<LeaseWorkerOptions>; kind: LeaseFailureKind; detail: string | RegExp }[] = [
      {
        name: 'Blazar policy (403)',
        setup: () => {
          blazar.failNext(1, 403, "Policy doesn't allow blazar:leases:post to be performed.");
          return {};
        },
        kind: 'service',
        detail: "ERROR: Policy doesn't allow blazar:leases:post to be performed.",
      },
      {
        name: 'an internal Blazar error (500, not about capacity)',
        setup: () => {
          blazar.failNext(1, 500, 'Trust 5c3e2f1a creation failed for user 0bd1c2a3');
          return {};
        },
        kind: 'service',
        detail: 'ERROR: Trust 5c3e2f1a creation failed for user 0bd1c2a3',
      },
      {
        name: 'the bot role grant refused (403 identity:create_grant)',
        setup: () => ({
          botSession: async () => {
            throw new KeystoneAuthError(403, grantDetail);
          },
        }),
        kind: 'identity',
        detail: grantDetail,
      },
      {
        name: 'a bot role that does not exist (404 on the grant)',
        setup: () => ({
          botSession: async () => {
            throw new Error(
              'Granting role 9a8b7c6d5e4f to user 0bd1c2a3 on project p-plain failed: 404 Could not find role: 9a8b7c6d5e4f.',
            );
          },
        }),
        kind: 'identity',
        detail: /^Granting role 9a8b7c6d5e4f/,
      },
      {
        name: 'no reservation endpoint in the catalog',
        setup: () => {
          session = new FakeSession({});
          return {};
        },
        kind: 'catalog',
        detail: 'No public endpoint for service type reservation in the catalog',
      },
    ];
    for (const c of cases) {
      blazar.reset();
      session = new FakeSession({ reservation: blazar.url });
      log = recordingLogger();
      const extra = c.setup();
      const id = await seedReservation(db, { flavor, start, end, projectId: 'p-plain' });
      expect(await worker(extra).runOnce(), c.name).toBe(1);
      const row = await reservationRow(db, id);
      expect(row?.status, c.name).toBe('ERROR');
      expect(row?.status_reason, c.name).toBe(leaseFailure(c.kind, '').reason);
      expect(row?.status_reason, c.name).not.toMatch(/0bd1c2a3|9a8b7c6d|blazar:|identity:|Trust|Policy/);
      const line = log.lines.find((l) => l.msg === 'lease creation failed; reservation in ERROR');
      expect(line?.obj, c.name).toMatchObject({ reservation: id, kind: c.kind, reason: row?.status_reason });
      const logged = String(line?.obj['error'] ?? '');
      if (typeof c.detail === 'string') expect(logged, c.name).toBe(c.detail);
      else expect(logged, c.name).toMatch(c.detail);
    }
    // The pure rule: Blazar's refusals of the booking itself keep its words, cut to 255 characters.
    expect(
      describeLeaseFailure(LeaseError.fromStatus(500, 'Not enough resources available with query ["=", "$gpu", "a100"]'), 'lease'),
    ).toEqual({
      kind: 'refused',
      reason: 'ERROR: Not enough resources available with query ["=", "$gpu", "a100"]',
      detail: 'ERROR: Not enough resources available with query ["=", "$gpu", "a100"]',
    });
    expect(describeLeaseFailure(new KeystoneUnavailableError('Unable to reach Keystone', 'connect'), 'bot').kind).toBe('unavailable');
    expect(describeLeaseFailure(LeaseError.fromStatus(401, 'Authentication required'), 'lease').kind).toBe('identity');
    expect(describeLeaseFailure(new TypeError('x is undefined'), 'lease')).toMatchObject({ kind: 'internal', detail: 'x is undefined' });
    for (const kind of ['identity', 'catalog', 'service', 'unavailable', 'internal'] as const) {
      expect(leaseFailure(kind, 'detail').reason.length).toBeLessThanOrEqual(255);
    }
  });

  it('a Keystone outage (bot login) is transient', async () => {
    const flavor = await seedFlavor(db);
    const { start, end } = future();
    const id = await seedReservation(db, { flavor, start, end });
    const clock = new Clock();
    let down = true;
    const w = worker({
      now: clock.now,
      botSession: async () => {
        if (down)
          throw new KeystoneUnavailableError('Unable to reach Keystone (POST http://127.0.0.1:1/v3/auth/tokens): ECONNREFUSED', 'connect');
        return session;
      },
    });
    await w.runOnce();
    expect((await reservationRow(db, id))!.status).toBe('PENDING_CREATE');
    down = false;
    clock.advance(60_000);
    await w.runOnce();
    expect((await reservationRow(db, id))!.status).toBe('ALLOCATED');
    expect(blazar.requestsFor('POST')).toHaveLength(1);
  });

  it('after a crash between the Blazar call and the commit, the lease is found by name, not created twice', async () => {
    const flavor = await seedFlavor(db);
    const { start, end } = future();
    const id = await seedReservation(db, { flavor, start, end });
    // What a worker killed mid-way leaves: its expired claim, and the lease in Blazar.
    await new BlazarLeaseBackend().createLease(session, {
      reservationId: id,
      start: new Date(start),
      end: new Date(end),
      amount: 2,
      vcpus: 4,
      memoryMb: 16384,
      diskGb: 30,
      ephemeralGb: 0,
      resourceProperties: null,
      extraSpecs: null,
    });
    await db.kysely
      .insertInto('warre_lease_job')
      .values({
        reservation_id: id,
        claimed_by: 'dead-worker',
        claimed_until: db.codec.dt(Date.now() - 1000),
        attempts: 1,
        first_attempt_at: db.codec.dt(Date.now() - 5000),
        next_attempt_at: null,
        last_error: null,
      })
      .execute();
    blazar.reset();
    expect(await worker().runOnce()).toBe(1);
    expect(blazar.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /v1/leases']);
    const lease = [...blazar.leases.values()][0]!;
    expect(await reservationRow(db, id)).toMatchObject({ status: 'ALLOCATED', lease_id: lease.id, compute_flavor: lease.reservationId });
    expect(messenger.of(id)).toEqual(['user:create']);
  });

  it('a claim that has not expired is left alone', async () => {
    const flavor = await seedFlavor(db);
    const { start, end } = future();
    const id = await seedReservation(db, { flavor, start, end });
    await db.kysely
      .insertInto('warre_lease_job')
      .values({
        reservation_id: id,
        claimed_by: 'busy-worker',
        claimed_until: db.codec.dt(Date.now() + 120_000),
        attempts: 1,
        first_attempt_at: db.codec.dt(Date.now()),
        next_attempt_at: null,
        last_error: null,
      })
      .execute();
    expect(await worker().runOnce()).toBe(0);
    expect(blazar.requests).toHaveLength(0);
    await db.kysely.deleteFrom('warre_lease_job').where('reservation_id', '=', id).execute();
    await deleteReservation(db, id);
  });

  /** The same database, but the `n`-th write transaction (or plain select) fails like a dropped connection. */
  function flakyDb(failOn: 'transaction' | 'select', n: number): Db {
    let calls = 0;
    const method = failOn === 'select' ? 'selectFrom' : dialect === 'sqlite' ? 'connection' : 'transaction';
    const kysely = new Proxy(db.kysely, {
      get(target, prop) {
        const v = Reflect.get(target, prop, target) as unknown;
        if (prop === method && ++calls === n) throw new Error('Connection terminated unexpectedly');
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    return { ...db, kysely };
  }

  it('a database failure while recording the new lease leaves no orphan: the next attempt finds the lease', async () => {
    const flavor = await seedFlavor(db);
    const { start, end } = future();
    const id = await seedReservation(db, { flavor, start, end });
    const clock = new Clock();
    // Write transactions: 1 = claim, 2 = recording the lease.
    const w = worker({ db: flakyDb('transaction', 2), now: clock.now });
    expect(await w.runOnce()).toBe(1);
    expect(blazar.leases.size).toBe(1);
    expect((await reservationRow(db, id))!.status).toBe('PENDING_CREATE');
    clock.advance(10 * 60_000);
    expect(await w.runOnce()).toBe(1);
    const lease = [...blazar.leases.values()][0]!;
    expect(await reservationRow(db, id)).toMatchObject({ status: 'ALLOCATED', lease_id: lease.id });
    expect(blazar.requests.map((r) => r.method)).toEqual(['POST', 'GET']);
    expect(messenger.of(id)).toEqual(['user:create']);
  });

  it('a database failure reading the claimed reservation does not stop the worker loop', async () => {
    const flavor = await seedFlavor(db);
    const { start, end } = future();
    const id = await seedReservation(db, { flavor, start, end });
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    // The first plain select is the worker's read of the claimed reservation.
    const w = worker({ db: flakyDb('select', 1), claimTtlMs: 1_000, pollMs: 100 });
    w.start();
    try {
      await waitFor(
        async () => (await reservationRow(db, id))?.status === 'ALLOCATED',
        'the job to be taken again after its claim expired',
        20_000,
      );
    } finally {
      await w.stop().catch((e: unknown) => unhandled.push(e));
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
    expect(blazar.requestsFor('POST')).toHaveLength(1);
  });

  it('a reservation deleted while its lease is being created leaves no lease behind', async () => {
    const flavor = await seedFlavor(db);
    const { start, end } = future();
    const id = await seedReservation(db, { flavor, start, end });
    const real = new BlazarLeaseBackend();
    // The user deletes the reservation while Blazar is creating the lease.
    const leases: LeaseBackend = {
      name: 'blazar',
      createLease: async (s, req) => {
        const lease = await real.createLease(s, req);
        await deleteReservation(db, id);
        return lease;
      },
      findLeaseByName: (s, n) => real.findLeaseByName(s, n),
      updateLeaseEnd: (s, l, e) => real.updateLeaseEnd(s, l, e),
      deleteLease: (s, l) => real.deleteLease(s, l),
    };
    expect(await worker({ leases }).runOnce()).toBe(1);
    expect(await reservationRow(db, id)).toBeUndefined();
    expect(blazar.requests.map((r) => r.method)).toEqual(['POST', 'DELETE']);
    expect(blazar.leases.size).toBe(0);
    expect(messenger.sent).toEqual([]);
  });

  /** Run `count` workers, each in its own thread with its own connection, all at once. */
  async function race(count: number): Promise<{ done: number; user: { event: string; id: string }[]; errors: string[] }> {
    const threads = Array.from(
      { length: count },
      () =>
        new Worker(new URL('./race-thread.mjs', import.meta.url), {
          workerData: { dist: DIST, target: testDb.target, blazarUrl: blazar.url },
        }),
    );
    const user: { event: string; id: string }[] = [];
    const errors: string[] = [];
    const ready = threads.map((t) => new Promise<void>((resolve) => t.once('message', () => resolve())));
    const finished = threads.map(
      (t) =>
        new Promise<number>((resolve, reject) => {
          t.on('message', (m: { kind: string; event?: string; id?: string; n?: number; level?: string; msg?: string; err?: string }) => {
            if (m.kind === 'user') user.push({ event: m.event!, id: m.id! });
            if (m.kind === 'log' && m.level === 'error') errors.push(`${m.msg}: ${m.err}`);
            if (m.kind === 'done') resolve(m.n!);
          });
          t.on('error', reject);
        }),
    );
    await Promise.all(ready);
    for (const t of threads) t.postMessage('go');
    const counts = await Promise.all(finished);
    await Promise.all(threads.map((t) => t.terminate()));
    return { done: counts.reduce((a, b) => a + b, 0), user, errors };
  }

  function expectOneLeaseEach(ids: string[], user: { event: string; id: string }[]): void {
    const perName = new Map<string, number>();
    for (const p of blazar.requestsFor('POST')) {
      const name = (p.body as { name: string }).name;
      perName.set(name, (perName.get(name) ?? 0) + 1);
    }
    expect(perName.size).toBe(ids.length);
    expect([...perName.entries()].filter(([, n]) => n !== 1)).toEqual([]);
    expect(blazar.leases.size).toBe(ids.length);
    for (const id of ids) expect(user.filter((u) => u.id === id).map((u) => u.event)).toEqual(['create']);
  }

  it('five workers (threads, own connections) racing over 50 new reservations create exactly one lease each', async () => {
    const flavor = await seedFlavor(db);
    const { start, end } = future(2);
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) ids.push(await seedReservation(db, { flavor, start, end, instanceCount: 1, createdAt: Date.now() + i }));
    const { done, user, errors } = await race(5);
    expect(errors).toEqual([]);
    expect(done).toBe(50);
    const st = await statuses(db, ids);
    expect([...st.values()].filter((s) => s !== 'ALLOCATED')).toEqual([]);
    expectOneLeaseEach(ids, user);
    // Every reservation holds the lease Blazar made under its name.
    const rows = await db.kysely.selectFrom('reservation').select(['id', 'lease_id']).where('id', 'in', ids).execute();
    for (const r of rows) expect(blazar.leases.get(r.lease_id!)?.name).toBe(`Reservation ${r.id}`);
  });

  it('five workers racing over 50 retries that are due at once create exactly one lease each', async () => {
    const flavor = await seedFlavor(db);
    const { start, end } = future(4);
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) {
      const id = await seedReservation(db, { flavor, start, end, instanceCount: 1, createdAt: Date.now() + i });
      ids.push(id);
      // An earlier attempt failed transiently; its retry is due now.
      await db.kysely
        .insertInto('warre_lease_job')
        .values({
          reservation_id: id,
          claimed_by: null,
          claimed_until: null,
          attempts: 1,
          first_attempt_at: db.codec.dt(Date.now() - 10_000),
          next_attempt_at: db.codec.dt(Date.now() - 5_000),
          last_error: 'ERROR: Service Unavailable',
        })
        .execute();
    }
    const { done, user, errors } = await race(5);
    expect(errors).toEqual([]);
    expect(done).toBe(50);
    const st = await statuses(db, ids);
    expect([...st.values()].filter((s) => s !== 'ALLOCATED')).toEqual([]);
    expectOneLeaseEach(ids, user);
  });

  it.skipIf(dialect === 'sqlite')('claims never hand one job to two workers (new jobs and due retries, 6 connections)', async () => {
    const flavor = await seedFlavor(db);
    const conns = Array.from({ length: 6 }, () => testDb.open(2));
    let doubles = 0;
    let claims = 0;
    try {
      for (let round = 0; round < 10; round++) {
        const ids: string[] = [];
        for (let i = 0; i < 40; i++) {
          const id = await seedReservation(db, { flavor, start: Date.now() + DAY, end: Date.now() + 2 * DAY, createdAt: Date.now() + i });
          ids.push(id);
          if (round % 2 === 1) {
            await db.kysely
              .insertInto('warre_lease_job')
              .values({
                reservation_id: id,
                claimed_by: null,
                claimed_until: null,
                attempts: 1,
                first_attempt_at: db.codec.dt(Date.now() - 10_000),
                next_attempt_at: db.codec.dt(Date.now() - 5_000),
                last_error: 'x',
              })
              .execute();
          }
        }
        const seen = new Map<string, number>();
        await Promise.all(
          conns.map(async (c, n) => {
            for (;;) {
              const claim = await claimLeaseJob(c, `w${n}`, Date.now(), 60_000);
              if (!claim) return;
              claims++;
              seen.set(claim.reservationId, (seen.get(claim.reservationId) ?? 0) + 1);
              await new Promise((r) => setTimeout(r, Math.random() * 3));
              await completeLeaseJob(c, claim.reservationId, randomUUID(), null);
            }
          }),
        );
        doubles += [...seen.values()].filter((v) => v > 1).length;
        expect(seen.size).toBe(40);
      }
    } finally {
      for (const c of conns) await c.close();
    }
    expect(doubles).toBe(0);
    expect(claims).toBe(10 * 40);
  });

  it('works on up to lease_concurrency reservations at once while Blazar is slow, one lease each', async () => {
    const flavor = await seedFlavor(db);
    const { start, end } = future(5);
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push(await seedReservation(db, { flavor, start, end, instanceCount: 1, createdAt: Date.now() + i }));
    blazar.delayMs = 150;
    const w = worker({ concurrency: 4, pollMs: 60_000 });
    w.start();
    try {
      await waitFor(
        async () => [...(await statuses(db, ids)).values()].every((s) => s === 'ALLOCATED'),
        'every reservation ALLOCATED',
        30_000,
      );
    } finally {
      await w.stop();
    }
    expect(blazar.maxInFlight).toBeGreaterThan(1);
    expect(blazar.maxInFlight).toBeLessThanOrEqual(4);
    const names = blazar.requestsFor('POST').map((p) => (p.body as { name: string }).name);
    for (const id of ids) expect(names.filter((n) => n === `Reservation ${id}`)).toHaveLength(1);
    for (const id of ids) expect(messenger.of(id)).toEqual(['user:create']);
  });

  it('started workers pick up new reservations by themselves (poll) and stop cleanly', async () => {
    const flavor = await seedFlavor(db);
    const { start, end } = future(3);
    const w = worker({ pollMs: 100 });
    w.start();
    try {
      const id = await seedReservation(db, { flavor, start, end });
      await waitFor(async () => (await reservationRow(db, id))?.status === 'ALLOCATED', 'the polling worker to allocate', 20_000);
      const id2 = await seedReservation(db, { flavor, start, end });
      w.wake();
      await waitFor(async () => (await reservationRow(db, id2))?.status === 'ALLOCATED', 'the nudged worker to allocate', 20_000);
    } finally {
      await w.stop();
    }
    expect(blazar.requestsFor('POST')).toHaveLength(2);
  });
});
