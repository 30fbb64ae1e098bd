/**
 * The availability profile and the offer search against the rules they summarise:
 * - the profile agrees with the free-slot sweep for every instance count, up to the one-minute
 *   edges documented in src/domain/availability.ts;
 * - every offer passes the create rules, and no earlier start does (brute force, minute by
 *   minute, with the real createRefusal).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { type CapacityFlavor, freeSlots, type Occupant, type Slot } from '../../src/domain/capacity.js';
import { earliestStart } from '../../src/domain/offers.js';
import { createRefusal } from '../../src/domain/reservation-rules.js';
import type { Flavor } from '../../src/domain/types.js';
import { type FreeInterval, freeProfile } from '../support/free-profile.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const BASE = Date.UTC(2030, 0, 1);
/** Minutes after BASE; the generated world spans two days. */
const SPAN = 48 * 60;
const at = (minute: number) => BASE + minute * MINUTE;

const minuteArb = fc.integer({ min: 0, max: SPAN });
/** Times on a coarse grid most of the time, so occupants touch and stack often. */
const timeArb = fc.oneof(
  fc.integer({ min: 0, max: SPAN / 30 }).map((n) => n * 30),
  fc.integer({ min: 0, max: SPAN / 60 }).map((n) => n * 60 + 1),
  minuteArb,
);
const occupantArb = (maxCount: number) =>
  fc.tuple(timeArb, fc.integer({ min: 0, max: 600 }), fc.integer({ min: 1, max: maxCount })).map(([s, len, count]) => ({
    start: at(s),
    end: at(Math.min(SPAN, s + len)),
    count,
  }));

const flavorArb = fc
  .record({
    slots: fc.integer({ min: 1, max: 4 }),
    start: fc.option(minuteArb, { nil: null }),
    end: fc.option(minuteArb, { nil: null }),
    active: fc.oneof(fc.constant(true), fc.constant(true), fc.constant(false)),
  })
  .map((f) => ({ ...f, start: f.start === null ? null : at(f.start), end: f.end === null ? null : at(f.end) }));

/** Maximal runs [a, b) of the profile where free ≥ k. */
function runs(profile: readonly FreeInterval[], k: number): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  for (const p of profile) {
    if (p.free < k) continue;
    const last = out[out.length - 1];
    if (last && last.end === p.start) last.end = p.end;
    else out.push({ start: p.start, end: p.end });
  }
  return out;
}

/**
 * The free-slot windows the documented edge rule predicts from the runs of free ≥ k over
 * [S, E); `endFree`: whether the instant E itself has k free slots.
 */
function predictedWindows(profile: readonly FreeInterval[], k: number, S: number, E: number, endFree: boolean): Slot[] {
  const reachesEnd = (r: { end: number }) => r.end === E && endFree;
  return runs(profile, k)
    .filter((r) => reachesEnd(r) || r.end - r.start > MINUTE)
    .map((r) => ({ start: r.start === S ? r.start : r.start + MINUTE, end: reachesEnd(r) ? E : r.end - MINUTE }));
}

