/** /v1/flavorprojects/ — grants of private flavors to projects (api.md §3 FlavorProject). */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import * as grants from '../../../db/repositories/flavor-projects.js';
import * as flavors from '../../../db/repositories/flavors.js';
import { writeTransaction } from '../../../db/transaction.js';
import { Conflict, NotFound, ValidationFailed } from '../../../domain/errors.js';
import { pageRequest, pageResponse, query, queryString, requireBody } from '../../request.js';
import { isUuid, validateBody, type Schema } from '../../validate.js';
import { flavorProjectView } from '../../views.js';
import type { RouteDeps } from '../index.js';

const CREATE_FIELDS: Schema = {
  flavor_id: { type: { kind: 'string', max: 64 }, required: true },
  project_id: { type: { kind: 'string', max: 64 }, required: true },
};

export default async function flavorProjectRoutes(app: FastifyInstance, { svc, authz, publicUrl }: RouteDeps): Promise<void> {
  const k = () => svc.db.kysely;

  app.get('/v1/flavorprojects', async (req) => {
    authz.collection(req, 'warre:flavorproject:list');
    const q = query(req);
    const page = pageRequest(q);
    const { rows, total } = await grants.listFlavorProjects(
      k(),
      { projectId: queryString(q, 'project_id'), flavorId: queryString(q, 'flavor_id') },
      page,
    );
    return pageResponse(req, publicUrl, page, total, rows.map(flavorProjectView));
  });

  app.post('/v1/flavorprojects', async (req) => {
    authz.collection(req, 'warre:flavorproject:create');
    const body = requireBody(req);
    const parsed = validateBody<{ flavor_id: string; project_id: string }>(CREATE_FIELDS, body);
    if (!parsed.ok) throw new ValidationFailed(parsed.errors);
    const { flavor_id, project_id } = parsed.value;
    if (project_id.trim() === '') throw new ValidationFailed({ project_id: ['Field may not be blank.'] });
    const fp = { id: randomUUID(), flavor_id, project_id };
    await writeTransaction(svc.db, async (tx) => {
      if (!isUuid(flavor_id) || !(await flavors.getFlavor(tx, flavor_id))) throw new NotFound('Flavor does not exist');
      if (await grants.findGrant(tx, flavor_id, project_id)) throw new Conflict('Already exists');
      try {
        await grants.insertFlavorProject(tx, fp);
      } catch (err) {
        // The unique (project_id, flavor_id) constraint caught a concurrent grant.
        if (/unique|duplicate/i.test(String((err as Error).message))) throw new Conflict('Already exists');
        throw err;
      }
    });
    req.log.info({ grant: fp.id, flavor: flavor_id, project: project_id }, 'flavor granted');
    return flavorProjectView(fp);
  });

  app.delete<{ Params: { id: string } }>('/v1/flavorprojects/:id', async (req, reply) => {
    const id = req.params.id;
    const fp = isUuid(id) ? await grants.getFlavorProject(k(), id) : null;
    if (!fp) throw new NotFound(`FlavorProject ${id} doesn't exist`);
    authz.item(req, 'warre:flavorproject:delete', `FlavorProject ${id} doesn't exist`);
    await grants.deleteFlavorProject(k(), id);
    req.log.info({ grant: id }, 'flavor grant deleted');
    return reply.status(204).send();
  });
}
