/** Chooses the lease back-end of `[warre] lease_backend`. */
import type { Logger } from 'pino';
import type { WarreConfig } from '../config/load.js';
import { BlazarLeaseBackend } from '../drivers/blazar/client.js';
import type { LeaseBackend } from '../drivers/lease-backend.js';

/**
 * The Blazar client for production. The simulator is process-local and only
 * exists in all-in-one mode (src/cli/all.ts creates it with its event
 * handler); a separate API process configured for the simulator has none.
 */
export function createLeaseBackend(config: WarreConfig, log: Logger, simulator: LeaseBackend | null): LeaseBackend | null {
  if (config.warre.lease_backend === 'simulator') {
    if (!simulator)
      log.warn('[warre] lease_backend = simulator outside all-in-one mode: extending and deleting leased reservations is unavailable');
    return simulator;
  }
  return new BlazarLeaseBackend({ interface: config.blazar.interface, region: config.blazar.region_name });
}
