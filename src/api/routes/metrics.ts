/**
 * `GET /metrics` (docs/metrics.md): the Prometheus text format, without identity but only for
 * the networks of `[api] metrics_allowed_networks` (the connection's peer address; others get
 * 403). One answer for every process of the port (src/metrics/cluster.ts) followed by what the
 * database says now (src/services/metrics.ts), read once by the process that answers.
 */
import type { FastifyInstance } from 'fastify';
import { WarreError } from '../../domain/errors.js';
import { METRICS_FORBIDDEN } from '../../metrics/access.js';
import { METRICS_CONTENT_TYPE } from '../../metrics/cluster.js';
import { databaseMetrics } from '../../services/metrics.js';
import type { RouteDeps } from './index.js';

export const METRICS_PATH = '/metrics';

export default async function metricsRoutes(app: FastifyInstance, { svc, metrics }: RouteDeps): Promise<void> {
  app.get(METRICS_PATH, async (req, reply) => {
    if (!metrics.allowed(req.socket.remoteAddress)) return reply.status(403).send(METRICS_FORBIDDEN);
    const [own, database] = await Promise.all([
      metrics.processMetrics().catch((err: unknown) => {
        req.log.error({ err }, 'cannot collect the metrics of the API processes');
        throw new WarreError(503, 'The metrics of the API processes could not be collected, please try again later');
      }),
      databaseMetrics(svc),
    ]);
    return reply.type(METRICS_CONTENT_TYPE).send(own + database);
  });
}
