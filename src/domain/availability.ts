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
import { type CapacityFlavor, type Occupant, type OccupantColumns, occupancyTimeline } from './capacity.js';

/**
 * The profile as steps, without an object per interval (a 90-day answer over busy flavors
 * has tens of thousands): interval i is [times[i], times[i + 1]) with free[i] free slots, for
 * i < length. The intervals are consecutive and merged (no two neighbours with the same free).
 */
export interface FreeSteps {
  readonly times: Float64Array;
  readonly free: Float64Array;
  readonly length: number;
}

const NO_STEPS: FreeSteps = { times: new Float64Array(0), free: new Float64Array(0), length: 0 };

/**
 * Free slots of `flavor` over [start, end) as merged steps; `occupants` are its effective
 * reservations and maintenance windows (count = slots), in any order and not necessarily
 * inside the window. `now` only decides whether the flavor has expired. An empty window
 * (end ≤ start) has no step.
 */
export function freeSteps(
  flavor: CapacityFlavor,
  start: number,
  end: number,
  occupants: readonly Occupant[] | OccupantColumns,
  now: number,
): FreeSteps {
  if (end <= start) return NO_STEPS;
  const expired = flavor.end !== null && flavor.end < now;
  const validFrom = flavor.start !== null && flavor.start > start ? flavor.start : start;
  const validTo = flavor.end !== null && flavor.end < end ? flavor.end : end;
  if (!flavor.active || expired || validFrom >= validTo) {
    return { times: Float64Array.of(start, end), free: Float64Array.of(0), length: 1 };
  }

  const { times: at, delta, length } = occupancyTimeline(occupants, validFrom, validTo);
  // At most: [start, validFrom), one step per instant inside (validFrom, validTo) and one
  // more, [validTo, end).
  const times = new Float64Array(length + 4);
  const free = new Float64Array(length + 3);
  let n = 0;
  times[0] = start;
  /** Extends the steps to `to` with `f` free: merged into the last step when it has the same. */
  const step = (to: number, f: number): void => {
    if (to <= times[n]!) return;
    if (n > 0 && free[n - 1] === f) times[n] = to;
    else {
      free[n++] = f;
      times[n] = to;
    }
  };
  step(validFrom, 0);

  const slots = flavor.slots;
  let occupied = 0;
  let i = 0;
  let t = validFrom;
  for (;;) {
    while (i < length && at[i]! <= t) occupied += delta[i++]!;
    const next = i < length && at[i]! < validTo ? at[i]! : validTo;
    step(next, occupied >= slots ? 0 : slots - occupied);
    if (next >= validTo) break;
    t = next;
  }

  step(end, 0);
  return { times, free, length: n };
}
