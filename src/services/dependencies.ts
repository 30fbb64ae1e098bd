/** What the service layer needs from the outside world, wired once at start-up. */
import type { Db } from '../db/connect.js';
import type { Logger } from '../domain/logger.js';
import type { LeaseBackend } from '../drivers/lease-backend.js';
import type { ServiceSession } from '../drivers/service-session.js';
import type { LimitsProvider } from '../quota/limits.js';
import type { FlavorCatalog } from './flavor-catalog.js';

export interface Services {
  db: Db;
  limits: LimitsProvider;
  /** Lease back-end used by the API for extend and delete (null: none configured). */
  leases: LeaseBackend | null;
  /** `[service_auth]` session for Blazar update/delete (null in all-in-one mode). */
  serviceSession: ServiceSession | null;
  /** Tell the worker a new reservation is waiting (best effort; correctness never depends on it). */
  nudgeWorker(reservationId: string): void;
  /** Flavors and grants kept in memory (`[api] flavor_cache_seconds`); absent: read on every request. */
  flavorCatalog?: FlavorCatalog;
  /** `[warre] rate_extra_spec`: the flavor extra spec holding its service-unit rate (default `nectar:rate`). */
  rateExtraSpec?: string;
  /** Milliseconds since the epoch; replaceable in tests. */
  now(): number;
  log: Logger;
}
