/**
 * Reservation use cases: create, extend, delete. Each loads what the rules
 * need inside one serialised transaction (src/db/transaction.ts), asks the
 * pure rules (src/domain/), and writes only when they allow it.
 */
import { randomUUID } from 'node:crypto';
import type { RequestContext } from '../auth/context.js';
import { runSteps, runStepsThenCommit } from '../db/batch.js';
import * as flavors from '../db/repositories/flavors.js';
import { recordHistory, recordHistoryStep } from '../db/repositories/history.js';
import { flavorOccupancy, flavorOccupancyStep } from '../db/repositories/occupancy.js';
import * as reservations from '../db/repositories/reservations.js';
import { ensureProjectLockRow, lockFlavor, lockProject, lockProjectStep, readOnly, writeTransaction } from '../db/transaction.js';
import { BadRequest, InvalidReservation, NotFound, OverQuota, ValidationFailed, WarreError } from '../domain/errors.js';
import { type Actor, createdEntry, deletedEntry, extendedEntry, type LeaseOnDelete } from '../domain/history.js';
import { isUuid } from '../domain/ids.js';
import type { Logger } from '../domain/logger.js';
import { quotaRefusal } from '../domain/quota.js';
import { createRefusal, extendRefusal, extensionHours } from '../domain/reservation-rules.js';
import { totalHours, truncateToMinute } from '../domain/time.js';
import type { Reservation, ReservationWithFlavor, StoredReservationPage } from '../domain/types.js';
import { LeaseError } from '../drivers/lease-backend.js';
import type { Services } from './dependencies.js';

/** Who acts in an API request, for the reservation's history: the user and the request id. */
export function actorOf(ctx: RequestContext): Actor {
  return { userId: ctx.userId, requestId: ctx.requestId };
}

/** A reservation by id, or 404 `Reservation {id} doesn't exist`. */
export async function getReservation(svc: Services, id: string): Promise<ReservationWithFlavor> {
  const r = isUuid(id) ? await reservations.getReservation(svc.db, id) : null;
  if (!r) throw new NotFound(`Reservation ${id} doesn't exist`);
  return r;
}

/**
 * A page of reservations, oldest first, as stored (the list writes its JSON from the rows,
 * src/api/reservation-json.ts); `projectId` null: every project.
 */
export async function listReservations(
  svc: Services,
  filter: { projectId: string | null; flavorId: string | null },
  page: { limit: number; offset: number },
): Promise<StoredReservationPage> {
  const catalog = svc.flavorCatalog;
  const known = catalog?.enabled ? (await catalog.snapshot()).byId : undefined;
  return reservations.listReservationRows(svc.db, filter, page, known);
}

/** The effective reservations of a project (null: every project) by start, at most `max` (docs/calendar.md). */
export async function calendarReservations(svc: Services, projectId: string | null, max: number): Promise<ReservationWithFlavor[]> {
  return reservations.listCalendarReservations(svc.db, { projectId }, max);
}

export interface CreateReservationInput {
  flavor_id: string;
  start: number;
  end: number;
  instance_count: number;
}

/**
 * Create a reservation in PENDING_CREATE (order of checks: docs/api.md#reservation-create):
 * reservation quota → schema errors → unknown flavor → hours quota → rules.
 * `parsed` carries the already-validated body or its field errors, so the
 * schema answer comes after the reservation quota, as historically.
 *
 * `dryRun` (docs/availability.md#dry-run): every check runs the same way, with the same
 * refusals, but nothing is written or locked and the worker is not told; the answer is the
 * reservation as it would have been created.
 *
 * The history's `created` row (docs/api.md#history) is the one statement a create adds to
 * the reservation's INSERT, in the same transaction; a dry run records nothing.
 */
export async function createReservation(
  svc: Services,
  ctx: RequestContext,
  parsed: { ok: true; value: CreateReservationInput } | { ok: false; errors: Record<string, string[]> },
  bypassMaintenance: boolean,
  log: Logger = svc.log,
  dryRun = false,
): Promise<ReservationWithFlavor> {
  const projectId = ctx.projectId!;
  const limits = await svc.limits.getLimits(projectId);
  const { db } = svc;
  if (!dryRun) await ensureProjectLockRow(db, projectId);
  const created = await (dryRun ? readOnly : writeTransaction)(db, async (tx) => {
    const body = parsed.ok ? parsed.value : null;
    const flavorId = body !== null && isUuid(body.flavor_id) ? body.flavor_id : null;
    const window = body !== null && body.end > body.start ? body : null;
    // One batch (one round trip on MySQL, src/db/batch.ts), in the order the locks are always
    // taken: the project's row (quota), its usage, then the flavor's row (capacity) and what the
    // rules read about the flavor. The checks below then decide in their historical order.
    const [, usage, flavor, grantedToProject, occupancyOf] = await runSteps(tx, [
      dryRun ? null : lockProjectStep(tx, projectId),
      reservations.projectUsageStep(tx, projectId),
      flavorId ? flavors.getFlavorStep(tx, flavorId, dryRun ? null : 'lock') : null,
      flavorId ? flavors.isGrantedStep(tx, flavorId, projectId) : null,
      flavorId && window ? flavorOccupancyStep(tx, flavorId, window.start, window.end) : null,
    ]);
    const overCount = quotaRefusal(projectId, limits, usage, { reservation: 1 });
    if (overCount) throw new OverQuota(overCount);
    if (!parsed.ok) throw new ValidationFailed(parsed.errors);
    const input = parsed.value;
    if (!flavor) throw new NotFound('Flavor does not exist');
    const hours = totalHours(input.start, input.end);
    const overHours = quotaRefusal(projectId, limits, usage, { hours: Math.max(0, hours) * input.instance_count });
    if (overHours) throw new OverQuota(overHours);

    const now = truncateToMinute(svc.now());
    const granted = flavor.is_public || grantedToProject === true;
    const { reservations: occupied, maintenance } = occupancyOf ? occupancyOf(flavor.slots) : { reservations: [], maintenance: [] };
    const refusal = createRefusal({
      flavor,
      granted,
      start: input.start,
      end: input.end,
      instanceCount: input.instance_count,
      now,
      bypassMaintenance,
      maintenance,
      reservations: occupied,
    });
    if (refusal) throw new InvalidReservation(refusal);
    const r: Reservation = {
      id: randomUUID(),
      created_at: Math.floor(svc.now() / 1000) * 1000,
      user_id: ctx.userId ?? '',
      project_id: projectId,
      flavor_id: flavor.id,
      lease_id: null,
      compute_flavor: null,
      status: 'PENDING_CREATE',
      status_reason: null,
      start: input.start,
      end: input.end,
      instance_count: input.instance_count,
    };
    // The reservation and its history's first row: one more batch, which carries the COMMIT
    // where the database allows (MySQL); nothing follows it.
    if (!dryRun) {
      await runStepsThenCommit(tx, [reservations.insertReservationStep(tx, r), recordHistoryStep(tx, [createdEntry(r, actorOf(ctx))])]);
    }
    return { ...r, flavor };
  });
  if (dryRun) {
    log.info({ project: projectId, flavor: created.flavor_id }, 'reservation dry run passed');
    return created;
  }
  log.info({ reservation: created.id, project: projectId, flavor: created.flavor_id }, 'reservation created');
  svc.nudgeWorker(created.id);
  return created;
}

