/** `GET /v1/openapi.json`: the OpenAPI document of the API (src/api/openapi.ts), without identity. */
import type { FastifyInstance } from 'fastify';
import { buildOpenApiDocument, OPENAPI_PATH } from '../../openapi.js';
import type { RouteDeps } from '../index.js';

export default async function openApiRoutes(app: FastifyInstance, { publicUrl }: RouteDeps): Promise<void> {
  // Built once, at start-up.
  const text = JSON.stringify(buildOpenApiDocument({ publicUrl }));
  app.get(OPENAPI_PATH, async (_req, reply) => reply.type('application/json; charset=utf-8').send(text));
}
