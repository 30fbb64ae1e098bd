/**
 * Maintenance window use cases (docs/api.md#maintenance-windows). A create or update runs in
 * one transaction that locks the window's row (update: two PATCHes apply one after the other)
 * and then the rows of its flavors in id order — the lock a reservation create takes — so no
 * reservation can slip in between the conflict check and the commit.
 */
import { randomUUID } from 'node:crypto';
import * as flavors from '../db/repositories/flavors.js';
import * as windows from '../db/repositories/maintenance-windows.js';
import { lockFlavor, type Tx, writeTransaction } from '../db/transaction.js';
import { BadRequest, Conflict, NotFound } from '../domain/errors.js';
import { isUuid } from '../domain/ids.js';
import { windowTimesRefusal } from '../domain/maintenance-rules.js';
import { truncateToMinute } from '../domain/time.js';
import type { MaintenanceWindow } from '../domain/types.js';
import type { Services } from './dependencies.js';

export interface WindowInput {
  start?: number;
  end?: number;
  note?: string | null;
  flavor_ids?: string[];
}

const notFound = (id: string) => new NotFound(`MaintenanceWindow ${id} doesn't exist`);

export async function listWindows(
  svc: Services,
  page: { limit: number; offset: number },
): Promise<{ rows: MaintenanceWindow[]; total: number }> {
  return windows.listMaintenanceWindows(svc.db, page);
}

export async function getWindow(svc: Services, id: string): Promise<MaintenanceWindow> {
  const w = isUuid(id) ? await windows.getMaintenanceWindow(svc.db, id) : null;
  if (!w) throw notFound(id);
  return w;
}

/**
 * The checks create and update share, inside the transaction: the times, the flavors exist
 * (`flavorIds` null: keep the window's), then the flavor rows are locked and no effective
 * reservation of them may overlap the window.
 */
async function checkWindow(svc: Services, tx: Tx, w: MaintenanceWindow, startGiven: boolean, flavorIds: string[] | null): Promise<void> {
  const refusal = windowTimesRefusal(w, startGiven, truncateToMinute(svc.now()));
  if (refusal) throw new BadRequest(refusal);
  if (flavorIds !== null) {
    const found = flavorIds.every(isUuid) ? await flavors.flavorsByIds(tx, flavorIds) : [];
    if (found.length !== flavorIds.length) throw new NotFound('One or more flavors not found');
    w.flavors = found.sort((a, b) => a.name.localeCompare(b.name));
  }
  for (const f of [...w.flavors].sort((a, b) => a.id.localeCompare(b.id))) await lockFlavor(tx, f.id);
  const ids = w.flavors.map((f) => f.id);
  if (await windows.hasConflictingReservation(tx, ids, w.start, w.end)) {
    throw new Conflict('Maintenance window conflicts with existing reservations');
  }
}

/** A new window from validated fields (start and end required by the schema). */
export async function createWindow(svc: Services, v: WindowInput & { start: number; end: number }): Promise<MaintenanceWindow> {
  const w: MaintenanceWindow = {
    id: randomUUID(),
    start: truncateToMinute(v.start),
    end: truncateToMinute(v.end),
    note: v.note ?? null,
    flavors: [],
  };
  await writeTransaction(svc.db, async (tx) => {
    await checkWindow(svc, tx, w, true, v.flavor_ids ?? []);
    await windows.insertMaintenanceWindow(tx, w);
  });
  svc.log.info({ window: w.id }, 'maintenance window created');
  return w;
}

/** Apply `v` to the window under its row lock; `flavor_ids` replaces the set. */
export async function updateWindow(svc: Services, id: string, v: WindowInput): Promise<MaintenanceWindow> {
  const { db } = svc;
  const w = await writeTransaction(db, async (tx) => {
    const current = isUuid(id) ? await windows.getMaintenanceWindow(tx, id, 'lock') : null;
    if (!current) throw notFound(id);
    const next: MaintenanceWindow = {
      ...current,
      start: v.start !== undefined ? truncateToMinute(v.start) : current.start,
      end: v.end !== undefined ? truncateToMinute(v.end) : current.end,
      note: v.note !== undefined ? v.note : current.note,
    };
    await checkWindow(svc, tx, next, v.start !== undefined, v.flavor_ids ?? null);
    await windows.updateMaintenanceWindow(tx, next);
    if (v.flavor_ids !== undefined)
      await windows.setWindowFlavors(
        tx,
        id,
        next.flavors.map((f) => f.id),
      );
    return next;
  });
  svc.log.info({ window: id }, 'maintenance window updated');
  return w;
}

export async function deleteWindow(svc: Services, id: string): Promise<void> {
  await getWindow(svc, id);
  await writeTransaction(svc.db, (tx) => windows.deleteMaintenanceWindow(tx, id));
  svc.log.info({ window: id }, 'maintenance window deleted');
}
