/**
 * src/domain/availability.ts#freeSteps as interval objects, for tests that state the profile's
 * properties interval by interval (the service writes the steps straight into its answer).
 */
import { freeSteps } from '../../src/domain/availability.js';
import type { CapacityFlavor, Occupant, OccupantColumns } from '../../src/domain/capacity.js';

export interface FreeInterval {
  start: number;
  end: number;
  free: number;
}

export function freeProfile(
  flavor: CapacityFlavor,
  start: number,
  end: number,
  occupants: readonly Occupant[] | OccupantColumns,
  now: number,
): FreeInterval[] {
  const { times, free, length } = freeSteps(flavor, start, end, occupants, now);
  const out: FreeInterval[] = new Array(length);
  for (let i = 0; i < length; i++) out[i] = { start: times[i]!, end: times[i + 1]!, free: free[i]! };
  return out;
}
