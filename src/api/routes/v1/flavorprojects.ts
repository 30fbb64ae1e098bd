/** /v1/flavorprojects/ — grants of private flavors to projects (docs/api.md#flavor-grants). */
import type { FastifyInstance } from 'fastify';
import { ValidationFailed } from '../../../domain/errors.js';
import * as grants from '../../../services/flavor-grants.js';
import { pageRequest, pageResponse, query, queryString, requireBody } from '../../request.js';
import { type Schema, validateBody } from '../../validate.js';
import { flavorProjectView } from '../../views.js';
import type { RouteDeps } from '../index.js';

export const CREATE_FIELDS: Schema = {
  flavor_id: { type: { kind: 'string', max: 64 }, required: true },
  project_id: { type: { kind: 'string', max: 64 }, required: true },
};

export default async function flavorProjectRoutes(app: FastifyInstance, { svc, authz, publicUrl }: RouteDeps): Promise<void> {
  app.get('/v1/flavorprojects', async (req) => {
    authz.collection(req, 'warre:flavorproject:list');
    const q = query(req);
    const page = pageRequest(q);
    const { rows, total } = await grants.listGrants(
      svc,
      { projectId: queryString(q, 'project_id'), flavorId: queryString(q, 'flavor_id') },
      page,
    );
    return pageResponse(req, publicUrl, page, total, rows.map(flavorProjectView));
  });

  app.post('/v1/flavorprojects', async (req) => {
    authz.collection(req, 'warre:flavorproject:create');
    const parsed = validateBody<{ flavor_id: string; project_id: string }>(CREATE_FIELDS, requireBody(req));
    if (!parsed.ok) throw new ValidationFailed(parsed.errors);
    return flavorProjectView(await grants.createGrant(svc, parsed.value.flavor_id, parsed.value.project_id));
  });

  app.delete<{ Params: { id: string } }>('/v1/flavorprojects/:id', async (req, reply) => {
    const id = req.params.id;
    await grants.getGrant(svc, id);
    authz.item(req, 'warre:flavorproject:delete', `FlavorProject ${id} doesn't exist`);
    await grants.deleteGrant(svc, id);
    return reply.status(204).send();
  });
}
