/** /v1/limits — quota limits and usage of a project (api.md §3 Limits, §6). */
import type { FastifyInstance } from 'fastify';
import { effectiveReservationsOfProject } from '../../../db/repositories/reservations.js';
import { usageOf } from '../../../domain/quota.js';
import { BadRequest } from '../../../domain/errors.js';
import { projectOf, query, queryString } from '../../request.js';
import type { RouteDeps } from '../index.js';

export default async function limitsRoutes(app: FastifyInstance, { svc, authz }: RouteDeps): Promise<void> {
  app.get('/v1/limits', async (req) => {
    const requested = queryString(query(req), 'project_id');
    let projectId: string;
    if (requested) {
      authz.collection(req, 'warre:limits:list:all');
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(requested)) throw new BadRequest(`Invalid project_id: ${requested.slice(0, 64)}`);
      projectId = requested;
    } else {
      projectId = projectOf(req);
    }
    const [limits, usage] = await Promise.all([
      svc.limits.getLimits(projectId),
      effectiveReservationsOfProject(svc.db.kysely, projectId).then(usageOf),
    ]);
    return {
      absolute: {
        maxHours: limits.hours,
        maxReservations: limits.reservation,
        totalHoursUsed: usage.hours,
        totalReservationsUsed: usage.reservation,
      },
    };
  });
}
