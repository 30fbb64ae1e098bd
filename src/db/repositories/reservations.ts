/** SQL for reservations: reads with their flavor, capacity occupancy, usage, writes. */
import type { Kysely, Selectable } from 'kysely';
import type { Database, ReservationTable } from '../schema.js';
import { read, type Codec } from '../codec.js';
import { rowToFlavor } from './flavors.js';
import { EFFECTIVE_STATUSES, type Flavor, type Reservation, type ReservationStatus } from '../../domain/types.js';
import type { Occupant } from '../../domain/capacity.js';

type K = Kysely<Database>;

export function rowToReservation(r: Selectable<ReservationTable>): Reservation {
  return {
    id: r.id,
    created_at: read.dt(r.created_at),
    user_id: r.user_id,
    project_id: r.project_id,
    flavor_id: r.flavor_id,
    lease_id: r.lease_id,
    compute_flavor: r.compute_flavor,
    status: r.status as ReservationStatus,
    status_reason: r.status_reason,
    start: read.dt(r.start),
    end: read.dt(r.end),
    instance_count: r.instance_count,
  };
}

export type ReservationWithFlavor = Reservation & { flavor: Flavor };

const FLAVOR_COLUMNS = [
  'id', 'name', 'description', 'vcpu', 'memory_mb', 'disk_gb', 'ephemeral_gb', 'active', 'properties',
  'max_length_hours', 'slots', 'is_public', 'extra_specs', 'start', 'end', 'category', 'availability_zone',
] as const;

function withFlavor(k: K) {
  return k
    .selectFrom('reservation')
    .innerJoin('flavor', 'flavor.id', 'reservation.flavor_id')
    .selectAll('reservation')
    .select(FLAVOR_COLUMNS.map((c) => `flavor.${c} as f_${c}` as const));
}

function joinedRow(r: Record<string, unknown>): ReservationWithFlavor {
  const f: Record<string, unknown> = {};
  for (const c of FLAVOR_COLUMNS) f[c] = r[`f_${c}`];
  return { ...rowToReservation(r as unknown as Selectable<ReservationTable>), flavor: rowToFlavor(f as never) };
}

export async function getReservation(k: K, id: string): Promise<ReservationWithFlavor | null> {
  const r = await withFlavor(k).where('reservation.id', '=', id).executeTakeFirst();
  return r ? joinedRow(r as Record<string, unknown>) : null;
}

export async function getReservationByLease(k: K, leaseId: string): Promise<ReservationWithFlavor | null> {
  const r = await withFlavor(k).where('reservation.lease_id', '=', leaseId).executeTakeFirst();
  return r ? joinedRow(r as Record<string, unknown>) : null;
}

export async function listReservations(
  k: K,
  filter: { projectId: string | null; flavorId?: string | null; statuses?: readonly ReservationStatus[] },
  page: { limit: number; offset: number },
): Promise<{ rows: ReservationWithFlavor[]; total: number }> {
  let count = k.selectFrom('reservation');
  let rows = withFlavor(k);
  if (filter.projectId !== null) {
    count = count.where('project_id', '=', filter.projectId);
    rows = rows.where('reservation.project_id', '=', filter.projectId);
  }
  if (filter.flavorId) {
    count = count.where('flavor_id', '=', filter.flavorId);
    rows = rows.where('reservation.flavor_id', '=', filter.flavorId);
  }
  if (filter.statuses) {
    count = count.where('status', 'in', filter.statuses);
    rows = rows.where('reservation.status', 'in', filter.statuses);
  }
  const [c, r] = await Promise.all([
    count.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    rows.orderBy('reservation.created_at').orderBy('reservation.id').limit(page.limit).offset(page.offset).execute(),
  ]);
  return { rows: r.map((x) => joinedRow(x as Record<string, unknown>)), total: Number(c.n) };
}

/**
 * Effective reservations of a flavor overlapping the closed window [start, end]
 * (as the historical query: r.end >= start and r.start <= end).
 */
export async function reservationOccupancy(
  k: K,
  codec: Codec,
  flavorId: string,
  start: number,
  end: number,
  excludeId: string | null = null,
): Promise<Occupant[]> {
  let q = k
    .selectFrom('reservation')
    .select(['start', 'end', 'instance_count'])
    .where('flavor_id', '=', flavorId)
    .where('start', '<=', codec.dt(end))
    .where('end', '>=', codec.dt(start))
    .where('status', 'in', EFFECTIVE_STATUSES);
  if (excludeId) q = q.where('id', '!=', excludeId);
  const rows = await q.execute();
  const out: Occupant[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    out[i] = { start: read.dt(r.start), end: read.dt(r.end), count: r.instance_count };
  }
  return out;
}

/** A project's effective reservations, for quota usage. */
export async function effectiveReservationsOfProject(
  k: K,
  projectId: string,
): Promise<{ start: number; end: number; instance_count: number }[]> {
  const rows = await k
    .selectFrom('reservation')
    .select(['start', 'end', 'instance_count'])
    .where('project_id', '=', projectId)
    .where('status', 'in', EFFECTIVE_STATUSES)
    .execute();
  return rows.map((r) => ({ start: read.dt(r.start), end: read.dt(r.end), instance_count: r.instance_count }));
}

export async function insertReservation(k: K, codec: Codec, r: Reservation): Promise<void> {
  await k
    .insertInto('reservation')
    .values({
      id: r.id,
      created_at: codec.dt(r.created_at),
      user_id: r.user_id,
      project_id: r.project_id,
      flavor_id: r.flavor_id,
      lease_id: r.lease_id,
      compute_flavor: r.compute_flavor,
      status: r.status,
      status_reason: r.status_reason,
      start: codec.dt(r.start),
      end: codec.dt(r.end),
      instance_count: r.instance_count,
    })
    .execute();
}

export async function updateReservationEnd(k: K, codec: Codec, id: string, end: number): Promise<void> {
  await k.updateTable('reservation').set({ end: codec.dt(end) }).where('id', '=', id).execute();
}

export async function deleteReservation(k: K, id: string): Promise<void> {
  await k.deleteFrom('warre_lease_job').where('reservation_id', '=', id).execute();
  await k.deleteFrom('warre_sent_message').where('reservation_id', '=', id).execute();
  await k.deleteFrom('reservation').where('id', '=', id).execute();
}
