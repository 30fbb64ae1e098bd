/** SQL for maintenance windows and their flavor links. */
import type { Kysely } from 'kysely';
import { EFFECTIVE_STATUSES, type MaintenanceWindow } from '../../domain/types.js';
import { type Codec, read } from '../codec.js';
import type { Database } from '../schema.js';
import { pageWithTotal } from './page.js';

type K = Kysely<Database>;

async function attachFlavors(k: K, rows: { id: string; start: string; end: string; note: string | null }[]): Promise<MaintenanceWindow[]> {
  if (rows.length === 0) return [];
  const links = await k
    .selectFrom('maintenance_window_flavor')
    .innerJoin('flavor', 'flavor.id', 'maintenance_window_flavor.flavor_id')
    .select(['maintenance_window_flavor.maintenance_window_id as wid', 'flavor.id as id', 'flavor.name as name'])
    .where(
      'maintenance_window_flavor.maintenance_window_id',
      'in',
      rows.map((r) => r.id),
    )
    .orderBy('flavor.name')
    .execute();
  const byWindow = new Map<string, { id: string; name: string }[]>();
  for (const l of links) {
    const list = byWindow.get(l.wid) ?? [];
    list.push({ id: l.id, name: l.name });
    byWindow.set(l.wid, list);
  }
  return rows.map((r) => ({ id: r.id, start: read.dt(r.start), end: read.dt(r.end), note: r.note, flavors: byWindow.get(r.id) ?? [] }));
}

export async function listMaintenanceWindows(
  k: K,
  page: { limit: number; offset: number },
): Promise<{ rows: MaintenanceWindow[]; total: number }> {
  const { rows, total } = await pageWithTotal(
    page,
    () => k.selectFrom('maintenance_window').selectAll().orderBy('start').orderBy('id').limit(page.limit).offset(page.offset).execute(),
    () =>
      k
        .selectFrom('maintenance_window')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow(),
  );
  return { rows: await attachFlavors(k, rows), total };
}

/** A window by id; `forUpdate` also locks its row until the transaction ends (MySQL/PostgreSQL). */
export async function getMaintenanceWindow(k: K, id: string, forUpdate: 'lock' | null = null): Promise<MaintenanceWindow | null> {
  let q = k.selectFrom('maintenance_window').selectAll().where('id', '=', id);
  if (forUpdate) q = q.forUpdate();
  const r = await q.executeTakeFirst();
  return r ? ((await attachFlavors(k, [r]))[0] ?? null) : null;
}

export async function insertMaintenanceWindow(k: K, codec: Codec, w: MaintenanceWindow): Promise<void> {
  await k
    .insertInto('maintenance_window')
    .values({ id: w.id, start: codec.dt(w.start), end: codec.dt(w.end), note: w.note })
    .execute();
  await setWindowFlavors(
    k,
    w.id,
    w.flavors.map((f) => f.id),
  );
}

export async function updateMaintenanceWindow(k: K, codec: Codec, w: MaintenanceWindow): Promise<void> {
  await k
    .updateTable('maintenance_window')
    .set({ start: codec.dt(w.start), end: codec.dt(w.end), note: w.note })
    .where('id', '=', w.id)
    .execute();
}

export async function setWindowFlavors(k: K, windowId: string, flavorIds: string[]): Promise<void> {
  await k.deleteFrom('maintenance_window_flavor').where('maintenance_window_id', '=', windowId).execute();
  if (flavorIds.length > 0) {
    await k
      .insertInto('maintenance_window_flavor')
      .values(flavorIds.map((flavor_id) => ({ maintenance_window_id: windowId, flavor_id })))
      .execute();
  }
}

export async function deleteMaintenanceWindow(k: K, id: string): Promise<void> {
  await k.deleteFrom('maintenance_window_flavor').where('maintenance_window_id', '=', id).execute();
  await k.deleteFrom('maintenance_window').where('id', '=', id).execute();
}

/** Any effective reservation of these flavors overlapping [start, end]? */
export async function hasConflictingReservation(k: K, codec: Codec, flavorIds: string[], start: number, end: number): Promise<boolean> {
  if (flavorIds.length === 0) return false;
  const r = await k
    .selectFrom('reservation')
    .select('id')
    .where('flavor_id', 'in', flavorIds)
    .where('end', '>=', codec.dt(start))
    .where('start', '<=', codec.dt(end))
    .where('status', 'in', EFFECTIVE_STATUSES)
    .limit(1)
    .executeTakeFirst();
  return r !== undefined;
}

/** Delete windows whose end has passed (periodic task). Returns how many. */
export async function deleteEndedWindows(k: K, codec: Codec, now: number): Promise<number> {
  const ended = await k.selectFrom('maintenance_window').select('id').where('end', '<', codec.dt(now)).execute();
  for (const w of ended) await deleteMaintenanceWindow(k, w.id);
  return ended.length;
}
