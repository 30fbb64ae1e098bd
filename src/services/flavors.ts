/**
 * Flavor use cases (docs/api.md#flavors): list, read, create, update, delete, free slots.
 * Each write runs in one transaction that locks the flavor row first, so a change and the
 * reservations, grants and windows that reference the flavor are serialised:
 * - update: two PATCHes of one flavor apply one after the other, each on the other's result
 *   (no lost change);
 * - delete: a reservation or grant created at the same moment either commits first (the
 *   delete then answers 409 "in use", or removes the grant with the flavor) or waits and finds
 *   no flavor (404) — never a foreign-key error.
 */
import { randomUUID } from 'node:crypto';
import * as flavors from '../db/repositories/flavors.js';
import { flavorOccupancy } from '../db/repositories/occupancy.js';
import { lockFlavor, type Tx, writeTransaction } from '../db/transaction.js';
import { type Slot, freeSlots as sweep } from '../domain/capacity.js';
import { Conflict, NotFound, ValidationFailed } from '../domain/errors.js';
import { isUuid } from '../domain/ids.js';
import { truncateToMinute } from '../domain/time.js';
import type { Flavor } from '../domain/types.js';
import type { Services } from './dependencies.js';
import { grantedTo, visibleTo } from './flavor-catalog.js';

/** Who is asking: their project, and whether they may see every flavor (warre:flavor:list:all). */
export interface FlavorViewer {
  projectId: string | null;
  seesAll: boolean;
}

/** The fields a create or update may set (named as in docs/api.md#flavors). */
export type FlavorInput = Partial<Omit<Flavor, 'id'>>;

/** Defaults of a new flavor, as the Python service's. */
export const FLAVOR_DEFAULTS = { max_length_hours: 504, slots: 1, ephemeral_gb: 0, active: true, is_public: true } as const;

/** The flavor row, locked until the transaction ends (the write transaction itself on SQLite). */
async function lockedFlavor(tx: Tx, id: string): Promise<Flavor | null> {
  await lockFlavor(tx, id);
  return flavors.getFlavor(tx, id);
}

const notFound = (id: string) => new NotFound(`Flavor ${id} doesn't exist`);

function checkStartEnd(f: { start: number | null; end: number | null }): void {
  if (f.start !== null && f.end !== null && f.end <= f.start) throw new ValidationFailed({ end: ['Must be after start.'] });
}

const minuteOrNull = (v: number | null | undefined): number | null => (v === undefined || v === null ? null : truncateToMinute(v));

export async function listFlavors(
  svc: Services,
  filter: { visibleToProject: string | null; category: string | null; availabilityZone: string | null; active: boolean | null },
  page: { limit: number; offset: number },
): Promise<{ rows: Flavor[]; total: number }> {
  const catalog = svc.flavorCatalog;
  // Text filters stay in SQL: the database's collation decides what equals (MariaDB's ignores case).
  if (catalog?.enabled && !filter.category && !filter.availabilityZone) {
    const s = await catalog.snapshot();
    const project = filter.visibleToProject;
    const matching = s.flavors.filter(
      (f) => (project === null || visibleTo(s, project, f)) && (filter.active === null || f.active === filter.active),
    );
    return { rows: matching.slice(page.offset, page.offset + page.limit), total: matching.length };
  }
  return flavors.listFlavors(svc.db, filter, page);
}

/** The flavor if the viewer may see it: any with list:all, else public or granted; 404 otherwise. */
export async function visibleFlavor(svc: Services, viewer: FlavorViewer, id: string): Promise<Flavor> {
  if (!isUuid(id)) throw notFound(id);
  const catalog = svc.flavorCatalog;
  if (catalog?.enabled) {
    const s = await catalog.snapshot();
    const f = s.byId.get(id);
    if (f && (f.is_public || viewer.seesAll || (viewer.projectId !== null && grantedTo(s, viewer.projectId, id)))) return f;
    // Not in the snapshot, or not visible by it: the database decides (a flavor or grant made
    // elsewhere within the cache's age is found, never refused).
  }
  const f = await flavors.getFlavor(svc.db, id);
  if (!f) throw notFound(id);
  if (f.is_public || viewer.seesAll) return f;
  if (viewer.projectId !== null && (await flavors.isGranted(svc.db, f.id, viewer.projectId))) return f;
  throw notFound(id);
}

