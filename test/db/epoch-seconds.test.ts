/**
 * src/db/dialect.ts, `epochSeconds`: what the database computes from a stored datetime is its
 * whole epoch seconds, on every dialect and over the years a datetime is stored in (1000–9999):
 * the occupancy reads (availability, free slots, creates) and the quota's hours rely on it.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/connect.js';
import { DIALECTS, migratedDatabase } from '../support/db.js';

const EDGES = [
  '1000-01-01 00:00:00',
  '1582-10-04 23:59:59',
  '1582-10-15 00:00:00',
  '1600-02-29 12:00:00',
  '1900-02-28 23:59:59',
  '1900-03-01 00:00:00',
  '1969-12-31 23:59:59',
  '1970-01-01 00:00:00',
  '2000-02-29 00:00:01',
  '2038-01-19 03:14:08',
  '2100-03-01 00:00:00',
  '9999-12-31 23:59:59',
].map((t) => Date.parse(`${t.replace(' ', 'T')}Z`));

describe.each(DIALECTS)('epochSeconds on %s', (dialect) => {
  let db: Db;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ db, close } = await migratedDatabase(dialect));
  });
  afterAll(async () => close?.());

  it('is the whole epoch seconds of the stored datetime', async () => {
    const secondsArb = fc.integer({ min: Date.UTC(1000, 0, 1) / 1000, max: Date.UTC(9999, 11, 31, 23, 59, 59) / 1000 });
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          secondsArb.map((s) => s * 1000),
          { minLength: 1, maxLength: 20 },
        ),
        async (times) => {
          const all = times.concat(EDGES);
          const ids = all.map(() => randomUUID());
          await db.kysely
            .insertInto('maintenance_window')
            .values(all.map((t, i) => ({ id: ids[i]!, start: db.codec.dt(t), end: db.codec.dt(t), note: null })))
            .execute();
          const rows = await db.kysely
            .selectFrom('maintenance_window')
            .select(['id', db.dialect.epochSeconds('start').as('s')])
            .where('id', 'in', ids)
            .execute();
          const got = new Map(rows.map((r) => [r.id, Number(r.s)]));
          expect(ids.map((id) => got.get(id))).toEqual(all.map((t) => t / 1000));
        },
      ),
      { numRuns: 10 },
    );
  });
});
