/**
 * Capacity of a flavor over time: the free-slot sweep of docs/api.md#free-slots.
 *
 * Pure functions over epoch milliseconds (UTC). The answer for instanceCount = 1 is the
 * historical Warre answer; the walk (step 5) is kept exactly, including its one-minute guards.
 *
 * Implementation: every occupant adds +count at its start and −count at its end; the events
 * are sorted once (native Float64Array sort, no per-instance expansion), equal instants are
 * merged (net change, which is "ends before starts"), and the positive-length segments between
 * consecutive instants are walked. The historical code also walked the zero-length segments
 * that arise at an instant with several events; a busy zero-length segment is always next to a
 * busy positive-length segment sharing its instant, and the walk gives the same answer with or
 * without it (checked against a literal re-implementation in the property tests).
 */

/** A reservation (count = instance_count) or a maintenance window (count = flavor.slots). */
export interface Occupant {
  start: number;
  end: number;
  count: number;
}

export interface CapacityFlavor {
  active: boolean;
  slots: number;
  start: number | null;
  end: number | null;
}

export interface Slot {
  start: number;
  end: number;
}

const SECOND = 1_000;
const MINUTE = 60_000;

/** Truncate a UTC epoch-ms time to its minute (seconds and milliseconds dropped). */
function floorToMinute(t: number): number {
  return Math.floor(t / MINUTE) * MINUTE;
}

/** Distinct event instants in increasing order, with the net occupancy change at each. */
export interface Timeline {
  times: Float64Array;
  delta: Float64Array;
  length: number;
}

function isKept(o: Occupant, S: number, E: number): boolean {
  return o.count > 0 && o.end >= S && o.start <= E;
}

/**
 * Fast path: every event packed into one exact integer key, (time − (S − 1)) · 2M + payload,
 * payload = M + count for a start and count for an end (M a power of two > every count), sorted
 * with the native numeric sort. Times are clamped to [S − 1 ms, E + 1 ms] first: every kept
 * occupant ends at or after S and starts at or before E, so the events before S are starts and
 * those after E are ends, and merging each group into one instant changes no busy segment the
 * walk can see. Returns null when a key would not be an exact integer (non-integer times or
 * counts, or a span × count too large for 2^53).
 */
function packedTimeline(occupants: readonly Occupant[], S: number, E: number): Timeline | null {
  const n = occupants.length;
  let kept = 0;
  let maxCount = 0;
  let integral = Number.isInteger(S) && Number.isInteger(E);
  for (let i = 0; i < n; i++) {
    const o = occupants[i]!;
    if (!isKept(o, S, E)) continue;
    kept++;
    if (o.count > maxCount) maxCount = o.count;
    if (!(Number.isInteger(o.start) && Number.isInteger(o.end) && Number.isInteger(o.count))) {
      integral = false;
    }
  }
  if (kept === 0) return { times: new Float64Array(0), delta: new Float64Array(0), length: 0 };
  let M = 1;
  while (M <= maxCount) M *= 2;
  const twoM = 2 * M;
  const origin = S - 1;
  const span = E + 1 - origin;
  if (!integral || (span + 1) * twoM > 2 ** 53) return null;

  const keys = new Float64Array(2 * kept);
  let m = 0;
  for (let i = 0; i < n; i++) {
    const o = occupants[i]!;
    if (!isKept(o, S, E)) continue;
    const start = o.start < S ? origin : o.start;
    const end = o.end > E ? E + 1 : o.end;
    keys[m++] = (start - origin) * twoM + M + o.count;
    keys[m++] = (end - origin) * twoM + o.count;
  }
  keys.sort();

  // Unpack in place: keys[] becomes the instants, delta[] the net change at each.
  const delta = new Float64Array(m);
  let u = -1;
  let previous = -1;
  for (let i = 0; i < m; i++) {
    const key = keys[i]!;
    const r = Math.floor(key / twoM); // exact: twoM is a power of two
    const payload = key - r * twoM;
    const change = payload > M ? payload - M : -payload;
    if (r !== previous) {
      previous = r;
      keys[++u] = origin + r;
      delta[u] = change;
    } else {
      delta[u]! += change;
    }
  }
  return { times: keys, delta, length: u + 1 };
}

