/** The reservations the periodic task cleans up and completes. */

import { cleanedUpEntry, overdueEntry } from '../../domain/history.js';
import type { ReservationStatus, ReservationWithFlavor } from '../../domain/types.js';
import { read } from '../codec.js';
import type { Db } from '../connect.js';
import { writeTransaction } from '../transaction.js';
import { recordHistory } from './history.js';
import { getReservation } from './reservations.js';

/** Delete COMPLETE reservations that ended before `before`; each leaves a `deleted` history row. */
export async function deleteCompletedBefore(db: Db, before: number, now: number = Date.now()): Promise<number> {
  return writeTransaction(db, async (tx) => {
    const rows = await tx.kysely
      .selectFrom('reservation')
      .select(['id', 'project_id', 'status'])
      .where('status', '=', 'COMPLETE')
      .where('end', '<', db.codec.dt(before))
      .execute();
    if (rows.length === 0) return 0;
    for (let i = 0; i < rows.length; i += 500) {
      const part = rows.slice(i, i + 500);
      const chunk = part.map((r) => r.id);
      await recordHistory(
        tx,
        part.map((r) => cleanedUpEntry(r, r.status as ReservationStatus, now)),
      );
      await tx.kysely.deleteFrom('warre_sent_message').where('reservation_id', 'in', chunk).execute();
      await tx.kysely.deleteFrom('warre_lease_job').where('reservation_id', 'in', chunk).execute();
      await tx.kysely.deleteFrom('reservation').where('id', 'in', chunk).execute();
    }
    return rows.length;
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

/**
 * ACTIVE → COMPLETE for one reservation whose end has passed (no notification, as historically),
 * recorded in its history.
 */
export async function completeOverdue(db: Db, id: string, now: number): Promise<boolean> {
  return writeTransaction(db, async (tx) => {
    const r = await db.dialect
      .lockRows(
        tx.kysely
          .selectFrom('reservation')
          .select(['id', 'project_id', 'end'])
          .where('id', '=', id)
          .where('status', '=', 'ACTIVE')
          .where('end', '<', db.codec.dt(now)),
      )
      .executeTakeFirst();
    if (!r) return false;
    await tx.kysely.updateTable('reservation').set({ status: 'COMPLETE' }).where('id', '=', id).execute();
    await recordHistory(tx, overdueEntry({ id: r.id, project_id: r.project_id, end: read.dt(r.end) }, now));
    return true;
  });
}

/** Reservations with a lease whose events the simulator must re-arm after a restart. */
