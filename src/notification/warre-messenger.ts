/**
 * The Messenger of a running Warre: user messages through the configured
 * user message sender (`[warre] user_notifier`, with the owner's name and e-mail from Keystone when the
 * driver needs them) and `warre.reservation.*` notifications through the
 * oslo.messaging-compatible notifier.
 */
import { randomUUID } from 'node:crypto';
import { emptyContext } from '../auth/context.js';
import type { NotificationEvent, UserMessageEvent } from '../domain/lifecycle.js';
import type { Logger } from '../domain/logger.js';
import type { ReservationWithFlavor } from '../domain/types.js';
import type { Notifier } from '../drivers/bus/notifier.js';
import { userMessages } from '../metrics/registry.js';
import type { Messenger } from './messenger.js';
import { formatReservation } from './reservation-payload.js';
import type { MessageUser, ReservationForMessage } from './user/render.js';
import type { UserMessageSender } from './user/senders.js';

function forMessage(r: ReservationWithFlavor): ReservationForMessage {
  const f = r.flavor;
  return {
    id: r.id,
    user_id: r.user_id,
    project_id: r.project_id,
    lease_id: r.lease_id,
    compute_flavor: r.compute_flavor,
    status: r.status,
    status_reason: r.status_reason,
    start: new Date(r.start),
    end: new Date(r.end),
    instance_count: r.instance_count,
    created_at: new Date(r.created_at),
    flavor: { ...f, start: f.start === null ? null : new Date(f.start), end: f.end === null ? null : new Date(f.end) },
  };
}

/** The payload of docs/api.md#notification-payload (`format_reservation`). */
export function reservationPayload(r: ReservationWithFlavor): Record<string, unknown> {
  // formatReservation picks its own keys, in its order: only the datetimes need converting here.
  const f = r.flavor;
  return formatReservation({
    ...r,
    start: new Date(r.start),
    end: new Date(r.end),
    flavor: { ...f, start: f.start === null ? null : new Date(f.start), end: f.end === null ? null : new Date(f.end) },
  });
}

export class WarreMessenger implements Messenger {
  constructor(
    private readonly users: UserMessageSender,
    private readonly notifier: Notifier | null,
    private readonly lookupUser: ((userId: string) => Promise<MessageUser | null>) | null,
    private readonly log: Logger,
  ) {}

  async userMessage(event: UserMessageEvent, r: ReservationWithFlavor): Promise<void> {
    try {
      let user: MessageUser | null = null;
      if (this.users.needsUser && this.lookupUser) {
        user = await this.lookupUser(r.user_id).catch((err: unknown) => {
          this.log.error({ err, user: r.user_id }, 'cannot look up the reservation owner in Keystone');
          return null;
        });
      }
      await this.users.send(event, forMessage(r), user);
    } catch (err) {
      this.log.error({ err, reservation: r.id, event }, 'user message failed');
      userMessages.inc({ event, result: 'failed' });
    }
  }

  async notify(event: NotificationEvent, r: ReservationWithFlavor): Promise<void> {
    if (!this.notifier) return;
    try {
      // As the Python service (docs/interop.md#notifications): start/end come from the event consumer, whose
      // context is a plain dict that sanitises to nothing; exists/in_use from the periodic task,
      // which sends an empty oslo RequestContext (its `_context_*` keys, a fresh request id).
      const periodic = event === 'warre.reservation.exists' || event === 'warre.reservation.in_use';
      const context = periodic ? emptyContext(`req-${randomUUID()}`) : {};
      await this.notifier.info(context, event, reservationPayload(r));
    } catch (err) {
      this.log.error({ err, reservation: r.id, event }, 'notification failed');
    }
  }

  async close(): Promise<void> {
    await this.users.close().catch(() => {});
    await this.notifier?.close().catch(() => {});
  }
}
