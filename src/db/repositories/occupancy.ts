/**
 * What occupies a flavor's slots over a window (docs/api.md#occupancy): effective
 * reservations (their instance_count) and maintenance windows of the flavor
 * (every slot). One query; times come back as epoch seconds computed by the
 * database, because converting 10,000 datetime strings per request in
 * JavaScript costs more than the sweep itself.
 */
import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Occupant } from '../../domain/capacity.js';
import { EFFECTIVE_STATUSES } from '../../domain/types.js';
import type { Codec, DialectName } from '../codec.js';
import type { Database } from '../schema.js';

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
 * The status column of the occupancy filter. With several flavors (an IN list), SQLite's
 * planner, which has no statistics, prefers the (status, end) index and walks every
 * effective reservation ending after the window's start (all future ones: 15 ms at 12,000
 * rows for 156 wanted); a unary + keeps it off that index, so it takes (flavor_id, start, …)
 * as it does for one flavor (1 ms). MariaDB and PostgreSQL choose well with statistics.
 */
function statusColumn(dialect: DialectName, oneFlavor: boolean) {
  return dialect === 'sqlite' && !oneFlavor
    ? sql<string>`+${sql.ref('reservation.status')}`
    : sql<string>`${sql.ref('reservation.status')}`;
}

/** Effective reservations (their instance_count) and maintenance windows (c = -1) of the flavors overlapping [start, end]. */
function occupancyQuery(
  k: Kysely<Database>,
  dialect: DialectName,
  codec: Codec,
  flavorIds: readonly string[],
  start: number,
  end: number,
  opts: { excludeId?: string | null; withMaintenance?: boolean; withFlavorId?: boolean },
) {
  const s = codec.dt(start);
  const e = codec.dt(end);
  const one = flavorIds.length === 1;
  let reservations = k
    .selectFrom('reservation')
    .select([epoch(dialect, 'reservation.start').as('s'), epoch(dialect, 'reservation.end').as('e'), 'reservation.instance_count as c'])
    .$if(opts.withFlavorId === true, (q) => q.select('reservation.flavor_id as f'))
    .$if(one, (q) => q.where('reservation.flavor_id', '=', flavorIds[0]!))
    .$if(!one, (q) => q.where('reservation.flavor_id', 'in', flavorIds))
    .where('reservation.start', '<=', e)
    .where('reservation.end', '>=', s)
    .where(statusColumn(dialect, one), 'in', EFFECTIVE_STATUSES);
  if (opts.excludeId) reservations = reservations.where('reservation.id', '!=', opts.excludeId);
  if (opts.withMaintenance === false) return reservations;
  return reservations.unionAll(
    k
      .selectFrom('maintenance_window')
      .innerJoin('maintenance_window_flavor', 'maintenance_window_flavor.maintenance_window_id', 'maintenance_window.id')
      .select([
        epoch(dialect, 'maintenance_window.start').as('s'),
        epoch(dialect, 'maintenance_window.end').as('e'),
        sql<number>`${-1}`.as('c'),
      ])
      .$if(opts.withFlavorId === true, (q) => q.select('maintenance_window_flavor.flavor_id as f'))
      .$if(one, (q) => q.where('maintenance_window_flavor.flavor_id', '=', flavorIds[0]!))
      .$if(!one, (q) => q.where('maintenance_window_flavor.flavor_id', 'in', flavorIds))
      .where('maintenance_window.start', '<=', e)
      .where('maintenance_window.end', '>=', s),
  );
}

export interface FlavorOccupancy {
  reservations: Occupant[];
  maintenance: Occupant[];
}

/** Adds a row to `into`: c = -1 marks a maintenance window, which takes every slot. */
function addRow(into: FlavorOccupancy, slots: number, r: { s: unknown; e: unknown; c: unknown }): void {
  const c = Number(r.c);
  const o = { start: Number(r.s) * 1000, end: Number(r.e) * 1000, count: c < 0 ? slots : c };
  if (c < 0) into.maintenance.push(o);
  else into.reservations.push(o);
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
): Promise<FlavorOccupancy> {
  const rows = await occupancyQuery(k, dialect, codec, [flavor.id], start, end, opts).execute();
  const out: FlavorOccupancy = { reservations: [], maintenance: [] };
  for (let i = 0; i < rows.length; i++) addRow(out, flavor.slots, rows[i]!);
  return out;
}

/** Flavors per query of {@link flavorsOccupancy}: keeps the IN list and the statement small. */
const FLAVORS_PER_QUERY = 200;

/**
 * The occupants of many flavors over [start, end] (availability, offers): one query per
 * {@link FLAVORS_PER_QUERY} flavors, never one per flavor. Every flavor asked for is in the map.
 */
export async function flavorsOccupancy(
  k: Kysely<Database>,
  dialect: DialectName,
  codec: Codec,
  flavors: readonly { id: string; slots: number }[],
  start: number,
  end: number,
): Promise<Map<string, FlavorOccupancy>> {
  const out = new Map<string, FlavorOccupancy>();
  const slots = new Map<string, number>();
  for (const f of flavors) {
    out.set(f.id, { reservations: [], maintenance: [] });
    slots.set(f.id, f.slots);
  }
  for (let i = 0; i < flavors.length; i += FLAVORS_PER_QUERY) {
    const ids = flavors.slice(i, i + FLAVORS_PER_QUERY).map((f) => f.id);
    const rows = await occupancyQuery(k, dialect, codec, ids, start, end, { withFlavorId: true }).execute();
    for (let j = 0; j < rows.length; j++) {
      const r = rows[j]! as { s: number; e: number; c: number; f: string };
      addRow(out.get(r.f)!, slots.get(r.f)!, r);
    }
  }
  return out;
}
