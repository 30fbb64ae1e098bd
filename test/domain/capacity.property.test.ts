import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CapacityFlavor, fitsWindow, freeSlots, type Occupant, type Slot } from '../../src/domain/capacity.js';

const SECOND = 1_000;
const MINUTE = 60_000;
const BASE = Date.UTC(2030, 0, 1);

/**
 * Reference: docs/api.md#the-sweep followed literally, the way the historical code did it — every occupant
 * expanded into `count` unit intervals, a list of (time, kind) points sorted by time with ends
 * before starts at equal times, one segment between each pair of consecutive points (zero-length
 * ones included), busy = occupied >= slots, then the walk. Only for instance_count = 1.
 */
function referenceFreeSlots(flavor: CapacityFlavor, start: number, end: number, occupants: readonly Occupant[], now: number): Slot[] {
  if (!flavor.active) return [];
  if (flavor.end !== null && flavor.end < now) return [];
  let S = start;
  let E = end;
  if (flavor.start !== null && flavor.start > S) S = flavor.start;
  if (flavor.end !== null && flavor.end < E) E = flavor.end;
  if (S > E) return []; // the one documented departure: no reversed slot for an empty window

  // Same selection as the historical database query.
  const inWindow = occupants.filter((o) => o.end >= S && o.start <= E);
  const points: { time: number; kind: 'start' | 'end' }[] = [];
  for (const o of inWindow) {
    for (let i = 0; i < o.count; i++) {
      points.push({ time: o.start, kind: 'start' }, { time: o.end, kind: 'end' });
    }
  }
  points.sort((a, b) => a.time - b.time || (a.kind === b.kind ? 0 : a.kind === 'end' ? -1 : 1));

  const segments: { start: number; end: number; slot: number }[] = [];
  let current = 0;
  let last: number | undefined;
  for (const p of points) {
    if (last !== undefined) segments.push({ start: last, end: p.time, slot: current });
    last = p.time;
    current += p.kind === 'start' ? 1 : -1;
  }
  const busy = segments.filter((s) => s.slot >= flavor.slots);
  if (busy.length === 0) return [{ start: S, end: E }];

  const free: Slot[] = [];
  let F = S;
  for (const seg of busy) {
    if (seg.start <= S && S <= seg.end) {
      F = seg.end;
    } else {
      const gapSeconds = (seg.start - F) / SECOND;
      if (F < seg.start && gapSeconds > 60) {
        const slotStart = F === S ? F : F + MINUTE;
        const beforeSeg = new Date(seg.start - SECOND);
        beforeSeg.setUTCSeconds(0, 0);
        free.push({ start: slotStart, end: beforeSeg.getTime() });
      }
      F = seg.end;
    }
  }
  if (F < E) free.push({ start: F === S ? F : F + MINUTE, end: E });
  return free;
}

/**
 * Brute-force capacity: the occupancy at instant t (ends before starts) is the count of the
 * occupants with start <= t < end; it only changes at event points, so its maximum over the
 * closed [start, end] is reached at `start` or at an event point inside.
 */
function bruteFits(flavor: CapacityFlavor, start: number, end: number, occupants: readonly Occupant[], now: number, k: number): boolean {
  if (!flavor.active) return false;
  if (flavor.end !== null && (flavor.end < now || flavor.end < end)) return false;
  if (flavor.start !== null && flavor.start > start) return false;
  const instants = [start];
  for (const o of occupants) {
    for (const t of [o.start, o.end]) if (t > start && t <= end) instants.push(t);
  }
  let max = 0;
  for (const t of instants) {
    let occupied = 0;
    for (const o of occupants) if (o.start <= t && t < o.end) occupied += o.count;
    max = Math.max(max, occupied);
  }
  return max + k <= flavor.slots;
}

// Times on a 3-hour minute grid (so events collide often), some with odd seconds.
const timeArb = fc
  .tuple(
    fc.integer({ min: 0, max: 180 }),
    fc.oneof({ arbitrary: fc.constant(0), weight: 4 }, { arbitrary: fc.integer({ min: 1, max: 59 }), weight: 1 }),
  )
  .map(([m, s]) => BASE + m * MINUTE + s * SECOND);

const spanArb = fc
  .tuple(
    fc.oneof({ arbitrary: fc.integer({ min: 0, max: 5 }), weight: 2 }, { arbitrary: fc.integer({ min: 0, max: 90 }), weight: 3 }),
    fc.oneof({ arbitrary: fc.constant(0), weight: 4 }, { arbitrary: fc.integer({ min: 1, max: 59 }), weight: 1 }),
  )
  .map(([m, s]) => m * MINUTE + s * SECOND);

const flavorArb: fc.Arbitrary<CapacityFlavor> = fc.record({
  active: fc.oneof({ arbitrary: fc.constant(true), weight: 9 }, { arbitrary: fc.constant(false), weight: 1 }),
  slots: fc.integer({ min: 1, max: 4 }),
  start: fc.option(timeArb, { freq: 4 }),
  end: fc.option(timeArb, { freq: 4 }),
});

