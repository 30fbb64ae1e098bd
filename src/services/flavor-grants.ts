/**
 * Grants of private flavors to projects (docs/api.md#flavor-grants). A grant is created
 * under the flavor's row lock, so a flavor deleted at the same moment either takes the grant
 * with it or is gone first (404 "Flavor does not exist") — never a foreign-key error.
 */
import { randomUUID } from 'node:crypto';
import * as grants from '../db/repositories/flavor-projects.js';
import * as flavors from '../db/repositories/flavors.js';
import { lockFlavor, writeTransaction } from '../db/transaction.js';
import { Conflict, NotFound, ValidationFailed } from '../domain/errors.js';
import { isUuid } from '../domain/ids.js';
import type { FlavorProject } from '../domain/types.js';
import type { Services } from './dependencies.js';

export async function listGrants(
  svc: Services,
  filter: { projectId: string | null; flavorId: string | null },
  page: { limit: number; offset: number },
): Promise<{ rows: FlavorProject[]; total: number }> {
  return grants.listFlavorProjects(svc.db, filter, page);
}

export async function getGrant(svc: Services, id: string): Promise<FlavorProject> {
  const fp = isUuid(id) ? await grants.getFlavorProject(svc.db, id) : null;
  if (!fp) throw new NotFound(`FlavorProject ${id} doesn't exist`);
  return fp;
}

/** Grant `flavorId` to `projectId`: 404 for an unknown flavor, 409 when the grant exists. */
export async function createGrant(svc: Services, flavorId: string, projectId: string): Promise<FlavorProject> {
  if (projectId.trim() === '') throw new ValidationFailed({ project_id: ['Field may not be blank.'] });
  const fp: FlavorProject = { id: randomUUID(), flavor_id: flavorId, project_id: projectId };
  const { db } = svc;
  await writeTransaction(db, async (tx) => {
    if (!isUuid(flavorId)) throw new NotFound('Flavor does not exist');
    await lockFlavor(tx, flavorId);
    if (!(await flavors.getFlavor(tx, flavorId))) throw new NotFound('Flavor does not exist');
    if (await grants.findGrant(tx, flavorId, projectId)) throw new Conflict('Already exists');
    try {
      await grants.insertFlavorProject(tx, fp);
    } catch (err) {
      // The unique (project_id, flavor_id) constraint caught a concurrent grant.
      if (/unique|duplicate/i.test(String((err as Error).message))) throw new Conflict('Already exists');
      throw err;
    }
  });
  svc.flavorCatalog?.changed();
  svc.log.info({ grant: fp.id, flavor: flavorId, project: projectId }, 'flavor granted');
  return fp;
}

export async function deleteGrant(svc: Services, id: string): Promise<void> {
  await grants.deleteFlavorProject(svc.db, id);
  svc.flavorCatalog?.changed();
  svc.log.info({ grant: id }, 'flavor grant deleted');
}
