/**
 * The reservation history (docs/api.md#history): `GET /v1/reservations/{id}/history/` for whoever
 * may read the reservation, `GET /v1/history/` (every reservation's, deleted ones too) for admins.
 */
import type { FastifyInstance } from 'fastify';
import { listHistory, reservationHistory } from '../../../services/history.js';
import { getReservation } from '../../../services/reservations.js';
import { pageRequest, pageResponse, query, queryDate, queryString } from '../../request.js';
import { historyView } from '../../views.js';
import type { RouteDeps } from '../index.js';

export default async function historyRoutes(app: FastifyInstance, { svc, authz, publicUrl }: RouteDeps): Promise<void> {
  app.get<{ Params: { id: string } }>('/v1/reservations/:id/history', async (req) => {
    const id = req.params.id;
    const r = await getReservation(svc, id);
    authz.item(req, 'warre:reservation:history', `Reservation ${id} doesn't exist`, { project_id: r.project_id });
    const page = pageRequest(query(req));
    const { rows, total } = await reservationHistory(svc, r.id, page);
    return pageResponse(req, publicUrl, page, total, rows.map(historyView));
  });

  app.get('/v1/history', async (req) => {
    authz.collection(req, 'warre:history:list');
    const q = query(req);
    const page = pageRequest(q);
    const filter = {
      projectId: queryString(q, 'project_id'),
      reservationId: queryString(q, 'reservation_id'),
      since: queryDate(q, 'since'),
    };
    const { rows, total } = await listHistory(svc, filter, page);
    return pageResponse(req, publicUrl, page, total, rows.map(historyView));
  });
}
