/**
 * Reservation state changes (docs/api.md#lifecycle). Pure decisions: given the current
 * status and what happened, the new status and what to tell people.
 *
 *   PENDING_CREATE --lease created--> ALLOCATED --start_lease--> ACTIVE --end_lease--> COMPLETE
 *          \--lease creation fails--> ERROR
 *
 * [beyond] Events are idempotent and never move a reservation backwards.
 */
import type { ReservationStatus } from './types.js';

export type LeaseEventType = 'start_lease' | 'before_end_lease' | 'end_lease';

/** User message templates (templates/<event>.tmpl). */
export type UserMessageEvent = 'create' | 'start' | 'before_end' | 'end';
/** Bus notification event types (warre.reservation.*). */
export type NotificationEvent =
  | 'warre.reservation.start'
  | 'warre.reservation.end'
  | 'warre.reservation.exists'
  | 'warre.reservation.in_use';

export interface EventDecision {
  /** New status, or null to leave it. */
  status: ReservationStatus | null;
  /** User message to send (once per reservation and event), or null. */
  message: UserMessageEvent | null;
  /** Bus notification to emit, or null. */
  notification: NotificationEvent | null;
}

const RANK: Record<ReservationStatus, number> = { PENDING_CREATE: 0, ALLOCATED: 1, ACTIVE: 2, COMPLETE: 3, ERROR: 3 };

/** What a lease event does to a reservation in `current` status. */
export function onLeaseEvent(current: ReservationStatus, event: LeaseEventType): EventDecision {
  switch (event) {
    case 'start_lease':
      if (RANK[current] < RANK.ACTIVE) return { status: 'ACTIVE', message: 'start', notification: 'warre.reservation.start' };
      return { status: null, message: null, notification: null };
    case 'end_lease':
      if (current === 'ERROR' || current === 'COMPLETE') return { status: null, message: null, notification: null };
      return { status: 'COMPLETE', message: 'end', notification: 'warre.reservation.end' };
    case 'before_end_lease':
      if (current === 'ACTIVE' || current === 'ALLOCATED') return { status: null, message: 'before_end', notification: null };
      return { status: null, message: null, notification: null };
  }
}

/** Map a Blazar/Ceilometer event type (`lease.event.start_lease`) to ours; null for anything else. */
export function leaseEventType(eventType: string): LeaseEventType | null {
  const m = /^(?:lease\.event\.)?(start_lease|before_end_lease|end_lease)$/.exec(eventType);
  return m ? (m[1] as LeaseEventType) : null;
}

/** `status_reason` column holds 255 characters. */
export function statusReason(message: string): string {
  return message.length > 255 ? message.slice(0, 255) : message;
}

/**
 * Why a lease could not be made, as far as the member is concerned (docs/api.md#lease-failures):
 * - `refused`: Blazar refused the lease itself (no capacity, bad dates); its own words are shown;
 * - `identity`: the bot's role grant or login failed (Keystone refused Warre);
 * - `catalog`: the cloud's catalog has no reservation endpoint;
 * - `service`: the reservation service refused the call for another reason (policy, conflict, internal error);
 * - `unavailable`: a service could not be reached until the retries ran out;
 * - `internal`: anything else.
 */
export type LeaseFailureKind = 'refused' | 'identity' | 'catalog' | 'service' | 'unavailable' | 'internal';

/** What the member sees (`status_reason`) and what operators see (the log, the reservation history). */
export interface LeaseFailure {
  kind: LeaseFailureKind;
  /** Plain words for the member: no user, role, policy or endpoint names. At most 255 characters. */
  reason: string;
  /** The error as it happened, for the log and the history. */
  detail: string;
}

const OPERATORS = 'The cloud operators have the details.';
const PLAIN_REASONS: Record<Exclude<LeaseFailureKind, 'refused'>, string> = {
  identity: `The reservation could not be set up in the cloud: the identity service refused Warre's access to the project. ${OPERATORS}`,
  catalog: `The reservation could not be set up in the cloud: the reservation service is not registered in the cloud's catalog. ${OPERATORS}`,
  service: `The reservation could not be set up in the cloud: the reservation service refused the lease. ${OPERATORS}`,
  unavailable: `The reservation could not be set up in the cloud: a cloud service could not be reached before Warre gave up retrying. ${OPERATORS}`,
  internal: `The reservation could not be set up in the cloud. ${OPERATORS}`,
};

/**
 * The member's reason for a failure of `kind`. Only a `refused` lease shows the reservation
 * service's own message (e.g. `ERROR: Not enough hosts available`, as the Python service
 * stored it): it is about the booking, not about the cloud's insides.
 */
export function leaseFailure(kind: LeaseFailureKind, detail: string): LeaseFailure {
  const reason = kind === 'refused' ? statusReason(detail) : PLAIN_REASONS[kind];
  return { kind, reason, detail };
}

/**
 * Retry policy for lease creation: transient failures are retried with capped
 * exponential backoff until `retryTimeoutMs` after the first attempt.
 */
export function nextAttemptDelay(attempts: number, baseMs = 2_000, capMs = 60_000): number {
  return Math.min(capMs, baseMs * 2 ** Math.max(0, attempts - 1));
}

export function shouldRetry(transient: boolean, firstAttemptAt: number, now: number, retryTimeoutMs: number): boolean {
  return transient && now - firstAttemptAt < retryTimeoutMs;
}

export const COMPLETE_RETENTION_MS = 7 * 24 * 3_600_000;
