/**
 * Reading the reservation history (docs/api.md#history). It is written by the use cases that
 * change reservations (src/services/reservations.ts, the worker, lease events, periodic tasks),
 * each in its own transaction; this module only reads.
 */
import * as history from '../db/repositories/history.js';
import type { HistoryRecord } from '../domain/history.js';
import type { Services } from './dependencies.js';

export interface HistoryQuery {
  projectId: string | null;
  reservationId: string | null;
  since: number | null;
}

/** A page of one reservation's history, oldest first. */
export async function reservationHistory(
  svc: Services,
  reservationId: string,
  page: { limit: number; offset: number },
): Promise<{ rows: HistoryRecord[]; total: number }> {
  return history.listHistory(svc.db, { reservationId }, page);
}

/** A page of every reservation's history (deleted ones too), oldest first, filtered. */
export async function listHistory(
  svc: Services,
  filter: HistoryQuery,
  page: { limit: number; offset: number },
): Promise<{ rows: HistoryRecord[]; total: number }> {
  return history.listHistory(svc.db, filter, page);
}
