/**
 * Availability and offers (docs/availability.md): which flavors the caller may book, their
 * occupancy in a bounded number of queries (never one per flavor), and the pure rules of
 * src/domain/availability.ts and src/domain/offers.ts. Read-only: no transaction, no lock —
 * an offer is a proposal, and the create that follows takes the locks and checks again.
 */
import { flavorsOccupancy, flavorsOccupancyColumns } from '../db/repositories/occupancy.js';
import { projectUsage } from '../db/repositories/reservations.js';
import { type FreeSteps, freeSteps } from '../domain/availability.js';
import type { Occupant } from '../domain/capacity.js';
import { bookingCost, serviceUnitRate } from '../domain/cost.js';
import { earliestStart } from '../domain/offers.js';
import { quotaRefusal } from '../domain/quota.js';
import { createRefusal } from '../domain/reservation-rules.js';
import { DAY, HOUR, MINUTE, truncateToMinute } from '../domain/time.js';
import type { Flavor } from '../domain/types.js';
import type { Services } from './dependencies.js';
import { listFlavors } from './flavors.js';

/** The default `[warre] rate_extra_spec`. */
export const DEFAULT_RATE_EXTRA_SPEC = 'nectar:rate';

/** More flavors than any cloud defines: the lists below are never paginated. */
const ALL = { limit: 1_000_000, offset: 0 };

export interface FlavorFilter {
  category: string | null;
  availabilityZone: string | null;
  /** Only these flavor ids (null: no filter). */
  flavorIds: readonly string[] | null;
}

/** Active flavors a member of `projectId` may book (public or granted), or every flavor when projectId is null. */
async function bookableFlavors(svc: Services, projectId: string | null, filter: FlavorFilter): Promise<Flavor[]> {
  const { rows } = await listFlavors(
    svc,
    { visibleToProject: projectId, category: filter.category, availabilityZone: filter.availabilityZone, active: null },
    ALL,
  );
  if (filter.flavorIds === null) return rows;
  const wanted = new Set(filter.flavorIds);
  return rows.filter((f) => wanted.has(f.id));
}

export interface FlavorAvailability {
  flavor: Flavor;
  steps: FreeSteps;
}

/**
 * Free slots over [start, end) of every flavor the project may book, in the flavor list's
 * order (name, memory). `projectId` null: every flavor (admins with all_projects).
 */
export async function availability(
  svc: Services,
  projectId: string | null,
  filter: FlavorFilter,
  start: number,
  end: number,
): Promise<FlavorAvailability[]> {
  const flavors = await bookableFlavors(svc, projectId, filter);
  const occupancy = await flavorsOccupancyColumns(svc.db, flavors, start, end);
  const now = svc.now();
  return flavors.map((flavor) => ({ flavor, steps: freeSteps(flavor, start, end, occupancy.get(flavor.id)!, now) }));
}

export interface OfferQuery extends FlavorFilter {
  instanceCount: number;
  /** Duration in whole hours. */
  hours: number;
  earliestStart: number;
  latestStart: number;
  minVcpu: number;
  minMemoryMb: number;
  limit: number;
}

export interface Offer {
  flavor: Flavor;
  start: number;
  end: number;
  instanceCount: number;
  /** What the booking takes from the hours quota: duration × instance count. */
  hours: number;
  cost: number | null;
  quotaReason: string | null;
}

/** The first chunk of an offer search's start range (it doubles at each further pass). */
const FIRST_CHUNK = 7 * DAY;

/** Overlaps the closed [start, end], as the create service's queries select. */
const overlapping = (start: number, end: number) => (o: Occupant) => o.start <= end && o.end >= start;

/**
 * For each flavor the project may book that matches, the earliest booking of
 * `instanceCount` × `hours` starting in [earliestStart, latestStart]; ordered by start, then
 * the smaller flavor (vcpu, memory), at most `limit`. Each offer is checked once more with the
 * create rule itself before it is returned.
 */
export async function offers(svc: Services, projectId: string, q: OfferQuery): Promise<Offer[]> {
  const { db } = svc;
  const [flavors, limits, usage] = await Promise.all([
    bookableFlavors(svc, projectId, q),
    svc.limits.getLimits(projectId),
    projectUsage(db, projectId),
  ]);
  const matching = flavors.filter((f) => f.vcpu >= q.minVcpu && f.memory_mb >= q.minMemoryMb);
  const now = truncateToMinute(svc.now());
  const duration = q.hours * HOUR;
  const quotaHours = q.hours * q.instanceCount;
  const quotaReason =
    quotaRefusal(projectId, limits, usage, { reservation: 1 }) ?? quotaRefusal(projectId, limits, usage, { hours: quotaHours });
  const rateKey = svc.rateExtraSpec ?? DEFAULT_RATE_EXTRA_SPEC;

  // The earliest fit is usually soon: search the start range in growing chunks (7, 14, 28 …
  // days), reading only the occupancy a chunk needs, and stop asking about a flavor once it
  // has its offer. At most 6 passes for the longest range, each one query per 200 flavors.
  const found: Offer[] = [];
  let pending = matching;
  const last = Math.floor(q.latestStart / MINUTE) * MINUTE;
  let chunkStart = Math.ceil(Math.max(q.earliestStart, now) / MINUTE) * MINUTE;
  for (let span = FIRST_CHUNK; pending.length > 0 && chunkStart <= last; span *= 2) {
    const chunkEnd = Math.min(last, chunkStart + span);
    const occupancy = await flavorsOccupancy(db, pending, chunkStart, chunkEnd + duration + MINUTE);
    const stillPending: Flavor[] = [];
    for (const flavor of pending) {
      const { reservations, maintenance } = occupancy.get(flavor.id)!;
      const start = earliestStart(flavor, {
        instanceCount: q.instanceCount,
        hours: q.hours,
        earliest: chunkStart,
        latest: chunkEnd,
        now,
        reservations,
        maintenance,
      });
      if (start === null) {
        stillPending.push(flavor);
        continue;
      }
      const end = start + duration;
      const check = overlapping(start, end);
      const refusal = createRefusal({
        flavor,
        granted: true, // bookableFlavors only returns public or granted flavors
        start,
        end,
        instanceCount: q.instanceCount,
        now,
        bypassMaintenance: false,
        maintenance: maintenance.filter(check),
        reservations: reservations.filter(check),
      });
      if (refusal !== null) {
        // The search and the rule disagree: a bug. Leave the flavor out rather than offer a refusal.
        svc.log.error({ flavor: flavor.id, start, end, refusal }, 'offer search proposed a booking the create rule refuses');
        continue;
      }
      found.push({
        flavor,
        start,
        end,
        instanceCount: q.instanceCount,
        hours: quotaHours,
        cost: bookingCost(quotaHours, serviceUnitRate(flavor.extra_specs, rateKey)),
        quotaReason,
      });
    }
    pending = stillPending;
    chunkStart = chunkEnd + MINUTE;
  }
  found.sort(
    (a, b) =>
      a.start - b.start ||
      a.flavor.vcpu - b.flavor.vcpu ||
      a.flavor.memory_mb - b.flavor.memory_mb ||
      a.flavor.name.localeCompare(b.flavor.name) ||
      a.flavor.id.localeCompare(b.flavor.id),
  );
  return found.slice(0, q.limit);
}