/** A new flavor from validated fields (name, vcpu, memory_mb, disk_gb required by the schema). */
export async function createFlavor(
  svc: Services,
  v: FlavorInput & Pick<Flavor, 'name' | 'vcpu' | 'memory_mb' | 'disk_gb'>,
): Promise<Flavor> {
  const f: Flavor = {
    id: randomUUID(),
    name: v.name,
    description: v.description ?? null,
    vcpu: v.vcpu,
    memory_mb: v.memory_mb,
    disk_gb: v.disk_gb,
    ephemeral_gb: v.ephemeral_gb ?? FLAVOR_DEFAULTS.ephemeral_gb,
    active: v.active ?? FLAVOR_DEFAULTS.active,
    properties: v.properties ?? null,
    max_length_hours: v.max_length_hours ?? FLAVOR_DEFAULTS.max_length_hours,
    slots: v.slots ?? FLAVOR_DEFAULTS.slots,
    is_public: v.is_public ?? FLAVOR_DEFAULTS.is_public,
    extra_specs: v.extra_specs === undefined ? {} : v.extra_specs,
    start: minuteOrNull(v.start),
    end: minuteOrNull(v.end),
    category: v.category ?? null,
    availability_zone: v.availability_zone ?? null,
  };
  checkStartEnd(f);
  await flavors.insertFlavor(svc.db, f);
  svc.flavorCatalog?.changed();
  svc.log.info({ flavor: f.id, name: f.name }, 'flavor created');
  return f;
}

/** Apply `changes` to the flavor under its row lock: concurrent updates never lose a change. */
export async function updateFlavor(svc: Services, viewer: FlavorViewer, id: string, changes: FlavorInput): Promise<Flavor> {
  const { db } = svc;
  const updated = await writeTransaction(db, async (tx) => {
    const current = isUuid(id) ? await lockedFlavor(tx, id) : null;
    if (!current) throw notFound(id);
    if (!current.is_public && !viewer.seesAll && !(viewer.projectId !== null && (await flavors.isGranted(tx, id, viewer.projectId)))) {
      throw notFound(id);
    }
    const next: Flavor = { ...current, ...changes };
    if ('start' in changes) next.start = minuteOrNull(changes.start);
    if ('end' in changes) next.end = minuteOrNull(changes.end);
    checkStartEnd(next);
    await flavors.updateFlavor(tx, next);
    return next;
  });
  svc.flavorCatalog?.changed();
  svc.log.info({ flavor: id, fields: Object.keys(changes) }, 'flavor updated');
  return updated;
}

/** Delete a flavor no reservation references (409 otherwise), with its grants and window links. */
export async function deleteFlavor(svc: Services, id: string): Promise<void> {
  await writeTransaction(svc.db, async (tx) => {
    const f = isUuid(id) ? await lockedFlavor(tx, id) : null;
    if (!f) throw notFound(id);
    if (await flavors.flavorInUse(tx, f.id)) throw new Conflict(`Flavor ${f.id} is in use`);
    await flavors.deleteFlavor(tx, f.id);
  });
  svc.flavorCatalog?.changed();
  svc.log.info({ flavor: id }, 'flavor deleted');
}

/**
 * Free slots of a visible flavor over [start, end] for `instanceCount` instances
 * (docs/api.md#free-slots). The occupancy is read over the window clamped to the flavor's
 * own [start, end], as the sweep clamps.
 */
export async function freeSlots(svc: Services, f: Flavor, start: number, end: number, instanceCount: number): Promise<Slot[]> {
  const { db } = svc;
  const s = f.start !== null && f.start > start ? f.start : start;
  const e = f.end !== null && f.end < end ? f.end : end;
  const occ = await flavorOccupancy(db, f, s, e);
  const occupants = occ.maintenance.length > 0 ? occ.reservations.concat(occ.maintenance) : occ.reservations;
  return sweep(f, start, end, occupants, svc.now(), instanceCount);
}
