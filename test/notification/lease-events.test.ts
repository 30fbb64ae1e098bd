/**
 * LeaseEventHandler on each database (docs/api.md#lease-events): start → ACTIVE, end →
 * COMPLETE, before_end → message only; idempotent, never backwards, one
 * message per event; unknown leases; the 'retry' outcome while a lease
 * creation is in flight. Then the all-in-one chain in-process: lease worker
 * → lease simulator (no settle time, a settable clock) → the same handler.
 */

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/connect.js';
import { claimLeaseJob, completeLeaseJob, failLeaseJob } from '../../src/db/repositories/lease-jobs.js';
import type { Flavor } from '../../src/domain/types.js';
import { LeaseSimulator } from '../../src/drivers/blazar/simulator.js';
import { LeaseEventHandler } from '../../src/notification/lease-events.js';
import { LeaseWorker } from '../../src/worker/lease-worker.js';
import { DIALECTS, migratedDatabase, type TestDatabase } from '../support/db.js';
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
  waitFor,
} from '../support/lifecycle-helpers.js';

describe.each(DIALECTS)('lease events on %s', (dialect) => {
  let db: Db;
  let testDb: TestDatabase;
  let close: () => Promise<void>;
  let flavor: Flavor;
  let messenger: RecordingMessenger;
  let log: ReturnType<typeof recordingLogger>;
  let handler: LeaseEventHandler;

  beforeAll(async () => {
    ({ db, testDb, close } = await migratedDatabase(dialect));
    flavor = await seedFlavor(db);
  });
  afterAll(async () => close());
  beforeEach(() => {
    messenger = new RecordingMessenger();
    log = recordingLogger();
    handler = new LeaseEventHandler(db, messenger, log);
  });

  const leased = async (status: 'ALLOCATED' | 'ACTIVE' | 'COMPLETE' | 'ERROR' = 'ALLOCATED') => {
    const leaseId = randomUUID();
    const start = Math.floor(Date.now() / MINUTE) * MINUTE - HOUR;
    const id = await seedReservation(db, { flavor, status, leaseId, computeFlavor: randomUUID(), start, end: start + DAY });
    return { id, leaseId };
  };

  it('start → ACTIVE with the start message and warre.reservation.start; a duplicate sends nothing', async () => {
    const { id, leaseId } = await leased();
    expect(await handler.handle('start_lease', leaseId, 'm1')).toBe('applied');
    expect((await reservationRow(db, id))!.status).toBe('ACTIVE');
    expect(messenger.of(id)).toEqual(['user:start', 'notify:warre.reservation.start']);
    expect(messenger.sent.every((s) => s.status === 'ACTIVE')).toBe(true);
    expect(await handler.handle('start_lease', leaseId, 'm1-again')).toBe('applied');
    expect(messenger.of(id)).toEqual(['user:start', 'notify:warre.reservation.start']);
  });

  it('before_end changes nothing but sends the message, once', async () => {
    const { id, leaseId } = await leased('ACTIVE');
    await handler.handle('before_end_lease', leaseId);
    await handler.handle('before_end_lease', leaseId);
    expect((await reservationRow(db, id))!.status).toBe('ACTIVE');
    expect(messenger.of(id)).toEqual(['user:before_end']);
  });

  it('end → COMPLETE; a late start after the end leaves it COMPLETE and sends nothing', async () => {
    const { id, leaseId } = await leased('ACTIVE');
    await handler.handle('end_lease', leaseId);
    expect((await reservationRow(db, id))!.status).toBe('COMPLETE');
    await handler.handle('start_lease', leaseId);
    await handler.handle('before_end_lease', leaseId);
    await handler.handle('end_lease', leaseId);
    expect((await reservationRow(db, id))!.status).toBe('COMPLETE');
    expect(messenger.of(id)).toEqual(['user:end', 'notify:warre.reservation.end']);
  });

  it('events out of order (before_end, end, start) end COMPLETE with no start message', async () => {
    const { id, leaseId } = await leased('ALLOCATED');
    await handler.handle('before_end_lease', leaseId);
    await handler.handle('end_lease', leaseId);
    await handler.handle('start_lease', leaseId);
    expect((await reservationRow(db, id))!.status).toBe('COMPLETE');
    expect(messenger.of(id)).toEqual(['user:before_end', 'user:end', 'notify:warre.reservation.end']);
  });

  it('an ERROR reservation is not moved by events', async () => {
    const { id, leaseId } = await leased('ERROR');
    await handler.handle('start_lease', leaseId);
    await handler.handle('end_lease', leaseId);
    expect((await reservationRow(db, id))!.status).toBe('ERROR');
    expect(messenger.sent).toEqual([]);
  });

  it('an unknown lease is ignored with a warning', async () => {
    expect(await handler.handle('start_lease', 'no-such-lease', 'msg-7')).toBe('unknown');
    const warn = log.lines.find((l) => l.level === 'warn');
    expect(warn?.msg).toBe('lease event for a lease no reservation has; ignored');
    expect(warn?.obj).toMatchObject({ lease: 'no-such-lease', event: 'start_lease', message_id: 'msg-7' });
    expect(messenger.sent).toEqual([]);
  });

  it("'retry' while a lease creation is in flight, applied once the lease is recorded", async () => {
    const start = Date.now() + DAY;
    const id = await seedReservation(db, { flavor, start, end: start + DAY });
    const claim = await claimLeaseJob(db, 'w-test', Date.now(), 60_000);
    expect(claim?.reservationId).toBe(id);
    const leaseId = randomUUID();
    // Blazar's start event overtakes the worker's commit.
    expect(await handler.handle('start_lease', leaseId)).toBe('retry');
    expect(messenger.sent).toEqual([]);
    expect((await completeLeaseJob(db, id, leaseId, randomUUID())).outcome).toBe('allocated');
    expect(await handler.handle('start_lease', leaseId)).toBe('applied');
    expect((await reservationRow(db, id))!.status).toBe('ACTIVE');
  });

  it("'retry' also while the job waits for a retry or after its worker died; 'unknown' once it failed", async () => {
    const start = Date.now() + DAY;
    const id = await seedReservation(db, { flavor, start, end: start + DAY });
    // A worker died after Blazar created the lease: its claim has expired.
    await db.kysely
      .insertInto('warre_lease_job')
      .values({
        reservation_id: id,
        claimed_by: 'dead',
        claimed_until: db.codec.dt(Date.now() - 60_000),
        attempts: 1,
        first_attempt_at: db.codec.dt(Date.now() - 120_000),
        next_attempt_at: null,
        last_error: null,
      })
      .execute();
    expect(await handler.handle('start_lease', 'lease-of-the-dead-worker')).toBe('retry');
    // Waiting for a retry after a transient failure (Blazar may have made the lease before timing out).
    await db.kysely
      .updateTable('warre_lease_job')
      .set({ claimed_until: null, next_attempt_at: db.codec.dt(Date.now() + 60_000) })
      .where('reservation_id', '=', id)
      .execute();
    expect(await handler.handle('start_lease', 'lease-of-the-dead-worker')).toBe('retry');
    await failLeaseJob(db, id, 'ERROR: Not enough hosts available');
    expect(await handler.handle('start_lease', 'lease-of-the-dead-worker')).toBe('unknown');
  });

  it('concurrent duplicates of one event send one message', async () => {
    const { id, leaseId } = await leased('ALLOCATED');
    // SQLite's driver is synchronous: one connection per process. The others get one each.
    const dbs = dialect === 'sqlite' ? [db] : Array.from({ length: 5 }, () => testDb.open(2));
    try {
      const handlers = Array.from({ length: 5 }, (_, i) => new LeaseEventHandler(dbs[i % dbs.length]!, messenger, log));
      const outcomes = await Promise.all(handlers.map((h) => h.handle('start_lease', leaseId)));
      expect(outcomes).toEqual(Array(5).fill('applied'));
    } finally {
      if (dialect !== 'sqlite') for (const d of dbs) await d.close();
    }
    expect(messenger.of(id)).toEqual(['user:start', 'notify:warre.reservation.start']);
  });

  it('all-in-one chain in-process: worker → simulator → handler, ALLOCATED → ACTIVE → before_end → COMPLETE', async () => {
    // Simulated time runs with the real clock from a settable offset (the simulator's back-off needs it to run).
    let offset = 10 * MINUTE;
    const clock = () => Date.now() + offset;
    const t0 = Math.floor(clock() / MINUTE) * MINUTE;
    const pinoLog = capturePino();
    const simulator = new LeaseSimulator(
      async (e) => {
        // as src/cli/all.ts wires it
        const outcome = await handler.handle(e.eventType, e.leaseId, e.messageId);
        if (outcome === 'retry') throw new Error(`lease ${e.leaseId} not recorded yet`);
      },
      { clock, settleMs: 0, retryDelayMs: 50, beforeEndMinutes: 60, logger: pinoLog.logger },
    );
    const worker = new LeaseWorker({
      db,
      leases: simulator,
      botSession: async () => null,
      messenger,
      log,
      claimTtlMs: 60_000,
      retryTimeoutMs: 60_000,
      now: clock,
    });
    /** Move the simulated time and let the simulator look at its timer again. */
    const advanceTo = (t: number) => {
      offset = t - Date.now();
      simulator.restore([]);
    };
    try {
      const start = t0 + HOUR;
      const end = start + 3 * HOUR;
      const id = await seedReservation(db, { flavor, start, end, createdAt: t0 });
      expect(await worker.runOnce()).toBe(1);
      const row = (await reservationRow(db, id))!;
      expect(row.status).toBe('ALLOCATED');
      expect(row.lease_id).toMatch(/^[0-9a-f-]{36}$/);
      expect(messenger.of(id)).toEqual(['user:create']);

      advanceTo(start);
      await waitFor(async () => (await reservationRow(db, id))!.status === 'ACTIVE', 'start_lease');
      advanceTo(end - 60 * MINUTE);
      await waitFor(() => messenger.count('user', 'before_end', id) === 1, 'before_end_lease');
      expect((await reservationRow(db, id))!.status).toBe('ACTIVE');
      advanceTo(end);
      await waitFor(async () => (await reservationRow(db, id))!.status === 'COMPLETE', 'end_lease');
      await waitFor(() => messenger.of(id).length === 6, 'the end messages');
      expect(messenger.of(id)).toEqual([
        'user:create',
        'user:start',
        'notify:warre.reservation.start',
        'user:before_end',
        'user:end',
        'notify:warre.reservation.end',
      ]);

      // A lease whose start is due at once: its event may overtake the worker's commit
      // ('retry' → the simulator tries again) and still lands exactly once.
      const now = Math.floor(clock() / MINUTE) * MINUTE;
      const id2 = await seedReservation(db, { flavor, start: now, end: now + 3 * HOUR, createdAt: now });
      await worker.runOnce();
      await waitFor(async () => (await reservationRow(db, id2))!.status === 'ACTIVE', 'the due start_lease');
      // Messages follow the commit.
      await waitFor(() => messenger.of(id2).length === 3, 'the create and start messages');
      expect(messenger.of(id2).sort()).toEqual(['notify:warre.reservation.start', 'user:create', 'user:start']);
    } finally {
      simulator.stop();
    }
  });
});
