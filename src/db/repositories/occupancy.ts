/**
 * What occupies a flavor's slots over a window (docs/api.md#occupancy): effective
 * reservations (their instance_count) and maintenance windows of the flavor
 * (every slot). One query (availability's columns: two); times come back as epoch
 * seconds computed by the database, because converting 10,000 datetime strings per
 * request in JavaScript costs more than the sweep itself.
 */
import { sql } from 'kysely';
import type { Occupant, OccupantColumns } from '../../domain/capacity.js';
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
  const reservations = reservationsQuery(db, flavorIds, start, end, opts);
  if (opts.withMaintenance === false) return reservations;
  return reservations.unionAll(maintenanceQuery(db, flavorIds, start, end, opts));
}

/** The effective reservations of {@link occupancyQuery}. */
function reservationsQuery(
  db: Queryable,
  flavorIds: readonly string[],
  start: number,
  end: number,
  opts: { excludeId?: string | null; withFlavorId?: boolean },
) {
  return overlappingReservations(db, flavorIds, start, end, opts.excludeId)
    .select([
      db.dialect.epochSeconds('reservation.start').as('s'),
      db.dialect.epochSeconds('reservation.end').as('e'),
      'reservation.instance_count as c',
    ])
    .$if(opts.withFlavorId === true, (q) => q.select('reservation.flavor_id as f'));
}

/** The effective reservations of the flavors overlapping [start, end] (no column selected yet). */
function overlappingReservations(db: Queryable, flavorIds: readonly string[], start: number, end: number, excludeId?: string | null) {
  const one = flavorIds.length === 1;
  return db.kysely
    .selectFrom('reservation')
    .$if(one, (q) => q.where('reservation.flavor_id', '=', flavorIds[0]!))
    .$if(!one, (q) => q.where('reservation.flavor_id', 'in', flavorIds))
    .where('reservation.start', '<=', db.codec.dt(end))
    .where('reservation.end', '>=', db.codec.dt(start))
    .where(statusColumn(db, one), 'in', EFFECTIVE_STATUSES)
    .$if(!!excludeId, (q) => q.where('reservation.id', '!=', excludeId!));
}

/** The maintenance windows of {@link occupancyQuery} (c = -1). */
function maintenanceQuery(db: Queryable, flavorIds: readonly string[], start: number, end: number, opts: { withFlavorId?: boolean }) {
  const one = flavorIds.length === 1;
  return db.kysely
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
    .where('maintenance_window.start', '<=', db.codec.dt(end))
    .where('maintenance_window.end', '>=', db.codec.dt(start));
}

/**
 * The flavors asked for as a derived table `w(id, i)`, `i` their position: joined to the
 * reservations, it lets each row name its flavor with a small number instead of its
 * 36-character id, and MariaDB reads each flavor's index range without checking every row
 * against the list again (12,000 rows: 2 ms less of the database's time; BENCHMARKS.md,
 * issue 7). A UNION ALL of one-row selects: the one spelling the three dialects share.
 */
