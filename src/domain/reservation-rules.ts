/**
 * Admission rules for creating and extending a reservation
 * (docs/api.md#reservation-create, docs/api.md#fits, docs/api.md#messages). Pure: callers load the data, these decide.
 */
import { fitsWindow, type Occupant } from './capacity.js';
import { formatPython, HOUR, totalHours } from './time.js';
import type { Flavor, Reservation } from './types.js';

export interface CreateCheck {
  flavor: Flavor;
  /** Is the flavor granted to the caller's project (only read for private flavors). */
  granted: boolean;
  start: number;
  end: number;
  instanceCount: number;
  /** The current minute (UTC). */
  now: number;
  bypassMaintenance: boolean;
  /** Maintenance windows of the flavor overlapping [start, end] (ignored when bypassing). */
  maintenance: readonly Occupant[];
  /** Effective reservations of the flavor overlapping [start, end]. */
  reservations: readonly Occupant[];
}

/** The first rule a create request breaks, in the historical order, or null. */
export function createRefusal(c: CreateCheck): string | null {
  const f = c.flavor;
  if (!f.active) return 'Flavor is not available';
  if (!f.is_public && !c.granted) return 'Flavor is not accessible';
  if (totalHours(c.start, c.end) > f.max_length_hours) return `Reservation is too long, max allowed is ${f.max_length_hours} hours`;
  if (f.start !== null && f.start > c.start) return `Reservation start time before flavor start time of ${formatPython(f.start)}`;
  if (f.end !== null && f.end < c.end) return `Reservation end time after flavor end time of ${formatPython(f.end)}`;
  // [beyond] a zero-length reservation is refused too (docs/api.md#difference-validation).
  if (c.end <= c.start) return `Reservation start time of ${formatPython(c.start)} after reservation end time of ${formatPython(c.end)}`;
  // [beyond] docs/api.md#difference-past-start
  if (c.start < c.now) return 'Reservation cannot start in the past';
  if (!c.bypassMaintenance && c.maintenance.length > 0) return 'Reservation conflicts with a maintenance window';
  const occupants = c.bypassMaintenance ? c.reservations : [...c.reservations, ...c.maintenance];
  if (!fitsWindow(f, c.start, c.end, occupants, c.now, c.instanceCount)) return 'No capacity';
  return null;
}

export interface ExtendCheck {
  reservation: Reservation;
  flavor: Flavor;
  newEnd: number;
  now: number;
  /** Effective reservations (other than this one) and maintenance windows overlapping (end, newEnd]. */
  occupants: readonly Occupant[];
}

/** Why an extension is refused (the reason is wrapped in "Failed to extend reservation: …"), or null. */
export function extendRefusal(c: ExtendCheck): string | null {
  const r = c.reservation;
  if (!r.lease_id) return 'No lease';
  if (r.status !== 'ACTIVE') return 'Reservation must be in ACTIVE state';
  if (c.newEnd - c.now > c.flavor.max_length_hours * HOUR)
    return `Reservation is too long, max allowed is ${c.flavor.max_length_hours} hours`;
  if (!fitsWindow(c.flavor, r.end, c.newEnd, c.occupants, c.now, r.instance_count)) return 'No capacity';
  return null;
}

/** Extra hours an extension adds to the `hours` quota: ceil(added hours) × instance_count. */
export function extensionHours(r: Reservation, newEnd: number): number {
  return totalHours(r.end, newEnd) * r.instance_count;
}
