/** SQL for maintenance windows and their flavor links. */
import { EFFECTIVE_STATUSES, type MaintenanceWindow } from '../../domain/types.js';
import { read } from '../codec.js';
import type { Queryable } from '../connect.js';
import { pageWithTotal } from './page.js';

async function attachFlavors(
  db: Queryable,
  rows: { id: string; start: string; end: string; note: string | null }[],
): Promise<MaintenanceWindow[]> {
  if (rows.length === 0) return [];
  const links = await db.kysely
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
  db: Queryable,
  page: { limit: number; offset: number },
): Promise<{ rows: MaintenanceWindow[]; total: number }> {
  const { rows, total } = await pageWithTotal(
    page,
    () =>
      db.kysely.selectFrom('maintenance_window').selectAll().orderBy('start').orderBy('id').limit(page.limit).offset(page.offset).execute(),
    () =>
      db.kysely
        .selectFrom('maintenance_window')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow(),
  );
  return { rows: await attachFlavors(db, rows), total };
}

/** A window by id; `forUpdate` also locks its row until the transaction ends (MySQL/PostgreSQL). */
export async function getMaintenanceWindow(db: Queryable, id: string, forUpdate: 'lock' | null = null): Promise<MaintenanceWindow | null> {
  let q = db.kysely.selectFrom('maintenance_window').selectAll().where('id', '=', id);
  if (forUpdate) q = db.dialect.lockRows(q);
  const r = await q.executeTakeFirst();
  return r ? ((await attachFlavors(db, [r]))[0] ?? null) : null;
}

export async function insertMaintenanceWindow(db: Queryable, w: MaintenanceWindow): Promise<void> {
  await db.kysely
    .insertInto('maintenance_window')
    .values({ id: w.id, start: db.codec.dt(w.start), end: db.codec.dt(w.end), note: w.note })
    .execute();
  await setWindowFlavors(
    db,
    w.id,
    w.flavors.map((f) => f.id),
  );
}

export async function updateMaintenanceWindow(db: Queryable, w: MaintenanceWindow): Promise<void> {
  await db.kysely
    .updateTable('maintenance_window')
    .set({ start: db.codec.dt(w.start), end: db.codec.dt(w.end), note: w.note })
    .where('id', '=', w.id)
    .execute();
}

export async function setWindowFlavors(db: Queryable, windowId: string, flavorIds: string[]): Promise<void> {
  await db.kysely.deleteFrom('maintenance_window_flavor').where('maintenance_window_id', '=', windowId).execute();
  if (flavorIds.length > 0) {
    await db.kysely
      .insertInto('maintenance_window_flavor')
      .values(flavorIds.map((flavor_id) => ({ maintenance_window_id: windowId, flavor_id })))
      .execute();
  }
}

export async function deleteMaintenanceWindow(db: Queryable, id: string): Promise<void> {
  await db.kysely.deleteFrom('maintenance_window_flavor').where('maintenance_window_id', '=', id).execute();
  await db.kysely.deleteFrom('maintenance_window').where('id', '=', id).execute();
}

/** Any effective reservation of these flavors overlapping [start, end]? */
export async function hasConflictingReservation(db: Queryable, flavorIds: string[], start: number, end: number): Promise<boolean> {
  if (flavorIds.length === 0) return false;
  const r = await db.kysely
    .selectFrom('reservation')
    .select('id')
    .where('flavor_id', 'in', flavorIds)
    .where('end', '>=', db.codec.dt(start))
    .where('start', '<=', db.codec.dt(end))
    .where('status', 'in', EFFECTIVE_STATUSES)
    .limit(1)
    .executeTakeFirst();
  return r !== undefined;
}

/** Delete windows whose end has passed (periodic task). Returns how many. */
export async function deleteEndedWindows(db: Queryable, now: number): Promise<number> {
  const ended = await db.kysely.selectFrom('maintenance_window').select('id').where('end', '<', db.codec.dt(now)).execute();
  for (const w of ended) await deleteMaintenanceWindow(db, w.id);
  return ended.length;
}
