/**
 * What occupies a flavor's slots over a window (api.md §4): effective
 * reservations (their instance_count) and maintenance windows of the flavor
 * (every slot). One query; times come back as epoch seconds computed by the
 * database, because converting 10,000 datetime strings per request in
 * JavaScript costs more than the sweep itself.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../schema.js';
import type { Codec, DialectName } from '../codec.js';
import type { Occupant } from '../../domain/capacity.js';

function epoch(dialect: DialectName, column: string): RawBuilder<number> {
  const ref = sql.ref(column);
  switch (dialect) {
    case 'sqlite':
      return sql<number>`unixepoch(${ref})`;
    case 'mysql':
      return sql<number>`timestampdiff(second, '1970-01-01 00:00:00', ${ref})`;
    case 'postgres':
      // date_part gives double precision, which node-postgres parses to a number; extract()
      // gives numeric (and a bigint cast int8), both sent back as text: 25% slower at 10,000 rows.
      // Whole seconds are exact in a double.
      return sql<number>`date_part('epoch', ${ref})`;
  }
}

/**
 * Occupants of a flavor overlapping the closed window [start, end] (as the
 * historical queries: occupant.end >= start and occupant.start <= end).
 * `excludeId` leaves one reservation out (an extension); `withMaintenance`
 * false ignores maintenance windows (the admin bypass).
 */
export async function flavorOccupancy(
  k: Kysely<Database>,
  dialect: DialectName,
  codec: Codec,
  flavor: { id: string; slots: number },
  start: number,
  end: number,
  opts: { excludeId?: string | null; withMaintenance?: boolean } = {},
): Promise<{ reservations: Occupant[]; maintenance: Occupant[] }> {
  const s = codec.dt(start);
  const e = codec.dt(end);
  let reservations = k
    .selectFrom('reservation')
    .select([epoch(dialect, 'reservation.start').as('s'), epoch(dialect, 'reservation.end').as('e'), 'reservation.instance_count as c'])
    .where('reservation.flavor_id', '=', flavor.id)
    .where('reservation.start', '<=', e)
    .where('reservation.end', '>=', s)
    .where('reservation.status', 'in', ['PENDING_CREATE', 'ALLOCATED', 'ACTIVE']);
  if (opts.excludeId) reservations = reservations.where('reservation.id', '!=', opts.excludeId);
  const q =
    opts.withMaintenance === false
      ? reservations
      : reservations.unionAll(
          k
            .selectFrom('maintenance_window')
            .innerJoin('maintenance_window_flavor', 'maintenance_window_flavor.maintenance_window_id', 'maintenance_window.id')
            .select([epoch(dialect, 'maintenance_window.start').as('s'), epoch(dialect, 'maintenance_window.end').as('e'), sql<number>`${-1}`.as('c')])
            .where('maintenance_window_flavor.flavor_id', '=', flavor.id)
            .where('maintenance_window.start', '<=', e)
            .where('maintenance_window.end', '>=', s),
        );
  const rows = await q.execute();
  const reservationsOut: Occupant[] = [];
  const maintenance: Occupant[] = [];
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    const c = Number(r.c);
    // c = -1 marks a maintenance window: it takes every slot.
    if (c < 0) maintenance.push({ start: Number(r.s) * 1000, end: Number(r.e) * 1000, count: flavor.slots });
    else reservationsOut.push({ start: Number(r.s) * 1000, end: Number(r.e) * 1000, count: c });
  }
  return { reservations: reservationsOut, maintenance };
}
