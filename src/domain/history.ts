/**
 * The reservation history (docs/api.md#history): every change of a reservation is one row,
 * appended in the transaction of the change and never updated. Pure: what the row of each
 * change says; src/db/repositories/history.ts stores and reads the rows.
 */
import type { LeaseEventType } from './lifecycle.js';
import { formatApi } from './time.js';
import type { Reservation, ReservationStatus } from './types.js';

/** What happened, in the order a reservation usually meets them. */
export const HISTORY_EVENTS = ['created', 'allocated', 'active', 'extended', 'completed', 'error', 'deleted'] as const;
export type HistoryEvent = (typeof HISTORY_EVENTS)[number];

/** The user id of changes nobody asked for by an API call: the worker, lease events, periodic tasks. */
export const SYSTEM_USER = 'system';

/** Who made a change: a user and the API request (`X-Openstack-Request-Id`), or the system. */
export interface Actor {
  userId: string | null;
  requestId: string | null;
}

export const SYSTEM_ACTOR: Actor = Object.freeze({ userId: SYSTEM_USER, requestId: null });

/** A few named values: lease id, old and new end, the reason of an error. */
export type HistoryDetail = Record<string, string | number | null>;

export interface HistoryEntry {
  reservationId: string;
  /** Kept on the row so that the history of a deleted reservation can still be found by project. */
  projectId: string;
  event: HistoryEvent;
  /** Epoch milliseconds (stored to the second). */
  time: number;
  userId: string | null;
  requestId: string | null;
  /** null: the reservation did not exist before (`created`). */
  statusBefore: ReservationStatus | null;
  /** null: it does not exist after (`deleted`). */
  statusAfter: ReservationStatus | null;
  detail: HistoryDetail | null;
}

/** A stored row: its id orders the rows of one reservation as they were written. */
export interface HistoryRecord extends HistoryEntry {
  id: number;
}

/** The longest text kept in one detail value (an error as a service wrote it may be long). */
export const DETAIL_TEXT_MAX = 2000;

/** The reservation fields a history row needs. */
type Subject = Pick<Reservation, 'id' | 'project_id'>;

function entry(
  r: Subject,
  event: HistoryEvent,
  time: number,
  actor: Actor,
  statusBefore: ReservationStatus | null,
  statusAfter: ReservationStatus | null,
  detail: HistoryDetail | null,
): HistoryEntry {
  return {
    reservationId: r.id,
    projectId: r.project_id,
    event,
    time,
    userId: actor.userId,
    requestId: actor.requestId,
    statusBefore,
    statusAfter,
    detail: detail && boundedDetail(detail),
  };
}

function boundedDetail(detail: HistoryDetail): HistoryDetail {
  const out: HistoryDetail = {};
  for (const [k, v] of Object.entries(detail))
    out[k] = typeof v === 'string' && v.length > DETAIL_TEXT_MAX ? v.slice(0, DETAIL_TEXT_MAX) : v;
  return out;
}

/** Booked through the API (a dry run records nothing): what was asked for. */
export function createdEntry(r: Reservation, actor: Actor): HistoryEntry {
  return entry(r, 'created', r.created_at, actor, null, r.status, {
    flavor_id: r.flavor_id,
    start: formatApi(r.start),
    end: formatApi(r.end),
    instance_count: r.instance_count,
  });
}

/** The worker made the lease. */
export function allocatedEntry(
  r: Subject & { status: ReservationStatus },
  leaseId: string,
  computeFlavor: string | null,
  time: number,
): HistoryEntry {
  return entry(r, 'allocated', time, SYSTEM_ACTOR, r.status, 'ALLOCATED', { lease_id: leaseId, compute_flavor: computeFlavor });
}

/** The worker gave up making the lease: `reason` is the error as it happened (the member sees a plainer one). */
export function errorEntry(r: Subject, statusBefore: ReservationStatus, reason: string, time: number): HistoryEntry {
  return entry(r, 'error', time, SYSTEM_ACTOR, statusBefore, 'ERROR', { reason });
}

/**
 * A lease event changed the status (docs/api.md#lease-events): `start_lease` → `active`,
 * `end_lease` → `completed`. null when the new status is none of those (nothing to record).
 */
export function leaseEventEntry(
  r: Subject & { status: ReservationStatus; lease_id: string | null },
  statusAfter: ReservationStatus,
  time: number,
  cause: { event?: LeaseEventType; messageId?: string | null } = {},
): HistoryEntry | null {
  const event: HistoryEvent | null = statusAfter === 'ACTIVE' ? 'active' : statusAfter === 'COMPLETE' ? 'completed' : null;
  if (!event) return null;
  const detail: HistoryDetail = { lease_id: r.lease_id };
  if (cause.event) detail.lease_event = cause.event;
  if (cause.messageId) detail.message_id = cause.messageId;
  return entry(r, event, time, SYSTEM_ACTOR, r.status, statusAfter, detail);
}

/** The periodic task completed an ACTIVE reservation whose end had passed without an `end_lease`. */
export function overdueEntry(r: Subject & { end: number }, time: number): HistoryEntry {
  return entry(r, 'completed', time, SYSTEM_ACTOR, 'ACTIVE', 'COMPLETE', { reason: 'overdue', end: formatApi(r.end) });
}

/** A user moved the end later (the lease first). */
export function extendedEntry(
  r: Subject & { status: ReservationStatus; end: number },
  newEnd: number,
  actor: Actor,
  time: number,
): HistoryEntry {
  return entry(r, 'extended', time, actor, r.status, r.status, { old_end: formatApi(r.end), new_end: formatApi(newEnd) });
}

/**
 * What happened to the lease when its reservation was deleted: deleted by Warre, already gone
 * from the reservation service (404), or none was made.
 */
export type LeaseOnDelete = 'deleted' | 'already_gone' | 'none';

/** A user deleted the reservation (its lease first). */
export function deletedEntry(
  r: Subject & { lease_id: string | null },
  statusBefore: ReservationStatus,
  lease: LeaseOnDelete,
  actor: Actor,
  time: number,
): HistoryEntry {
  return entry(r, 'deleted', time, actor, statusBefore, null, { lease_id: r.lease_id, lease });
}

/** The periodic task deleted a reservation COMPLETE for longer than the clean-up age. */
export function cleanedUpEntry(r: Subject, statusBefore: ReservationStatus, time: number): HistoryEntry {
  return entry(r, 'deleted', time, SYSTEM_ACTOR, statusBefore, null, { reason: 'cleanup' });
}
