/** SQL for flavor access grants (`flavor_project`). */
import type { Kysely } from 'kysely';
import type { FlavorProject } from '../../domain/types.js';
import type { Database } from '../schema.js';
import { pageWithTotal } from './page.js';

type K = Kysely<Database>;

export async function listFlavorProjects(
  k: K,
  filter: { projectId?: string | null; flavorId?: string | null },
  page: { limit: number; offset: number },
): Promise<{ rows: FlavorProject[]; total: number }> {
  let q = k.selectFrom('flavor_project');
  if (filter.projectId) q = q.where('project_id', '=', filter.projectId);
  if (filter.flavorId) q = q.where('flavor_id', '=', filter.flavorId);
  return pageWithTotal(
    page,
    () => q.selectAll().orderBy('project_id').orderBy('id').limit(page.limit).offset(page.offset).execute(),
    () => q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  );
}

export async function getFlavorProject(k: K, id: string): Promise<FlavorProject | null> {
  return (await k.selectFrom('flavor_project').selectAll().where('id', '=', id).executeTakeFirst()) ?? null;
}

export async function findGrant(k: K, flavorId: string, projectId: string): Promise<FlavorProject | null> {
  return (
    (await k
      .selectFrom('flavor_project')
      .selectAll()
      .where('flavor_id', '=', flavorId)
      .where('project_id', '=', projectId)
      .executeTakeFirst()) ?? null
  );
}

export async function insertFlavorProject(k: K, fp: FlavorProject): Promise<void> {
  await k.insertInto('flavor_project').values(fp).execute();
}

export async function deleteFlavorProject(k: K, id: string): Promise<void> {
  await k.deleteFrom('flavor_project').where('id', '=', id).execute();
}
