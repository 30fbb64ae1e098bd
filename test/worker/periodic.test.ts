/**
 * Periodic tasks on each database (docs/api.md#periodic-tasks), wired as the worker wires them
 * (createPeriodic: Nova through a session, docs/interop.md#nova): clean-up of old
 * COMPLETE reservations and ended maintenance windows, overdue ACTIVE →
 * COMPLETE without notification, `exists` for every ACTIVE reservation and
 * `in_use` only when Nova lists servers; a Nova failure still sends `exists`;
 * of two periodic runners only one runs at a time (task lock).
 */
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { createPeriodic } from '../../src/cli/worker-parts.js';
import type { Db } from '../../src/db/connect.js';
import { insertMaintenanceWindow } from '../../src/db/repositories/maintenance-windows.js';
import type { Flavor } from '../../src/domain/types.js';
import { PeriodicTasks } from '../../src/worker/periodic.js';
import { DIALECTS, migratedDatabase, type TestDatabase } from '../support/db.js';
import { FakeNova } from '../support/fake-nova.js';
import { FakeSession } from '../support/fake-session.js';
import {
  capturePino,
  configFrom,
  DAY,
  HOUR,
  MINUTE,
  RecordingMessenger,
  recordingLogger,
  reservationRow,
  seedFlavor,
  seedReservation,
} from '../support/lifecycle-helpers.js';

const nova = new FakeNova();
beforeAll(async () => {
  await nova.start();
});
afterAll(async () => {
  await nova.stop();
});