/** Index of `t` in the strictly increasing times[0..n); `t` is known to be present. */
function indexOf(times: Float64Array, n: number, t: number): number {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (times[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * General path (any numbers): sort the event times, de-duplicate them, then add each
 * occupant's +count / −count at its instants found by binary search. About twice as slow.
 */
function searchedTimeline(occupants: readonly Occupant[], S: number, E: number): Timeline {
  const n = occupants.length;
  const times = new Float64Array(2 * n);
  let m = 0;
  for (let i = 0; i < n; i++) {
    const o = occupants[i]!;
    if (!isKept(o, S, E)) continue;
    times[m++] = o.start;
    times[m++] = o.end;
  }
  const sorted = times.subarray(0, m).sort();
  let u = m === 0 ? 0 : 1;
  for (let i = 1; i < m; i++) {
    const t = sorted[i]!;
    if (t !== sorted[u - 1]) sorted[u++] = t;
  }
  const delta = new Float64Array(u);
  for (let i = 0; i < n; i++) {
    const o = occupants[i]!;
    if (!isKept(o, S, E)) continue;
    delta[indexOf(sorted, u, o.start)]! += o.count;
    delta[indexOf(sorted, u, o.end)]! -= o.count;
  }
  return { times: sorted, delta, length: u };
}

/**
 * The occupancy timeline of the occupants overlapping the closed window [S, E]: instants
 * before S are merged into S − 1 ms and those after E into E + 1 ms (see packedTimeline).
 * Shared by the free-slot sweep and the availability profile (src/domain/availability.ts).
 */
export function occupancyTimeline(occupants: readonly Occupant[], S: number, E: number): Timeline {
  return packedTimeline(occupants, S, E) ?? searchedTimeline(occupants, S, E);
}

/**
 * Historical free-slot answer over [start, end] (docs/api.md#the-sweep, steps 1–5), generalised: a segment is
 * busy when occupied > slots - instanceCount (k=1 → occupied >= slots). `occupants` need not be
 * sorted or pre-filtered to the window; like the historical database query, only occupants with
 * end >= start and start <= end (after clamping) are considered.
 *
 * Beyond the historical answer: a window that is empty after clamping to the flavor's
 * [start, end] (start > end), or instanceCount > flavor.slots, answers [] (nothing fits).
 */
export function freeSlots(
  flavor: CapacityFlavor,
  start: number,
  end: number,
  occupants: readonly Occupant[],
  now: number,
  instanceCount = 1,
): Slot[] {
  if (!Number.isInteger(instanceCount) || instanceCount < 1) {
    throw new RangeError(`instanceCount must be an integer >= 1, got ${instanceCount}`);
  }
  // Step 1.
  if (!flavor.active) return [];
  if (flavor.end !== null && flavor.end < now) return [];
  // Step 2.
  let S = start;
  let E = end;
  if (flavor.start !== null && flavor.start > S) S = flavor.start;
  if (flavor.end !== null && flavor.end < E) E = flavor.end;
  if (S > E || instanceCount > flavor.slots) return [];
  const limit = flavor.slots - instanceCount; // busy when occupied > limit

  // Step 3: the occupancy timeline (ends and starts at one instant are netted: touching
  // occupants do not overlap).
  const { times, delta, length } = occupancyTimeline(occupants, S, E);

  // Step 5: walk the busy segments [times[i], times[i+1]] in time order with cursor F.
  const free: Slot[] = [];
  let F = S;
  let busyFound = false;
  let occupied = 0;
  for (let i = 0; i + 1 < length; i++) {
    occupied += delta[i]!;
    if (occupied <= limit) continue;
    busyFound = true;
    const segStart = times[i]!;
    const segEnd = times[i + 1]!;
    if (segStart <= S && S <= segEnd) {
      F = segEnd;
    } else {
      if (F < segStart && segStart - F > MINUTE) {
        free.push({ start: F === S ? F : F + MINUTE, end: floorToMinute(segStart - SECOND) });
      }
      F = segEnd;
    }
  }
  if (!busyFound) return [{ start: S, end: E }]; // step 4
  if (F < E) free.push({ start: F === S ? F : F + MINUTE, end: E });
  return free;
}

/**
 * Create/extend rule: allowed iff freeSlots over exactly [start, end] begins with a slot whose
 * start == start and end >= end.
 */
export function fitsWindow(
  flavor: CapacityFlavor,
  start: number,
  end: number,
  occupants: readonly Occupant[],
  now: number,
  instanceCount = 1,
): boolean {
  const first = freeSlots(flavor, start, end, occupants, now, instanceCount)[0];
  return first !== undefined && first.start === start && first.end >= end;
}
