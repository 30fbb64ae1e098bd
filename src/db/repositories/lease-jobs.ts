/**
 * The worker's lease jobs (ARCHITECTURE.md, the flow of a reservation): a PENDING_CREATE
 * reservation is the job, `warre_lease_job` holds who claimed it, until when, and how many
 * attempts it took. Claims are safe across processes and hosts.
 */

import { allocatedEntry, errorEntry } from '../../domain/history.js';
import type { ReservationStatus, ReservationWithFlavor } from '../../domain/types.js';
import { read } from '../codec.js';
import type { Db } from '../connect.js';
import { lockReservation, writeTransaction } from '../transaction.js';
import { recordHistory } from './history.js';
import { recordSent } from './outbox.js';
import { getReservation } from './reservations.js';

export interface Claim {
  reservationId: string;
  attempts: number;
  firstAttemptAt: number;
}

/**
 * Claim the oldest PENDING_CREATE reservation that nobody holds and whose
 * retry time has come. Rows are locked with SKIP LOCKED on MySQL/PostgreSQL
 * (several workers never take the same one); SQLite serialises with
 * BEGIN IMMEDIATE. The claim expires after `ttlMs`, so a killed worker's job
 * is taken again.
 */
export async function claimLeaseJob(db: Db, workerId: string, now: number, ttlMs: number): Promise<Claim | null> {
  // A candidate another worker took meanwhile (seen through a stale snapshot) is tried again.
  for (let i = 0; i < 10; i++) {
    const claim = await tryClaimLeaseJob(db, workerId, now, ttlMs);
    if (claim !== 'taken') return claim;
  }
  return null;
}

async function tryClaimLeaseJob(db: Db, workerId: string, now: number, ttlMs: number): Promise<Claim | null | 'taken'> {
  const nowDt = db.codec.dt(now);
  return writeTransaction(db, async (tx) => {
    const q = tx.kysely
      .selectFrom('reservation')
      .leftJoin('warre_lease_job', 'warre_lease_job.reservation_id', 'reservation.id')
      .select([
        'reservation.id as id',
        'warre_lease_job.reservation_id as job',
        'warre_lease_job.attempts as attempts',
        'warre_lease_job.first_attempt_at as first',
      ])
      .where('reservation.status', '=', 'PENDING_CREATE')
      .where((eb) =>
        eb.or([
          eb('warre_lease_job.reservation_id', 'is', null),
          eb.and([
            eb.or([eb('warre_lease_job.claimed_until', 'is', null), eb('warre_lease_job.claimed_until', '<', nowDt)]),
            eb.or([eb('warre_lease_job.next_attempt_at', 'is', null), eb('warre_lease_job.next_attempt_at', '<=', nowDt)]),
          ]),
        ]),
      )
      .orderBy('reservation.created_at')
      .limit(1);
    const row = await db.dialect.claimRows(q, 'reservation').executeTakeFirst();
    if (!row) return null;
    const until = db.codec.dt(now + ttlMs);
    const attempts = (row.attempts ?? 0) + 1;
    const first = row.first ? read.dt(row.first) : now;
    // The lock above covers the reservation row only, and on PostgreSQL the job row was read
    // from the statement's snapshot, which may predate another worker's committed claim. So
    // the claim itself is a compare-and-set: it only succeeds if the job row is still as read.
    if (row.job) {
      const r = await tx.kysely
        .updateTable('warre_lease_job')
        .set({ claimed_by: workerId, claimed_until: until, attempts, first_attempt_at: db.codec.dt(first) })
        .where('reservation_id', '=', row.id)
        .where('attempts', '=', row.attempts ?? 0)
        .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', nowDt)]))
        .where((eb) => eb.or([eb('next_attempt_at', 'is', null), eb('next_attempt_at', '<=', nowDt)]))
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) return 'taken';
    } else {
      const ins = tx.kysely.insertInto('warre_lease_job').values({
        reservation_id: row.id,
        claimed_by: workerId,
        claimed_until: until,
        attempts,
        first_attempt_at: db.codec.dt(first),
        next_attempt_at: null,
        last_error: null,
      });
      if (!(await db.dialect.insertIfAbsent(ins, ['reservation_id']))) return 'taken';
    }
    return { reservationId: row.id, attempts, firstAttemptAt: first };
  });
}

