/**
 * The reservation history (`warre_reservation_history`, docs/api.md#history): rows are
 * appended by whoever changes a reservation, in the same transaction, and read back in the
 * order they were written (by id). Nothing here updates a row; only the retention clean-up
 * deletes them.
 */
import type { Selectable } from 'kysely';
import type { HistoryDetail, HistoryEntry, HistoryEvent, HistoryRecord } from '../../domain/history.js';
import type { ReservationStatus } from '../../domain/types.js';
import { runSteps, type Step, step } from '../batch.js';
import { read } from '../codec.js';
import type { Queryable } from '../connect.js';
import type { WarreReservationHistoryTable } from '../schema.js';
import { type PageWindow, pageWithTotal } from './page.js';

/** Rows per INSERT when many are recorded at once (the periodic clean-up). */
const INSERT_CHUNK = 500;

/** Append history rows: one INSERT statement (per {@link INSERT_CHUNK} rows). */
export async function recordHistory(db: Queryable, entries: HistoryEntry | readonly HistoryEntry[]): Promise<void> {
  const list: readonly HistoryEntry[] = Array.isArray(entries) ? entries : [entries as HistoryEntry];
  for (let i = 0; i < list.length; i += INSERT_CHUNK) await runSteps(db, [recordHistoryStep(db, list.slice(i, i + INSERT_CHUNK))]);
}

/** {@link recordHistory} of at most {@link INSERT_CHUNK} entries as a step of a batch (src/db/batch.ts). */
export function recordHistoryStep(db: Queryable, entries: readonly HistoryEntry[]): Step<void> {
  const rows = entries.map((e) => ({
    reservation_id: e.reservationId,
    project_id: e.projectId,
    event: e.event,
    time: db.codec.dt(e.time),
    user_id: e.userId,
    request_id: e.requestId,
    status_before: e.statusBefore,
    status_after: e.statusAfter,
    detail: e.detail === null ? null : JSON.stringify(e.detail),
  }));
  return step(db.kysely.insertInto('warre_reservation_history').values(rows), () => undefined);
}

export interface HistoryFilter {
  reservationId?: string | null;
  projectId?: string | null;
  /** Rows written at or after this time. */
  since?: number | null;
}

/** A page of history rows, oldest first, and how many match. */
export async function listHistory(
  db: Queryable,
  filter: HistoryFilter,
  page: PageWindow,
): Promise<{ rows: HistoryRecord[]; total: number }> {
  let q = db.kysely.selectFrom('warre_reservation_history');
  if (filter.reservationId) q = q.where('reservation_id', '=', filter.reservationId);
  if (filter.projectId) q = q.where('project_id', '=', filter.projectId);
  if (filter.since !== undefined && filter.since !== null) q = q.where('time', '>=', db.codec.dt(filter.since));
  const { rows, total } = await pageWithTotal(
    page,
    () => q.selectAll().orderBy('id').limit(page.limit).offset(page.offset).execute(),
    () => q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  );
  return { rows: rows.map(rowToRecord), total };
}

/** Remove the rows written before `before` (the retention of `[warre] history_retention_days`). */
export async function deleteHistoryBefore(db: Queryable, before: number): Promise<number> {
  const r = await db.kysely.deleteFrom('warre_reservation_history').where('time', '<', db.codec.dt(before)).executeTakeFirst();
  return Number(r.numDeletedRows);
}

function rowToRecord(r: Selectable<WarreReservationHistoryTable>): HistoryRecord {
  return {
    id: Number(r.id),
    reservationId: r.reservation_id,
    projectId: r.project_id,
    event: r.event as HistoryEvent,
    time: read.dt(r.time),
    userId: r.user_id,
    requestId: r.request_id,
    statusBefore: r.status_before as ReservationStatus | null,
    statusAfter: r.status_after as ReservationStatus | null,
    detail: read.json(r.detail) as HistoryDetail | null,
  };
}
