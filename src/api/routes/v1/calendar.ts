/**
 * GET /v1/reservations/calendar.ics and /v1/reservations/{id}/calendar.ics (docs/calendar.md):
 * reservations as an iCalendar file.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import { calendarReservations, getReservation } from '../../../services/reservations.js';
import { CALENDAR_CONTENT_TYPE, reservationsCalendar } from '../../calendar.js';
import { projectOf, query, queryBool } from '../../request.js';
import type { RouteDeps } from '../index.js';

/**
 * Most events in one list export (docs/calendar.md): the earliest-starting 10,000 reservations;
 * any later ones are left out.
 */
export const CALENDAR_MAX_EVENTS = 10_000;

function sendCalendar(reply: FastifyReply, filename: string, body: string) {
  return reply.type(CALENDAR_CONTENT_TYPE).header('Content-Disposition', `attachment; filename="${filename}"`).send(body);
}

export default async function calendarRoutes(app: FastifyInstance, { svc, authz }: RouteDeps): Promise<void> {
  // A static path: the router prefers it to /v1/reservations/:id whatever the order of registration.
  app.get('/v1/reservations/calendar.ics', async (req, reply) => {
    authz.collection(req, 'warre:reservation:calendar');
    const allProjects = queryBool(query(req), 'all_projects') === true;
    // As the reservation list: all_projects without warre:reservation:list:all is ignored.
    const projectId = allProjects && authz.allowed(req, 'warre:reservation:list:all') ? null : projectOf(req);
    const rows = await calendarReservations(svc, projectId, CALENDAR_MAX_EVENTS);
    return sendCalendar(reply, 'reservations.ics', await reservationsCalendar(rows, svc.now()));
  });

  app.get<{ Params: { id: string } }>('/v1/reservations/:id/calendar.ics', async (req, reply) => {
    const id = req.params.id;
    authz.collection(req, 'warre:reservation:calendar');
    const r = await getReservation(svc, id);
    authz.item(req, 'warre:reservation:get', `Reservation ${id} doesn't exist`, { project_id: r.project_id });
    return sendCalendar(reply, `reservation-${r.id}.ics`, await reservationsCalendar([r], svc.now(), `Warre reservation ${r.id}`));
  });
}
