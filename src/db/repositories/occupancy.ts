/**
 * What occupies a flavor's slots over a window (docs/api.md#occupancy): effective
 * reservations (their instance_count) and maintenance windows of the flavor
 * (every slot). One query; times come back as epoch seconds computed by the
 * database, because converting 10,000 datetime strings per request in
 * JavaScript costs more than the sweep itself.
 */
import { sql } from 'kysely';
import type { Occupant } from '../../domain/capacity.js';
import { EFFECTIVE_STATUSES } from '../../domain/types.js';
import { runSteps, type Step, step } from '../batch.js';
import type { Queryable } from '../connect.js';

/**
 * The status column of the occupancy filter. With several flavors (an IN list), SQLite's
 * planner, which has no statistics, prefers the (status, end) index and walks every
 * effective reservation ending after the window's start (all future ones: 15 ms at 12,000
 * rows for 156 wanted); kept off that index, it takes (flavor_id, start, …) as it does for
 * one flavor (1 ms). MariaDB and PostgreSQL choose well with statistics.
 */
function statusColumn(db: Queryable, oneFlavor: boolean) {
  return oneFlavor ? sql.ref('reservation.status') : db.dialect.notIndexed('reservation.status');
}

/** Effective reservations (their instance_count) and maintenance windows (c = -1) of the flavors overlapping [start, end]. */
function occupancyQuery(
  db: Queryable,
  flavorIds: readonly string[],
  start: number,
  end: number,
  opts: { excludeId?: string | null; withMaintenance?: boolean; withFlavorId?: boolean },
) {
  const s = db.codec.dt(start);
  const e = db.codec.dt(end);
  const one = flavorIds.length === 1;
  let reservations = db.kysely
    .selectFrom('reservation')
    .select([
      db.dialect.epochSeconds('reservation.start').as('s'),
      db.dialect.epochSeconds('reservation.end').as('e'),
      'reservation.instance_count as c',
    ])
    .$if(opts.withFlavorId === true, (q) => q.select('reservation.flavor_id as f'))
    .$if(one, (q) => q.where('reservation.flavor_id', '=', flavorIds[0]!))
    .$if(!one, (q) => q.where('reservation.flavor_id', 'in', flavorIds))
    .where('reservation.start', '<=', e)
    .where('reservation.end', '>=', s)
    .where(statusColumn(db, one), 'in', EFFECTIVE_STATUSES);
  if (opts.excludeId) reservations = reservations.where('reservation.id', '!=', opts.excludeId);
  if (opts.withMaintenance === false) return reservations;
  return reservations.unionAll(
    db.kysely
      .selectFrom('maintenance_window')
      .innerJoin('maintenance_window_flavor', 'maintenance_window_flavor.maintenance_window_id', 'maintenance_window.id')
      .select([
        db.dialect.epochSeconds('maintenance_window.start').as('s'),
        db.dialect.epochSeconds('maintenance_window.end').as('e'),
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
  db: Queryable,
  flavor: { id: string; slots: number },
  start: number,
  end: number,
  opts: { excludeId?: string | null; withMaintenance?: boolean } = {},
): Promise<FlavorOccupancy> {
  const [of] = await runSteps(db, [flavorOccupancyStep(db, flavor.id, start, end, opts)]);
  return of(flavor.slots);
}

/**
 * {@link flavorOccupancy} as a step of a batch (src/db/batch.ts), for a flavor whose row is read
 * in the same batch: the answer is read once its slots (what a maintenance window takes) are known.
 */
export function flavorOccupancyStep(
  db: Queryable,
  flavorId: string,
  start: number,
  end: number,
  opts: { excludeId?: string | null; withMaintenance?: boolean } = {},
): Step<(slots: number) => FlavorOccupancy> {
  return step(occupancyQuery(db, [flavorId], start, end, opts), (rows) => (slots: number) => {
    const out: FlavorOccupancy = { reservations: [], maintenance: [] };
    for (let i = 0; i < rows.length; i++) addRow(out, slots, rows[i]!);
    return out;
  });
}

/** Flavors per query of {@link flavorsOccupancy}: keeps the IN list and the statement small. */
const FLAVORS_PER_QUERY = 200;

/**
 * The occupants of many flavors over [start, end] (availability, offers): one query per
 * {@link FLAVORS_PER_QUERY} flavors, never one per flavor. Every flavor asked for is in the map.
 */
export async function flavorsOccupancy(
  db: Queryable,
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
    const rows = await occupancyQuery(db, ids, start, end, { withFlavorId: true }).execute();
    for (let j = 0; j < rows.length; j++) {
      const r = rows[j]! as { s: number; e: number; c: number; f: string };
      addRow(out.get(r.f)!, slots.get(r.f)!, r);
    }
  }
  return out;
}
