/**
 * The process counters of docs/metrics.md read back after known actions: lease creations by
 * outcome (fake Blazar), lease events applied / duplicate / dropped / retry, the outbox's resends
 * (each on the three databases); user messages and bus notifications sent / failed / skipped;
 * Keystone token cache hits, misses and rejections with the call latency (a small Keystone
 * stand-in over HTTP); bus reconnects and connect failures (the real RabbitMQ).
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/connect.js';
import { applyLeaseEvent } from '../../src/db/repositories/lease-events.js';
import { claimLeaseJob } from '../../src/db/repositories/lease-jobs.js';
import { onLeaseEvent } from '../../src/domain/lifecycle.js';
import type { Flavor, ReservationWithFlavor } from '../../src/domain/types.js';
import { BlazarLeaseBackend } from '../../src/drivers/blazar/client.js';
import { BusConnection } from '../../src/drivers/bus/connection.js';
import { Notifier } from '../../src/drivers/bus/notifier.js';
import { InvalidTokenError, TokenValidator } from '../../src/drivers/keystone/tokens.js';
import { registry } from '../../src/metrics/registry.js';
import { LeaseEventHandler } from '../../src/notification/lease-events.js';
import { createUserMessageSender } from '../../src/notification/user/senders.js';
import { WarreMessenger } from '../../src/notification/warre-messenger.js';
import { LeaseWorker } from '../../src/worker/lease-worker.js';
import { PeriodicTasks } from '../../src/worker/periodic.js';
import { freePort } from '../cli/process.js';
import { DIALECTS, migratedDatabase } from '../support/db.js';
import { FakeBlazar } from '../support/fake-blazar.js';
import { FakeSession } from '../support/fake-session.js';
import {
  capturePino,
  DAY,
  HOUR,
  MINUTE,
  RecordingMessenger,
  recordingLogger,
  reservationRow,
  seedFlavor,
  seedReservation,
} from '../support/lifecycle-helpers.js';
import { createVhost, type TestVhost, waitFor } from '../support/rabbit.js';
import { parseMetrics } from './prometheus.js';

/** The current value of one series of this process's registry (0 when absent). */
async function value(name: string, labels: Record<string, string> = {}): Promise<number> {
  return parseMetrics(await registry.metrics()).value(name, labels) ?? 0;
}

/** Run `action`, return how much each series moved. */
async function delta(series: [string, Record<string, string>][], action: () => Promise<unknown>): Promise<number[]> {
  const before = await Promise.all(series.map(([n, l]) => value(n, l)));
  await action();
  const after = await Promise.all(series.map(([n, l]) => value(n, l)));
  return after.map((v, i) => v - before[i]!);
}

const blazar = new FakeBlazar();
beforeAll(async () => blazar.start());
afterAll(async () => blazar.stop());