/**
 * Extend an ACTIVE reservation's end (docs/api.md#reservation-extend): quota hours, then the
 * extension rules, then the lease update, all under the project and flavor
 * locks so that two extensions cannot overbook. The row is only changed when
 * the lease back-end accepted the new end; the change is recorded in its history (old and new end).
 */
export async function extendReservation(
  svc: Services,
  current: ReservationWithFlavor,
  newEnd: number,
  actor: Actor,
  log: Logger = svc.log,
): Promise<ReservationWithFlavor> {
  if (newEnd <= current.end) throw new BadRequest('New end date must be greater then existing');
  const projectId = current.project_id;
  const limits = await svc.limits.getLimits(projectId);
  const { db } = svc;
  await ensureProjectLockRow(db, projectId);
  return writeTransaction(db, async (tx) => {
    await lockProject(tx, projectId);
    await lockFlavor(tx, current.flavor_id);
    const r = await reservations.getReservation(tx, current.id);
    if (!r) throw new NotFound(`Reservation ${current.id} doesn't exist`);
    if (newEnd <= r.end) throw new BadRequest('New end date must be greater then existing');
    const usage = await reservations.projectUsage(tx, projectId);
    const over = quotaRefusal(projectId, limits, usage, { hours: extensionHours(r, newEnd) });
    if (over) throw new OverQuota(over);
    const { reservations: occupied, maintenance } = await flavorOccupancy(tx, r.flavor, r.end, newEnd, {
      excludeId: r.id,
    });
    const refusal = extendRefusal({ reservation: r, flavor: r.flavor, newEnd, now: svc.now(), occupants: [...occupied, ...maintenance] });
    if (refusal) throw new InvalidReservation(`Failed to extend reservation: ${refusal}`);
    if (!svc.leases) throw new InvalidReservation('Failed to extend reservation: Failed to extend lease');
    try {
      await svc.leases.updateLeaseEnd(svc.serviceSession, r.lease_id!, new Date(newEnd));
    } catch (err) {
      log.error({ err, lease: r.lease_id }, 'failed to extend lease');
      throw new InvalidReservation('Failed to extend reservation: Failed to extend lease');
    }
    await reservations.updateReservationEnd(tx, r.id, newEnd);
    await recordHistory(tx, extendedEntry(r, newEnd, actor, svc.now()));
    log.info({ reservation: r.id, end: new Date(newEnd).toISOString() }, 'reservation extended');
    return { ...r, end: newEnd };
  });
}

/**
 * Delete a reservation: its lease first (404 = gone), then the row, recording who deleted it
 * and what became of the lease in its history (which stays).
 */
export async function deleteReservation(svc: Services, r: ReservationWithFlavor, actor: Actor, log: Logger = svc.log): Promise<void> {
  let lease: LeaseOnDelete = 'none';
  if (r.lease_id) {
    if (!svc.leases) throw new WarreError(500, 'Failed to delete reservation, please try again later');
    try {
      await svc.leases.deleteLease(svc.serviceSession, r.lease_id);
      lease = 'deleted';
    } catch (err) {
      // A 404 from Blazar counts as deleted (docs/api.md#reservation-delete), whichever back-end reports it.
      if (!(err instanceof LeaseError && err.status === 404)) {
        log.error({ err, lease: r.lease_id, reservation: r.id }, 'failed to delete lease');
        throw new WarreError(500, 'Failed to delete reservation, please try again later');
      }
      log.warn({ lease: r.lease_id, reservation: r.id }, 'lease already deleted');
      lease = 'already_gone';
    }
  }
  await writeTransaction(svc.db, async (tx) => {
    const before = await reservations.deleteReservation(tx, r.id);
    // Already gone (a concurrent delete, the periodic clean-up): that one recorded it.
    if (before) await recordHistory(tx, deletedEntry(r, before, lease, actor, svc.now()));
  });
  log.info({ reservation: r.id }, 'reservation deleted');
}
