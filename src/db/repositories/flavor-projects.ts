/** SQL for flavor access grants (`flavor_project`). */
import type { FlavorProject } from '../../domain/types.js';
import type { Queryable } from '../connect.js';
import { pageWithTotal } from './page.js';

export async function listFlavorProjects(
  db: Queryable,
  filter: { projectId?: string | null; flavorId?: string | null },
  page: { limit: number; offset: number },
): Promise<{ rows: FlavorProject[]; total: number }> {
  let q = db.kysely.selectFrom('flavor_project');
  if (filter.projectId) q = q.where('project_id', '=', filter.projectId);
  if (filter.flavorId) q = q.where('flavor_id', '=', filter.flavorId);
  return pageWithTotal(
    page,
    () => q.selectAll().orderBy('project_id').orderBy('id').limit(page.limit).offset(page.offset).execute(),
    () => q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  );
}

export async function getFlavorProject(db: Queryable, id: string): Promise<FlavorProject | null> {
  return (await db.kysely.selectFrom('flavor_project').selectAll().where('id', '=', id).executeTakeFirst()) ?? null;
}

export async function findGrant(db: Queryable, flavorId: string, projectId: string): Promise<FlavorProject | null> {
  return (
    (await db.kysely
      .selectFrom('flavor_project')
      .selectAll()
      .where('flavor_id', '=', flavorId)
      .where('project_id', '=', projectId)
      .executeTakeFirst()) ?? null
  );
}

export async function insertFlavorProject(db: Queryable, fp: FlavorProject): Promise<void> {
  await db.kysely.insertInto('flavor_project').values(fp).execute();
}

export async function deleteFlavorProject(db: Queryable, id: string): Promise<void> {
  await db.kysely.deleteFrom('flavor_project').where('id', '=', id).execute();
}