/**
 * Might a lease exist that is not recorded yet? True while any PENDING_CREATE
 * reservation has a job row: claimed now, waiting for a retry, or left by a
 * worker that died after Blazar created the lease (its claim expired; the
 * next claim finds the lease by name).
 */
export async function leaseCreationInFlight(db: Db): Promise<boolean> {
  const r = await db.kysely
    .selectFrom('warre_lease_job')
    .innerJoin('reservation', 'reservation.id', 'warre_lease_job.reservation_id')
    .select('warre_lease_job.reservation_id')
    .where('reservation.status', '=', 'PENDING_CREATE')
    .limit(1)
    .executeTakeFirst();
  return r !== undefined;
}

export type CompleteResult =
  | { outcome: 'allocated'; reservation: ReservationWithFlavor; createRecorded: boolean }
  | { outcome: 'gone' }
  | { outcome: 'already'; leaseId: string | null };

/**
 * Record the created lease: PENDING_CREATE → ALLOCATED with lease_id and
 * compute_flavor, and drop the job. `gone` when the reservation was deleted
 * meanwhile; `already` when it is no longer PENDING_CREATE.
 */
export async function completeLeaseJob(
  db: Db,
  reservationId: string,
  leaseId: string,
  computeFlavor: string | null,
  now: number = Date.now(),
): Promise<CompleteResult> {
  return writeTransaction(db, async (tx) => {
    await lockReservation(tx, reservationId);
    const r = await getReservation(tx, reservationId);
    await tx.kysely.deleteFrom('warre_lease_job').where('reservation_id', '=', reservationId).execute();
    if (!r) return { outcome: 'gone' };
    if (r.status !== 'PENDING_CREATE') return { outcome: 'already', leaseId: r.lease_id };
    await tx.kysely
      .updateTable('reservation')
      .set({ lease_id: leaseId, compute_flavor: computeFlavor, status: 'ALLOCATED', status_reason: null })
      .where('id', '=', reservationId)
      .execute();
    await recordHistory(tx, allocatedEntry(r, leaseId, computeFlavor, now));
    // The 'create' message is recorded with the state change (sent after the commit).
    const createRecorded = await recordSent(tx, reservationId, 'create', now);
    return {
      outcome: 'allocated',
      createRecorded,
      reservation: { ...r, lease_id: leaseId, compute_flavor: computeFlavor, status: 'ALLOCATED', status_reason: null },
    };
  });
}

/**
 * Give up: ERROR with `reason` (what the member reads, `status_reason`); drop the job. Only a
 * PENDING_CREATE reservation changes. The history records `detail`, the error as it happened
 * (docs/api.md#history); without one, the reason.
 */
export async function failLeaseJob(
  db: Db,
  reservationId: string,
  reason: string,
  detail: string = reason,
  now: number = Date.now(),
): Promise<void> {
  await writeTransaction(db, async (tx) => {
    await lockReservation(tx, reservationId);
    const r = await tx.kysely
      .selectFrom('reservation')
      .select(['id', 'project_id', 'status'])
      .where('id', '=', reservationId)
      .executeTakeFirst();
    if (r?.status === 'PENDING_CREATE') {
      await tx.kysely
        .updateTable('reservation')
        .set({ status: 'ERROR', status_reason: reason })
        .where('id', '=', reservationId)
        .where('status', '=', 'PENDING_CREATE')
        .execute();
      await recordHistory(tx, errorEntry(r, r.status as ReservationStatus, detail, now));
    }
    await tx.kysely.deleteFrom('warre_lease_job').where('reservation_id', '=', reservationId).execute();
  });
}

/** Release the claim and try again at `nextAttemptAt`. */

export async function retryLeaseJobLater(db: Db, reservationId: string, nextAttemptAt: number, error: string): Promise<void> {
  await db.kysely
    .updateTable('warre_lease_job')
    .set({ claimed_by: null, claimed_until: null, next_attempt_at: db.codec.dt(nextAttemptAt), last_error: error.slice(0, 1024) })
    .where('reservation_id', '=', reservationId)
    .execute();
}
