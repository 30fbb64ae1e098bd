/** Periodic-task locks (`warre_task_lock`): one worker at a time runs each periodic task. */
import type { Db } from '../connect.js';

/**
 * Take the named periodic-task lock until `until` if nobody holds it (or the
 * holder's time is up). Several workers may run the periodic loop; each task
 * runs on one of them per interval.
 */
export async function acquireTaskLock(db: Db, name: string, holder: string, now: number, holdMs: number): Promise<boolean> {
  const nowDt = db.codec.dt(now);
  const untilDt = db.codec.dt(now + holdMs);
  const ins = db.kysely.insertInto('warre_task_lock').values({ name, holder: null, held_until: null });
  await db.dialect.insertIfAbsent(ins, ['name']);
  const r = await db.kysely
    .updateTable('warre_task_lock')
    .set({ holder, held_until: untilDt })
    .where('name', '=', name)
    .where((eb) => eb.or([eb('held_until', 'is', null), eb('held_until', '<=', nowDt)]))
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Give a task lock back before its time (only if `holder` still holds it). */

export async function releaseTaskLock(db: Db, name: string, holder: string): Promise<void> {
  await db.kysely.updateTable('warre_task_lock').set({ held_until: null }).where('name', '=', name).where('holder', '=', holder).execute();
}

/** Delete COMPLETE reservations whose end is before `before`. */
