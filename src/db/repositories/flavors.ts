/** SQL for flavors and their project grants. */
import { type Selectable, sql } from 'kysely';
import type { Flavor } from '../../domain/types.js';
import { runSteps, type Step, step } from '../batch.js';
import { type Codec, read } from '../codec.js';
import type { Queryable } from '../connect.js';
import type { FlavorTable } from '../schema.js';
import { pageWithTotal } from './page.js';

export function rowToFlavor(r: Selectable<FlavorTable>): Flavor {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    vcpu: r.vcpu,
    memory_mb: r.memory_mb,
    disk_gb: r.disk_gb,
    ephemeral_gb: r.ephemeral_gb,
    active: read.bool(r.active),
    properties: r.properties,
    max_length_hours: r.max_length_hours,
    slots: r.slots,
    is_public: read.bool(r.is_public),
    extra_specs: read.json(r.extra_specs),
    start: read.dtOrNull(r.start),
    end: read.dtOrNull(r.end),
    category: r.category,
    availability_zone: r.availability_zone,
  };
}

function toRow(f: Flavor, codec: Codec): FlavorTable {
  return {
    id: f.id,
    name: f.name,
    description: f.description,
    vcpu: f.vcpu,
    memory_mb: f.memory_mb,
    disk_gb: f.disk_gb,
    ephemeral_gb: f.ephemeral_gb,
    active: codec.bool(f.active),
    properties: f.properties,
    max_length_hours: f.max_length_hours,
    slots: f.slots,
    is_public: codec.bool(f.is_public),
    extra_specs: codec.json(f.extra_specs ?? {}),
    start: codec.dtOrNull(f.start),
    end: codec.dtOrNull(f.end),
    category: f.category,
    availability_zone: f.availability_zone,
  };
}

/** A flavor by id; `forUpdate` also locks its row until the transaction ends (MySQL/PostgreSQL). */
export async function getFlavor(db: Queryable, id: string, forUpdate: 'lock' | null = null): Promise<Flavor | null> {
  return (await runSteps(db, [getFlavorStep(db, id, forUpdate)]))[0];
}

/** {@link getFlavor} as a step of a batch (src/db/batch.ts). */
export function getFlavorStep(db: Queryable, id: string, forUpdate: 'lock' | null = null): Step<Flavor | null> {
  let q = db.kysely.selectFrom('flavor').selectAll().where('id', '=', id);
  if (forUpdate) q = db.dialect.lockRows(q);
  return step(q, (rows) => (rows[0] ? rowToFlavor(rows[0]) : null));
}

export interface FlavorFilter {
  /** Only flavors a member of this project sees (active, and public or granted); null = every flavor. */
  visibleToProject: string | null;
  category?: string | null;
  availabilityZone?: string | null;
  active?: boolean | null;
}

export async function listFlavors(
  db: Queryable,
  filter: FlavorFilter,
  page: { limit: number; offset: number },
): Promise<{ rows: Flavor[]; total: number }> {
  let q = db.kysely.selectFrom('flavor');
  if (filter.visibleToProject !== null) {
    const project = filter.visibleToProject;
    q = q
      .where('active', '=', db.codec.bool(true))
      .where((eb) =>
        eb.or([
          eb('is_public', '=', db.codec.bool(true)),
          eb.exists(
            eb
              .selectFrom('flavor_project')
              .select(sql`1`.as('one'))
              .whereRef('flavor_project.flavor_id', '=', 'flavor.id')
              .where('flavor_project.project_id', '=', project),
          ),
        ]),
      );
  }
  if (filter.category) q = q.where('category', '=', filter.category);
  if (filter.availabilityZone) q = q.where('availability_zone', '=', filter.availabilityZone);
  if (filter.active !== null && filter.active !== undefined) q = q.where('active', '=', db.codec.bool(filter.active));
  const { rows, total } = await pageWithTotal(
    page,
    () => q.selectAll().orderBy('name').orderBy('memory_mb').orderBy('id').limit(page.limit).offset(page.offset).execute(),
    () => q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  );
  return { rows: rows.map(rowToFlavor), total };
}

export async function insertFlavor(db: Queryable, f: Flavor): Promise<void> {
  await db.kysely.insertInto('flavor').values(toRow(f, db.codec)).execute();
}

export async function updateFlavor(db: Queryable, f: Flavor): Promise<void> {
  const { id, ...rest } = toRow(f, db.codec);
  await db.kysely.updateTable('flavor').set(rest).where('id', '=', id).execute();
}

/** True when any reservation (in any state) references the flavor. */
export async function flavorInUse(db: Queryable, id: string): Promise<boolean> {
  const r = await db.kysely.selectFrom('reservation').select('id').where('flavor_id', '=', id).limit(1).executeTakeFirst();
  return r !== undefined;
}

/** Delete a flavor with its grants and maintenance-window links (as the Python ORM cascades did). */
export async function deleteFlavor(db: Queryable, id: string): Promise<void> {
  await db.kysely.deleteFrom('flavor_project').where('flavor_id', '=', id).execute();
  await db.kysely.deleteFrom('maintenance_window_flavor').where('flavor_id', '=', id).execute();
  await db.kysely.deleteFrom('flavor').where('id', '=', id).execute();
}

export async function isGranted(db: Queryable, flavorId: string, projectId: string): Promise<boolean> {
  return (await runSteps(db, [isGrantedStep(db, flavorId, projectId)]))[0];
}

/** {@link isGranted} as a step of a batch (src/db/batch.ts). */
export function isGrantedStep(db: Queryable, flavorId: string, projectId: string): Step<boolean> {
  return step(
    db.kysely.selectFrom('flavor_project').select('id').where('flavor_id', '=', flavorId).where('project_id', '=', projectId).limit(1),
    (rows) => rows.length > 0,
  );
}

export async function flavorsByIds(db: Queryable, ids: string[]): Promise<{ id: string; name: string }[]> {
  if (ids.length === 0) return [];
  return db.kysely.selectFrom('flavor').select(['id', 'name']).where('id', 'in', ids).execute();
}

/** Every flavor in the order of the flavor list (the flavor catalog's snapshot, src/services/flavor-catalog.ts). */
export async function allFlavors(db: Queryable): Promise<Flavor[]> {
  const rows = await db.kysely.selectFrom('flavor').selectAll().orderBy('name').orderBy('memory_mb').orderBy('id').execute();
  return rows.map(rowToFlavor);
}

/** Every grant's (flavor, project) pair. */
export async function allGrants(db: Queryable): Promise<{ flavor_id: string; project_id: string }[]> {
  return db.kysely.selectFrom('flavor_project').select(['flavor_id', 'project_id']).execute();
}
