/**
 * Lease events survive broker trouble (the real `warre notification` process,
 * PostgreSQL, events published by Debian's oslo.messaging):
 *
 * - its connection is closed by the broker (`rabbitmqctl close_connection`) while
 *   200 events are in flight, twice;
 * - with `amqp_durable_queues = true` the broker itself is stopped and started
 *   while 200 events are in flight. This uses a private RabbitMQ node of this file
 *   (own ports and data directory), so the shared broker other test files use is
 *   never restarted.
 *
 * To have events in flight at a known moment, the test holds row locks on the
 * reservations (the handler waits for them), drops the connection, then lets go.
 * In the end every reservation is in the right state, the queue is empty, each
 * user message went out at most once (the end/start ones exactly once), and each
 * state change reached the notifications queue.
 *
 * Needs `npm run build`.
 */
import { randomUUID } from 'node:crypto';

import amqp from 'amqplib';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Db } from '../../src/db/connect.js';
import type { Flavor } from '../../src/domain/types.js';
import { migratedDatabase, PG, type TestDatabase } from '../support/db.js';
import {
  DAY,
  MINUTE,
  PrivateBroker,
  requireBuild,
  seedFlavor,
  seedReservation,
  statuses,
  WarreProcess,
  waitFor,
  writeConfig,
} from '../support/lifecycle-helpers.js';
import { ensureOsloMessaging, runScript } from '../support/python/oslo.js';
import { createVhost, rabbitmqctl, type TestVhost } from '../support/rabbit.js';

const USER_MESSAGE = 'User message (logging notifier, not sent)';
const N = 100;
const ENDED = 50;

let db: Db;
let testDb: TestDatabase;
let closeDb: () => Promise<void>;
let flavor: Flavor;

beforeAll(async () => {
  requireBuild();
  await ensureOsloMessaging();
  ({ db, testDb, close: closeDb } = await migratedDatabase('postgres'));
  flavor = await seedFlavor(db);
});
afterAll(async () => {
  await closeDb?.();
});

interface Batch {
  ids: string[];
  leases: string[];
  /** start for all, then end for the first ENDED and before_end for the others: 200 events. */
  events: { lease_id: string; event_type: string }[];
}

async function batch(): Promise<Batch> {
  const start = Math.floor(Date.now() / MINUTE) * MINUTE;
  const ids: string[] = [];
  const leases: string[] = [];
  for (let i = 0; i < N; i++) {
    const leaseId = randomUUID();
    leases.push(leaseId);
    ids.push(await seedReservation(db, { flavor, status: 'ALLOCATED', leaseId, computeFlavor: randomUUID(), start, end: start + DAY }));
  }
  const events = [
    ...leases.map((l) => ({ lease_id: l, event_type: 'lease.event.start_lease' })),
    ...leases.slice(0, ENDED).map((l) => ({ lease_id: l, event_type: 'lease.event.end_lease' })),
    ...leases.slice(ENDED).map((l) => ({ lease_id: l, event_type: 'lease.event.before_end_lease' })),
  ];
  return { ids, leases, events };
}

/** Row locks on the batch's reservations, held by another PostgreSQL session until release(). */
async function lockRows(ids: string[]): Promise<{ release(): Promise<void> }> {
  const c = new pg.Client({ ...PG, database: testDb.target.dialect === 'postgres' ? testDb.target.database : '' });
  await c.connect();
  await c.query('BEGIN');
  await c.query('SELECT id FROM reservation WHERE id = ANY($1) FOR UPDATE', [ids]);
  return {
    release: async () => {
      await c.query('COMMIT');
      await c.end();
    },
  };
}

async function publish(url: string, events: Batch['events']): Promise<void> {
  await runScript('publish_lease_events.py', ['--url', url, '--events', JSON.stringify(events)], { timeoutMs: 120_000 });
}