function flavorTable(ids: readonly string[]) {
  const rows = ids.map((id, i) => sql`select ${id} as id, ${sql.lit(i)} as i`);
  return sql<{ id: string; i: number }>`(${sql.join(rows, sql` union all `)})`.as('w');
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
 * The occupants of many flavors over [start, end] (offers): one query per
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

/**
 * {@link flavorsOccupancy} as columns, each flavor's reservations and maintenance windows
 * together (a window counts as the flavor's slots): what availability reads, 12,000 occupants a
 * request in the benchmark, without an object per occupant; two queries per
 * {@link FLAVORS_PER_QUERY} flavors. The columns of all flavors share three arrays.
 */
export async function flavorsOccupancyColumns(
  db: Queryable,
  flavors: readonly { id: string; slots: number }[],
  start: number,
  end: number,
): Promise<Map<string, OccupantColumns>> {
  const indexOf = new Map<string, number>();
  for (let i = 0; i < flavors.length; i++) indexOf.set(flavors[i]!.id, i);
  const flavorIndex = (id: unknown): number => {
    const i = indexOf.get(id as string);
    if (i === undefined) throw new Error(`occupancy: a row of flavor ${String(id)}, which was not asked for`);
    return i;
  };

  // What each query answers, and how many occupants each flavor has (to size the columns).
  // Reservations and maintenance windows in two statements: MariaDB passes a UNION ALL's 12,000
  // rows through a temporary table (1.5 ms more than the two queries; BENCHMARKS.md, issue 7).
  // - Where the dialect writes integers as text faster than it hands over rows
  //   ({@link DialectAdapter.integersAsText}: SQLite), the reservations come as one row per
  //   flavor: its count and "s,e,c,s,e,c,…".
  // - Elsewhere one row per reservation, its flavor as its position among the flavors asked
  //   for ({@link flavorTable}), not as its 36-character id.
  // - Maintenance windows (a few) name their flavor by id.
  const rowAnswers: { rows: { s: unknown; e: unknown; c: unknown; f?: unknown }[]; first: number | null }[] = [];
  const textAnswers: { f: string; n: unknown; t: string }[][] = [];
  const counts = new Int32Array(flavors.length);
  const asText = db.dialect.integersAsText;
  for (let first = 0; first < flavors.length; first += FLAVORS_PER_QUERY) {
    const ids = flavors.slice(first, first + FLAVORS_PER_QUERY).map((f) => f.id);
    if (asText === null) {
      const rows = await db.kysely
        .selectFrom(flavorTable(ids))
        .innerJoin('reservation', 'reservation.flavor_id', 'w.id')
        .select([
          db.dialect.epochSeconds('reservation.start').as('s'),
          db.dialect.epochSeconds('reservation.end').as('e'),
          'reservation.instance_count as c',
          'w.i as f',
        ])
        .where('reservation.start', '<=', db.codec.dt(end))
        .where('reservation.end', '>=', db.codec.dt(start))
        .where('reservation.status', 'in', EFFECTIVE_STATUSES)
        .execute();
      rowAnswers.push({ rows, first });
    } else {
      const texts = await overlappingReservations(db, ids, start, end)
        .select([
          'reservation.flavor_id as f',
          sql<number>`count(*)`.as('n'),
          asText([
            db.dialect.epochSeconds('reservation.start'),
            db.dialect.epochSeconds('reservation.end'),
            sql.ref<number>('reservation.instance_count'),
          ]).as('t'),
        ])
        .groupBy('reservation.flavor_id')
        .execute();
      for (const { f, n } of texts) counts[flavorIndex(f)]! += Number(n);
      textAnswers.push(texts);
    }
    const maintenance = await maintenanceQuery(db, ids, start, end, { withFlavorId: true }).execute();
    rowAnswers.push({ rows: maintenance, first: null });
  }
  // Which flavor each row is of. Rows come grouped by flavor (the index's order), so a flavor
  // id is looked up once per group, not once per row.
  let rowCount = 0;
  for (const { rows } of rowAnswers) rowCount += rows.length;
  const flavorOfRow = new Int32Array(rowCount);
  let k = 0;
  for (const { rows, first } of rowAnswers) {
    let lastId: unknown;
    let last = -1;
    for (let j = 0; j < rows.length; j++) {
      const f = rows[j]!.f;
      if (f !== lastId) {
        lastId = f;
        last = first === null ? flavorIndex(f) : first + Number(f);
        if (!(last >= 0 && last < flavors.length)) throw new Error(`occupancy: a row of flavor ${String(f)}, which was not asked for`);
      }
      flavorOfRow[k++] = last;
      counts[last]!++;
    }
  }

  const offsets = new Int32Array(flavors.length + 1);
  for (let i = 0; i < flavors.length; i++) offsets[i + 1] = offsets[i]! + counts[i]!;
  const total = offsets[flavors.length]!;
  const columns: OccupantColumns = {
    start: new Float64Array(total),
    end: new Float64Array(total),
    count: new Float64Array(total),
    length: total,
  };
  const next = offsets.slice(0, flavors.length);
  for (const texts of textAnswers) {
    for (const { f, n, t } of texts) {
      const i = flavorIndex(f);
      next[i] = readIntegerTriples(String(t), Number(n), columns, next[i]!);
    }
  }
  k = 0;
  for (const { rows } of rowAnswers) {
    for (let j = 0; j < rows.length; j++) {
      const r = rows[j]!;
      const i = flavorOfRow[k++]!;
      const at = next[i]!++;
      const c = Number(r.c);
      columns.start[at] = Number(r.s) * 1000;
      columns.end[at] = Number(r.e) * 1000;
      columns.count[at] = c < 0 ? flavors[i]!.slots : c;
    }
  }

  const out = new Map<string, OccupantColumns>();
  for (let i = 0; i < flavors.length; i++) {
    const from = offsets[i]!;
    const to = offsets[i + 1]!;
    out.set(flavors[i]!.id, {
      start: columns.start.subarray(from, to),
      end: columns.end.subarray(from, to),
      count: columns.count.subarray(from, to),
      length: to - from,
    });
  }
  return out;
}

/**
 * Reads `n` reservations from the text of {@link DialectAdapter.integersAsText} over (epoch
 * seconds of the start, of the end, instance_count) into `into` from position `at`; answers the
 * position after them. Anything but `n` comma-separated triples of decimal integers fails.
 */
export function readIntegerTriples(text: string, n: number, into: OccupantColumns, at: number): number {
  if (n === 0 && text === '') return at;
  let value = 0;
  let negative = false;
  let digits = 0;
  let field = 0;
  const last = at + n;
  for (let i = 0; i <= text.length; i++) {
    const ch = i < text.length ? text.charCodeAt(i) : 0x2c;
    if (ch >= 0x30 && ch <= 0x39) {
      value = value * 10 + (ch - 0x30);
      digits++;
    } else if (ch === 0x2d && digits === 0 && !negative) {
      negative = true;
    } else if (ch === 0x2c && digits > 0 && digits < 16 && at < last) {
      const v = negative ? -value : value;
      if (field === 0) into.start[at] = v * 1000;
      else if (field === 1) into.end[at] = v * 1000;
      else into.count[at++] = v;
      field = field === 2 ? 0 : field + 1;
      value = 0;
      digits = 0;
      negative = false;
    } else {
      throw new Error(`occupancy: unexpected text from the database at ${i}: ${JSON.stringify(text.slice(Math.max(0, i - 20), i + 20))}`);
    }
  }
  if (at !== last || field !== 0) throw new Error(`occupancy: ${n} reservations expected from the database, another number read`);
  return at;
}
