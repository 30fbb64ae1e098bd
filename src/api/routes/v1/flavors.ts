/** /v1/flavors/ — reservable flavors and their free slots (api.md §3 Flavor, §4). */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import * as flavors from '../../../db/repositories/flavors.js';
import { flavorOccupancy } from '../../../db/repositories/occupancy.js';
import { writeTransaction } from '../../../db/transaction.js';
import { freeSlots } from '../../../domain/capacity.js';
import { BadRequest, Conflict, NotFound, ValidationFailed } from '../../../domain/errors.js';
import { DAY, formatApi, truncateToMinute, truncateToSecond } from '../../../domain/time.js';
import type { Flavor } from '../../../domain/types.js';
import { projectOf, pageRequest, pageResponse, query, queryBool, queryDate, queryString, requireBody } from '../../request.js';
import { isUuid, validateBody, type Schema } from '../../validate.js';
import { flavorView } from '../../views.js';
import type { RouteDeps } from '../index.js';

const FLAVOR_FIELDS: Schema = {
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
const IMMUTABLE = ['id', 'vcpu', 'memory_mb', 'disk_gb', 'properties'];
const UPDATE_FIELDS: Schema = Object.fromEntries(Object.entries(FLAVOR_FIELDS).filter(([k]) => !IMMUTABLE.includes(k)));

type FlavorInput = Partial<Omit<Flavor, 'id'>>;

function checkStartEnd(f: { start: number | null; end: number | null }): void {
  if (f.start !== null && f.end !== null && f.end <= f.start) throw new ValidationFailed({ end: ['Must be after start.'] });
}

export default async function flavorRoutes(app: FastifyInstance, { svc, authz, publicUrl }: RouteDeps): Promise<void> {
  const k = () => svc.db.kysely;

  /** The flavor if the caller may see it: any with list:all, else public or granted (404 otherwise). */
  async function visibleFlavor(req: FastifyRequest, id: string): Promise<Flavor> {
    const f = isUuid(id) ? await flavors.getFlavor(k(), id) : null;
    if (!f) throw new NotFound(`Flavor ${id} doesn't exist`);
    if (f.is_public || authz.allowed(req, 'warre:flavor:list:all')) return f;
    if (await flavors.isGranted(k(), f.id, projectOf(req))) return f;
    throw new NotFound(`Flavor ${id} doesn't exist`);
  }

  app.get('/v1/flavors', async (req) => {
    authz.collection(req, 'warre:flavor:list');
    const q = query(req);
    const page = pageRequest(q);
    const all = queryBool(q, 'all_projects') === true && authz.allowed(req, 'warre:flavor:list:all');
    const { rows, total } = await flavors.listFlavors(
      k(),
      svc.db.codec,
      {
        visibleToProject: all ? null : projectOf(req),
        category: queryString(q, 'category'),
        availabilityZone: queryString(q, 'availability_zone'),
        active: queryBool(q, 'active'),
      },
      page,
    );
    return pageResponse(req, publicUrl, page, total, rows.map(flavorView));
  });

  app.post('/v1/flavors', async (req, reply) => {
    authz.collection(req, 'warre:flavor:create');
    const body = requireBody(req);
    const parsed = validateBody<FlavorInput>(FLAVOR_FIELDS, body);
    if (!parsed.ok) throw new ValidationFailed(parsed.errors);
    const v = parsed.value;
    const f: Flavor = {
      id: randomUUID(),
      name: v.name!,
      description: v.description ?? null,
      vcpu: v.vcpu!,
      memory_mb: v.memory_mb!,
      disk_gb: v.disk_gb!,
      ephemeral_gb: v.ephemeral_gb ?? 0,
      active: v.active ?? true,
      properties: v.properties ?? null,
      max_length_hours: v.max_length_hours ?? 504,
      slots: v.slots ?? 1,
      is_public: v.is_public ?? true,
      extra_specs: v.extra_specs === undefined ? {} : v.extra_specs,
      start: v.start === undefined || v.start === null ? null : truncateToMinute(v.start),
      end: v.end === undefined || v.end === null ? null : truncateToMinute(v.end),
      category: v.category ?? null,
      availability_zone: v.availability_zone ?? null,
    };
    checkStartEnd(f);
    await flavors.insertFlavor(k(), svc.db.codec, f);
    req.log.info({ flavor: f.id, name: f.name }, 'flavor created');
    return reply.status(202).send(flavorView(f));
  });

  app.get<{ Params: { id: string } }>('/v1/flavors/:id', async (req) => {
    const f = await visibleFlavor(req, req.params.id);
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
    const current = await visibleFlavor(req, id);
    const v = parsed.value;
    const next: Flavor = { ...current };
    for (const [key, value] of Object.entries(v)) (next as unknown as Record<string, unknown>)[key] = value;
    if ('start' in v) next.start = v.start === null || v.start === undefined ? null : truncateToMinute(v.start);
    if ('end' in v) next.end = v.end === null || v.end === undefined ? null : truncateToMinute(v.end);
    checkStartEnd(next);
    await flavors.updateFlavor(k(), svc.db.codec, next);
    req.log.info({ flavor: id, fields: Object.keys(v) }, 'flavor updated');
    return flavorView(next);
  });

  app.delete<{ Params: { id: string } }>('/v1/flavors/:id', async (req, reply) => {
    const id = req.params.id;
    const f = await visibleFlavor(req, id);
    authz.item(req, 'warre:flavor:delete', `Flavor ${id} doesn't exist`);
    await writeTransaction(svc.db, async (tx) => {
      if (await flavors.flavorInUse(tx, f.id)) throw new Conflict(`Flavor ${f.id} is in use`);
      await flavors.deleteFlavor(tx, f.id);
    });
    req.log.info({ flavor: id }, 'flavor deleted');
    return reply.status(204).send();
  });

  app.get<{ Params: { id: string } }>('/v1/flavors/:id/freeslots', async (req) => {
    const q = query(req);
    const now = truncateToSecond(svc.now());
    const start = queryDate(q, 'start') ?? now;
    const end = queryDate(q, 'end') ?? now + 365 * DAY;
    if (end < start) throw new BadRequest('Free slots end must not be before start');
    let instanceCount = 1;
    if (q.instance_count !== undefined) {
      if (!/^\d{1,9}$/.test(q.instance_count) || Number(q.instance_count) < 1) {
        throw new BadRequest(`Invalid value for query parameter instance_count: "${q.instance_count.slice(0, 64)}" (expected a positive integer)`);
      }
      instanceCount = Number(q.instance_count);
    }
    authz.collection(req, 'warre:flavor:get');
    const f = await visibleFlavor(req, req.params.id);
    // Occupancy is read over the clamped window, as the sweep will clamp.
    const s = f.start !== null && f.start > start ? f.start : start;
    const e = f.end !== null && f.end < end ? f.end : end;
    const occ = await flavorOccupancy(k(), svc.db.dialect, svc.db.codec, f, s, e);
    const occupants = occ.maintenance.length > 0 ? occ.reservations.concat(occ.maintenance) : occ.reservations;
    return freeSlots(f, start, end, occupants, svc.now(), instanceCount).map((slot) => ({ start: formatApi(slot.start), end: formatApi(slot.end) }));
  });
}
