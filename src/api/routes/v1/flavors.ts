/** /v1/flavors/ — reservable flavors and their free slots (docs/api.md#flavors, docs/api.md#free-slots). */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { BadRequest, ValidationFailed } from '../../../domain/errors.js';
import { DAY, formatApi, truncateToSecond } from '../../../domain/time.js';
import type { Flavor } from '../../../domain/types.js';
import type { FlavorInput, FlavorViewer } from '../../../services/flavors.js';
import * as flavors from '../../../services/flavors.js';
import {
  ctx,
  pageRequest,
  pageResponse,
  projectOf,
  query,
  queryBool,
  queryDate,
  queryInt,
  queryString,
  requireBody,
} from '../../request.js';
import { type Schema, validateBody } from '../../validate.js';
import { flavorView } from '../../views.js';
import type { RouteDeps } from '../index.js';

export const FLAVOR_FIELDS: Schema = {
  name: { type: { kind: 'string', max: 64 }, required: true },
  description: { type: { kind: 'string', max: 255, nullable: true } },
  vcpu: { type: { kind: 'int', min: 1 }, required: true },
  memory_mb: { type: { kind: 'int', min: 1 }, required: true },
  disk_gb: { type: { kind: 'int', min: 0 }, required: true },
  ephemeral_gb: { type: { kind: 'int', min: 0 } },
  active: { type: { kind: 'bool' } },
  properties: { type: { kind: 'string', max: 255, nullable: true } },
  max_length_hours: { type: { kind: 'int', min: 1 } },
  slots: { type: { kind: 'int', min: 1 } },
  is_public: { type: { kind: 'bool' } },
  extra_specs: { type: { kind: 'object', nullable: true } },
  start: { type: { kind: 'datetime', nullable: true } },
  end: { type: { kind: 'datetime', nullable: true } },
  category: { type: { kind: 'string', max: 64, nullable: true } },
  availability_zone: { type: { kind: 'string', max: 64, nullable: true } },
};

/** PATCH cannot change these (the lease and Nova flavor were made from them). */
export const IMMUTABLE = ['id', 'vcpu', 'memory_mb', 'disk_gb', 'properties'];
export const UPDATE_FIELDS: Schema = Object.fromEntries(Object.entries(FLAVOR_FIELDS).filter(([k]) => !IMMUTABLE.includes(k)));

export default async function flavorRoutes(app: FastifyInstance, { svc, authz, publicUrl }: RouteDeps): Promise<void> {
  const viewer = (req: FastifyRequest): FlavorViewer => ({
    projectId: ctx(req).projectId,
    seesAll: authz.allowed(req, 'warre:flavor:list:all'),
  });

  app.get('/v1/flavors', async (req) => {
    authz.collection(req, 'warre:flavor:list');
    const q = query(req);
    const page = pageRequest(q);
    const all = queryBool(q, 'all_projects') === true && authz.allowed(req, 'warre:flavor:list:all');
    const filter = {
      visibleToProject: all ? null : projectOf(req),
      category: queryString(q, 'category'),
      availabilityZone: queryString(q, 'availability_zone'),
      active: queryBool(q, 'active'),
    };
    const { rows, total } = await flavors.listFlavors(svc, filter, page);
    return pageResponse(req, publicUrl, page, total, rows.map(flavorView));
  });

  app.post('/v1/flavors', async (req, reply) => {
    authz.collection(req, 'warre:flavor:create');
    const parsed = validateBody<FlavorInput & Pick<Flavor, 'name' | 'vcpu' | 'memory_mb' | 'disk_gb'>>(FLAVOR_FIELDS, requireBody(req));
    if (!parsed.ok) throw new ValidationFailed(parsed.errors);
    return reply.status(202).send(flavorView(await flavors.createFlavor(svc, parsed.value)));
  });

  app.get<{ Params: { id: string } }>('/v1/flavors/:id', async (req) => {
    const f = await flavors.visibleFlavor(svc, viewer(req), req.params.id);
    authz.collection(req, 'warre:flavor:get');
    return flavorView(f);
  });

  app.patch<{ Params: { id: string } }>('/v1/flavors/:id', async (req) => {
    const id = req.params.id;
    authz.item(req, 'warre:flavor:update', `Flavor ${id} doesn't exist`);
    const body = requireBody(req);
    const parsed = validateBody<FlavorInput>(UPDATE_FIELDS, body, true);
    if (!parsed.ok) {
      const errors = parsed.errors;
      for (const f of IMMUTABLE) if (f in body) errors[f] = ['Unknown field.'];
      throw new BadRequest(errors);
    }
    return flavorView(await flavors.updateFlavor(svc, viewer(req), id, parsed.value));
  });

  app.delete<{ Params: { id: string } }>('/v1/flavors/:id', async (req, reply) => {
    const id = req.params.id;
    await flavors.visibleFlavor(svc, viewer(req), id);
    authz.item(req, 'warre:flavor:delete', `Flavor ${id} doesn't exist`);
    await flavors.deleteFlavor(svc, id);
    return reply.status(204).send();
  });

  app.get<{ Params: { id: string } }>('/v1/flavors/:id/freeslots', async (req) => {
    const q = query(req);
    const now = truncateToSecond(svc.now());
    const start = queryDate(q, 'start') ?? now;
    const end = queryDate(q, 'end') ?? now + 365 * DAY;
    if (end < start) throw new BadRequest('Free slots end must not be before start');
    const instanceCount = queryInt(q, 'instance_count', 1, 999_999_999, 'a positive integer') ?? 1;
    authz.collection(req, 'warre:flavor:get');
    const f = await flavors.visibleFlavor(svc, viewer(req), req.params.id);
    const slots = await flavors.freeSlots(svc, f, start, end, instanceCount);
    return slots.map((slot) => ({ start: formatApi(slot.start), end: formatApi(slot.end) }));
  });
}
