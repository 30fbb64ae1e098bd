/** What the all-in-one lease simulator re-arms after a restart. */

import type { ReservationStatus } from '../../domain/types.js';
import { read } from '../codec.js';
import type { Db } from '../connect.js';

export async function leasedReservations(
  db: Db,
): Promise<{ id: string; lease_id: string; status: ReservationStatus; start: number; end: number }[]> {
  const rows = await db.kysely
    .selectFrom('reservation')
    .select(['id', 'lease_id', 'status', 'start', 'end'])
    .where('status', 'in', ['ALLOCATED', 'ACTIVE'])
    .where('lease_id', 'is not', null)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    lease_id: r.lease_id!,
    status: r.status as ReservationStatus,
    start: read.dt(r.start),
    end: read.dt(r.end),
  }));
}
