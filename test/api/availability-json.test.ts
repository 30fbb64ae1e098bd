/**
 * src/api/availability-json.ts writes the availability answer as bytes; they must be exactly
 * JSON.stringify of the availability shape (bookableFlavorView, formatApi dates), with any
 * flavor text (unicode, quotes, control characters, lone surrogates), any step function and
 * any datetime formatApi writes. The pieces it is made of (src/api/json-bytes.ts) are checked
 * on their own too.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { availabilityJson } from '../../src/api/availability-json.js';
import { ApiDateTimes, Out, writeNumber } from '../../src/api/json-bytes.js';
import { bookableFlavorView } from '../../src/api/views.js';
import type { FreeSteps } from '../../src/domain/availability.js';
import { formatApi } from '../../src/domain/time.js';
import type { Flavor } from '../../src/domain/types.js';
import { anyString, flavorArb } from '../support/json-arbitraries.js';

const availabilityFlavorArb = flavorArb(fc.oneof(fc.uuid(), anyString), fc.oneof(fc.nat(), fc.integer({ min: 2 ** 31, max: 2 ** 40 })));

const YEAR_1000 = Date.UTC(1000, 0, 1);
const YEAR_10000 = Date.UTC(10000, 0, 1);
/** Any instant formatApi may be given: minutes most of the time, seconds and milliseconds, years out of the stored range. */
const instantArb = fc.oneof(
  fc.integer({ min: Date.UTC(2020, 0, 1) / 60_000, max: Date.UTC(2040, 0, 1) / 60_000 }).map((m) => m * 60_000),
  fc.integer({ min: YEAR_1000, max: YEAR_10000 - 1 }),
  fc.integer({ min: YEAR_1000 - 3 * 86_400_000, max: YEAR_1000 + 3 * 86_400_000 }),
  fc.integer({ min: YEAR_10000 - 3 * 86_400_000, max: YEAR_10000 + 3 * 86_400_000 }),
  fc.integer({ min: -8.6e15, max: 8.6e15 }), // what a Date holds, with room for the steps after it
);

/** Increasing boundaries from `from`: steps of minutes up to months, some with seconds; free counts of any size. */
const stepsArb = (from: number): fc.Arbitrary<FreeSteps> =>
  fc
    .array(
      fc.tuple(
        fc.oneof(
          fc.integer({ min: 1, max: 5000 }).map((m) => m * 60_000),
          fc.integer({ min: 1, max: 90 * 86_400_000 }),
        ),
        fc.oneof(fc.nat(20), fc.nat(), fc.integer({ min: 2 ** 31, max: 2 ** 45 })),
      ),
      { maxLength: 40 },
    )
    .map((parts) => {
      const times = new Float64Array(parts.length + 1);
      const free = new Float64Array(parts.length);
      times[0] = from;
      parts.forEach(([len, f], i) => {
        times[i + 1] = times[i]! + len;
        free[i] = f;
      });
      return { times, free, length: parts.length };
    });

/** The answer as JSON.stringify writes it, from interval objects. */
function stringified(start: number, end: number, results: { flavor: Flavor; steps: FreeSteps }[]): string {
  return JSON.stringify({
    start: formatApi(start),
    end: formatApi(end),
    results: results.map(({ flavor, steps }) => ({
      flavor: bookableFlavorView(flavor),
      slots: flavor.slots,
      intervals: Array.from({ length: steps.length }, (_, i) => ({
        start: formatApi(steps.times[i]!),
        end: formatApi(steps.times[i + 1]!),
        free: steps.free[i]!,
      })),
    })),
  });
}

describe('availabilityJson', () => {
  it('is JSON.stringify of the availability shape, as UTF-8 bytes', () => {
    const resultsArb = fc
      .tuple(instantArb, fc.array(availabilityFlavorArb, { maxLength: 4 }))
      .chain(([from, flavors]) => fc.tuple(...flavors.map((flavor) => stepsArb(from).map((steps) => ({ flavor, steps })))));
    fc.assert(
      fc.property(instantArb, resultsArb, (start, results) => {
        const end = start + 86_400_000;
        const json = availabilityJson(start, end, results);
        try {
          expect(json.bytes.toString('utf8')).toBe(stringified(start, end, results));
          expect(json.bytes.equals(Buffer.from(stringified(start, end, results)))).toBe(true);
        } finally {
          json.release();
        }
      }),
      { numRuns: 500 },
    );
  });

  it('writes the same bytes again from a reused buffer', () => {
    const flavor = fc.sample(availabilityFlavorArb, { numRuns: 1, seed: 7 })[0]!;
    const steps = fc.sample(stepsArb(Date.UTC(2030, 0, 1)), { numRuns: 1, seed: 7 })[0]!;
    const first = availabilityJson(Date.UTC(2030, 0, 1), Date.UTC(2030, 3, 1), [{ flavor, steps }]);
    const copy = Buffer.from(first.bytes);
    first.release();
    const again = availabilityJson(Date.UTC(2030, 0, 1), Date.UTC(2030, 3, 1), [{ flavor, steps }]);
    expect(again.bytes.equals(copy)).toBe(true);
    again.release();
  });

  it('writes an empty list and flavors without steps', () => {
    const flavor = fc.sample(availabilityFlavorArb, { numRuns: 1, seed: 3 })[0]!;
    const none: FreeSteps = { times: new Float64Array(0), free: new Float64Array(0), length: 0 };
    for (const results of [[], [{ flavor, steps: none }]]) {
      const json = availabilityJson(0, 60_000, results);
      expect(json.bytes.toString('utf8')).toBe(stringified(0, 60_000, results));
      json.release();
    }
  });
});

describe('json-bytes', () => {
  it('ApiDateTimes writes formatApi of every instant, in order or not', () => {
    fc.assert(
      fc.property(fc.array(instantArb, { maxLength: 30 }), fc.boolean(), (instants, sorted) => {
        const list = sorted ? [...instants].sort((a, b) => a - b) : instants;
        const out = new Out(16);
        const dates = new ApiDateTimes();
        for (const t of list) {
          dates.write(out, t);
          out.ascii('|');
        }
        expect(out.buf.toString('utf8', 0, out.at)).toBe(list.map((t) => `${formatApi(t)}|`).join(''));
      }),
      { numRuns: 500 },
    );
  });

  it('writeNumber writes String(n)', () => {
    const special = [0, -0, 9, 10, 99, 100, 2 ** 31 - 1, 2 ** 31, -1, 0.5, 1e21, Number.NaN, Number.POSITIVE_INFINITY];
    fc.assert(
      fc.property(fc.oneof(fc.nat(), fc.integer(), fc.double(), fc.constantFrom(...special)), (n) => {
        const out = new Out(4);
        writeNumber(out, n);
        expect(out.buf.toString('utf8', 0, out.at)).toBe(String(n));
      }),
      { numRuns: 1000 },
    );
  });
});
