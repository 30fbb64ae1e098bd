/** The reservations the periodic task cleans up and completes. */

import type { ReservationWithFlavor } from '../../domain/types.js';
import type { Db } from '../connect.js';
import { writeTransaction } from '../transaction.js';
import { getReservation } from './reservations.js';

export async function deleteCompletedBefore(db: Db, before: number): Promise<number> {
  return writeTransaction(db, async (tx) => {
    const ids = (
      await tx.kysely
        .selectFrom('reservation')
        .select('id')
        .where('status', '=', 'COMPLETE')
        .where('end', '<', db.codec.dt(before))
        .execute()
    ).map((r) => r.id);
    if (ids.length === 0) return 0;
    for (let i = 0; i < ids.length; i += 500) {
      const chunk = ids.slice(i, i + 500);
      await tx.kysely.deleteFrom('warre_sent_message').where('reservation_id', 'in', chunk).execute();
      await tx.kysely.deleteFrom('warre_lease_job').where('reservation_id', 'in', chunk).execute();
      await tx.kysely.deleteFrom('reservation').where('id', 'in', chunk).execute();
    }
    return ids.length;
  });
}

export async function activeReservations(db: Db): Promise<ReservationWithFlavor[]> {
  const ids = await db.kysely.selectFrom('reservation').select('id').where('status', '=', 'ACTIVE').execute();
  const out: ReservationWithFlavor[] = [];
  for (const { id } of ids) {
    const r = await getReservation(db, id);
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
