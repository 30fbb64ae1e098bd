/**
 * Lease events over the real RabbitMQ into the real `warre notification`
 * process (PostgreSQL): Ceilometer-style events published by Debian's
 * oslo.messaging (test/support/python/publish_lease_events.py) move
 * reservations ALLOCATED → ACTIVE → COMPLETE; user messages go out once
 * (logging notifier: counted in the process log); `warre.reservation.start`
 * / `.end` reach an unmodified oslo.messaging listener with the
 * docs/api.md#notification-payload payload. Unknown leases and malformed messages are acked and dropped.
 *
 * Needs `npm run build`.
 */
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Db } from '../../src/db/connect.js';
import type { Flavor } from '../../src/domain/types.js';
import { migratedDatabase, type TestDatabase } from '../support/db.js';
import {
  DAY,
  MINUTE,
  requireBuild,
  reservationRow,
  seedFlavor,
  seedReservation,
  WarreProcess,
  waitFor,
  writeConfig,
} from '../support/lifecycle-helpers.js';
import { ensureOsloMessaging, runScript, ScriptProcess } from '../support/python/oslo.js';
import { createVhost, type TestVhost } from '../support/rabbit.js';

let vh: TestVhost;
let db: Db;
let testDb: TestDatabase;
let closeDb: () => Promise<void>;
let flavor: Flavor;
let warre: WarreProcess;

const USER_MESSAGE = 'User message (logging notifier, not sent)';

beforeAll(async () => {
  requireBuild();
  await ensureOsloMessaging();
  vh = await createVhost('lc-events');
  ({ db, testDb, close: closeDb } = await migratedDatabase('postgres'));
  flavor = await seedFlavor(db, { name: 'lc.gpu', start: Date.parse('2026-01-01T00:00:00Z') });
  const conf = writeConfig({
    DEFAULT: { transport_url: vh.transportUrl() },
    database: { connection: testDb.url },
    warre: { user_notifier: 'logging' },
    oslo_messaging_notifications: { driver: 'messagingv2' },
  });
  warre = new WarreProcess(['notification', '--config-file', conf]);
  await warre.waitForLog('warre-notification consuming warre.sample');
});

afterAll(async () => {
  await warre?.stop();
  await closeDb?.();
  await vh?.delete();
});

interface EventSpec {
  lease_id: string;
  event_type: string;
  omit?: string[];
}

/** Publish Ceilometer events with oslo.messaging; returns the events' message ids. */
async function publish(events: EventSpec[]): Promise<string[]> {
  const out = await runScript('publish_lease_events.py', ['--url', vh.transportUrl(), '--events', JSON.stringify(events)]);
  return (JSON.parse(out.trim().split('\n').pop()!) as { sent: string[] }).sent;
}

/** Publish and wait until the process has handled every one of them (applied or ignored). */
async function publishAndWait(events: EventSpec[]): Promise<void> {
  const ids = await publish(events);
  await waitFor(
    () =>
      ids.every((m) =>
        warre.lines.some((l) => l['message_id'] === m && /lease event (applied|for a lease no reservation has)/.test(String(l['msg']))),
      ),
    'the events to be handled',
    30_000,
  );
  // Acked once the handler returned, i.e. after its messages went out.
  await waitFor(async () => (await queueDepth('warre.sample')) === 0, 'warre.sample to be empty', 30_000);
}

async function allocated(): Promise<{ id: string; leaseId: string }> {
  const leaseId = randomUUID();
  const start = Math.floor(Date.now() / MINUTE) * MINUTE;
  const id = await seedReservation(db, {
    flavor,
    status: 'ALLOCATED',
    leaseId,
    computeFlavor: randomUUID(),
    start,
    end: start + DAY,
    instanceCount: 3,
    projectId: 'f0e1d2c3b4a5968778695a4b3c2d1e0f',
    userId: 'u-events',
  });
  return { id, leaseId };
}

