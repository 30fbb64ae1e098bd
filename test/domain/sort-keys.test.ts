/**
 * src/domain/capacity.ts#sortKeys, the radix sort of the sweep's packed event keys: the same
 * order as the native numeric sort for any integer keys in [0, 2^53), few or many, spread or
 * sharing their high or low digits, with duplicates.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sortKeys } from '../../src/domain/capacity.js';

const keyArb = fc.oneof(
  fc.integer({ min: 0, max: 2 ** 21 }),
  fc.integer({ min: 0, max: 2 ** 32 }),
  fc.constantFrom(0, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1, 2 ** 53 - 2048, 2 ** 43),
  fc.maxSafeNat(),
);

function check(keys: number[]): void {
  const got = Float64Array.from(keys);
  sortKeys(got);
  expect([...got]).toEqual([...Float64Array.from(keys).sort()]);
}

describe('sortKeys', () => {
  it('orders keys as the native sort does, few or many', () => {
    fc.assert(
      fc.property(fc.array(keyArb, { maxLength: 40 }), fc.integer({ min: 0, max: 3000 }), fc.nat(), (sample, n, seed) => {
        // `n` keys drawn from the sample (duplicates), shifted by a common offset now and then.
        if (sample.length === 0) return check([]);
        const offset = seed % 3 === 0 ? 2 ** 40 : 0;
        check(Array.from({ length: n }, (_, i) => Math.min(2 ** 53 - 1, sample[(i * 7919 + seed) % sample.length]! + offset)));
      }),
      { numRuns: 200 },
    );
  });

  it('sorts many spread keys (the radix path) and an already sorted or reversed list', () => {
    fc.assert(
      fc.property(fc.array(keyArb, { minLength: 1024, maxLength: 5000 }), (keys) => {
        check(keys);
        const ascending = [...keys].sort((a, b) => a - b);
        check(ascending);
        check(ascending.reverse());
      }),
      { numRuns: 30 },
    );
  });
});
