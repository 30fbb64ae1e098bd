/** Lease events (start, end) applied to the reservation they concern, under its row lock. */

import { leaseEventEntry } from '../../domain/history.js';
import type { LeaseEventType } from '../../domain/lifecycle.js';
import type { ReservationStatus, ReservationWithFlavor } from '../../domain/types.js';
import type { Db } from '../connect.js';
import { lockReservation, writeTransaction } from '../transaction.js';
import { recordHistory } from './history.js';
import { recordSent } from './outbox.js';
import { getReservation, getReservationByLease } from './reservations.js';

/**
 * Apply a lease event's status change under a row lock. `decide` gets the
 * current status and returns the new one (or null), plus the message keys to
 * record; the result says which of those keys were recorded now (to send).
 * A status change is recorded in the reservation's history (docs/api.md#history), with
 * the event and bus message it came from when `cause` names them.
 */
export async function applyLeaseEvent(
  db: Db,
  leaseId: string,
  now: number,
  decide: (status: ReservationStatus) => { status: ReservationStatus | null; keys: string[] },
  cause: { event?: LeaseEventType; messageId?: string | null } = {},
): Promise<{ reservation: ReservationWithFlavor; changed: boolean; newKeys: string[] } | null> {
  return writeTransaction(db, async (tx) => {
    const found = await getReservationByLease(tx, leaseId);
    if (!found) return null;
    await lockReservation(tx, found.id);
    const r = await getReservation(tx, found.id);
    if (!r) return null; // deleted meanwhile
    const d = decide(r.status);
    let changed = false;
    if (d.status && d.status !== r.status) {
      await tx.kysely.updateTable('reservation').set({ status: d.status }).where('id', '=', r.id).execute();
      const h = leaseEventEntry(r, d.status, now, cause);
      if (h) await recordHistory(tx, h);
      r.status = d.status;
      changed = true;
    }
    const newKeys: string[] = [];
    for (const k of d.keys) if (await recordSent(tx, r.id, k, now)) newKeys.push(k);
    return { reservation: r, changed, newKeys };
  });
}
