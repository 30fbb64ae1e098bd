/**
 * Applies lease events (start_lease, before_end_lease, end_lease) to
 * reservations — the one code path for events from RabbitMQ (production) and
 * from the lease simulator (all-in-one). The state change commits first;
 * messages follow, once per reservation and event.
 */
import type { Db } from '../db/connect.js';
import { applyLeaseEvent } from '../db/repositories/lease-events.js';
import { leaseCreationInFlight } from '../db/repositories/lease-jobs.js';
import { markDelivered } from '../db/repositories/outbox.js';
import { type LeaseEventType, type NotificationEvent, onLeaseEvent, type UserMessageEvent } from '../domain/lifecycle.js';
import type { Logger } from '../domain/logger.js';
import type { ReservationWithFlavor } from '../domain/types.js';
import { leaseEvents } from '../metrics/registry.js';
import type { Messenger } from './messenger.js';

/**
 * `applied`: done (or nothing to do); `unknown`: no reservation has this
 * lease — ignore; `retry`: the lease may belong to a reservation whose lease
 * creation has not finished (in progress, awaiting a retry, or interrupted by
 * a crash) — try again later.
 */
export type EventOutcome = 'applied' | 'unknown' | 'retry';

/**
 * Send one recorded message (a user message, or a `warre.reservation.*`
 * notification) and mark it delivered. Messengers never throw; a failure to
 * mark it only means the periodic task sends it again.
 */
export async function deliver(
  db: Db,
  messenger: Messenger,
  log: Logger,
  key: string,
  r: ReservationWithFlavor,
  now: number,
): Promise<void> {
  if (key.startsWith('warre.reservation.')) await messenger.notify(key as NotificationEvent, r);
  else await messenger.userMessage(key as UserMessageEvent, r);
  await markDelivered(db, r.id, key, now).catch((err: unknown) =>
    log.error({ err, reservation: r.id, message: key }, 'cannot mark a message delivered'),
  );
}

export class LeaseEventHandler {
  constructor(
    private readonly db: Db,
    private readonly messenger: Messenger,
    private readonly log: Logger,
    private readonly now: () => number = () => Date.now(),
  ) {}

  async handle(eventType: LeaseEventType, leaseId: string, messageId: string | null = null): Promise<EventOutcome> {
    const apply = () =>
      applyLeaseEvent(
        this.db,
        leaseId,
        this.now(),
        (status) => {
          const d = onLeaseEvent(status, eventType);
          const keys: string[] = [];
          if (d.message) keys.push(d.message);
          if (d.notification) keys.push(d.notification);
          return { status: d.status, keys };
        },
        { event: eventType, messageId },
      );
    let applied: Awaited<ReturnType<typeof apply>>;
    try {
      applied = await apply();
      if (!applied) {
        if (await leaseCreationInFlight(this.db)) {
          leaseEvents.inc({ event: eventType, outcome: 'retry' });
          return 'retry';
        }
        // The worker may have recorded the lease (and dropped its job) between the two reads.
        applied = await apply();
      }
    } catch (err) {
      leaseEvents.inc({ event: eventType, outcome: 'error' });
      throw err;
    }
    if (!applied) {
      this.log.warn({ lease: leaseId, event: eventType, message_id: messageId }, 'lease event for a lease no reservation has; ignored');
      leaseEvents.inc({ event: eventType, outcome: 'dropped' });
      return 'unknown';
    }
    const { reservation: r, changed, newKeys } = applied;
    leaseEvents.inc({ event: eventType, outcome: changed || newKeys.length > 0 ? 'applied' : 'duplicate' });
    this.log.info(
      { reservation: r.id, lease: leaseId, event: eventType, status: r.status, changed, message_id: messageId },
      'lease event applied',
    );
    for (const key of newKeys) await deliver(this.db, this.messenger, this.log, key, r, this.now());
    return 'applied';
  }
}