const userMessages = (reservationId: string): string[] =>
  warre.find(USER_MESSAGE, { reservation_id: reservationId }).map((l) => String(l['event']));

async function queueDepth(name: string): Promise<number> {
  const q = (await vh.queues()).find((x) => x.name === name);
  return q?.messages ?? -1;
}

describe('lease events over RabbitMQ into warre notification', () => {
  it('start, before_end, end: ALLOCATED → ACTIVE → COMPLETE, messages once, notifications with the documented payload (docs/api.md#notification-payload)', async () => {
    const a = await allocated();
    const b = await allocated();
    const listener = new ScriptProcess('notify_listener.py', [
      '--url',
      vh.transportUrl(),
      '--exchange',
      'warre',
      '--topic',
      'notifications',
      '--count',
      '3',
      '--timeout',
      '60',
    ]);
    try {
      await listener.ready();
      await publishAndWait([
        { lease_id: a.leaseId, event_type: 'lease.event.start_lease' },
        { lease_id: b.leaseId, event_type: 'lease.event.start_lease' },
      ]);
      expect((await reservationRow(db, a.id))!.status).toBe('ACTIVE');
      expect((await reservationRow(db, b.id))!.status).toBe('ACTIVE');

      await publishAndWait([{ lease_id: a.leaseId, event_type: 'lease.event.before_end_lease' }]);
      expect((await reservationRow(db, a.id))!.status).toBe('ACTIVE');

      await publishAndWait([{ lease_id: a.leaseId, event_type: 'lease.event.end_lease' }]);
      expect((await reservationRow(db, a.id))!.status).toBe('COMPLETE');
      expect((await reservationRow(db, b.id))!.status).toBe('ACTIVE');

      await waitFor(() => userMessages(a.id).length === 3, 'the user messages of a');
      expect(userMessages(a.id)).toEqual(['start', 'before_end', 'end']);
      expect(userMessages(b.id)).toEqual(['start']);

      const got = await listener.waitForLines((l) => typeof l.event_type === 'string', 3, 30_000);
      const byKey = new Map(got.map((n) => [`${n.event_type} ${(n.payload as { id: string }).id}`, n]));
      expect([...byKey.keys()].sort()).toEqual(
        [`warre.reservation.end ${a.id}`, `warre.reservation.start ${a.id}`, `warre.reservation.start ${b.id}`].sort(),
      );
      const n = byKey.get(`warre.reservation.start ${a.id}`)!;
      expect(n.priority).toBe('info');
      expect(n.publisher_id).toBeNull();
      // No _context_* keys on the wire: the Python endpoint sees only oslo's own client_timeout.
      expect(n.ctxt).toEqual({ client_timeout: null });
      const row = (await reservationRow(db, a.id))!;
      const p = n.payload as Record<string, unknown>;
      expect(Object.keys(p).sort()).toEqual(['end', 'flavor', 'id', 'instance_count', 'lease_id', 'project_id', 'start', 'user_id']);
      expect(Object.keys(p.flavor as object).sort()).toEqual(
        ['active', 'availability_zone', 'category', 'disk_gb', 'end', 'ephemeral_gb', 'id', 'memory_mb', 'name', 'start', 'vcpu'].sort(),
      );
      const micro = (ms: number) => new Date(ms).toISOString().slice(0, 19) + '.000000';
      expect(p).toEqual({
        id: a.id,
        flavor: {
          id: flavor.id,
          name: 'lc.gpu',
          vcpu: 4,
          memory_mb: 16384,
          disk_gb: 30,
          ephemeral_gb: 0,
          active: true,
          category: 'GPU',
          availability_zone: 'melbourne-qh2',
          start: '2026-01-01T00:00:00.000000',
          end: '2027-06-30T00:00:00.000000',
        },
        user_id: 'u-events',
        project_id: 'f0e1d2c3b4a5968778695a4b3c2d1e0f',
        lease_id: a.leaseId,
        start: micro(Date.parse(`${String(row.start).replace(' ', 'T').slice(0, 19)}Z`)),
        end: micro(Date.parse(`${String(row.end).replace(' ', 'T').slice(0, 19)}Z`)),
        instance_count: 3,
      });
      expect(String(p.start)).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/);
      expect((n.metadata as { timestamp: string }).timestamp).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{6})?$/);
    } finally {
      listener.kill();
    }
  });

  it('duplicate events send no second message; a late start after the end leaves it COMPLETE', async () => {
    const c = await allocated();
    await publishAndWait([{ lease_id: c.leaseId, event_type: 'lease.event.start_lease' }]);
    await publishAndWait([
      { lease_id: c.leaseId, event_type: 'lease.event.start_lease' },
      { lease_id: c.leaseId, event_type: 'lease.event.start_lease' },
    ]);
    expect(userMessages(c.id)).toEqual(['start']);
    await publishAndWait([{ lease_id: c.leaseId, event_type: 'lease.event.end_lease' }]);
    await publishAndWait([{ lease_id: c.leaseId, event_type: 'lease.event.end_lease' }]);
    await publishAndWait([{ lease_id: c.leaseId, event_type: 'lease.event.start_lease' }]);
    expect((await reservationRow(db, c.id))!.status).toBe('COMPLETE');
    expect(userMessages(c.id)).toEqual(['start', 'end']);
  });

  it('an event for an unknown lease is logged as a warning and acked', async () => {
    const lease = randomUUID();
    const [messageId] = await publish([{ lease_id: lease, event_type: 'lease.event.start_lease' }]);
    const line = await warre.waitForLog('lease event for a lease no reservation has; ignored', { message_id: messageId });
    expect(line).toMatchObject({ level: 40, lease, event: 'start_lease' });
    await waitFor(async () => (await queueDepth('warre.sample')) === 0, 'warre.sample to be empty');
  });

  it('malformed messages are dropped, the consumer carries on', async () => {
    const ch = await vh.channel();
    const props = { contentType: 'application/json', contentEncoding: 'utf-8', deliveryMode: 2 };
    ch.publish('ceilometer', 'warre.sample', Buffer.from('this is not JSON'), props);
    ch.publish(
      'ceilometer',
      'warre.sample',
      Buffer.from(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': '{"message_id": "broken' })),
      props,
    );
    const inner = {
      message_id: randomUUID(),
      publisher_id: 'telemetry.publisher.x',
      event_type: 'event',
      priority: 'SAMPLE',
      payload: { not: 'a list' },
      timestamp: '2026-11-25 12:46:10.870631',
      _unique_id: 'a'.repeat(32),
    };
    ch.publish(
      'ceilometer',
      'warre.sample',
      Buffer.from(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': JSON.stringify(inner) })),
      props,
    );
    const noLease = await allocated();
    const [withoutLeaseId] = await publish([{ lease_id: noLease.leaseId, event_type: 'lease.event.start_lease', omit: ['lease_id'] }]);
    await warre.waitForLog('lease event without a lease_id trait; dropped');
    expect(withoutLeaseId).toBeTruthy();
    await waitFor(() => warre.find('Failed to process message').length >= 2, 'both undecodable bodies to be dropped');

    // Still consuming: a good event afterwards is applied.
    const d = await allocated();
    await publishAndWait([{ lease_id: d.leaseId, event_type: 'lease.event.start_lease' }]);
    expect((await reservationRow(db, d.id))!.status).toBe('ACTIVE');
    expect((await reservationRow(db, noLease.id))!.status).toBe('ALLOCATED');
    await waitFor(async () => (await queueDepth('warre.sample')) === 0, 'warre.sample to be empty');
    expect(warre.alive).toBe(true);
    // Dropped, not redelivered in a loop.
    expect(warre.find('Failed to process message').length).toBe(2);
  });
});