describe('availability profile', () => {
  it('is a merged step function over [start, end) with 0 ≤ free ≤ slots', () => {
    fc.assert(
      fc.property(flavorArb, fc.array(occupantArb(5), { maxLength: 25 }), minuteArb, minuteArb, minuteArb, (flavor, occ, a, b, now) => {
        const [S, E] = [at(Math.min(a, b)), at(Math.max(a, b))];
        const profile = freeProfile(flavor, S, E, occ, at(now));
        if (S === E) {
          expect(profile).toEqual([]);
          return;
        }
        expect(profile[0]!.start).toBe(S);
        expect(profile[profile.length - 1]!.end).toBe(E);
        for (let i = 0; i < profile.length; i++) {
          const p = profile[i]!;
          expect(p.end).toBeGreaterThan(p.start);
          expect(p.free).toBeGreaterThanOrEqual(0);
          expect(p.free).toBeLessThanOrEqual(flavor.slots);
          if (i > 0) {
            expect(p.start).toBe(profile[i - 1]!.end);
            expect(p.free).not.toBe(profile[i - 1]!.free);
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it('free at each minute is slots minus what overlaps it (maintenance and outside validity: 0)', () => {
    fc.assert(
      fc.property(
        flavorArb,
        fc.array(occupantArb(3), { maxLength: 12 }),
        fc.integer({ min: 0, max: SPAN - 1 }),
        fc.integer({ min: 1, max: 600 }),
        (flavor, occ, a, len) => {
          const S = at(a);
          const E = at(Math.min(SPAN, a + len));
          const now = BASE;
          const profile = freeProfile(flavor, S, E, occ, now);
          for (let t = S; t < E; t += MINUTE) {
            const held = occ.filter((o) => o.start <= t && t < o.end).reduce((n, o) => n + o.count, 0);
            const valid =
              flavor.active &&
              (flavor.start === null || t >= flavor.start) &&
              (flavor.end === null || (t < flavor.end && flavor.end >= now));
            const expected = valid ? Math.max(0, flavor.slots - held) : 0;
            const got = profile.find((p) => p.start <= t && t < p.end)!.free;
            expect(got, `free at ${new Date(t).toISOString()}`).toBe(expected);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('agrees with freeslots for every instance count, up to the documented one-minute edges', () => {
    fc.assert(
      fc.property(
        flavorArb,
        fc.array(occupantArb(5), { maxLength: 30 }),
        fc.array(fc.tuple(timeArb, fc.integer({ min: 0, max: 240 })), { maxLength: 3 }),
        minuteArb,
        minuteArb,
        minuteArb,
        (flavor, reservations, windows, a, b, nowMinute) => {
          fc.pre(a !== b);
          const [S, E] = [at(Math.min(a, b)), at(Math.max(a, b))];
          const now = at(nowMinute);
          const maintenance: Occupant[] = windows.map(([s, len]) => ({
            start: at(s),
            end: at(Math.min(SPAN, s + len)),
            count: flavor.slots,
          }));
          const occupants = reservations.concat(maintenance);
          const profile = freeProfile(flavor, S, E, occupants, now);
          const Sc = flavor.start !== null && flavor.start > S ? flavor.start : S;
          const Ec = flavor.end !== null && flavor.end < E ? flavor.end : E;
          for (let k = 1; k <= flavor.slots + 1; k++) {
            const windowsK = freeSlots(flavor, S, E, occupants, now, k);
            if (Sc >= Ec) {
              // Nothing of the window is bookable: the profile is all 0; the sweep answers []
              // or, for a window of no length, the historical [{S', S'}].
              expect(runs(profile, k)).toEqual([]);
              for (const w of windowsK) expect(w.start).toBe(w.end);
              continue;
            }
            const heldAtEnd = occupants.filter((o) => o.start <= Ec && Ec < o.end).reduce((n, o) => n + o.count, 0);
            expect(windowsK, `k=${k}`).toEqual(predictedWindows(profile, k, Sc, Ec, flavor.slots - heldAtEnd >= k));
          }
        },
      ),
      { numRuns: 1500 },
    );
  });
});

/** A full domain flavor around the capacity fields, for createRefusal. */
function domainFlavor(f: CapacityFlavor, maxLengthHours: number): Flavor {
  return {
    id: 'f',
    name: 'f',
    description: null,
    vcpu: 1,
    memory_mb: 1,
    disk_gb: 1,
    ephemeral_gb: 0,
    active: f.active,
    properties: null,
    max_length_hours: maxLengthHours,
    slots: f.slots,
    is_public: true,
    extra_specs: {},
    start: f.start,
    end: f.end,
    category: null,
    availability_zone: null,
  };
}

/** Would a create of [start, start + hours] pass, with the data the create service loads for it? */
function bookable(
  flavor: Flavor,
  reservations: Occupant[],
  maintenance: Occupant[],
  start: number,
  hours: number,
  count: number,
  now: number,
): boolean {
  const end = start + hours * HOUR;
  const overlapping = (o: Occupant) => o.start <= end && o.end >= start;
  return (
    createRefusal({
      flavor,
      granted: true,
      start,
      end,
      instanceCount: count,
      now,
      bypassMaintenance: false,
      maintenance: maintenance.filter(overlapping),
      reservations: reservations.filter(overlapping),
    }) === null
  );
}

describe('earliest start of an offer', () => {
  it('is bookable, and no earlier start in the range is (brute force over every minute)', () => {
    fc.assert(
      fc.property(
        flavorArb,
        fc.integer({ min: 1, max: 8 }),
        fc.array(occupantArb(4), { maxLength: 20 }),
        fc.array(fc.tuple(timeArb, fc.integer({ min: 0, max: 180 })), { maxLength: 3 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 6 }),
        minuteArb,
        minuteArb,
        fc.integer({ min: 0, max: 30 * 60 }),
        fc.integer({ min: 0, max: 59_999 }),
        (capacity, maxLength, reservations, windows, count, hours, from, to, nowMinute, seconds) => {
          const flavor = domainFlavor(capacity, maxLength);
          const maintenance = windows.map(([s, len]) => ({ start: at(s), end: at(Math.min(SPAN, s + len)), count: flavor.slots }));
          const earliest = at(Math.min(from, to)) + seconds; // not always on a minute
          const latest = at(Math.max(from, to));
          const now = at(nowMinute);
          const got = earliestStart(flavor, { instanceCount: count, hours, earliest, latest, now, reservations, maintenance });

          let expected: number | null = null;
          for (let s = Math.ceil(Math.max(earliest, now) / MINUTE) * MINUTE; s <= latest; s += MINUTE) {
            if (bookable(flavor, reservations, maintenance, s, hours, count, now)) {
              expected = s;
              break;
            }
          }
          expect(got === null ? null : new Date(got).toISOString()).toBe(expected === null ? null : new Date(expected).toISOString());
        },
      ),
      { numRuns: 600 },
    );
  });
});
