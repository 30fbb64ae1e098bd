/** The hand-written formatter against the platform's ISO formatting, over the whole storable range. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { formatApi } from '../../src/domain/time.js';

const iso = (ms: number) => new Date(ms).toISOString().slice(0, 19) + '+00:00';
const FIRST = Date.UTC(1000, 0, 1);
const LAST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

describe('formatApi', () => {
  it('matches toISOString for any millisecond of years 1000–9999', () => {
    fc.assert(
      fc.property(fc.integer({ min: FIRST, max: LAST }), (ms) => formatApi(ms) === iso(ms)),
      { numRuns: 20_000 },
    );
  });

  it('is exact at the edges: epoch, leap days, century and era boundaries, the first and last second', () => {
    const cases = [
      0,
      -1,
      1,
      FIRST,
      LAST,
      Date.UTC(2000, 1, 29, 12),
      Date.UTC(1900, 1, 28, 23, 59, 59),
      Date.UTC(1900, 2, 1),
      Date.UTC(2100, 1, 28),
      Date.UTC(2100, 2, 1),
      Date.UTC(1600, 1, 29),
      Date.UTC(1969, 11, 31, 23, 59, 59, 999),
      Date.UTC(2026, 11, 31, 23, 59, 59),
      Date.UTC(2027, 0, 1),
    ];
    for (const ms of cases) expect(formatApi(ms)).toBe(iso(ms));
    expect(formatApi(Date.UTC(2026, 10, 25, 9, 5, 7))).toBe('2026-11-25T09:05:07+00:00');
  });
});
