/**
 * `warre.reservation.*` notifications as the worker and the event consumer
 * send them (`[oslo_messaging_notifications] driver = messagingv2`), received
 * by an unmodified oslo.messaging listener (Debian python3-oslo.messaging):
 * `exists` / `in_use` from the periodic task (Nova faked), `start` / `end`
 * from the event handler; docs/api.md#notification-payload payload, docs/interop.md#notifications contexts.
 */
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { connectBus, createNotifier } from '../../src/cli/bus.js';
import { createMessenger, createPeriodic } from '../../src/cli/worker-parts.js';
import type { Db } from '../../src/db/connect.js';
import type { Flavor } from '../../src/domain/types.js';
import type { BusConnection } from '../../src/drivers/bus/connection.js';
import { LeaseEventHandler } from '../../src/notification/lease-events.js';
import type { WarreMessenger } from '../../src/notification/warre-messenger.js';
import { migratedDatabase } from '../support/db.js';
import { FakeNova } from '../support/fake-nova.js';
import { FakeSession } from '../support/fake-session.js';
import { capturePino, configFrom, DAY, MINUTE, reservationRow, seedFlavor, seedReservation } from '../support/lifecycle-helpers.js';
import { ensureOsloMessaging, ScriptProcess } from '../support/python/oslo.js';
import { createVhost, type TestVhost } from '../support/rabbit.js';

const nova = new FakeNova();
let vh: TestVhost;
let db: Db;
let closeDb: () => Promise<void>;
let conn: BusConnection;
let messenger: WarreMessenger;
let flavor: Flavor;
const log = capturePino();

beforeAll(async () => {
  await ensureOsloMessaging();
  await nova.start();
  vh = await createVhost('lc-notify');
  ({ db, close: closeDb } = await migratedDatabase('sqlite'));
  flavor = await seedFlavor(db, { name: 'lc.notify', category: null, availability_zone: null, end: null });
  const config = configFrom({
    DEFAULT: { transport_url: vh.transportUrl() },
    warre: { user_notifier: 'logging' },
    oslo_messaging_notifications: { driver: 'messagingv2' },
  });
  conn = connectBus(config, config.DEFAULT.transport_url, log.logger, 'warre-worker')!;
  messenger = createMessenger(config, log.logger, null, createNotifier(config, log.logger, conn));
});

afterAll(async () => {
  await messenger?.close();
  await conn?.close();
  await closeDb?.();
  await vh?.delete();
  await nova.stop();
});

const DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}$/;
const PAYLOAD_KEYS = ['end', 'flavor', 'id', 'instance_count', 'lease_id', 'project_id', 'start', 'user_id'];
const FLAVOR_KEYS = [
  'active',
  'availability_zone',
  'category',
  'disk_gb',
  'end',
  'ephemeral_gb',
  'id',
  'memory_mb',
  'name',
  'start',
  'vcpu',
];

function listen(count: number): ScriptProcess {
  return new ScriptProcess('notify_listener.py', [
    '--url',
    vh.transportUrl(),
    '--exchange',
    'warre',
    '--topic',
    'notifications',
    '--count',
    String(count),
    '--timeout',
    '60',
  ]);
}

