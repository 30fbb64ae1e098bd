/** Registers every route; the folder mirrors the URL tree. */
import type { FastifyInstance } from 'fastify';
import type { Services } from '../../services/dependencies.js';
import type { Authorizer } from '../request.js';
import metricsRoutes from './metrics.js';
import rootRoutes from './root.js';
import availabilityRoutes from './v1/availability.js';
import calendarRoutes from './v1/calendar.js';
import flavorProjectRoutes from './v1/flavorprojects.js';
import flavorRoutes from './v1/flavors.js';
import historyRoutes from './v1/history.js';
import limitsRoutes from './v1/limits.js';
import maintenanceWindowRoutes from './v1/maintenancewindows.js';
import openApiRoutes from './v1/openapi.js';
import reservationRoutes from './v1/reservations.js';

export interface HealthReport {
  database: { ok: boolean; dialect: string; error?: string };
  broker?: { ok: boolean; error?: string } | null;
}

export interface RouteDeps {
  svc: Services;
  authz: Authorizer;
  publicUrl: string | null;
  health: () => Promise<HealthReport>;
  /** `GET /metrics` (docs/metrics.md): who may read it, and this process's (or its cluster's) metrics. */
  metrics: MetricsSource;
}

export interface MetricsSource {
  allowed: (peerAddress: string | undefined) => boolean;
  processMetrics: () => Promise<string>;
}

export async function registerRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  await rootRoutes(app, deps);
  await flavorRoutes(app, deps);
  await flavorProjectRoutes(app, deps);
  await maintenanceWindowRoutes(app, deps);
  await reservationRoutes(app, deps);
  await calendarRoutes(app, deps);
  await historyRoutes(app, deps);
  await limitsRoutes(app, deps);
  await availabilityRoutes(app, deps);
  await openApiRoutes(app, deps);
  await metricsRoutes(app, deps);
}
