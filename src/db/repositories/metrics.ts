/**
 * What the metrics read from the database at scrape time (docs/metrics.md#from-the-database):
 * two queries whatever the number of flavors — reservations by status (with the oldest
 * creation time, which dates the oldest lease job), and every flavor with the instances its
 * effective reservations hold at this moment.
 */
import { sql } from 'kysely';
import { EFFECTIVE_STATUSES } from '../../domain/types.js';
import { read } from '../codec.js';
import type { Db } from '../connect.js';

export interface StatusCount {
  status: string;
  count: number;
  /** The oldest `created_at` among them (ms since epoch), null when none. */
  oldestCreatedAt: number | null;
}

/** Reservations by status, one row per status present. */
export async function reservationsByStatus(db: Db): Promise<StatusCount[]> {
  const rows = await db.kysely
    .selectFrom('reservation')
    .select(['status', (eb) => eb.fn.countAll().as('n'), (eb) => eb.fn.min('created_at').as('oldest')])
    .groupBy('status')
    .execute();
  return rows.map((r) => ({
    status: r.status,
    count: Number(r.n),
    oldestCreatedAt: r.oldest === null || r.oldest === undefined ? null : read.dt(r.oldest as string | Date),
  }));
}

export interface FlavorSlots {
  id: string;
  name: string;
  slots: number;
  /** Instances of effective reservations whose window contains `now`. */
  inUse: number;
}

/** Every flavor's slots and the instances its effective reservations hold at `now`. */
export async function flavorSlotsInUse(db: Db, now: number): Promise<FlavorSlots[]> {
  const at = db.codec.dt(now);
  const rows = await db.kysely
    .selectFrom('flavor')
    .leftJoin('reservation', (join) =>
      join
        .onRef('reservation.flavor_id', '=', 'flavor.id')
        .on('reservation.status', 'in', EFFECTIVE_STATUSES)
        .on('reservation.start', '<=', at)
        .on('reservation.end', '>', at),
    )
    .select([
      'flavor.id as id',
      'flavor.name as name',
      'flavor.slots as slots',
      sql<number | string | null>`sum(${sql.ref('reservation.instance_count')})`.as('in_use'),
    ])
    .groupBy(['flavor.id', 'flavor.name', 'flavor.slots'])
    .orderBy('flavor.name')
    .execute();
  return rows.map((r) => ({ id: r.id, name: r.name, slots: Number(r.slots), inUse: Number(r.in_use ?? 0) }));
}
