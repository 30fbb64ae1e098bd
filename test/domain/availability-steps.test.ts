/**
 * src/domain/availability.ts#freeSteps — the profile as typed arrays, read straight from the
 * occupancy columns availability loads — against a brute force written from the rule at the top
 * of that file: on any numbers (milliseconds, not only minutes; counts large enough for the
 * sweep's general path), from occupant objects and from columns alike; freeProfile (test/support) is the same
 * steps as objects.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { freeSteps } from '../../src/domain/availability.js';
import { type CapacityFlavor, type Occupant, occupancyTimeline, occupantColumns } from '../../src/domain/capacity.js';
import { type FreeInterval, freeProfile } from '../support/free-profile.js';

const BASE = Date.UTC(2030, 0, 1);
const SPAN = 3 * 86_400_000;

/** Instants of the world: on a coarse grid most of the time (touching, stacked), else any millisecond. */
const timeArb = fc.oneof(
  fc.integer({ min: 0, max: SPAN / 3_600_000 }).map((h) => BASE + h * 3_600_000),
  fc.integer({ min: 0, max: SPAN / 60_000 }).map((m) => BASE + m * 60_000),
  fc.integer({ min: 0, max: SPAN }).map((ms) => BASE + ms),
);
/** Counts large enough for the sweep's general path (src/domain/capacity.ts), their sums still exact. */
const countArb = fc.oneof(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 2 ** 30 }), fc.constant(2 ** 40));
const occupantArb: fc.Arbitrary<Occupant> = fc
  .tuple(timeArb, timeArb, countArb)
  .map(([a, b, count]) => ({ start: Math.min(a, b), end: Math.max(a, b), count }));
const flavorArb: fc.Arbitrary<CapacityFlavor> = fc.record({
  active: fc.oneof(fc.constant(true), fc.constant(true), fc.constant(false)),
  slots: fc.oneof(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 1, max: 2 ** 31 })),
  start: fc.option(timeArb, { nil: null }),
  end: fc.option(timeArb, { nil: null }),
});

/**
 * The profile by its definition: time outside the flavor's [start, end] (all of it when the
 * flavor is inactive or has expired) has 0 free; elsewhere an occupant with a count holds it over
 * [start, end), and free is what the slots leave (never below 0). Merged.
 */
function bruteForce(flavor: CapacityFlavor, start: number, end: number, occupants: readonly Occupant[], now: number): FreeInterval[] {
  if (end <= start) return [];
  const from = flavor.start !== null && flavor.start > start ? flavor.start : start;
  const to = flavor.end !== null && flavor.end < end ? flavor.end : end;
  const bookable = flavor.active && !(flavor.end !== null && flavor.end < now) && from < to;
  const points = new Set([start, end, from, to]);
  for (const o of occupants) for (const t of [o.start, o.end]) if (t > start && t < end) points.add(t);
  const sorted = [...points].filter((t) => t >= start && t <= end).sort((a, b) => a - b);
  const out: FreeInterval[] = [];
  for (let i = 0; i + 1 < sorted.length; i++) {
    const [a, b] = [sorted[i]!, sorted[i + 1]!];
    let free = 0;
    if (bookable && a >= from && a < to) {
      const held = occupants.filter((o) => o.count > 0 && o.start <= a && a < o.end).reduce((n, o) => n + o.count, 0);
      free = held >= flavor.slots ? 0 : flavor.slots - held;
    }
    const last = out[out.length - 1];
    if (last !== undefined && last.free === free) last.end = b;
    else out.push({ start: a, end: b, free });
  }
  return out;
}

describe('freeSteps', () => {
  it('is the profile by its definition, from occupant objects and from columns', () => {
    fc.assert(
      fc.property(flavorArb, fc.array(occupantArb, { maxLength: 30 }), timeArb, timeArb, timeArb, (flavor, occupants, a, b, now) => {
        const [start, end] = [Math.min(a, b), Math.max(a, b)];
        const expected = bruteForce(flavor, start, end, occupants, now);
        expect(freeProfile(flavor, start, end, occupants, now)).toEqual(expected);
        const steps = freeSteps(flavor, start, end, occupantColumns(occupants), now);
        const fromColumns = Array.from({ length: steps.length }, (_, i) => ({
          start: steps.times[i]!,
          end: steps.times[i + 1]!,
          free: steps.free[i]!,
        }));
        expect(fromColumns).toEqual(expected);
      }),
      { numRuns: 3000 },
    );
  });

  it('reads only the first `length` entries of its columns', () => {
    fc.assert(
      fc.property(fc.array(occupantArb, { maxLength: 20 }), fc.nat(5), timeArb, (occupants, extra, a) => {
        const flavor: CapacityFlavor = { active: true, slots: 4, start: null, end: null };
        const all = occupantColumns(occupants.concat(Array.from({ length: extra }, () => ({ start: BASE, end: BASE + SPAN, count: 1 }))));
        const view = { start: all.start, end: all.end, count: all.count, length: occupants.length };
        expect(freeSteps(flavor, a, a + SPAN, view, BASE)).toEqual(freeSteps(flavor, a, a + SPAN, occupantColumns(occupants), BASE));
      }),
      { numRuns: 300 },
    );
  });
});

describe('occupancyTimeline', () => {
  it('is the same from occupant objects and from columns', () => {
    fc.assert(
      fc.property(fc.array(occupantArb, { maxLength: 30 }), timeArb, timeArb, (occupants, a, b) => {
        const [S, E] = [Math.min(a, b), Math.max(a, b)];
        const plain = (t: ReturnType<typeof occupancyTimeline>) => ({
          times: [...t.times.subarray(0, t.length)],
          delta: [...t.delta.subarray(0, t.length)],
        });
        expect(plain(occupancyTimeline(occupantColumns(occupants), S, E))).toEqual(plain(occupancyTimeline(occupants, S, E)));
      }),
      { numRuns: 1000 },
    );
  });
});
