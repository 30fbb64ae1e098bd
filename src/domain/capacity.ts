/**
 * Capacity of a flavor over time: the free-slot sweep of docs/api.md#free-slots.
 *
 * Pure functions over epoch milliseconds (UTC). The answer for instanceCount = 1 is the
 * historical Warre answer; the walk (step 5) is kept exactly, including its one-minute guards.
 *
 * Implementation: every occupant adds +count at its start and −count at its end; the events
 * are sorted once (as exact integer keys, radix-sorted, or the native Float64Array sort; no
 * per-instance expansion), equal instants are merged (net change, which is "ends before
 * starts"), and the positive-length segments between consecutive instants are walked. The
 * historical code also walked the zero-length segments that arise at an instant with several
 * events; a busy zero-length segment is always next to a busy positive-length segment sharing
 * its instant, and the walk gives the same answer with or without it (checked against a
 * literal re-implementation in the property tests).
 */

/** A reservation (count = instance_count) or a maintenance window (count = flavor.slots). */
export interface Occupant {
  start: number;
  end: number;
  count: number;
}

/**
 * Occupants column by column: occupant i holds count[i] slots over [start[i], end[i]]. What a
 * bulk read hands over without an object per row (availability reads 12,000 at once).
 */
export interface OccupantColumns {
  readonly start: Float64Array;
  readonly end: Float64Array;
  readonly count: Float64Array;
  readonly length: number;
}

/** Occupant objects as columns. */
export function occupantColumns(occupants: readonly Occupant[]): OccupantColumns {
  const n = occupants.length;
  const start = new Float64Array(n);
  const end = new Float64Array(n);
  const count = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const o = occupants[i]!;
    start[i] = o.start;
    end[i] = o.end;
    count[i] = o.count;
  }
  return { start, end, count, length: n };
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

function isKept(count: number, start: number, end: number, S: number, E: number): boolean {
  return count > 0 && end >= S && start <= E;
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
function packedTimeline(occupants: OccupantColumns, S: number, E: number): Timeline | null {
  const { start: starts, end: ends, count: counts, length: n } = occupants;
  let kept = 0;
  let maxCount = 0;
  let integral = Number.isInteger(S) && Number.isInteger(E);
  for (let i = 0; i < n; i++) {
    const count = counts[i]!;
    if (!isKept(count, starts[i]!, ends[i]!, S, E)) continue;
    kept++;
    if (count > maxCount) maxCount = count;
    if (!(Number.isInteger(starts[i]!) && Number.isInteger(ends[i]!) && Number.isInteger(count))) {
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
    const count = counts[i]!;
    const s = starts[i]!;
    const e = ends[i]!;
    if (!isKept(count, s, e, S, E)) continue;
    const start = s < S ? origin : s;
    const end = e > E ? E + 1 : e;
    keys[m++] = (start - origin) * twoM + M + count;
    keys[m++] = (end - origin) * twoM + count;
  }
  sortKeys(keys);

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

/** Below this many keys the native sort is as fast as the radix sort's fixed costs allow. */
const RADIX_FROM = 1024;
const TWO_32 = 4_294_967_296;

/**
 * Sorts integer keys in [0, 2^53) in place. Many keys (a busy flavor over 90 days has 20,000)
 * take a least-significant-digit radix sort with 11-bit digits — the key's low 32 bits in three
 * digits, its high 21 in two, a digit all keys share skipped — about 2.5 times faster than the
 * native sort of doubles (BENCHMARKS.md, issue 7).
 */
export function sortKeys(keys: Float64Array): void {
  const n = keys.length;
  if (n < RADIX_FROM) {
    keys.sort();
    return;
  }
  let lo = new Uint32Array(n);
  let hi = new Uint32Array(n);
  const counts = new Int32Array(5 * 2048);
  for (let i = 0; i < n; i++) {
    const k = keys[i]!;
    const h = Math.floor(k / TWO_32);
    const l = k - h * TWO_32;
    lo[i] = l;
    hi[i] = h;
    counts[l & 2047]!++;
    counts[2048 + ((l >>> 11) & 2047)]!++;
    counts[4096 + (l >>> 22)]!++;
    counts[6144 + (h & 2047)]!++;
    counts[8192 + ((h >>> 11) & 2047)]!++;
  }
  let src: Float64Array = keys;
  let dst: Float64Array = new Float64Array(n);
  let loTo = new Uint32Array(n);
  let hiTo = new Uint32Array(n);
  for (let pass = 0; pass < 5; pass++) {
    const base = pass * 2048;
    // Counts → first position of each digit; a digit every key has leaves the order as it is.
    let sum = 0;
    let shared = false;
    for (let d = 0; d < 2048; d++) {
      const c = counts[base + d]!;
      if (c === n) shared = true;
      counts[base + d] = sum;
      sum += c;
    }
    if (shared) continue;
    const digits = pass < 3 ? lo : hi;
    const shift = pass < 3 ? pass * 11 : (pass - 3) * 11;
    for (let i = 0; i < n; i++) {
      const at = counts[base + ((digits[i]! >>> shift) & 2047)]!++;
      dst[at] = src[i]!;
      loTo[at] = lo[i]!;
      hiTo[at] = hi[i]!;
    }
    [src, dst] = [dst, src];
    [lo, loTo] = [loTo, lo];
    [hi, hiTo] = [hiTo, hi];
  }
  if (src !== keys) keys.set(src);
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
function searchedTimeline(occupants: OccupantColumns, S: number, E: number): Timeline {
  const { start: starts, end: ends, count: counts, length: n } = occupants;
  const times = new Float64Array(2 * n);
  let m = 0;
  for (let i = 0; i < n; i++) {
    if (!isKept(counts[i]!, starts[i]!, ends[i]!, S, E)) continue;
    times[m++] = starts[i]!;
    times[m++] = ends[i]!;
  }
  const sorted = times.subarray(0, m).sort();
  let u = m === 0 ? 0 : 1;
  for (let i = 1; i < m; i++) {
    const t = sorted[i]!;
    if (t !== sorted[u - 1]) sorted[u++] = t;
  }
  const delta = new Float64Array(u);
  for (let i = 0; i < n; i++) {
    const count = counts[i]!;
    if (!isKept(count, starts[i]!, ends[i]!, S, E)) continue;
    delta[indexOf(sorted, u, starts[i]!)]! += count;
    delta[indexOf(sorted, u, ends[i]!)]! -= count;
  }
  return { times: sorted, delta, length: u };
}

/**
 * The occupancy timeline of the occupants overlapping the closed window [S, E]: instants
 * before S are merged into S − 1 ms and those after E into E + 1 ms (see packedTimeline).
 * Shared by the free-slot sweep and the availability profile (src/domain/availability.ts).
 */
export function occupancyTimeline(occupants: readonly Occupant[] | OccupantColumns, S: number, E: number): Timeline {
  const columns = isColumns(occupants) ? occupants : occupantColumns(occupants);
  return packedTimeline(columns, S, E) ?? searchedTimeline(columns, S, E);
}

function isColumns(o: readonly Occupant[] | OccupantColumns): o is OccupantColumns {
  return !Array.isArray(o);
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
