/**
 * What the lifecycle tells people about a reservation: user messages
 * (create/start/before_end/end) and bus notifications (warre.reservation.*).
 * Implementations never throw: a failed message never blocks or reverts a
 * state change (they retry and log).
 */
import type { NotificationEvent, UserMessageEvent } from '../domain/lifecycle.js';
import type { ReservationWithFlavor } from '../domain/types.js';

export interface Messenger {
  userMessage(event: UserMessageEvent, r: ReservationWithFlavor): Promise<void>;
  notify(event: NotificationEvent, r: ReservationWithFlavor): Promise<void>;
  close?(): Promise<void>;
}
