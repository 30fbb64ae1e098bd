/**
 * Serialised read-check-write transactions (docs/api.md#no-overbooking).
 *
 * - MySQL/MariaDB and PostgreSQL: a READ COMMITTED transaction in which the
 *   caller takes row locks (`SELECT … FOR UPDATE`) on the project's lock row
 *   (quota) and the flavor row (capacity), always in that order, so every
 *   check sees the commits of whoever held the lock before.
 * - SQLite: `BEGIN IMMEDIATE` takes the database write lock up front, which
 *   serialises writers across processes; within a process Kysely's single
 *   connection already serialises.
 */
import { runSteps, type Step, step } from './batch.js';
import type { Db, Queryable } from './connect.js';
import { isDatabaseUnavailable } from './resilience.js';

/** A transaction: the same handle repositories take, bound to one connection until commit. */
export type Tx = Queryable;

export async function writeTransaction<T>(db: Db, fn: (tx: Tx) => Promise<T>): Promise<T> {
  const run = () => db.dialect.writeTransaction(db.kysely, (trx) => fn({ kysely: trx, dialect: db.dialect, codec: db.codec }));
  // SQLite: one connection, one writer; a busy database waits (busy_timeout), it never deadlocks.
  if (!db.dialect.rowLocks) return run();
  let attempt = 0;
  let reconnected = false;
  for (;;) {
    try {
      return await run();
    } catch (err) {
      // A deadlock victim is safe to run again: nothing it did was committed.
      if (attempt++ < 5 && isDeadlock(err)) continue;
      // A connection lost before COMMIT committed nothing: run it once more on a fresh one.
      if (!reconnected && isDatabaseUnavailable(err) && err.retriable) {
        reconnected = true;
        continue;
      }
      throw err;
    }
  }
}

/**
 * The same callback shape without a transaction or locks: for read-only previews (a
 * reservation dry run), whose answer is a hint that the real write checks again.
 */
export async function readOnly<T>(db: Db, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return fn(db);
}

function isDeadlock(err: unknown): boolean {
  const e = err as { code?: string; errno?: number };
  return e?.code === 'ER_LOCK_DEADLOCK' || e?.errno === 1213 || e?.code === '40P01' || e?.code === '40001';
}

/** Lock rows this process knows exist (they are never deleted), to skip the insert. */
const knownLockRows = new Set<string>();

/** Make sure the project's lock row exists (outside any transaction; idempotent). */
export async function ensureProjectLockRow(db: Db, projectId: string): Promise<void> {
  const key = `${db.location}\u0000${projectId}`;
  if (knownLockRows.has(key)) return;
  await db.dialect.insertIfAbsent(db.kysely.insertInto('warre_project_lock').values({ project_id: projectId }), ['project_id']);
  if (knownLockRows.size > 100_000) knownLockRows.clear();
  knownLockRows.add(key);
}

/** Lock the project's row for the rest of the transaction (quota serialisation). */
export async function lockProject(tx: Tx, projectId: string): Promise<void> {
  await runSteps(tx, [lockProjectStep(tx, projectId)]);
}

/** {@link lockProject} as a step of a batch (src/db/batch.ts); null where there are no row locks. */
export function lockProjectStep(tx: Tx, projectId: string): Step<void> | null {
  if (!tx.dialect.rowLocks) return null;
  return step(
    tx.dialect.lockRows(tx.kysely.selectFrom('warre_project_lock').select('project_id').where('project_id', '=', projectId)),
    () => undefined,
  );
}

/** Lock the flavor's row for the rest of the transaction (capacity serialisation). */
export async function lockFlavor(tx: Tx, flavorId: string): Promise<void> {
  if (!tx.dialect.rowLocks) return;
  await tx.dialect.lockRows(tx.kysely.selectFrom('flavor').select('id').where('id', '=', flavorId)).execute();
}

/** Lock a reservation's row for the rest of the transaction (its status changes one at a time). */
export async function lockReservation(tx: Tx, id: string): Promise<void> {
  if (!tx.dialect.rowLocks) return;
  await tx.dialect.lockRows(tx.kysely.selectFrom('reservation').select('id').where('id', '=', id)).execute();
}
