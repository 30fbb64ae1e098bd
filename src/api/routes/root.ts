/** `GET /` (version document) and `GET /healthcheck`, both without identity. */
import type { FastifyInstance } from 'fastify';
import type { RouteDeps } from './index.js';

export default async function rootRoutes(app: FastifyInstance, { publicUrl, health }: RouteDeps): Promise<void> {
  app.get('/', async (req) => {
    const origin = publicUrl ? publicUrl.replace(/\/+$/, '') : `${req.protocol}://${req.headers.host ?? 'localhost'}`;
    return {
      versions: [
        {
          id: 'v1',
          status: 'CURRENT',
          links: [{ href: `${origin}/v1/`, rel: 'self' }],
        },
      ],
    };
  });

  app.get('/healthcheck', async (req, reply) => {
    const detail = Object.hasOwn(req.query ?? {}, 'detail');
    const report = await health();
    const status = report.database.ok ? 200 : 503;
    if (detail) return reply.status(status).send(report);
    return reply
      .status(status)
      .type('text/plain')
      .send(report.database.ok ? 'OK' : 'Database unreachable');
  });
}
