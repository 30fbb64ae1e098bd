/** src/api/views.ts: the hand-written availability JSON is exactly JSON.stringify of its shape. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { availabilityJson, bookableFlavorView } from '../../src/api/views.js';
import { formatApi } from '../../src/domain/time.js';
import type { Flavor } from '../../src/domain/types.js';

const flavorArb: fc.Arbitrary<Flavor> = fc.record({
  id: fc.uuid(),
  name: fc.string({ unit: 'binary', maxLength: 20 }),
  description: fc.option(fc.string({ unit: 'binary', maxLength: 20 }), { nil: null }),
  vcpu: fc.nat(),
  memory_mb: fc.nat(),
  disk_gb: fc.nat(),
  ephemeral_gb: fc.nat(),
  active: fc.boolean(),
  properties: fc.constant(null),
  max_length_hours: fc.nat(),
  slots: fc.nat(),
  is_public: fc.boolean(),
  extra_specs: fc.option(fc.dictionary(fc.string({ unit: 'binary', maxLength: 8 }), fc.jsonValue({ maxDepth: 2 })), { nil: null }),
  start: fc.constant(null),
  end: fc.constant(null),
  category: fc.option(fc.string({ maxLength: 8 }), { nil: null }),
  availability_zone: fc.option(fc.string({ maxLength: 8 }), { nil: null }),
});

const T0 = Date.UTC(2030, 0, 1);
const intervalsArb = fc.array(fc.tuple(fc.integer({ min: 0, max: 5000 }), fc.nat(10), fc.boolean()), { maxLength: 12 }).map((steps) => {
  let t = T0;
  return steps.map(([len, free, gap]) => {
    if (gap) t += 60_000; // not contiguous: both ends formatted
    const iv = { start: t, end: t + (len + 1) * 60_000, free };
    t = iv.end;
    return iv;
  });
});

describe('availabilityJson', () => {
  it('is JSON.stringify of the availability shape', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ flavor: flavorArb, intervals: intervalsArb }), { maxLength: 4 }), (results) => {
        const expected = JSON.stringify({
          start: formatApi(T0),
          end: formatApi(T0 + 86_400_000),
          results: results.map(({ flavor, intervals }) => ({
            flavor: bookableFlavorView(flavor),
            slots: flavor.slots,
            intervals: intervals.map((i) => ({ start: formatApi(i.start), end: formatApi(i.end), free: i.free })),
          })),
        });
        expect(availabilityJson(T0, T0 + 86_400_000, results)).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });
});