describe('warre.reservation.* to an oslo.messaging listener', () => {
  it('exists for every ACTIVE reservation, in_use only where Nova lists servers; RequestContext() context', async () => {
    const start = Math.floor((Date.now() - DAY) / MINUTE) * MINUTE;
    const used = await seedReservation(db, {
      flavor,
      status: 'ACTIVE',
      leaseId: randomUUID(),
      computeFlavor: randomUUID(),
      start,
      end: start + 3 * DAY,
      projectId: 'p-used',
      instanceCount: 1,
    });
    const idle = await seedReservation(db, {
      flavor,
      status: 'ACTIVE',
      leaseId: randomUUID(),
      computeFlavor: randomUUID(),
      start,
      end: start + 3 * DAY,
      projectId: 'p-idle',
    });
    nova.servers = [{ id: 'vm', name: 'vm', tenant_id: 'p-used', flavorId: (await reservationRow(db, used))!.compute_flavor! }];
    const listener = listen(3);
    try {
      await listener.ready();
      const periodic = createPeriodic(configFrom({}), log.logger, db, messenger, new FakeSession({ compute: nova.url }));
      expect(await periodic.runOnce(true)).toMatchObject({ exists: 2, inUse: 1 });
      const got = await listener.waitForLines((l) => typeof l.event_type === 'string', 3);
      const keys = got.map((n) => `${n.event_type} ${(n.payload as { id: string }).id}`).sort();
      expect(keys).toEqual(
        [`warre.reservation.exists ${idle}`, `warre.reservation.exists ${used}`, `warre.reservation.in_use ${used}`].sort(),
      );
      for (const n of got) {
        expect(n.priority).toBe('info');
        expect(n.publisher_id).toBeNull();
        const p = n.payload as Record<string, unknown>;
        expect(Object.keys(p).sort()).toEqual(PAYLOAD_KEYS);
        expect(Object.keys(p.flavor as object).sort()).toEqual(FLAVOR_KEYS);
        expect(p.start).toMatch(DATE);
        expect(p.end).toMatch(DATE);
        expect(p.flavor).toMatchObject({
          id: flavor.id,
          name: 'lc.notify',
          category: null,
          availability_zone: null,
          start: null,
          end: null,
          active: true,
        });
        // docs/interop.md#notifications: the periodic task's empty RequestContext().
        expect(n.ctxt).toEqual({
          user: null,
          project_id: null,
          system_scope: null,
          project: null,
          domain: null,
          user_domain: null,
          project_domain: null,
          is_admin: false,
          read_only: false,
          show_deleted: false,
          auth_token: null,
          request_id: expect.stringMatching(/^req-[0-9a-f-]{36}$/),
          global_request_id: null,
          resource_uuid: null,
          roles: [],
          user_identity: '- - - - -',
          is_admin_project: true,
          client_timeout: null,
        });
      }
      const usedRow = (await reservationRow(db, used))!;
      const inUse = got.find((n) => n.event_type === 'warre.reservation.in_use')!;
      expect(inUse.payload).toMatchObject({ id: used, project_id: 'p-used', lease_id: usedRow.lease_id, instance_count: 1 });
      // A clean exit acknowledges the last message; a kill right after its line
      // would leave it unacked, requeued for the next test's listener.
      expect(await listener.wait()).toBe(0);
    } finally {
      listener.kill();
      await db.kysely.updateTable('reservation').set({ status: 'COMPLETE' }).where('status', '=', 'ACTIVE').execute();
    }
  });

  it('start and end from the event handler, with no context keys', async () => {
    const leaseId = randomUUID();
    const start = Math.floor(Date.now() / MINUTE) * MINUTE;
    await seedReservation(db, { flavor, status: 'ALLOCATED', leaseId, computeFlavor: randomUUID(), start, end: start + DAY });
    // The queue is shared: count only this lease's notifications.
    const listener = listen(10);
    try {
      await listener.ready();
      const handler = new LeaseEventHandler(db, messenger, log.logger);
      await handler.handle('start_lease', leaseId);
      await handler.handle('end_lease', leaseId);
      const got = await listener.waitForLines((l) => (l.payload as { lease_id?: string } | undefined)?.lease_id === leaseId, 2);
      expect(got.map((n) => n.event_type).sort()).toEqual(['warre.reservation.end', 'warre.reservation.start']);
      for (const n of got) {
        expect(n.ctxt).toEqual({ client_timeout: null });
        expect((n.payload as { id: string; lease_id: string }).lease_id).toBe(leaseId);
        expect((n.payload as { start: string }).start).toBe(`${new Date(start).toISOString().slice(0, 19)}.000000`);
      }
    } finally {
      listener.kill();
    }
  });
});
