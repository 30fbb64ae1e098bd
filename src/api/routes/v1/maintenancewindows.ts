/** /v1/maintenancewindows/ (docs/api.md#maintenance-windows). */
import type { FastifyInstance } from 'fastify';
import { ValidationFailed } from '../../../domain/errors.js';
import type { WindowInput } from '../../../services/maintenance-windows.js';
import * as windows from '../../../services/maintenance-windows.js';
import { pageRequest, pageResponse, query, requireBody } from '../../request.js';
import { type Schema, validateBody } from '../../validate.js';
import { maintenanceWindowView } from '../../views.js';
import type { RouteDeps } from '../index.js';

export const FIELDS: Schema = {
  start: { type: { kind: 'datetime' }, required: true },
  end: { type: { kind: 'datetime' }, required: true },
  note: { type: { kind: 'string', max: 255, nullable: true } },
  flavor_ids: { type: { kind: 'id-list' } },
};

export default async function maintenanceWindowRoutes(app: FastifyInstance, { svc, authz, publicUrl }: RouteDeps): Promise<void> {
  app.get('/v1/maintenancewindows', async (req) => {
    authz.collection(req, 'warre:maintenancewindow:list');
    const page = pageRequest(query(req));
    const { rows, total } = await windows.listWindows(svc, page);
    return pageResponse(req, publicUrl, page, total, rows.map(maintenanceWindowView));
  });

  app.post('/v1/maintenancewindows', async (req, reply) => {
    authz.collection(req, 'warre:maintenancewindow:create');
    const parsed = validateBody<WindowInput & { start: number; end: number }>(FIELDS, requireBody(req));
    if (!parsed.ok) throw new ValidationFailed(parsed.errors);
    return reply.status(201).send(maintenanceWindowView(await windows.createWindow(svc, parsed.value)));
  });

  app.get<{ Params: { id: string } }>('/v1/maintenancewindows/:id', async (req) => {
    authz.collection(req, 'warre:maintenancewindow:get');
    return maintenanceWindowView(await windows.getWindow(svc, req.params.id));
  });

  app.patch<{ Params: { id: string } }>('/v1/maintenancewindows/:id', async (req) => {
    const id = req.params.id;
    authz.item(req, 'warre:maintenancewindow:update', `MaintenanceWindow ${id} doesn't exist`);
    const parsed = validateBody<WindowInput>(FIELDS, requireBody(req), true);
    if (!parsed.ok) throw new ValidationFailed(parsed.errors);
    return maintenanceWindowView(await windows.updateWindow(svc, id, parsed.value));
  });

  app.delete<{ Params: { id: string } }>('/v1/maintenancewindows/:id', async (req, reply) => {
    const id = req.params.id;
    authz.item(req, 'warre:maintenancewindow:delete', `MaintenanceWindow ${id} doesn't exist`);
    await windows.deleteWindow(svc, id);
    return reply.status(204).send();
  });
}