/** Reservations (1–3 instances) and maintenance windows (count = slots, filled in later). */
const rawOccupantArb = fc.record({
  start: timeArb,
  span: spanArb,
  count: fc.integer({ min: 1, max: 3 }),
  maintenance: fc.oneof({ arbitrary: fc.constant(false), weight: 5 }, { arbitrary: fc.constant(true), weight: 1 }),
});
type RawOccupant = typeof rawOccupantArb extends fc.Arbitrary<infer T> ? T : never;

function toOccupants(raw: readonly RawOccupant[], slots: number): Occupant[] {
  return raw.map((r) => ({ start: r.start, end: r.start + r.span, count: r.maintenance ? slots : r.count }));
}

/** Query windows: mostly start <= end; a few reversed; starts anywhere (often inside busy stretches). */
const windowArb = fc.oneof(
  { arbitrary: fc.tuple(timeArb, spanArb).map(([s, d]) => ({ start: s, end: s + d })), weight: 5 },
  { arbitrary: fc.tuple(timeArb, spanArb).map(([s, d]) => ({ start: s, end: s + d * 3 })), weight: 3 },
  { arbitrary: fc.tuple(timeArb, timeArb).map(([s, e]) => ({ start: s, end: e })), weight: 1 },
);

const scenarioArb = fc.record({
  flavor: flavorArb,
  raw: fc.array(rawOccupantArb, { maxLength: 14 }),
  window: windowArb,
  now: fc.oneof({ arbitrary: fc.constant(BASE - MINUTE), weight: 3 }, { arbitrary: timeArb, weight: 1 }),
});

/** Windows with end > start (reservations), possibly with seconds. */
const requestArb = fc
  .tuple(timeArb, spanArb)
  .filter(([, d]) => d > 0)
  .map(([s, d]) => ({ start: s, end: s + d }));

describe('freeSlots properties', () => {
  it('equals the literal historical algorithm for instance_count 1', () => {
    fc.assert(
      fc.property(scenarioArb, ({ flavor, raw, window, now }) => {
        const occupants = toOccupants(raw, flavor.slots);
        const expected = referenceFreeSlots(flavor, window.start, window.end, occupants, now);
        expect(freeSlots(flavor, window.start, window.end, occupants, now, 1)).toEqual(expected);
        expect(freeSlots(flavor, window.start, window.end, occupants, now)).toEqual(expected);
      }),
      { numRuns: 4000 },
    );
  });

  it('fitsWindow(k) holds iff max occupancy over [start, end] + k <= slots', () => {
    fc.assert(
      fc.property(
        flavorArb,
        fc.array(rawOccupantArb, { maxLength: 14 }),
        requestArb,
        fc.integer({ min: 1, max: 5 }),
        fc.oneof({ arbitrary: fc.constant(BASE - MINUTE), weight: 3 }, { arbitrary: timeArb, weight: 1 }),
        (flavor, raw, req, k, now) => {
          const occupants = toOccupants(raw, flavor.slots);
          expect(fitsWindow(flavor, req.start, req.end, occupants, now, k)).toBe(bruteFits(flavor, req.start, req.end, occupants, now, k));
        },
      ),
      { numRuns: 4000 },
    );
  });

  it('adding an occupant never turns "does not fit" into "fits"', () => {
    fc.assert(
      fc.property(
        flavorArb,
        fc.array(rawOccupantArb, { maxLength: 12 }),
        rawOccupantArb,
        requestArb,
        fc.integer({ min: 1, max: 4 }),
        (flavor, raw, extra, req, k) => {
          const now = BASE - MINUTE;
          const before = toOccupants(raw, flavor.slots);
          const after = toOccupants([...raw, extra], flavor.slots);
          if (!fitsWindow(flavor, req.start, req.end, before, now, k)) {
            expect(fitsWindow(flavor, req.start, req.end, after, now, k)).toBe(false);
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  // Counts this large do not fit the packed sort key, so this exercises the general path
  // against the packed one (validated above): scaling counts, slots and k alike changes nothing.
  it('answers the same when counts, slots and k are all multiplied by 2^30', () => {
    const scale = 2 ** 30;
    fc.assert(
      fc.property(scenarioArb, fc.integer({ min: 1, max: 4 }), ({ flavor, raw, window, now }, k) => {
        const occupants = toOccupants(raw, flavor.slots);
        const big = occupants.map((o) => ({ ...o, count: o.count * scale }));
        const bigFlavor = { ...flavor, slots: flavor.slots * scale };
        expect(freeSlots(bigFlavor, window.start, window.end, big, now, k * scale)).toEqual(
          freeSlots(flavor, window.start, window.end, occupants, now, k),
        );
      }),
      { numRuns: 2000 },
    );
  });

  it('answers the same whatever the order of the occupants', () => {
    fc.assert(
      fc.property(scenarioArb, fc.integer({ min: 1, max: 4 }), ({ flavor, raw, window, now }, k) => {
        const occupants = toOccupants(raw, flavor.slots);
        const reversed = [...occupants].reverse();
        expect(freeSlots(flavor, window.start, window.end, reversed, now, k)).toEqual(
          freeSlots(flavor, window.start, window.end, occupants, now, k),
        );
      }),
      { numRuns: 1000 },
    );
  });
});
