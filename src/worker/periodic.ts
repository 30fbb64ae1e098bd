/**
 * Periodic tasks of the worker (docs/api.md#periodic-tasks), every `[worker]
 * periodic_task_interval` seconds. Each task takes a database lock for the
 * interval, so several workers never run the same task at once. Lost messages
 * (recorded with a state change, never sent because their process died) are
 * looked for more often, every minute, under a lock of their own.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { Db } from '../db/connect.js';
import { deleteHistoryBefore } from '../db/repositories/history.js';
import { deleteEndedWindows } from '../db/repositories/maintenance-windows.js';
import { undeliveredMessages } from '../db/repositories/outbox.js';
import { activeReservations, completeOverdue, deleteCompletedBefore } from '../db/repositories/periodic.js';
import { getReservation } from '../db/repositories/reservations.js';
import { acquireTaskLock, releaseTaskLock } from '../db/repositories/task-locks.js';
import { COMPLETE_RETENTION_MS } from '../domain/lifecycle.js';
import type { Logger } from '../domain/logger.js';
import { outboxResent } from '../metrics/registry.js';
import { deliver } from '../notification/lease-events.js';
import type { Messenger } from '../notification/messenger.js';

/** A message recorded this long ago and still not delivered was lost by its process. */
const RESEND_GRACE_MS = 5 * 60_000;
/** Older than this, an unsent message is stale news: it is not sent any more. */
const RESEND_MAX_AGE_MS = 24 * 3_600_000;
/** How often lost messages are looked for. */
const RESEND_INTERVAL_MS = 60_000;

export interface PeriodicOptions {
  db: Db;
  messenger: Messenger;
  log: Logger;
  intervalMs: number;
  /** Does Nova list servers of this compute flavor in this project? Errors count as "no". */
  inUse: (projectId: string, computeFlavor: string) => Promise<boolean>;
  now?: () => number;
  /** Between looks for lost messages (default 60 s). */
  resendIntervalMs?: number;
  /** `[warre] history_retention_days` in ms: older reservation history rows are removed (default 400 days). */
  historyRetentionMs?: number;
}

/** `[warre] history_retention_days` by default. */
export const HISTORY_RETENTION_MS = 400 * 24 * 3_600_000;

export interface PeriodicReport {
  /** Messages recorded but never sent (their process died between commit and send), sent now. */
  resent: number;
  deletedReservations: number;
  deletedWindows: number;
  /** Reservation history rows older than the retention, removed. */
  deletedHistory: number;
  completed: number;
  exists: number;
  inUse: number;
  skipped: boolean;
}

export class PeriodicTasks {
  private timer: NodeJS.Timeout | null = null;
  private resendTimer: NodeJS.Timeout | null = null;
  /** Unique per instance: two in one process are two lock holders. */
  private readonly holder = `${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  private current: Promise<unknown> = Promise.resolve();
  private resending: Promise<number> | null = null;

  constructor(private readonly o: PeriodicOptions) {}

  private now(): number {
    return this.o.now ? this.o.now() : Date.now();
  }

  start(): void {
    const tick = () => {
      this.current = this.runOnce().catch((err: unknown) => this.o.log.error({ err }, 'periodic tasks failed'));
      this.timer = setTimeout(tick, this.o.intervalMs);
      this.timer.unref();
    };
    this.timer = setTimeout(tick, Math.min(10_000, this.o.intervalMs));
    this.timer.unref();
    this.resendTimer = setInterval(() => {
      this.resendLost(this.now()).catch((err: unknown) => this.o.log.error({ err }, 'resending lost messages failed'));
    }, this.o.resendIntervalMs ?? RESEND_INTERVAL_MS);
    this.resendTimer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    if (this.resendTimer) clearInterval(this.resendTimer);
    await this.current;
    await this.resending?.catch(() => undefined);
  }

  /**
   * Send the messages a dead process recorded but never sent (older than a grace
   * period), if no other worker is doing it (`force` ignores the lock, for tests).
   * The lock is held while sending (at most the grace period) and released after.
   */
  resendLost(now: number, force = false): Promise<number> {
    this.resending ??= (async () => {
      const { db } = this.o;
      if (!force && !(await acquireTaskLock(db, 'resend', this.holder, now, RESEND_GRACE_MS))) return 0;
      try {
        return await this.resendUndelivered(now);
      } finally {
        if (!force) await releaseTaskLock(db, 'resend', this.holder);
      }
    })().finally(() => {
      this.resending = null;
    });
    return this.resending;
  }

  /** Run every task once if this process wins the lock (`force` ignores the lock, for tests). */
  async runOnce(force = false): Promise<PeriodicReport> {
    const { db, log, messenger } = this.o;
    const now = this.now();
    const report: PeriodicReport = {
      resent: 0,
      deletedReservations: 0,
      deletedWindows: 0,
      deletedHistory: 0,
      completed: 0,
      exists: 0,
      inUse: 0,
      skipped: false,
    };
    if (!force && !(await acquireTaskLock(db, 'periodic', this.holder, now, Math.max(1000, this.o.intervalMs - 1000)))) {
      report.skipped = true;
      return report;
    }
    report.resent = await this.resendLost(now, force);
    report.deletedReservations = await deleteCompletedBefore(db, now - COMPLETE_RETENTION_MS, now);
    report.deletedWindows = await deleteEndedWindows(db, now);
    report.deletedHistory = await deleteHistoryBefore(db, now - (this.o.historyRetentionMs ?? HISTORY_RETENTION_MS));
    for (const r of await activeReservations(db)) {
      if (r.end < now) {
        if (await completeOverdue(db, r.id, now)) report.completed++;
        continue;
      }
      await messenger.notify('warre.reservation.exists', r);
      report.exists++;
      if (r.compute_flavor && (await this.o.inUse(r.project_id, r.compute_flavor))) {
        await messenger.notify('warre.reservation.in_use', r);
        report.inUse++;
      }
    }
    log.info({ ...report }, 'periodic tasks done');
    return report;
  }

  private async resendUndelivered(now: number): Promise<number> {
    const { db, log, messenger } = this.o;
    let n = 0;
    for (const m of await undeliveredMessages(db, now - RESEND_MAX_AGE_MS, now - RESEND_GRACE_MS)) {
      const r = await getReservation(db, m.reservation_id);
      if (!r) continue; // deleted meanwhile; its rows go with it
      log.warn({ reservation: r.id, message: m.event }, 'sending a message its process did not send');
      await deliver(db, messenger, log, m.event, r, now);
      outboxResent.inc({ message: m.event });
      n++;
    }
    return n;
  }
}
