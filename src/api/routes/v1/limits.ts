/** /v1/limits — quota limits and usage of a project (docs/api.md#limits, docs/api.md#quotas). */
import type { FastifyInstance } from 'fastify';
import { BadRequest } from '../../../domain/errors.js';
import { projectQuota } from '../../../services/limits.js';
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
    const { limits, usage } = await projectQuota(svc, projectId);
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
