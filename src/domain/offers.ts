/**
 * Offers (`GET /v1/offers/`, docs/availability.md#offers): for one flavor, the earliest start
 * at which `instanceCount` instances fit for `hours` hours — the first start for which a
 * create request (src/domain/reservation-rules.ts#createRefusal) would pass every rule:
 * active flavor, max_length_hours, the flavor's [start, end], not in the past, no maintenance
 * window touching the booking, capacity. Pure; callers load the occupants and check access
 * and quota.
 *
 * How capacity turns into forbidden starts: a booking [s, e] fits exactly when no moment of
 * the closed [s, e] has fewer than `instanceCount` free slots in the availability profile
 * (src/domain/availability.ts): an occupant ending at s does not block it, one starting at e
 * does — the sweep's historical guards. So each run [a, b) with too few free slots forbids the
 * starts [a − d, b), d the duration; a maintenance window [ms, me] forbids [ms − d, me] (a
 * create refuses any window that touches the booking, whatever the capacity).
 */
import { freeSteps } from './availability.js';
import type { CapacityFlavor, Occupant } from './capacity.js';
import { HOUR, MINUTE } from './time.js';

export interface OfferFlavor extends CapacityFlavor {
  max_length_hours: number;
}

export interface StartSearch {
  instanceCount: number;
  /** Duration in whole hours. */
  hours: number;
  /** First acceptable start (rounded up to the minute). */
  earliest: number;
  /** Last acceptable start (rounded down to the minute). */
  latest: number;
  /** The current minute: a booking cannot start before it. */
  now: number;
  /** Effective reservations of the flavor (any that may overlap [earliest, latest + duration]). */
  reservations: readonly Occupant[];
  /** Maintenance windows of the flavor (count = slots). */
  maintenance: readonly Occupant[];
}

const ceilToMinute = (t: number): number => Math.ceil(t / MINUTE) * MINUTE;
const floorToMinute = (t: number): number => Math.floor(t / MINUTE) * MINUTE;

/** The earliest minute-aligned start in the search range at which the booking fits, or null. */
export function earliestStart(flavor: OfferFlavor, q: StartSearch): number | null {
  if (!flavor.active || q.hours > flavor.max_length_hours || q.instanceCount > flavor.slots) return null;
  const d = q.hours * HOUR;
  let lo = ceilToMinute(Math.max(q.earliest, q.now));
  if (flavor.start !== null && flavor.start > lo) lo = ceilToMinute(flavor.start);
  let hi = floorToMinute(q.latest);
  if (flavor.end !== null && flavor.end - d < hi) hi = floorToMinute(flavor.end - d);
  if (lo > hi) return null;

  // Forbidden starts, as half-open ranges [from, to).
  const forbidden: { from: number; to: number }[] = [];
  const unbounded: CapacityFlavor = { active: true, slots: flavor.slots, start: null, end: null };
  const occupants = q.maintenance.length > 0 ? q.reservations.concat(q.maintenance) : q.reservations;
  const { times, free, length } = freeSteps(unbounded, lo, hi + d + MINUTE, occupants, q.now);
  for (let i = 0; i < length; i++) {
    if (free[i]! < q.instanceCount) forbidden.push({ from: times[i]! - d, to: times[i + 1]! });
  }
  for (const m of q.maintenance) forbidden.push({ from: m.start - d, to: m.end + 1 });
  forbidden.sort((a, b) => a.from - b.from);

  let candidate = lo;
  for (const f of forbidden) {
    if (f.from > candidate) break; // every later range starts later still
    if (f.to > candidate) candidate = ceilToMinute(f.to);
  }
  return candidate <= hi ? candidate : null;
}