/** Final states, queue, user messages and notifications of a batch. */
async function expectSettled(
  b: Batch,
  warre: WarreProcess,
  queueEmpty: () => Promise<boolean>,
  notifications: () => Promise<Record<string, unknown>[]>,
): Promise<void> {
  await waitFor(
    async () => {
      const st = await statuses(db, b.ids);
      return b.ids.every((id, i) => st.get(id) === (i < ENDED ? 'COMPLETE' : 'ACTIVE'));
    },
    'every reservation to reach its state',
    90_000,
    200,
  );
  // Acked after handling, so an empty queue means every event was handled.
  await waitFor(queueEmpty, 'warre.sample to be empty', 60_000, 200);
  const messages = (id: string, event: string) => warre.find(USER_MESSAGE, { reservation_id: id, event }).length;
  // An empty queue counts only *ready* messages: an event whose handling failed during the outage
  // (e.g. no free database connection while the rows were locked) may still sit in the listener's
  // requeue delay, unacked. Wait until every expected message went out, then check none went twice.
  await waitFor(
    async () =>
      b.ids.every((id, i) => (i < ENDED ? messages(id, 'end') >= 1 : messages(id, 'start') >= 1 && messages(id, 'before_end') >= 1)),
    'every expected user message',
    60_000,
    200,
  );
  for (const [i, id] of b.ids.entries()) {
    if (i < ENDED) {
      expect(messages(id, 'end'), `end message of ${id}`).toBe(1);
      // A start handled after the end changes nothing and sends nothing.
      expect(messages(id, 'start'), `start message of ${id}`).toBeLessThanOrEqual(1);
    } else {
      expect(messages(id, 'start'), `start message of ${id}`).toBe(1);
      expect(messages(id, 'before_end'), `before_end message of ${id}`).toBe(1);
      expect(messages(id, 'end')).toBe(0);
    }
  }
  // Every state change reached the notifications queue (redelivery may duplicate one).
  let seen: Record<string, unknown>[] = [];
  await waitFor(
    async () => {
      seen = seen.concat(await notifications());
      const has = (type: string, id: string) => seen.some((n) => n.event_type === type && (n.payload as { id: string }).id === id);
      return b.ids.every((id, i) => (i < ENDED ? has('warre.reservation.end', id) : has('warre.reservation.start', id)));
    },
    'the warre.reservation.* notifications',
    60_000,
    500,
  );
}

/** Take and decode everything in `notifications.info` (v2 envelopes). */
function drainNotifications(channel: () => Promise<amqp.Channel>): () => Promise<Record<string, unknown>[]> {
  return async () => {
    const ch = await channel();
    const out: Record<string, unknown>[] = [];
    for (;;) {
      const m = await ch.get('notifications.info', { noAck: true });
      if (m === false) return out;
      const outer = JSON.parse(m.content.toString()) as { 'oslo.message': string };
      out.push(JSON.parse(outer['oslo.message']) as Record<string, unknown>);
    }
  };
}

describe('the broker drops the connection of warre notification mid-stream', () => {
  let vh: TestVhost;
  let warre: WarreProcess;

  beforeAll(async () => {
    vh = await createVhost('lc-drop');
    const conf = writeConfig({
      DEFAULT: { transport_url: vh.transportUrl() },
      database: { connection: testDb.url },
      warre: { user_notifier: 'logging' },
      oslo_messaging_notifications: { driver: 'messagingv2' },
      oslo_messaging_rabbit: { rabbit_retry_interval: 1, rabbit_retry_backoff: 1, rabbit_interval_max: 2 },
    });
    warre = new WarreProcess(['notification', '--config-file', conf]);
    await warre.waitForLog('warre-notification consuming warre.sample');
  });
  afterAll(async () => {
    await warre?.stop();
    await vh?.delete();
  });

  /** Close the connections warre-notification holds (the publisher's stay). */
  async function dropWarreConnections(): Promise<number> {
    const out = await rabbitmqctl('list_connections', '-p', vh.name, 'pid', 'client_properties');
    const pids = out
      .split('\n')
      .filter((l) => l.includes('warre-notification'))
      .map((l) => l.split('\t')[0]!.trim());
    for (const pid of pids) await rabbitmqctl('close_connection', pid, 'test: connection dropped');
    return pids.length;
  }

  async function sampleQueue(): Promise<{ ready: number; unacked: number }> {
    const out = await rabbitmqctl('list_queues', '-p', vh.name, 'name', 'messages_ready', 'messages_unacknowledged', '--formatter', 'json');
    const q = (JSON.parse(out) as { name: string; messages_ready: number; messages_unacknowledged: number }[]).find(
      (x) => x.name === 'warre.sample',
    );
    return { ready: q?.messages_ready ?? -1, unacked: q?.messages_unacknowledged ?? -1 };
  }

  it('200 events: every reservation ends in the right state, nothing is sent twice', async () => {
    const b = await batch();
    const lock = await lockRows(b.ids);
    try {
      await publish(vh.transportUrl(), b.events);
      // All 200 delivered to Warre and stuck behind the row locks.
      await waitFor(async () => (await sampleQueue()).unacked === b.events.length, 'Warre to hold the events', 30_000, 200);
      expect(await dropWarreConnections()).toBeGreaterThan(0);
      await warre.waitForLog('Consuming notifications from warre.sample', {}, 30_000);
      await waitFor(() => warre.find('Consuming notifications from warre.sample').length >= 2, 'the listener to resubscribe', 30_000);
    } finally {
      await lock.release();
    }
    // Drop it again while the redelivered events are being applied.
    await waitFor(
      async () => [...(await statuses(db, b.ids)).values()].some((s) => s !== 'ALLOCATED'),
      'some events to be applied',
      30_000,
      20,
    );
    await dropWarreConnections();
    const empty = async () => {
      const q = await sampleQueue();
      return q.ready === 0 && q.unacked === 0;
    };
    await expectSettled(
      b,
      warre,
      empty,
      drainNotifications(() => vh.channel()),
    );
    expect(warre.alive).toBe(true);
    expect(warre.find('AMQP server on').length).toBeGreaterThanOrEqual(1);
  }, 180_000);
});