describe.each(DIALECTS)('lifecycle counters on %s', (dialect) => {
  let db: Db;
  let close: () => Promise<void>;
  let flavor: Flavor;
  beforeAll(async () => {
    ({ db, close } = await migratedDatabase(dialect));
    flavor = await seedFlavor(db);
  });
  afterAll(async () => close?.());
  beforeEach(() => {
    blazar.reset();
    blazar.leases.clear();
  });

  const worker = () =>
    new LeaseWorker({
      db,
      leases: new BlazarLeaseBackend(),
      botSession: async () => new FakeSession({ reservation: blazar.url }),
      messenger: new RecordingMessenger(),
      log: recordingLogger(),
      claimTtlMs: 60_000,
      retryTimeoutMs: 900_000,
      retryBaseMs: 1_000,
    });
  const future = () => {
    const start = Math.floor((Date.now() + DAY) / MINUTE) * MINUTE;
    return { start, end: start + 2 * HOUR };
  };
  const creations = (outcome: string, reason: string): [string, Record<string, string>] => [
    'warre_lease_creations_total',
    { outcome, reason },
  ];

  it('lease creations: created (new), failed (refused), retried (unavailable)', async () => {
    const created = await seedReservation(db, { flavor, ...future(), instanceCount: 1 });
    expect(await delta([creations('created', 'new')], () => worker().runOnce())).toEqual([1]);
    expect((await reservationRow(db, created))!.status).toBe('ALLOCATED');

    blazar.capacity = 1;
    const refused = await seedReservation(db, { flavor, ...future(), instanceCount: 2 });
    expect(await delta([creations('failed', 'refused'), creations('created', 'new')], () => worker().runOnce())).toEqual([1, 0]);
    expect((await reservationRow(db, refused))!.status).toBe('ERROR');

    blazar.reset();
    const later = await seedReservation(db, { flavor, ...future(), instanceCount: 1 });
    blazar.failNext(1, 503);
    expect(await delta([creations('retried', 'unavailable')], () => worker().runOnce())).toEqual([1]);
    expect((await reservationRow(db, later))!.status).toBe('PENDING_CREATE');
    await db.kysely.deleteFrom('warre_lease_job').execute();
    await db.kysely.deleteFrom('reservation').where('id', '=', later).execute();
  });

  it('lease events: applied, duplicate, dropped (unknown lease), retry (a lease creation in flight)', async () => {
    const handler = new LeaseEventHandler(db, new RecordingMessenger(), recordingLogger());
    const leaseId = randomUUID();
    const start = Math.floor(Date.now() / MINUTE) * MINUTE - HOUR;
    await seedReservation(db, { flavor, status: 'ALLOCATED', leaseId, computeFlavor: randomUUID(), start, end: start + DAY });
    const ev = (outcome: string): [string, Record<string, string>] => ['warre_lease_events_total', { event: 'start_lease', outcome }];
    const series = [ev('applied'), ev('duplicate'), ev('dropped'), ev('retry')];
    expect(await delta(series, () => handler.handle('start_lease', leaseId))).toEqual([1, 0, 0, 0]);
    expect(await delta(series, () => handler.handle('start_lease', leaseId))).toEqual([0, 1, 0, 0]);
    expect(await delta(series, () => handler.handle('start_lease', randomUUID()))).toEqual([0, 0, 1, 0]);
    // A claimed PENDING_CREATE reservation: its lease may not be recorded yet.
    const pending = await seedReservation(db, { flavor, ...future() });
    expect(await claimLeaseJob(db, 'test-worker', Date.now(), 60_000)).toMatchObject({ reservationId: pending });
    expect(await delta(series, () => handler.handle('start_lease', randomUUID()))).toEqual([0, 0, 0, 1]);
    await db.kysely.deleteFrom('warre_lease_job').execute();
    await db.kysely.deleteFrom('reservation').where('id', '=', pending).execute();
  });

  it('the outbox: messages a dead process left unsent, resent by the periodic task', async () => {
    const leaseId = randomUUID();
    const start = Math.floor(Date.now() / MINUTE) * MINUTE + DAY;
    await seedReservation(db, { flavor, status: 'ALLOCATED', leaseId, start, end: start + DAY });
    // Recorded with the state change ten minutes ago, never sent.
    await applyLeaseEvent(db, leaseId, Date.now() - 10 * MINUTE, (status) => {
      const d = onLeaseEvent(status, 'start_lease');
      return { status: d.status, keys: [d.message!, d.notification!] };
    });
    const periodic = new PeriodicTasks({
      db,
      messenger: new RecordingMessenger(),
      log: recordingLogger(),
      intervalMs: 60_000,
      inUse: async () => false,
    });
    const resent = await delta(
      [
        ['warre_outbox_resent_total', { message: 'start' }],
        ['warre_outbox_resent_total', { message: 'warre.reservation.start' }],
      ],
      () => periodic.resendLost(Date.now(), true),
    );
    expect(resent).toEqual([1, 1]);
  });
});

