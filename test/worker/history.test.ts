/**
 * The reservation history and the periodic task (docs/api.md#history,
 * docs/operations.md#history) on each database: an overdue ACTIVE reservation completed by the
 * task, and a COMPLETE one cleaned up, each leave a `system` row in the same transaction; rows
 * older than `[warre] history_retention_days` (from the configuration, as the worker wires it)
 * are removed and no others; the table and its migration exist on a fresh database.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPeriodic } from '../../src/cli/worker-parts.js';
import type { Db } from '../../src/db/connect.js';
import { dbVersion } from '../../src/db/migrate.js';
import { listHistory, recordHistory } from '../../src/db/repositories/history.js';
import type { HistoryEntry } from '../../src/domain/history.js';
import { formatApi } from '../../src/domain/time.js';
import type { Flavor } from '../../src/domain/types.js';
import { DIALECTS, migratedDatabase } from '../support/db.js';
import {
  capturePino,
  configFrom,
  DAY,
  HOUR,
  MINUTE,
  RecordingMessenger,
  reservationRow,
  seedFlavor,
  seedReservation,
} from '../support/lifecycle-helpers.js';

describe.each(DIALECTS)('reservation history and the periodic task on %s', (dialect) => {
  let db: Db;
  let close: () => Promise<void>;
  let flavor: Flavor;

  beforeAll(async () => {
    ({ db, close } = await migratedDatabase(dialect));
    flavor = await seedFlavor(db);
  });
  afterAll(async () => close());

  const minute = (ms: number) => Math.floor(ms / MINUTE) * MINUTE;
  const periodic = (sections: Record<string, Record<string, string | number>> = {}) =>
    createPeriodic(configFrom(sections), capturePino().logger, db, new RecordingMessenger(), null);
  const historyOf = async (reservationId: string) => (await listHistory(db, { reservationId }, { limit: 100, offset: 0 })).rows;

  it('is a migration of its own, applied', async () => {
    const v = await dbVersion(db);
    expect(v.applied).toContain('0006-reservation-history');
    expect(v.pending).toEqual([]);
  });

  it('an overdue reservation completed and an old COMPLETE one cleaned up each leave a system row', async () => {
    const now = Date.now();
    const project = `p-${randomUUID().slice(0, 8)}`;
    const overdueEnd = minute(now - 2 * MINUTE);
    const overdue = await seedReservation(db, {
      flavor,
      projectId: project,
      status: 'ACTIVE',
      leaseId: randomUUID(),
      start: minute(now - DAY),
      end: overdueEnd,
    });
    const old = await seedReservation(db, {
      flavor,
      projectId: project,
      status: 'COMPLETE',
      leaseId: randomUUID(),
      start: minute(now - 9 * DAY),
      end: minute(now - 8 * DAY),
    });
    const running = await seedReservation(db, {
      flavor,
      projectId: project,
      status: 'ACTIVE',
      leaseId: randomUUID(),
      start: minute(now - HOUR),
      end: minute(now + DAY),
    });
    const report = await periodic().runOnce(true);
    expect(report.completed).toBe(1);
    expect(report.deletedReservations).toBe(1);

    expect((await reservationRow(db, overdue))!.status).toBe('COMPLETE');
    const completed = await historyOf(overdue);
    expect(completed).toHaveLength(1);
    expect(completed[0]).toMatchObject({
      reservationId: overdue,
      projectId: project,
      event: 'completed',
      userId: 'system',
      requestId: null,
      statusBefore: 'ACTIVE',
      statusAfter: 'COMPLETE',
      detail: { reason: 'overdue', end: formatApi(overdueEnd) },
    });
    expect(Math.abs(completed[0]!.time - now)).toBeLessThan(5 * MINUTE);

    expect(await reservationRow(db, old)).toBeUndefined();
    expect(await historyOf(old)).toMatchObject([
      {
        event: 'deleted',
        projectId: project,
        userId: 'system',
        statusBefore: 'COMPLETE',
        statusAfter: null,
        detail: { reason: 'cleanup' },
      },
    ]);
    // Nothing changed for the running reservation: nothing recorded.
    expect(await historyOf(running)).toEqual([]);
    // A second run finds nothing more to do and records nothing more.
    await periodic().runOnce(true);
    expect(await historyOf(overdue)).toHaveLength(1);
  });

  it('removes the rows older than [warre] history_retention_days, and only those', async () => {
    const now = Date.now();
    const project = `p-${randomUUID().slice(0, 8)}`;
    const row = (daysAgo: number): HistoryEntry => ({
      reservationId: randomUUID(),
      projectId: project,
      event: 'created',
      time: now - daysAgo * DAY,
      userId: `u-${daysAgo}`,
      requestId: null,
      statusBefore: null,
      statusAfter: 'PENDING_CREATE',
      detail: null,
    });
    await recordHistory(db, [row(500), row(401), row(399), row(31), row(29), row(0)]);
    const left = async () => (await listHistory(db, { projectId: project }, { limit: 100, offset: 0 })).rows.map((h) => h.userId).sort();

    // The default: 400 days.
    expect((await periodic().runOnce(true)).deletedHistory).toBe(2);
    expect(await left()).toEqual(['u-0', 'u-29', 'u-31', 'u-399'].sort());

    const report = await periodic({ warre: { history_retention_days: 30 } }).runOnce(true);
    expect(report.deletedHistory).toBe(2);
    expect(await left()).toEqual(['u-0', 'u-29']);
  });
});