describe('RabbitMQ is restarted mid-stream (amqp_durable_queues = true, private broker)', () => {
  const broker = new PrivateBroker();
  let warre: WarreProcess;
  let conn: amqp.ChannelModel | null = null;
  let ch: amqp.Channel | null = null;

  /** A channel to the private broker (reopened after its restart). */
  async function channel(): Promise<amqp.Channel> {
    if (ch) return ch;
    conn = await amqp.connect(broker.amqpUrl);
    conn.on('error', () => undefined);
    conn.on('close', () => {
      conn = null;
      ch = null;
    });
    const opened = await conn.createChannel();
    opened.on('error', () => undefined);
    // A get on a queue not declared yet (no notification sent since the restart) closes the
    // channel with 404: open a new one next time instead of failing on the closed one.
    opened.on('close', () => {
      if (ch === opened) ch = null;
    });
    ch = opened;
    return ch;
  }

  beforeAll(async () => {
    await broker.start();
    const conf = writeConfig({
      DEFAULT: { transport_url: broker.transportUrl() },
      database: { connection: testDb.url },
      warre: { user_notifier: 'logging' },
      oslo_messaging_notifications: { driver: 'messagingv2' },
      oslo_messaging_rabbit: { amqp_durable_queues: true, rabbit_retry_interval: 1, rabbit_retry_backoff: 1, rabbit_interval_max: 2 },
    });
    warre = new WarreProcess(['notification', '--config-file', conf]);
    await warre.waitForLog('warre-notification consuming warre.sample');
  }, 120_000);
  afterAll(async () => {
    await conn?.close().catch(() => undefined);
    await warre?.stop();
    await broker.destroy();
  });

  it('200 events in flight when the broker stops: all applied after it is back', async () => {
    const b = await batch();
    const lock = await lockRows(b.ids);
    try {
      await publish(broker.transportUrl('amqp_durable_queues=true'), b.events);
      // Delivered to Warre (none ready), held behind the row locks.
      await waitFor(
        async () => (await (await channel()).checkQueue('warre.sample')).messageCount === 0,
        'Warre to take the events',
        30_000,
        200,
      );
      const q = await (await channel()).checkQueue('warre.sample');
      expect(q.consumerCount).toBe(1);
      await conn?.close().catch(() => undefined);
      await broker.stop();
      await warre.waitForLog('AMQP server on', {}, 30_000);
      await broker.start();
    } finally {
      await lock.release();
    }
    // messageCount counts ready messages only; with the consumer idle none are unacked.
    const empty = async () =>
      (await (await channel()).checkQueue('warre.sample')).messageCount === 0 &&
      warre.find('lease event applied').length >= b.events.length;
    await expectSettled(b, warre, empty, drainNotifications(channel));
    // The events in flight at the stop came back from the durable queue and were applied again.
    expect(warre.find('lease event applied').length).toBeGreaterThan(b.events.length);
    expect(warre.alive).toBe(true);
  }, 240_000);
});
