/**
 * src/db/repositories/occupancy.ts: the columns availability reads (flavorsOccupancyColumns)
 * hold, flavor by flavor, exactly the occupants of the object form the other readers use
 * (flavorsOccupancy: reservations, and maintenance windows counted as the flavor's slots), on
 * every dialect: random reservations of several statuses and flavors, windows shared by flavors,
 * times on minutes and on seconds. On SQLite the reservations come as one text per flavor
 * (DialectAdapter.integersAsText), read by readIntegerTriples, checked here on its own too.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../../src/db/connect.js';
import { insertMaintenanceWindow } from '../../../src/db/repositories/maintenance-windows.js';
import { flavorsOccupancy, flavorsOccupancyColumns, readIntegerTriples } from '../../../src/db/repositories/occupancy.js';
import { insertReservation } from '../../../src/db/repositories/reservations.js';
import type { Occupant, OccupantColumns } from '../../../src/domain/capacity.js';
import type { Flavor, ReservationStatus } from '../../../src/domain/types.js';
import { DIALECTS, migratedDatabase } from '../../support/db.js';
import { seedFlavor } from '../../support/lifecycle-helpers.js';

const MINUTE = 60_000;
const BASE = Date.UTC(2027, 0, 1);
const STATUSES: ReservationStatus[] = ['PENDING_CREATE', 'ALLOCATED', 'ACTIVE', 'COMPLETE', 'ERROR'];

const timeArb = fc.oneof(
  fc.integer({ min: 0, max: 60 * 24 * 30 }).map((m) => BASE + m * MINUTE),
  fc.integer({ min: 0, max: 60 * 60 * 24 * 30 }).map((s) => BASE + s * 1000),
);

const sorted = (list: readonly Occupant[]) => [...list].sort((a, b) => a.start - b.start || a.end - b.end || a.count - b.count);
const occupantsOf = (c: OccupantColumns): Occupant[] =>
  Array.from({ length: c.length }, (_, i) => ({ start: c.start[i]!, end: c.end[i]!, count: c.count[i]! }));

describe.each(DIALECTS)('occupancy on %s', (dialect) => {
  let db: Db;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ db, close } = await migratedDatabase(dialect));
  });
  afterAll(async () => close?.());

  it('as columns: each flavor’s reservations and maintenance windows, as the objects say', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            flavor: fc.nat(3),
            start: timeArb,
            minutes: fc.integer({ min: 1, max: 60 * 24 * 10 }),
            count: fc.integer({ min: 1, max: 9 }),
            status: fc.constantFrom(...STATUSES),
          }),
          { maxLength: 40 },
        ),
        fc.array(
          fc.record({
            flavors: fc.subarray([0, 1, 2, 3], { minLength: 1 }),
            start: timeArb,
            minutes: fc.integer({ min: 1, max: 60 * 24 * 3 }),
          }),
          {
            maxLength: 3,
          },
        ),
        timeArb,
        fc.integer({ min: 1, max: 60 * 24 * 20 }),
        async (reservations, windows, from, minutes) => {
          const flavors: Flavor[] = [];
          for (const slots of [3, 5, 1, 8]) flavors.push(await seedFlavor(db, { slots }));
          for (const r of reservations) {
            await insertReservation(db, {
              id: randomUUID(),
              created_at: BASE,
              user_id: 'u',
              project_id: 'p',
              flavor_id: flavors[r.flavor]!.id,
              lease_id: null,
              compute_flavor: null,
              status: r.status,
              status_reason: null,
              start: r.start,
              end: r.start + r.minutes * MINUTE,
              instance_count: r.count,
            });
          }
          for (const w of windows) {
            await insertMaintenanceWindow(db, {
              id: randomUUID(),
              start: w.start,
              end: w.start + w.minutes * MINUTE,
              note: null,
              flavors: w.flavors.map((i) => ({ id: flavors[i]!.id, name: flavors[i]!.name })),
            });
          }
          const asked = flavors.slice(0, 3); // the fourth is not asked for: none of its rows may come
          const to = from + minutes * MINUTE;
          const objects = await flavorsOccupancy(db, asked, from, to);
          const columns = await flavorsOccupancyColumns(db, asked, from, to);
          expect([...columns.keys()]).toEqual(asked.map((f) => f.id));
          for (const f of asked) {
            const o = objects.get(f.id)!;
            expect(sorted(occupantsOf(columns.get(f.id)!))).toEqual(sorted(o.reservations.concat(o.maintenance)));
          }
        },
      ),
      { numRuns: 15 },
    );
  });

  it('as columns: more flavors than one query asks about (200)', async () => {
    const flavors: Flavor[] = [];
    for (let i = 0; i < 205; i++) {
      const f = await seedFlavor(db, { slots: 1 + (i % 4) });
      flavors.push(f);
      await insertReservation(db, {
        id: randomUUID(),
        created_at: BASE,
        user_id: 'u',
        project_id: 'p',
        flavor_id: f.id,
        lease_id: null,
        compute_flavor: null,
        status: 'ACTIVE',
        status_reason: null,
        start: BASE + i * MINUTE,
        end: BASE + (i + 60) * MINUTE,
        instance_count: 1 + (i % 3),
      });
    }
    const columns = await flavorsOccupancyColumns(db, flavors, BASE, BASE + 1000 * MINUTE);
    flavors.forEach((f, i) => {
      expect(occupantsOf(columns.get(f.id)!)).toEqual([{ start: BASE + i * MINUTE, end: BASE + (i + 60) * MINUTE, count: 1 + (i % 3) }]);
    });
  });

  it('as columns: flavors without occupants have empty columns', async () => {
    const f = await seedFlavor(db, { slots: 2 });
    const columns = await flavorsOccupancyColumns(db, [f], BASE, BASE + 60 * MINUTE);
    expect(columns.get(f.id)!.length).toBe(0);
    expect((await flavorsOccupancyColumns(db, [], BASE, BASE + MINUTE)).size).toBe(0);
  });
});

describe('readIntegerTriples', () => {
  const columns = (n: number): OccupantColumns => ({
    start: new Float64Array(n),
    end: new Float64Array(n),
    count: new Float64Array(n),
    length: n,
  });

  it('reads the triples into the columns from the position given, seconds as milliseconds', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: -1e12, max: 1e12 }), fc.integer({ min: -1e12, max: 1e12 }), fc.integer({ min: -5, max: 1e6 }))),
        fc.nat(3),
        (triples, at) => {
          const into = columns(at + triples.length);
          const text = triples.map((t) => t.join(',')).join(',');
          expect(readIntegerTriples(text, triples.length, into, at)).toBe(at + triples.length);
          expect(occupantsOf(into).slice(at)).toEqual(triples.map(([s, e, c]) => ({ start: s * 1000, end: e * 1000, count: c })));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('fails on anything else than that many triples of integers', () => {
    for (const [text, n] of [
      ['1,2', 1],
      ['1,2,3,4', 1],
      ['1,2,3', 2],
      ['1,2,3,', 1],
      [',1,2,3', 1],
      ['1,2,3.5', 1],
      ['1,--2,3', 1],
      ['1,2-,3', 1],
      ['1,2,', 1],
      ['', 1],
      ['1,2,1234567890123456', 1],
      ['1;2;3', 1],
    ] as const) {
      expect(() => readIntegerTriples(text, n, columns(2), 0), text).toThrow(/occupancy/);
    }
  });
});
