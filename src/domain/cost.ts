/**
 * What a booking costs in service units (docs/availability.md#cost): a flavor may carry its
 * rate, in service units per instance-hour, in an extra spec (`[warre] rate_extra_spec`,
 * default `nectar:rate`); cost = hours × rate, where hours is what the booking takes from the
 * `hours` quota (duration in hours × instance count).
 */

import { reservationHours } from './quota.js';

const DECIMAL = /^\s*\d+(\.\d+)?\s*$/;

/** The flavor's rate: the extra spec as a finite number ≥ 0 (a JSON number or a decimal string, as Nova keeps extra specs), else null. */
export function serviceUnitRate(extraSpecs: Record<string, unknown> | null, key: string): number | null {
  if (!extraSpecs || !Object.hasOwn(extraSpecs, key)) return null;
  const v = extraSpecs[key];
  const n = typeof v === 'number' ? v : typeof v === 'string' && DECIMAL.test(v) ? Number(v) : NaN;
  return Number.isFinite(n) && n >= 0 ? n : null;
}

/** hours × rate, rounded to 6 decimals (so 3 × 0.1 shows as 0.3), or null without a rate. */
export function bookingCost(hours: number, rate: number | null): number | null {
  if (rate === null) return null;
  return Math.round(hours * rate * 1e6) / 1e6;
}

/** The hours a booking takes from the quota and what they cost at its flavor's rate. */
export function bookingPrice(
  r: { start: number; end: number; instance_count: number; flavor: { extra_specs: Record<string, unknown> | null } },
  rateKey: string,
): { hours: number; cost: number | null } {
  const hours = reservationHours(r);
  return { hours, cost: bookingCost(hours, serviceUnitRate(r.flavor.extra_specs, rateKey)) };
}