describe('user messages and notifications', () => {
  const flavor: Flavor = {
    id: randomUUID(),
    name: 'm1.metrics',
    description: null,
    vcpu: 2,
    memory_mb: 2048,
    disk_gb: 20,
    ephemeral_gb: 0,
    active: true,
    properties: null,
    max_length_hours: 720,
    slots: 10,
    is_public: true,
    extra_specs: {},
    start: null,
    end: null,
    category: null,
    availability_zone: null,
  };
  const reservation: ReservationWithFlavor = {
    id: randomUUID(),
    created_at: Date.now(),
    user_id: 'u1',
    project_id: 'p1',
    flavor_id: flavor.id,
    lease_id: randomUUID(),
    compute_flavor: randomUUID(),
    status: 'ACTIVE',
    status_reason: null,
    start: Date.now(),
    end: Date.now() + DAY,
    instance_count: 1,
    flavor,
  };
  const user = (email: string | null) => async () => ({ id: 'u1', name: 'user one', email, full_name: null });
  const um = (result: string): [string, Record<string, string>] => ['warre_user_messages_total', { event: 'start', result }];
  const nt = (result: string): [string, Record<string, string>] => [
    'warre_notifications_total',
    { event: 'warre.reservation.start', result },
  ];

  it('sent (logging sender, log notifier), failed (SMTP refused; no broker), skipped (no e-mail address)', async () => {
    const log = capturePino().logger;
    const logging = new WarreMessenger(
      createUserMessageSender('logging', { logger: log }),
      new Notifier({ driver: ['log'], logger: log }),
      null,
      log,
    );
    const series = [um('sent'), um('failed'), um('skipped'), nt('sent'), nt('failed')];
    expect(
      await delta(series, async () => {
        await logging.userMessage('start', reservation);
        await logging.notify('warre.reservation.start', reservation);
      }),
    ).toEqual([1, 0, 0, 1, 0]);

    const closedPort = await freePort();
    const smtp = createUserMessageSender('smtp', {
      logger: log,
      attempts: 1,
      smtp: { host: '127.0.0.1', port: closedPort, from: 'warre@example.org', timeoutMs: 5_000 },
    });
    const conn = BusConnection.fromUrl(
      `rabbit://guest:guest@127.0.0.1:${closedPort}/`,
      { rabbit_retry_interval: 0.1, rabbit_retry_backoff: 0, rabbit_interval_max: 0.1 },
      { name: 'metrics-test-down' },
    ).start();
    const failing = new WarreMessenger(
      smtp,
      new Notifier({ driver: ['messagingv2'], retry: 0, logger: log, connection: conn }),
      user('a@example.org'),
      log,
    );
    try {
      expect(
        await delta(series, async () => {
          await failing.userMessage('start', reservation);
          await failing.notify('warre.reservation.start', reservation);
        }),
      ).toEqual([0, 1, 0, 0, 1]);
    } finally {
      await conn.close();
      await smtp.close();
    }

    const noAddress = new WarreMessenger(
      createUserMessageSender('smtp', {
        logger: log,
        smtp: { host: '127.0.0.1', port: closedPort, from: 'warre@example.org' },
      }),
      null,
      user(null),
      log,
    );
    expect(await delta(series, () => noAddress.userMessage('start', reservation))).toEqual([0, 0, 1, 0, 0]);
    await noAddress.close();
  });
});

