/** SQL for flavors and their project grants. */
import { type Kysely, type Selectable, sql } from 'kysely';
import type { Flavor } from '../../domain/types.js';
import { type Codec, read } from '../codec.js';
import type { Database, FlavorTable } from '../schema.js';
import { pageWithTotal } from './page.js';

type K = Kysely<Database>;

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
export async function getFlavor(k: K, id: string, forUpdate: 'lock' | null = null): Promise<Flavor | null> {
  let q = k.selectFrom('flavor').selectAll().where('id', '=', id);
  if (forUpdate) q = q.forUpdate();
  const r = await q.executeTakeFirst();
  return r ? rowToFlavor(r) : null;
}

export interface FlavorFilter {
  /** Only flavors a member of this project sees (active, and public or granted); null = every flavor. */
  visibleToProject: string | null;
  category?: string | null;
  availabilityZone?: string | null;
  active?: boolean | null;
}

export async function listFlavors(
  k: K,
  codec: Codec,
  filter: FlavorFilter,
  page: { limit: number; offset: number },
): Promise<{ rows: Flavor[]; total: number }> {
  let q = k.selectFrom('flavor');
  if (filter.visibleToProject !== null) {
    const project = filter.visibleToProject;
    q = q
      .where('active', '=', codec.bool(true))
      .where((eb) =>
        eb.or([
          eb('is_public', '=', codec.bool(true)),
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
  if (filter.active !== null && filter.active !== undefined) q = q.where('active', '=', codec.bool(filter.active));
  const { rows, total } = await pageWithTotal(
    page,
    () => q.selectAll().orderBy('name').orderBy('memory_mb').orderBy('id').limit(page.limit).offset(page.offset).execute(),
    () => q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  );
  return { rows: rows.map(rowToFlavor), total };
}

export async function insertFlavor(k: K, codec: Codec, f: Flavor): Promise<void> {
  await k.insertInto('flavor').values(toRow(f, codec)).execute();
}

export async function updateFlavor(k: K, codec: Codec, f: Flavor): Promise<void> {
  const { id, ...rest } = toRow(f, codec);
  await k.updateTable('flavor').set(rest).where('id', '=', id).execute();
}

/** True when any reservation (in any state) references the flavor. */
export async function flavorInUse(k: K, id: string): Promise<boolean> {
  const r = await k.selectFrom('reservation').select('id').where('flavor_id', '=', id).limit(1).executeTakeFirst();
  return r !== undefined;
}

/** Delete a flavor with its grants and maintenance-window links (as the Python ORM cascades did). */
export async function deleteFlavor(k: K, id: string): Promise<void> {
  await k.deleteFrom('flavor_project').where('flavor_id', '=', id).execute();
  await k.deleteFrom('maintenance_window_flavor').where('flavor_id', '=', id).execute();
  await k.deleteFrom('flavor').where('id', '=', id).execute();
}

export async function isGranted(k: K, flavorId: string, projectId: string): Promise<boolean> {
  const r = await k
    .selectFrom('flavor_project')
    .select('id')
    .where('flavor_id', '=', flavorId)
    .where('project_id', '=', projectId)
    .executeTakeFirst();
  return r !== undefined;
}

export async function flavorsByIds(k: K, ids: string[]): Promise<{ id: string; name: string }[]> {
  if (ids.length === 0) return [];
  return k.selectFrom('flavor').select(['id', 'name']).where('id', 'in', ids).execute();
}
