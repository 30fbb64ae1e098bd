/**
 * Messages survive a crash between the state change and the send: they are
 * recorded in the state change's transaction and marked delivered once sent;
 * the periodic task sends those a dead process left undelivered, once.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/connect.js';
import { applyLeaseEvent } from '../../src/db/repositories/lease-events.js';
import { onLeaseEvent } from '../../src/domain/lifecycle.js';
import { LeaseEventHandler } from '../../src/notification/lease-events.js';
import { PeriodicTasks } from '../../src/worker/periodic.js';
import { DIALECTS, migratedDatabase } from '../support/db.js';
import { DAY, MINUTE, RecordingMessenger, recordingLogger, seedFlavor, seedReservation, waitFor } from '../support/lifecycle-helpers.js';

describe.each(DIALECTS)('message outbox on %s', (dialect) => {
  let db: Db;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ db, close } = await migratedDatabase(dialect));
  });
  afterAll(async () => close?.());

  const periodic = (messenger: RecordingMessenger, now: () => number) =>
    new PeriodicTasks({ db, messenger, log: recordingLogger(), intervalMs: 60_000, inUse: async () => false, now });

  it('a start event whose process died before sending is sent by the periodic task, once', async () => {
    const flavor = await seedFlavor(db);
    const leaseId = randomUUID();
    const start = Math.floor(Date.now() / MINUTE) * MINUTE + DAY;
    const id = await seedReservation(db, { flavor, status: 'ALLOCATED', leaseId, start, end: start + DAY });
    // The state change commits and records the messages; the "process" dies before sending them.
    const recordedAt = Date.now() - 10 * MINUTE;
    const applied = await applyLeaseEvent(db, leaseId, recordedAt, (status) => {
      const d = onLeaseEvent(status, 'start_lease');
      return { status: d.status, keys: [d.message!, d.notification!] };
    });
    expect(applied?.newKeys).toEqual(['start', 'warre.reservation.start']);

    const messenger = new RecordingMessenger();
    const report = await periodic(messenger, () => Date.now()).runOnce(true);
    expect(report.resent).toBeGreaterThanOrEqual(2);
    expect(messenger.of(id)).toEqual(['user:start', 'notify:warre.reservation.start', 'notify:warre.reservation.exists']);

    // Delivered now: the next run sends only the usual exists notification.
    const again = new RecordingMessenger();
    await periodic(again, () => Date.now()).runOnce(true);
    expect(again.of(id)).toEqual(['notify:warre.reservation.exists']);
  });

  it('messages sent in the normal path are marked delivered and never resent', async () => {
    const flavor = await seedFlavor(db);
    const leaseId = randomUUID();
    const start = Math.floor(Date.now() / MINUTE) * MINUTE + DAY;
    const id = await seedReservation(db, { flavor, status: 'ALLOCATED', leaseId, start, end: start + DAY });
    const messenger = new RecordingMessenger();
    const handler = new LeaseEventHandler(db, messenger, recordingLogger(), () => Date.now() - 10 * MINUTE);
    expect(await handler.handle('start_lease', leaseId)).toBe('applied');
    expect(messenger.of(id)).toEqual(['user:start', 'notify:warre.reservation.start']);
    const later = new RecordingMessenger();
    await periodic(later, () => Date.now()).runOnce(true);
    expect(later.of(id)).toEqual(['notify:warre.reservation.exists']);
  });

  /** An ALLOCATED reservation whose start event was applied 10 minutes ago by a process that died before sending. */
  async function lostStartMessages(): Promise<string> {
    const flavor = await seedFlavor(db);
    const leaseId = randomUUID();
    const start = Math.floor(Date.now() / MINUTE) * MINUTE + DAY;
    const id = await seedReservation(db, { flavor, status: 'ALLOCATED', leaseId, start, end: start + DAY });
    await applyLeaseEvent(db, leaseId, Date.now() - 10 * MINUTE, (status) => {
      const d = onLeaseEvent(status, 'start_lease');
      return { status: d.status, keys: [d.message!, d.notification!] };
    });
    return id;
  }

  it('looks for lost messages every resend interval, not only at the (30-minute) periodic run', async () => {
    const id = await lostStartMessages();
    const messenger = new RecordingMessenger();
    const tasks = new PeriodicTasks({
      db,
      messenger,
      log: recordingLogger(),
      intervalMs: 3_600_000,
      resendIntervalMs: 100,
      inUse: async () => false,
    });
    tasks.start();
    try {
      await waitFor(() => messenger.of(id).length >= 2, 'the lost messages', 10_000);
      expect(messenger.of(id)).toEqual(['user:start', 'notify:warre.reservation.start']);
    } finally {
      await tasks.stop();
    }
  });

  it('two workers looking at the same time send a lost message once (the resend lock)', async () => {
    const id = await lostStartMessages();
    const a = new RecordingMessenger();
    const b = new RecordingMessenger();
    const now = Date.now();
    const [na, nb] = await Promise.all([periodic(a, () => now).resendLost(now), periodic(b, () => now).resendLost(now)]);
    expect([...a.of(id), ...b.of(id)].sort()).toEqual(['notify:warre.reservation.start', 'user:start']);
    expect(Math.min(na, nb)).toBe(0);
    // Released after the pass: the next look (nothing left) can take it at once.
    expect(await periodic(new RecordingMessenger(), () => now).resendLost(now)).toBe(0);
  });

  it('a recent undelivered message is left to its process (grace period)', async () => {
    const flavor = await seedFlavor(db);
    const leaseId = randomUUID();
    const start = Math.floor(Date.now() / MINUTE) * MINUTE + DAY;
    const id = await seedReservation(db, { flavor, status: 'ACTIVE', leaseId, start, end: start + DAY });
    await applyLeaseEvent(db, leaseId, Date.now(), () => ({ status: null, keys: ['before_end'] }));
    const messenger = new RecordingMessenger();
    await periodic(messenger, () => Date.now()).runOnce(true);
    expect(messenger.of(id)).toEqual(['notify:warre.reservation.exists']);
  });
});
