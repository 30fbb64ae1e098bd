/** /v1/reservations/ (docs/api.md#reservations). */
import type { FastifyInstance } from 'fastify';
import { bookingPrice } from '../../../domain/cost.js';
import { BadRequest } from '../../../domain/errors.js';
import { truncateToMinute } from '../../../domain/time.js';
import { DEFAULT_RATE_EXTRA_SPEC } from '../../../services/availability.js';
import {
  actorOf,
  type CreateReservationInput,
  createReservation,
  deleteReservation,
  extendReservation,
  getReservation,
  listReservations,
} from '../../../services/reservations.js';
import { sendJsonBytes } from '../../json-bytes.js';
import { ctx, pageRequest, pageResponse, projectOf, query, queryBool, queryString, requireBody } from '../../request.js';
import { reservationListJson } from '../../reservation-json.js';
import { type Schema, validateBody } from '../../validate.js';
import { reservationView } from '../../views.js';
import type { RouteDeps } from '../index.js';

export const CREATE_FIELDS: Schema = {
  flavor_id: { type: { kind: 'string', max: 64 }, required: true },
  start: { type: { kind: 'datetime' }, required: true },
  end: { type: { kind: 'datetime' }, required: true },
  instance_count: { type: { kind: 'int', min: 1, max: 10_000 } },
};

export const UPDATE_FIELDS: Schema = {
  end: { type: { kind: 'datetime' }, required: true },
};

export default async function reservationRoutes(app: FastifyInstance, { svc, authz, publicUrl }: RouteDeps): Promise<void> {
  const load = (id: string) => getReservation(svc, id);

  app.get('/v1/reservations', async (req, reply) => {
    authz.collection(req, 'warre:reservation:list');
    const q = query(req);
    const page = pageRequest(q);
    const allProjects = queryBool(q, 'all_projects') === true;
    const projectFilter = queryString(q, 'project_id');
    const flavorId = queryString(q, 'flavor_id');
    const projectId: string | null =
      (allProjects || projectFilter) && authz.allowed(req, 'warre:reservation:list:all') ? projectFilter : projectOf(req);
    const list = await listReservations(svc, { projectId, flavorId }, page);
    // The JSON straight from the rows: the bytes of pageResponse(…, rows.map(reservationView)).
    const { next } = pageResponse(req, publicUrl, page, list.total, list.rows);
    return sendJsonBytes(reply, reservationListJson(list, next));
  });

  app.post('/v1/reservations', async (req) => {
    projectOf(req);
    const dryRun = queryBool(query(req), 'dry_run') === true;
    const body = requireBody(req);
    const parsed = validateBody<CreateReservationInput>(CREATE_FIELDS, body);
    const input = parsed.ok
      ? {
          ok: true as const,
          value: {
            flavor_id: parsed.value.flavor_id,
            start: truncateToMinute(parsed.value.start),
            end: truncateToMinute(parsed.value.end),
            instance_count: parsed.value.instance_count ?? 1,
          },
        }
      : parsed;
    const bypass = authz.allowed(req, 'warre:reservation:create:bypass_maintenance');
    const r = await createReservation(svc, ctx(req), input, bypass, req.log, dryRun);
    if (!dryRun) return reservationView(r);
    // docs/availability.md#dry-run: the reservation as it would be created, with its price.
    return { ...reservationView(r), id: null, ...bookingPrice(r, svc.rateExtraSpec ?? DEFAULT_RATE_EXTRA_SPEC) };
  });

  app.get<{ Params: { id: string } }>('/v1/reservations/:id', async (req) => {
    const r = await load(req.params.id);
    authz.item(req, 'warre:reservation:get', `Reservation ${req.params.id} doesn't exist`, { project_id: r.project_id });
    return reservationView(r);
  });

  app.patch<{ Params: { id: string } }>('/v1/reservations/:id', async (req) => {
    const id = req.params.id;
    const r = await load(id);
    const body = requireBody(req);
    const parsed = validateBody<{ end: number }>(UPDATE_FIELDS, body);
    if (!parsed.ok) throw new BadRequest(parsed.errors);
    authz.item(req, 'warre:reservation:update', `Reservation ${id} doesn't exist`, { project_id: r.project_id });
    const updated = await extendReservation(svc, r, truncateToMinute(parsed.value.end), actorOf(ctx(req)), req.log);
    return reservationView(updated);
  });

  app.delete<{ Params: { id: string } }>('/v1/reservations/:id', async (req, reply) => {
    const id = req.params.id;
    const r = await load(id);
    authz.item(req, 'warre:reservation:delete', `Reservation ${id} doesn't exist`, { project_id: r.project_id });
    await deleteReservation(svc, r, actorOf(ctx(req)), req.log);
    return reply.status(204).send();
  });
}
