/**
 * `npm run bench -- --breakdown`: where a request's time goes, measured
 * in-process on the seeded database (no HTTP, one call at a time): the
 * repository calls the routes make, the SQL alone, the row mapping, the
 * views, JSON, the free-slot sweep and a whole create.
 *
 * The "SQL alone" lines re-issue the repository's query shapes (kept in step
 * with src/db/repositories/reservations.ts by hand: a repository does not
 * expose its query builders) returning raw rows.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import pino from 'pino';
import { reservationListJson } from '../api/reservation-json.js';
import { flavorView, reservationView } from '../api/views.js';
import { emptyContext } from '../auth/context.js';
import type { Db } from '../db/connect.js';
import * as flavors from '../db/repositories/flavors.js';
import { flavorOccupancy } from '../db/repositories/occupancy.js';
import * as reservations from '../db/repositories/reservations.js';
import { freeSlots } from '../domain/capacity.js';
import { DAY, formatApi, HOUR } from '../domain/time.js';
import { EFFECTIVE_STATUSES } from '../domain/types.js';
import type { Services } from '../services/dependencies.js';
import { createReservation } from '../services/reservations.js';
import { num } from './report.js';
import type { Seeded } from './seed.js';

interface Step {
  name: string;
  ms: number;
}

/** Mean ms per call over `n` calls after 3 unmeasured ones. */
async function timeIt(n: number, fn: () => unknown): Promise<number> {
  for (let i = 0; i < 3; i++) await fn();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn();
  return (performance.now() - t0) / n;
}

export async function breakdown(db: Db, s: Seeded): Promise<string> {
  const steps: Step[] = [];
  const step = async (name: string, n: number, fn: () => unknown) => steps.push({ name, ms: await timeIt(n, fn) });
  const all = { limit: 1000, offset: 0 };

  const fl = await flavors.listFlavors(db, { visibleToProject: s.memberProject }, all);
  await step(`list flavors: listFlavors (count + ${fl.rows.length} rows)`, 200, () =>
    flavors.listFlavors(db, { visibleToProject: s.memberProject }, all),
  );
  await step('list flavors: views + JSON.stringify', 200, () => JSON.stringify({ results: fl.rows.map(flavorView), total: fl.total }));

  // The reservation lists as the route answers them: rows as stored, JSON bytes written from them.
  const mine = await reservations.listReservationRows(db, { projectId: s.memberProject }, all);
  await step(`member list: listReservationRows (${mine.rows.length} rows, flavors)`, 200, () =>
    reservations.listReservationRows(db, { projectId: s.memberProject }, all),
  );
  await step('member list: reservationListJson', 200, () => reservationListJson(mine, undefined).release());

  const admin = await reservations.listReservationRows(db, { projectId: null }, all);
  await step('admin 1,000: listReservationRows (page + count in one batch, flavors)', 20, () =>
    reservations.listReservationRows(db, { projectId: null }, all),
  );
  await step('admin 1,000: SQL alone: count(*)', 20, () =>
    db.kysely
      .selectFrom('reservation')
      .select((eb) => eb.fn.countAll().as('n'))
      .execute(),
  );
  await step('admin 1,000: SQL alone: the page (created_at, id index) limit 1000', 20, () =>
    sql`select * from ${db.dialect.tableUsingIndex('reservation', 'warre_ix_reservation_created')} order by created_at, id limit 1000`.execute(
      db.kysely,
    ),
  );
  const json = reservationListJson(admin, undefined);
  await step(`admin 1,000: reservationListJson (${Math.round(json.bytes.length / 1024)} KiB)`, 50, () =>
    reservationListJson(admin, undefined).release(),
  );
  json.release();
  // What the list did before (issue 11), for comparison: a record and a view per row, JSON.stringify.
  await step('admin 1,000: before: records + reservationView + JSON.stringify + UTF-8', 50, () =>
    Buffer.from(
      JSON.stringify({
        results: admin.rows.map((r) => reservationView({ ...reservations.rowToReservation(r), flavor: admin.flavors.get(r.flavor_id)! })),
        total: admin.total,
      }),
    ),
  );

  for (const f of s.freeSlotFlavors) {
    const label = `free slots ${f.count.toLocaleString('en-US')}`;
    const flavor = (await flavors.getFlavor(db, f.id))!;
    const n = f.count >= 10_000 ? 20 : 100;
    await step(`${label}: getFlavor`, n, () => flavors.getFlavor(db, f.id));
    await step(`${label}: flavorOccupancy (SQL + rows → numbers)`, n, () => flavorOccupancy(db, flavor, f.windowStart, f.windowEnd));
    await step(`${label}: SQL alone (same query, raw rows)`, n, () =>
      db.kysely
        .selectFrom('reservation')
        .select(['start', 'end', 'instance_count'])
        .where('flavor_id', '=', f.id)
        .where('start', '<=', db.codec.dt(f.windowEnd))
        .where('end', '>=', db.codec.dt(f.windowStart))
        .where('status', 'in', EFFECTIVE_STATUSES)
        .execute(),
    );
    const occ = (await flavorOccupancy(db, flavor, f.windowStart, f.windowEnd)).reservations;
    const now = Date.now();
    await step(`${label}: freeSlots sweep`, n, () => freeSlots(flavor, f.windowStart, f.windowEnd, occ, now));
    const slots = freeSlots(flavor, f.windowStart, f.windowEnd, occ, now);
    await step(`${label}: answer JSON`, n, () => JSON.stringify(slots.map((x) => ({ start: formatApi(x.start), end: formatApi(x.end) }))));
  }

  // A whole create through the service layer (no HTTP), on a fresh project, far from the HTTP creates.
  const projectId = randomUUID().replace(/-/g, '');
  const svc: Services = {
    db,
    limits: { getLimits: async () => ({ reservation: 1_000_000, hours: 1_000_000_000 }) },
    leases: null,
    serviceSession: null,
    nudgeWorker: () => {},
    now: () => Date.now(),
    log: pino({ level: 'silent' }),
  };
  const ctx = { ...emptyContext('req-breakdown'), projectId, userId: 'bench-breakdown', roles: ['member'] };
  let i = 0;
  const base = s.createBase + 100 * DAY;
  const nFlavors = s.tenSlotFlavors.length;
  await step('create: createReservation (service layer, one transaction)', 100, async () => {
    const start = base + Math.floor(i / nFlavors) * DAY + (i % nFlavors) * HOUR;
    const input = { flavor_id: s.tenSlotFlavors[i % nFlavors]!, start, end: start + 20 * HOUR, instance_count: 1 };
    i++;
    await createReservation(svc, ctx, { ok: true, value: input }, false);
  });
  await step('create: projectUsage (quota usage, one aggregate)', 100, () => reservations.projectUsage(db, projectId));

  const lines = ['| Step | ms per call |', '| --- | ---: |', ...steps.map((x) => `| ${x.name} | ${num(x.ms)} |`)];
  return lines.join('\n');
}
