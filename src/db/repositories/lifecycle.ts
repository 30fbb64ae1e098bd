/**
 * SQL for the reservation lifecycle: the worker's lease jobs (the
 * PENDING_CREATE row is the job; `warre_lease_job` holds the claim), lease
 * events, the record of messages sent, periodic-task locks and clean-up.
 */
import type { Db } from '../connect.js';
import { writeTransaction, type Tx } from '../transaction.js';
import { read } from '../codec.js';
import { getReservation, getReservationByLease } from './reservations.js';
import type { ReservationWithFlavor } from '../../domain/types.js';
import type { ReservationStatus } from '../../domain/types.js';

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
    let q = tx
      .selectFrom('reservation')
      .leftJoin('warre_lease_job', 'warre_lease_job.reservation_id', 'reservation.id')
      .select(['reservation.id as id', 'warre_lease_job.reservation_id as job', 'warre_lease_job.attempts as attempts', 'warre_lease_job.first_attempt_at as first'])
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
    if (db.dialect === 'postgres') q = q.forUpdate(['reservation']).skipLocked();
    else if (db.dialect === 'mysql') q = q.forUpdate().skipLocked();
    const row = await q.executeTakeFirst();
    if (!row) return null;
    const until = db.codec.dt(now + ttlMs);
    const attempts = (row.attempts ?? 0) + 1;
    const first = row.first ? read.dt(row.first) : now;
    // The lock above covers the reservation row only, and on PostgreSQL the job row was read
    // from the statement's snapshot, which may predate another worker's committed claim. So
    // the claim itself is a compare-and-set: it only succeeds if the job row is still as read.
    if (row.job) {
      const r = await tx
        .updateTable('warre_lease_job')
        .set({ claimed_by: workerId, claimed_until: until, attempts, first_attempt_at: db.codec.dt(first) })
        .where('reservation_id', '=', row.id)
        .where('attempts', '=', row.attempts ?? 0)
        .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<', nowDt)]))
        .where((eb) => eb.or([eb('next_attempt_at', 'is', null), eb('next_attempt_at', '<=', nowDt)]))
        .executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) return 'taken';
    } else {
      const ins = tx
        .insertInto('warre_lease_job')
        .values({ reservation_id: row.id, claimed_by: workerId, claimed_until: until, attempts, first_attempt_at: db.codec.dt(first), next_attempt_at: null, last_error: null });
      const r = db.dialect === 'mysql' ? await ins.ignore().executeTakeFirst() : await ins.onConflict((oc) => oc.column('reservation_id').doNothing()).executeTakeFirst();
      if (Number(r.numInsertedOrUpdatedRows ?? 0n) === 0) return 'taken';
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

export type CompleteResult = { outcome: 'allocated'; reservation: ReservationWithFlavor; createRecorded: boolean } | { outcome: 'gone' } | { outcome: 'already'; leaseId: string | null };

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
    await lockReservation(db, tx, reservationId);
    const r = await getReservation(tx, reservationId);
    await tx.deleteFrom('warre_lease_job').where('reservation_id', '=', reservationId).execute();
    if (!r) return { outcome: 'gone' };
    if (r.status !== 'PENDING_CREATE') return { outcome: 'already', leaseId: r.lease_id };
    await tx
      .updateTable('reservation')
      .set({ lease_id: leaseId, compute_flavor: computeFlavor, status: 'ALLOCATED', status_reason: null })
      .where('id', '=', reservationId)
      .execute();
    // The 'create' message is recorded with the state change (sent after the commit).
    const createRecorded = await recordSent(db, tx, reservationId, 'create', now);
    return {
      outcome: 'allocated',
      createRecorded,
      reservation: { ...r, lease_id: leaseId, compute_flavor: computeFlavor, status: 'ALLOCATED', status_reason: null },
    };
  });
}

