/**
 * The metrics that describe the database rather than a process (docs/metrics.md#from-the-database):
 * reservations by status, lease jobs waiting and the age of the oldest, each flavor's slots and
 * the slots in use now. Read at scrape time with two queries, by the one process that answers
 * the scrape, so they are never added up across processes.
 */
import { Gauge, Registry } from 'prom-client';
import { flavorSlotsInUse, reservationsByStatus } from '../db/repositories/metrics.js';
import { RESERVATION_STATUSES } from '../domain/types.js';
import type { Services } from './dependencies.js';

/** The Prometheus text of the database gauges, as of now. */
export async function databaseMetrics(svc: Pick<Services, 'db' | 'now'>): Promise<string> {
  const now = svc.now();
  const [statuses, flavors] = await Promise.all([reservationsByStatus(svc.db), flavorSlotsInUse(svc.db, now)]);
  // A registry per scrape: two scrapes at once never mix their values.
  const registry = new Registry();
  const registers = [registry];
  const reservations = new Gauge({
    name: 'warre_reservations',
    help: 'Reservations in the database, by status (COMPLETE ones are deleted 7 days after their end).',
    labelNames: ['status'] as const,
    registers,
  });
  const waiting = new Gauge({
    name: 'warre_lease_jobs_waiting',
    help: 'Reservations waiting for their lease (PENDING_CREATE), being created or awaiting a retry.',
    registers,
  });
  const oldest = new Gauge({
    name: 'warre_lease_jobs_oldest_age_seconds',
    help: 'Age of the oldest reservation waiting for its lease (0 when none waits).',
    registers,
  });
  const slots = new Gauge({
    name: 'warre_flavor_slots',
    help: 'Slots of each flavor (instances that can be reserved at once).',
    labelNames: ['flavor_id', 'flavor'] as const,
    registers,
  });
  const inUse = new Gauge({
    name: 'warre_flavor_slots_in_use',
    help: 'Slots of each flavor held now by reservations (pending, allocated or active ones whose time has come).',
    labelNames: ['flavor_id', 'flavor'] as const,
    registers,
  });
  for (const status of RESERVATION_STATUSES) reservations.set({ status }, 0);
  waiting.set(0);
  oldest.set(0);
  for (const s of statuses) {
    reservations.set({ status: s.status }, s.count);
    if (s.status === 'PENDING_CREATE') {
      waiting.set(s.count);
      if (s.oldestCreatedAt !== null) oldest.set(Math.max(0, (now - s.oldestCreatedAt) / 1000));
    }
  }
  for (const f of flavors) {
    slots.set({ flavor_id: f.id, flavor: f.name }, f.slots);
    inUse.set({ flavor_id: f.id, flavor: f.name }, f.inUse);
  }
  return registry.metrics();
}
