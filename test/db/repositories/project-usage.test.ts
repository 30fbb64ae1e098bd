/**
 * A project's quota usage counted by the database (src/db/repositories/reservations.ts,
 * `projectUsage`) equals the domain rule it spells in SQL (src/domain/quota.ts, `usageOf`) over
 * the project's effective reservations, on every dialect: random reservations of any length in
 * whole minutes (the API's dates), of several statuses and projects.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { CompiledQuery } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../../src/db/connect.js';
import { projectUsage, projectUsageStep } from '../../../src/db/repositories/reservations.js';
import { usageOf } from '../../../src/domain/quota.js';
import { EFFECTIVE_STATUSES, type Flavor, type ReservationStatus } from '../../../src/domain/types.js';
import { DIALECTS, migratedDatabase } from '../../support/db.js';
import { seedFlavor, seedReservation } from '../../support/lifecycle-helpers.js';

const MINUTE = 60_000;
const BASE = Date.UTC(2027, 0, 1);
const STATUSES: ReservationStatus[] = ['PENDING_CREATE', 'ALLOCATED', 'ACTIVE', 'COMPLETE', 'ERROR'];

const reservationArb = fc.record({
  startMinute: fc.integer({ min: 0, max: 60 * 24 * 400 }),
  minutes: fc.integer({ min: 1, max: 60 * 24 * 40 }),
  instanceCount: fc.integer({ min: 1, max: 50 }),
  status: fc.constantFrom(...STATUSES),
  ours: fc.boolean(),
});

describe.each(DIALECTS)('project usage on %s', (dialect) => {
  let db: Db;
  let close: () => Promise<void>;
  let flavor: Flavor;
  beforeAll(async () => {
    ({ db, close } = await migratedDatabase(dialect));
    flavor = await seedFlavor(db);
  });
  afterAll(async () => close?.());

  it('is zero reservations and zero hours for a project without any', async () => {
    expect(await projectUsage(db, 'no-such-project')).toEqual({ reservation: 0, hours: 0 });
  });

  it('equals usageOf over the effective reservations of the project, whatever their lengths', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(reservationArb, { maxLength: 25 }), async (specs) => {
        const project = randomUUID().replace(/-/g, '');
        const other = randomUUID().replace(/-/g, '');
        const rows = specs.map((x) => ({
          projectId: x.ours ? project : other,
          status: x.status,
          start: BASE + x.startMinute * MINUTE,
          end: BASE + (x.startMinute + x.minutes) * MINUTE,
          instanceCount: x.instanceCount,
        }));
        for (const r of rows) await seedReservation(db, { ...r, flavor });
        const effective = rows.filter((r) => r.projectId === project && (EFFECTIVE_STATUSES as readonly string[]).includes(r.status));
        const asRule = effective.map((r) => ({ start: r.start, end: r.end, instance_count: r.instanceCount }));
        expect(await projectUsage(db, project)).toEqual(usageOf(asRule));
      }),
      { numRuns: 30 },
    );
  });

  // 0007-project-usage-index: the sum is read from the index alone, never row by row from the
  // table. PostgreSQL's planner picks by table size (a seq scan on a small table), so it is
  // left to the two whose plans are fixed by the index.
  it.runIf(dialect !== 'postgres')('reads the usage from the covering index alone', async () => {
    const q = projectUsageStep(db, 'any-project').query;
    const explain = dialect === 'mysql' ? 'explain' : 'explain query plan';
    const plan = await db.kysely.executeQuery(CompiledQuery.raw(`${explain} ${q.sql}`, [...q.parameters]));
    const text = JSON.stringify(plan.rows);
    expect(text).toContain('warre_ix_reservation_project_usage');
    expect(text).toMatch(dialect === 'mysql' ? /Using index(?! condition)/ : /COVERING INDEX/);
  });
});