/** Give up: ERROR with the reason; drop the job. Only a PENDING_CREATE reservation changes. */
export async function failLeaseJob(db: Db, reservationId: string, reason: string): Promise<void> {
  await writeTransaction(db, async (tx) => {
    await tx
      .updateTable('reservation')
      .set({ status: 'ERROR', status_reason: reason })
      .where('id', '=', reservationId)
      .where('status', '=', 'PENDING_CREATE')
      .execute();
    await tx.deleteFrom('warre_lease_job').where('reservation_id', '=', reservationId).execute();
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

async function lockReservation(db: Db, tx: Tx, id: string): Promise<void> {
  if (db.dialect === 'sqlite') return;
  await tx.selectFrom('reservation').select('id').where('id', '=', id).forUpdate().execute();
}

/**
 * Record that a message for (reservation, event) is being sent. True the
 * first time only, so duplicate events send nothing twice.
 */
export async function recordSent(db: Db, tx: Tx, reservationId: string, event: string, now: number): Promise<boolean> {
  const q = tx.insertInto('warre_sent_message').values({ reservation_id: reservationId, event, sent_at: db.codec.dt(now), delivered_at: null });
  const r = db.dialect === 'mysql' ? await q.ignore().executeTakeFirst() : await q.onConflict((oc) => oc.columns(['reservation_id', 'event']).doNothing()).executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0n) > 0;
}

/** The message has been handed to its driver. */
export async function markDelivered(db: Db, reservationId: string, event: string, now: number): Promise<void> {
  await db.kysely
    .updateTable('warre_sent_message')
    .set({ delivered_at: db.codec.dt(now) })
    .where('reservation_id', '=', reservationId)
    .where('event', '=', event)
    .execute();
}

/**
 * Messages recorded in [after, before) and never delivered (their process
 * died in between). Older ones are stale news and are not sent any more.
 */
export async function undeliveredMessages(db: Db, after: number, before: number): Promise<{ reservation_id: string; event: string }[]> {
  return db.kysely
    .selectFrom('warre_sent_message')
    .select(['reservation_id', 'event'])
    .where('delivered_at', 'is', null)
    .where('sent_at', '>=', db.codec.dt(after))
    .where('sent_at', '<', db.codec.dt(before))
    .orderBy('sent_at')
    .limit(1000)
    .execute();
}

/**
 * Apply a lease event's status change under a row lock. `decide` gets the
 * current status and returns the new one (or null), plus the message keys to
 * record; the result says which of those keys were recorded now (to send).
 */
export async function applyLeaseEvent(
  db: Db,
  leaseId: string,
  now: number,
  decide: (status: ReservationStatus) => { status: ReservationStatus | null; keys: string[] },
): Promise<{ reservation: ReservationWithFlavor; changed: boolean; newKeys: string[] } | null> {
  return writeTransaction(db, async (tx) => {
    const found = await getReservationByLease(tx, leaseId);
    if (!found) return null;
    await lockReservation(db, tx, found.id);
    const r = await getReservation(tx, found.id);
    if (!r) return null; // deleted meanwhile
    const d = decide(r.status);
    let changed = false;
    if (d.status && d.status !== r.status) {
      await tx.updateTable('reservation').set({ status: d.status }).where('id', '=', r.id).execute();
      r.status = d.status;
      changed = true;
    }
    const newKeys: string[] = [];
    for (const k of d.keys) if (await recordSent(db, tx, r.id, k, now)) newKeys.push(k);
    return { reservation: r, changed, newKeys };
  });
}

/**
 * Take the named periodic-task lock until `until` if nobody holds it (or the
 * holder's time is up). Several workers may run the periodic loop; each task
 * runs on one of them per interval.
 */
export async function acquireTaskLock(db: Db, name: string, holder: string, now: number, holdMs: number): Promise<boolean> {
  const nowDt = db.codec.dt(now);
  const untilDt = db.codec.dt(now + holdMs);
  const ins = db.kysely.insertInto('warre_task_lock').values({ name, holder: null, held_until: null });
  if (db.dialect === 'mysql') await ins.ignore().execute();
  else await ins.onConflict((oc) => oc.column('name').doNothing()).execute();
  const r = await db.kysely
    .updateTable('warre_task_lock')
    .set({ holder, held_until: untilDt })
    .where('name', '=', name)
    .where((eb) => eb.or([eb('held_until', 'is', null), eb('held_until', '<=', nowDt)]))
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Give a task lock back before its time (only if `holder` still holds it). */
export async function releaseTaskLock(db: Db, name: string, holder: string): Promise<void> {
  await db.kysely.updateTable('warre_task_lock').set({ held_until: null }).where('name', '=', name).where('holder', '=', holder).execute();
}

/** Delete COMPLETE reservations whose end is before `before`. */
export async function deleteCompletedBefore(db: Db, before: number): Promise<number> {
  return writeTransaction(db, async (tx) => {
    const ids = (
      await tx.selectFrom('reservation').select('id').where('status', '=', 'COMPLETE').where('end', '<', db.codec.dt(before)).execute()
    ).map((r) => r.id);
    if (ids.length === 0) return 0;
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      await tx.deleteFrom('warre_sent_message').where('reservation_id', 'in', chunk).execute();
      await tx.deleteFrom('warre_lease_job').where('reservation_id', 'in', chunk).execute();
      await tx.deleteFrom('reservation').where('id', 'in', chunk).execute();
    }
    return ids.length;
  });
}

export async function activeReservations(db: Db): Promise<ReservationWithFlavor[]> {
  const ids = await db.kysely.selectFrom('reservation').select('id').where('status', '=', 'ACTIVE').execute();
  const out: ReservationWithFlavor[] = [];
  for (const { id } of ids) {
    const r = await getReservation(db.kysely, id);
    if (r) out.push(r);
  }
  return out;
}

/** ACTIVE → COMPLETE for one reservation whose end has passed (no notification, as historically). */
export async function completeOverdue(db: Db, id: string, now: number): Promise<boolean> {
  const r = await db.kysely
    .updateTable('reservation')
    .set({ status: 'COMPLETE' })
    .where('id', '=', id)
    .where('status', '=', 'ACTIVE')
    .where('end', '<', db.codec.dt(now))
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Reservations with a lease whose events the simulator must re-arm after a restart. */
export async function leasedReservations(db: Db): Promise<{ id: string; lease_id: string; status: ReservationStatus; start: number; end: number }[]> {
  const rows = await db.kysely
    .selectFrom('reservation')
    .select(['id', 'lease_id', 'status', 'start', 'end'])
    .where('status', 'in', ['ALLOCATED', 'ACTIVE'])
    .where('lease_id', 'is not', null)
    .execute();
  return rows.map((r) => ({ id: r.id, lease_id: r.lease_id!, status: r.status as ReservationStatus, start: read.dt(r.start), end: read.dt(r.end) }));
}

