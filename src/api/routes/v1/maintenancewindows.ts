/** /v1/maintenancewindows/ (api.md §3 Maintenance window). */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import * as flavors from '../../../db/repositories/flavors.js';
import * as windows from '../../../db/repositories/maintenance-windows.js';
import { lockFlavor, writeTransaction } from '../../../db/transaction.js';
import { BadRequest, Conflict, NotFound, ValidationFailed } from '../../../domain/errors.js';
import { truncateToMinute } from '../../../domain/time.js';
import type { MaintenanceWindow } from '../../../domain/types.js';
import { pageRequest, pageResponse, query, requireBody } from '../../request.js';
import { isUuid, validateBody, type Schema } from '../../validate.js';
import { maintenanceWindowView } from '../../views.js';
import type { RouteDeps } from '../index.js';

const FIELDS: Schema = {
  start: { type: { kind: 'datetime' }, required: true },
  end: { type: { kind: 'datetime' }, required: true },
  note: { type: { kind: 'string', max: 255, nullable: true } },
  flavor_ids: { type: { kind: 'id-list' } },
};

interface WindowInput {
  start?: number;
  end?: number;
  note?: string | null;
  flavor_ids?: string[];
}

export default async function maintenanceWindowRoutes(app: FastifyInstance, { svc, authz, publicUrl }: RouteDeps): Promise<void> {
  const k = () => svc.db.kysely;
  const { codec } = svc.db;

  /**
   * The shared checks of create and update, inside the write transaction:
   * end after start, not in the past (when start is given), flavors exist,
   * no effective reservation of those flavors overlaps. Flavor rows are locked
   * so a reservation cannot slip in between the check and the commit.
   */
  async function checkWindow(tx: Parameters<typeof windows.hasConflictingReservation>[0], w: MaintenanceWindow, startGiven: boolean, flavorIds: string[] | null) {
    if (w.end <= w.start) throw new BadRequest('Maintenance window end time must be after start time');
    if (startGiven && w.start < truncateToMinute(svc.now())) throw new BadRequest('Maintenance window cannot start in the past');
    if (flavorIds !== null) {
      const found = flavorIds.every(isUuid) ? await flavors.flavorsByIds(tx, flavorIds) : [];
      if (found.length !== flavorIds.length) throw new NotFound('One or more flavors not found');
      w.flavors = found.sort((a, b) => a.name.localeCompare(b.name));
    }
    for (const f of [...w.flavors].sort((a, b) => a.id.localeCompare(b.id))) await lockFlavor(svc.db, tx, f.id);
    const ids = w.flavors.map((f) => f.id);
    if (await windows.hasConflictingReservation(tx, codec, ids, w.start, w.end)) {
      throw new Conflict('Maintenance window conflicts with existing reservations');
    }
  }

  app.get('/v1/maintenancewindows', async (req) => {
    authz.collection(req, 'warre:maintenancewindow:list');
    const page = pageRequest(query(req));
    const { rows, total } = await windows.listMaintenanceWindows(k(), page);
    return pageResponse(req, publicUrl, page, total, rows.map(maintenanceWindowView));
  });

  app.post('/v1/maintenancewindows', async (req, reply) => {
    authz.collection(req, 'warre:maintenancewindow:create');
    const parsed = validateBody<WindowInput>(FIELDS, requireBody(req));
    if (!parsed.ok) throw new ValidationFailed(parsed.errors);
    const v = parsed.value;
    const w: MaintenanceWindow = { id: randomUUID(), start: truncateToMinute(v.start!), end: truncateToMinute(v.end!), note: v.note ?? null, flavors: [] };
    await writeTransaction(svc.db, async (tx) => {
      await checkWindow(tx, w, true, v.flavor_ids ?? []);
      await windows.insertMaintenanceWindow(tx, codec, w);
    });
    req.log.info({ window: w.id }, 'maintenance window created');
    return reply.status(201).send(maintenanceWindowView(w));
  });

  app.get<{ Params: { id: string } }>('/v1/maintenancewindows/:id', async (req) => {
    authz.collection(req, 'warre:maintenancewindow:get');
    const w = isUuid(req.params.id) ? await windows.getMaintenanceWindow(k(), req.params.id) : null;
    if (!w) throw new NotFound(`MaintenanceWindow ${req.params.id} doesn't exist`);
    return maintenanceWindowView(w);
  });

  app.patch<{ Params: { id: string } }>('/v1/maintenancewindows/:id', async (req) => {
    const id = req.params.id;
    authz.item(req, 'warre:maintenancewindow:update', `MaintenanceWindow ${id} doesn't exist`);
    const parsed = validateBody<WindowInput>(FIELDS, requireBody(req), true);
    if (!parsed.ok) throw new ValidationFailed(parsed.errors);
    const v = parsed.value;
    const w = await writeTransaction(svc.db, async (tx) => {
      const current = isUuid(id) ? await windows.getMaintenanceWindow(tx, id) : null;
      if (!current) throw new NotFound(`MaintenanceWindow ${id} doesn't exist`);
      const next: MaintenanceWindow = {
        ...current,
        start: v.start !== undefined ? truncateToMinute(v.start) : current.start,
        end: v.end !== undefined ? truncateToMinute(v.end) : current.end,
        note: v.note !== undefined ? v.note : current.note,
      };
      await checkWindow(tx, next, v.start !== undefined, v.flavor_ids ?? null);
      await windows.updateMaintenanceWindow(tx, codec, next);
      if (v.flavor_ids !== undefined) await windows.setWindowFlavors(tx, id, next.flavors.map((f) => f.id));
      return next;
    });
    req.log.info({ window: id }, 'maintenance window updated');
    return maintenanceWindowView(w);
  });

  app.delete<{ Params: { id: string } }>('/v1/maintenancewindows/:id', async (req, reply) => {
    const id = req.params.id;
    authz.item(req, 'warre:maintenancewindow:delete', `MaintenanceWindow ${id} doesn't exist`);
    const w = isUuid(id) ? await windows.getMaintenanceWindow(k(), id) : null;
    if (!w) throw new NotFound(`MaintenanceWindow ${id} doesn't exist`);
    await writeTransaction(svc.db, (tx) => windows.deleteMaintenanceWindow(tx, id));
    req.log.info({ window: id }, 'maintenance window deleted');
    return reply.status(204).send();
  });
}
