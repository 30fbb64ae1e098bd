/**
 * Availability of a flavor over time: how many slots are free at each moment of a window
 * (`GET /v1/availability/`, docs/availability.md). Pure: callers load the occupants.
 *
 * ## How the profile agrees with the free-slot sweep (the one place this is written down)
 *
 * The profile is a step function over the half-open window [S, E): an occupant [s, e] holds
 * its slots over [s, e) (touching occupants do not overlap, as in the sweep), a maintenance
 * window holds every slot, and time outside the flavor's own [start, end] (or all of it, once
 * the flavor's end has passed) has 0 free. Let S', E' be the window clamped to the flavor's
 * [start, end]. For every k ≥ 1, take each maximal run [a, b) of the profile where free ≥ k.
 * With minute-aligned times, `freeSlots(…, k)` (src/domain/capacity.ts) returns exactly one
 * window per such run, in order:
 *
 *     start = a    when a = S'                                   else a + 1 minute
 *     end   = E'   when b = E' and the instant E' has k free     else b − 1 minute
 *
 * and leaves out the runs of one minute or less, except one that ends at E' with E' free.
 * (The sweep works on the closed [S', E']: an occupant starting exactly at E' is not in the
 * profile of [S, E), yet it shortens the sweep's last window by a minute.)
 * These one-minute edges are the historical guards (Blazar treats leases that touch as
 * overlapping); the property test in test/domain/availability.property.test.ts checks the
 * correspondence on random data. One more historical edge: when S' = E' (a window of no
 * length) the sweep may answer [{S', S'}] while the profile has no run.
 */
import { type CapacityFlavor, type Occupant, occupancyTimeline } from './capacity.js';

export interface FreeInterval {
  start: number;
  end: number;
  free: number;
}

/** Appends [start, end) with `free`, merging it into the last interval when `free` is the same. */
function append(out: FreeInterval[], start: number, end: number, free: number): void {
  if (end <= start) return;
  const last = out[out.length - 1];
  if (last !== undefined && last.free === free && last.end === start) last.end = end;
  else out.push({ start, end, free });
}

/**
 * Free slots of `flavor` over [start, end) as merged intervals (no two neighbours with the
 * same `free`); `occupants` are its effective reservations and maintenance windows (count =
 * slots), in any order and not necessarily inside the window. `now` only decides whether the
 * flavor has expired. An empty window (end ≤ start) answers [].
 */
export function freeProfile(
  flavor: CapacityFlavor,
  start: number,
  end: number,
  occupants: readonly Occupant[],
  now: number,
): FreeInterval[] {
  const out: FreeInterval[] = [];
  if (end <= start) return out;
  const expired = flavor.end !== null && flavor.end < now;
  const validFrom = flavor.start !== null && flavor.start > start ? flavor.start : start;
  const validTo = flavor.end !== null && flavor.end < end ? flavor.end : end;
  if (!flavor.active || expired || validFrom >= validTo) {
    append(out, start, end, 0);
    return out;
  }
  append(out, start, validFrom, 0);

  const { times, delta, length } = occupancyTimeline(occupants, validFrom, validTo);
  const slots = flavor.slots;
  let occupied = 0;
  let i = 0;
  let t = validFrom;
  for (;;) {
    while (i < length && times[i]! <= t) occupied += delta[i++]!;
    const next = i < length && times[i]! < validTo ? times[i]! : validTo;
    append(out, t, next, occupied >= slots ? 0 : slots - occupied);
    if (next >= validTo) break;
    t = next;
  }

  append(out, validTo, end, 0);
  return out;
}
