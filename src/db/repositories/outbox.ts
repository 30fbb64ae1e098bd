/**
 * The outbox of user messages and notifications (`warre_sent_message`): a message for a
 * (reservation, event) is recorded in the transaction of the state change that causes it,
 * and marked delivered once sent, so a duplicate event sends nothing twice and a message whose
 * process died before sending it is found and sent again by the periodic task.
 */
import type { Db, Queryable } from '../connect.js';

/**
 * Record that a message for (reservation, event) is being sent. True the
 * first time only, so duplicate events send nothing twice.
 */
export async function recordSent(db: Queryable, reservationId: string, event: string, now: number): Promise<boolean> {
  const q = db.kysely
    .insertInto('warre_sent_message')
    .values({ reservation_id: reservationId, event, sent_at: db.codec.dt(now), delivered_at: null });
  return db.dialect.insertIfAbsent(q, ['reservation_id', 'event']);
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