describe.each(DIALECTS)('periodic tasks on %s', (dialect) => {
  let db: Db;
  let testDb: TestDatabase;
  let close: () => Promise<void>;
  let flavor: Flavor;
  let messenger: RecordingMessenger;
  let pinoLog: ReturnType<typeof capturePino>;

  beforeAll(async () => {
    ({ db, testDb, close } = await migratedDatabase(dialect));
    flavor = await seedFlavor(db);
  });
  afterAll(async () => close());
  beforeEach(async () => {
    for (const t of [
      'warre_sent_message',
      'warre_lease_job',
      'reservation',
      'maintenance_window_flavor',
      'maintenance_window',
      'warre_task_lock',
    ] as const) {
      await db.kysely.deleteFrom(t).execute();
    }
    nova.reset();
    nova.servers = [];
    messenger = new RecordingMessenger();
    pinoLog = capturePino();
  });

  const periodic = () => createPeriodic(configFrom({}), pinoLog.logger, db, messenger, new FakeSession({ compute: nova.url }));
  const minute = (ms: number) => Math.floor(ms / MINUTE) * MINUTE;

  async function active(o: { end: number; project?: string; computeFlavor?: string | null }): Promise<string> {
    return seedReservation(db, {
      flavor,
      status: 'ACTIVE',
      leaseId: randomUUID(),
      computeFlavor: o.computeFlavor === undefined ? randomUUID() : o.computeFlavor,
      projectId: o.project ?? 'p-one',
      start: minute(Date.now() - DAY),
      end: o.end,
    });
  }

  it('cleans up, completes overdue reservations silently, sends exists for each ACTIVE and in_use only with servers', async () => {
    const now = Date.now();
    const oldComplete = await seedReservation(db, {
      flavor,
      status: 'COMPLETE',
      leaseId: randomUUID(),
      start: minute(now - 9 * DAY),
      end: minute(now - 8 * DAY),
    });
    await db.kysely
      .insertInto('warre_sent_message')
      .values({ reservation_id: oldComplete, event: 'end', sent_at: db.codec.dt(now - 8 * DAY), delivered_at: db.codec.dt(now - 8 * DAY) })
      .execute();
    const recentComplete = await seedReservation(db, {
      flavor,
      status: 'COMPLETE',
      leaseId: randomUUID(),
      start: minute(now - 7 * DAY),
      end: minute(now - 6 * DAY),
    });
    const oldError = await seedReservation(db, { flavor, status: 'ERROR', start: minute(now - 40 * DAY), end: minute(now - 30 * DAY) });
    const overdue = await active({ end: minute(now - 2 * MINUTE) });
    const inUse = await active({ end: minute(now + DAY), project: 'p-one' });
    const idle = await active({ end: minute(now + DAY), project: 'p-two' });
    const noFlavor = await active({ end: minute(now + DAY), computeFlavor: null });
    const allocated = await seedReservation(db, {
      flavor,
      status: 'ALLOCATED',
      leaseId: randomUUID(),
      computeFlavor: randomUUID(),
      start: minute(now + HOUR),
      end: minute(now + DAY),
    });
    const inUseFlavor = (await reservationRow(db, inUse))!.compute_flavor!;
    const idleFlavor = (await reservationRow(db, idle))!.compute_flavor!;
    nova.servers = [
      { id: 's1', name: 'vm1', tenant_id: 'p-one', flavorId: inUseFlavor },
      // Right flavor, wrong project; right project, wrong flavor: neither counts.
      { id: 's2', name: 'vm2', tenant_id: 'p-other', flavorId: idleFlavor },
      { id: 's3', name: 'vm3', tenant_id: 'p-two', flavorId: randomUUID() },
    ];
    const windows = { ended: randomUUID(), current: randomUUID(), future: randomUUID() };
    await insertMaintenanceWindow(db, {
      id: windows.ended,
      start: minute(now - 2 * DAY),
      end: minute(now - DAY),
      note: null,
      flavors: [{ id: flavor.id, name: flavor.name }],
    });
    await insertMaintenanceWindow(db, {
      id: windows.current,
      start: minute(now - DAY),
      end: minute(now + DAY),
      note: null,
      flavors: [],
    });
    await insertMaintenanceWindow(db, {
      id: windows.future,
      start: minute(now + DAY),
      end: minute(now + 2 * DAY),
      note: null,
      flavors: [],
    });

    const report = await periodic().runOnce();
    expect(report).toEqual({
      resent: 0,
      deletedReservations: 1,
      deletedWindows: 1,
      deletedHistory: 0,
      completed: 1,
      exists: 3,
      inUse: 1,
      skipped: false,
    });

    expect(await reservationRow(db, oldComplete)).toBeUndefined();
    expect(await db.kysely.selectFrom('warre_sent_message').selectAll().where('reservation_id', '=', oldComplete).execute()).toEqual([]);
    expect((await reservationRow(db, recentComplete))!.status).toBe('COMPLETE');
    expect((await reservationRow(db, oldError))!.status).toBe('ERROR');
    expect((await reservationRow(db, overdue))!.status).toBe('COMPLETE');
    expect((await reservationRow(db, allocated))!.status).toBe('ALLOCATED');
    const windowIds = (await db.kysely.selectFrom('maintenance_window').select('id').execute()).map((w) => w.id).sort();
    expect(windowIds).toEqual([windows.current, windows.future].sort());
    expect(
      await db.kysely.selectFrom('maintenance_window_flavor').selectAll().where('maintenance_window_id', '=', windows.ended).execute(),
    ).toEqual([]);

    expect(messenger.of(overdue)).toEqual([]);
    expect(messenger.of(inUse)).toEqual(['notify:warre.reservation.exists', 'notify:warre.reservation.in_use']);
    expect(messenger.of(idle)).toEqual(['notify:warre.reservation.exists']);
    expect(messenger.of(noFlavor)).toEqual(['notify:warre.reservation.exists']);
    expect(messenger.sent.filter((s) => s.kind === 'user')).toEqual([]);

    // One Nova request per ACTIVE reservation with a compute flavor, as novaclient sends it.
    const paths = nova.requests.map((r) => r.path).sort();
    expect(paths).toEqual(
      [
        `/v2.1/servers/detail?all_tenants=True&flavor=${inUseFlavor}&tenant_id=p-one`,
        `/v2.1/servers/detail?all_tenants=True&flavor=${idleFlavor}&tenant_id=p-two`,
      ].sort(),
    );
  });

  it('a Nova failure still sends exists (and no in_use)', async () => {
    const a = await active({ end: minute(Date.now() + DAY) });
    const b = await active({ end: minute(Date.now() + DAY), project: 'p-two' });
    nova.servers = [{ id: 's1', name: 'vm1', tenant_id: 'p-one', flavorId: (await reservationRow(db, a))!.compute_flavor! }];
    nova.failNext(10, 500, 'Unexpected API Error.');
    const report = await periodic().runOnce();
    expect(report).toMatchObject({ exists: 2, inUse: 0, skipped: false });
    expect(messenger.of(a)).toEqual(['notify:warre.reservation.exists']);
    expect(messenger.of(b)).toEqual(['notify:warre.reservation.exists']);
    expect(pinoLog.find('cannot list servers in Nova; in_use not sent')).toHaveLength(2);
    // Nova unreachable: the same.
    await nova.stop();
    try {
      messenger.sent.length = 0;
      expect(await periodic().runOnce(true)).toMatchObject({ exists: 2, inUse: 0 });
    } finally {
      await nova.start();
    }
  });

  it('two periodic runners at once: only one runs; the lock is taken again after the interval', async () => {
    await active({ end: minute(Date.now() + DAY) });
    await active({ end: minute(Date.now() + DAY) });
    let t = Date.now();
    const now = () => t;
    const log = recordingLogger();
    // SQLite's driver is synchronous: one connection per process. The others get one each.
    const dbs = dialect === 'sqlite' ? [db, db] : [testDb.open(2), testDb.open(2)];
    try {
      const runners = dbs.map((d) => new PeriodicTasks({ db: d, messenger, log, intervalMs: 60_000, inUse: async () => false, now }));
      const first = await Promise.all(runners.map((r) => r.runOnce()));
      expect(first.map((r) => r.skipped).sort()).toEqual([false, true]);
      expect(messenger.count('notify', 'warre.reservation.exists')).toBe(2);

      t += 30_000;
      const second = await Promise.all(runners.map((r) => r.runOnce()));
      expect(second.map((r) => r.skipped)).toEqual([true, true]);

      t += 31_000;
      const third = await Promise.all(runners.map((r) => r.runOnce()));
      expect(third.map((r) => r.skipped).sort()).toEqual([false, true]);
      expect(messenger.count('notify', 'warre.reservation.exists')).toBe(4);
    } finally {
      if (dialect !== 'sqlite') for (const d of dbs) await d.close();
    }
  });
});