describe('Keystone token cache and call latency', () => {
  let server: http.Server;
  let url: string;
  const calls: string[] = [];
  const expires = () => new Date(Date.now() + HOUR).toISOString();
  beforeAll(async () => {
    // The two calls token validation makes: the service's login and GET /v3/auth/tokens.
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        calls.push(`${req.method} ${req.url}`);
        res.setHeader('Content-Type', 'application/json');
        if (req.method === 'POST' && req.url === '/v3/auth/tokens') {
          res.writeHead(201, { 'X-Subject-Token': 'service-token' });
          res.end(JSON.stringify({ token: { expires_at: expires(), user: { id: 'warre' }, roles: [{ name: 'service' }] } }));
        } else if (req.method === 'GET' && req.url?.startsWith('/v3/auth/tokens') && req.headers['x-subject-token'] === 'good') {
          res.writeHead(200);
          res.end(
            JSON.stringify({
              token: {
                expires_at: expires(),
                user: { id: 'u1', name: 'u1' },
                project: { id: 'p1', name: 'p1' },
                roles: [{ name: 'member' }],
              },
            }),
          );
        } else {
          res.writeHead(404);
          res.end(JSON.stringify({ error: { code: 404, message: 'Could not find token' } }));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v3`;
  });
  afterAll(async () => new Promise<void>((resolve) => server.close(() => resolve())));

  it('a miss asks Keystone, a hit does not; a rejected token is refused from the negative cache', async () => {
    const validator = new TokenValidator({
      auth_url: url,
      username: 'warre',
      password: 'secret',
      user_domain_name: 'Default',
      project_name: 'service',
      project_domain_name: 'Default',
    } as never);
    const cache = (result: string): [string, Record<string, string>] => ['warre_keystone_token_cache_total', { result }];
    const latency = (method: string, status: string): [string, Record<string, string>] => [
      'warre_keystone_request_duration_seconds_count',
      { method, path: '/auth/tokens', status },
    ];
    const series = [cache('hit'), cache('miss'), cache('rejected'), latency('POST', '201'), latency('GET', '200'), latency('GET', '404')];

    expect(await delta(series, () => validator.validate('good'))).toEqual([0, 1, 0, 1, 1, 0]);
    expect(await delta(series, () => validator.validate('good'))).toEqual([1, 0, 0, 0, 0, 0]);
    const reject = () =>
      validator.validate('bad').then(
        () => expect.unreachable(),
        (err: unknown) => expect(err).toBeInstanceOf(InvalidTokenError),
      );
    expect(await delta(series, reject)).toEqual([0, 1, 0, 0, 0, 1]);
    expect(await delta(series, reject)).toEqual([0, 0, 1, 0, 0, 0]);
    expect(calls).toEqual(['POST /v3/auth/tokens', 'GET /v3/auth/tokens?nocatalog', 'GET /v3/auth/tokens?nocatalog']);
  });
});

describe('message bus', () => {
  let vh: TestVhost;
  beforeAll(async () => {
    vh = await createVhost('metrics');
  });
  afterAll(async () => vh?.delete());

  it('counts a lost connection as a reconnect, and failed connection attempts', async () => {
    const name = `metrics-${randomUUID().slice(0, 8)}`;
    const fast = { rabbit_retry_interval: 0.1, rabbit_retry_backoff: 0.1, rabbit_interval_max: 0.5 };
    const conn = BusConnection.fromUrl(vh.transportUrl(), fast, { name }).start();
    try {
      await conn.whenConnected(20_000);
      expect(await value('warre_bus_reconnects_total', { connection: name })).toBe(0);
      let connects = 0;
      conn.on('connected', () => connects++);
      conn.forceReconnect('test');
      await waitFor(() => connects === 1, 'the reconnection');
      expect(await value('warre_bus_reconnects_total', { connection: name })).toBe(1);
    } finally {
      await conn.close();
    }

    const downName = `${name}-down`;
    const down = BusConnection.fromUrl(`rabbit://guest:guest@127.0.0.1:${await freePort()}/`, fast, { name: downName }).start();
    try {
      await waitFor(async () => (await value('warre_bus_connect_failures_total', { connection: downName })) >= 2, 'two failed attempts');
      expect(await value('warre_bus_reconnects_total', { connection: downName })).toBe(0);
    } finally {
      await down.close();
    }
  });
});
