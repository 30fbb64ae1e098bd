/**
 * docs/api.md#no-overbooking [beyond] "No overbooking under concurrency", end to end: a real
 * `warre api` with 3 worker processes on each database, and 30 clients on
 * 30 separate connections racing for the same capacity or the same quota.
 * Then extensions: the lease back-end exists only in-process, so three app
 * instances with their own connection pools race on MariaDB and PostgreSQL.
 * Only outcomes are asserted (answers and rows), never timings.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/db/connect.js';
import { upgrade } from '../../src/db/migrate.js';
import { insertReservation } from '../../src/db/repositories/reservations.js';
import type { Reservation } from '../../src/domain/types.js';
import { type HttpAnswer, httpRequest } from '../cli/process.js';
import { RecordingLeases } from '../support/api-helpers.js';
import { createTestDatabase, DIALECTS, type TestDatabase } from '../support/db.js';
import { type ApiProcesses, startApiProcesses } from './api-processes.js';
import { type AppOnDb, appOn } from './app-on.js';

const CLIENTS = 30;
const ADMIN = { 'x-user-id': 'admin-user', 'x-project-id': 'admin-project', 'x-roles': 'admin' };
const member = (project: string) => ({ 'x-user-id': `${project}-user`, 'x-project-id': project, 'x-roles': 'member' });

/** Whole hours from now, as an API datetime (always in the future, minute-aligned). */
function hoursAhead(h: number): string {
  const base = Math.ceil(Date.now() / 3_600_000) * 3_600_000;
  return new Date(base + h * 3_600_000).toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

function tally(answers: HttpAnswer[]): Record<number, number> {
  const t: Record<number, number> = {};
  for (const a of answers) t[a.status] = (t[a.status] ?? 0) + 1;
  return t;
}

describe.each(DIALECTS)('no overbooking: 3 API processes on %s', (dialect) => {
  let api: ApiProcesses | undefined;
  let db: Db;
  let port: number;
  let run = 0;
  const tag = () => `${dialect}-${process.pid}-${++run}`;

  beforeAll(async () => {
    api = await startApiProcesses(dialect, 3, { WARRE_QUOTA__DEFAULT_RESERVATION: '2' });
    ({ db, port } = api);
  });

  afterAll(async () => {
    await api?.stop();
  });

  async function createFlavor(fields: Record<string, unknown>): Promise<string> {
    const r = await httpRequest(port, 'POST', '/v1/flavors/', ADMIN, {
      name: `race-${tag()}`,
      vcpu: 1,
      memory_mb: 1024,
      disk_gb: 10,
      ...fields,
    });
    expect(r.status, r.body).toBe(202);
    return r.json().id as string;
  }

  async function rowsOf(where: { flavor_id?: string; project_id?: string }) {
    let q = db.kysely.selectFrom('reservation').selectAll();
    if (where.flavor_id) q = q.where('flavor_id', '=', where.flavor_id);
    if (where.project_id) q = q.where('project_id', '=', where.project_id);
    return q.execute();
  }

  /** Fire every request at once, each on its own connection. */
  const race = (requests: (() => Promise<HttpAnswer>)[]) => Promise.all(requests.map((r) => r()));

  it('the only slot of a flavor goes to exactly one of 30 clients (3 rounds)', async () => {
    for (let round = 0; round < 3; round++) {
      const flavorId = await createFlavor({ slots: 1 });
      const start = hoursAhead(24 + round * 10);
      const end = hoursAhead(26 + round * 10);
      const answers = await race(
        Array.from(
          { length: CLIENTS },
          (_, i) => () => httpRequest(port, 'POST', '/v1/reservations/', member(`p${i}-${tag()}`), { flavor_id: flavorId, start, end }),
        ),
      );
      expect(tally(answers), answers.map((a) => a.body).join('\n')).toEqual({ 200: 1, 400: CLIENTS - 1 });
      for (const a of answers.filter((x) => x.status === 400)) expect(a.json()).toEqual({ error_message: 'No capacity' });
      const winner = answers.find((a) => a.status === 200)!.json();
      const rows = await rowsOf({ flavor_id: flavorId });
      expect(rows.map((r) => r.id)).toEqual([winner.id]);
      expect(rows[0]!.instance_count).toBe(1);
    }
  });

  it('k > 1: 3 slots, 30 requests of 2 instances: exactly one fits', async () => {
    const flavorId = await createFlavor({ slots: 3 });
    const start = hoursAhead(100);
    const end = hoursAhead(103);
    const answers = await race(
      Array.from(
        { length: CLIENTS },
        (_, i) => () =>
          httpRequest(port, 'POST', '/v1/reservations/', member(`k${i}-${tag()}`), { flavor_id: flavorId, start, end, instance_count: 2 }),
      ),
    );
    expect(tally(answers), answers.map((a) => a.body).join('\n')).toEqual({ 200: 1, 400: CLIENTS - 1 });
    for (const a of answers.filter((x) => x.status === 400)) expect(a.json()).toEqual({ error_message: 'No capacity' });
    const rows = await rowsOf({ flavor_id: flavorId });
    expect(rows).toHaveLength(1);
    expect(rows[0]!.instance_count).toBe(2);
  });

  it('k = 1 on 4 slots with overlapping windows: never more than 4 at once', async () => {
    const flavorId = await createFlavor({ slots: 4 });
    // Half the clients want [200 h, 203 h], half [202 h, 205 h]: every pair overlaps at [202 h, 203 h].
    const answers = await race(
      Array.from(
        { length: CLIENTS },
        (_, i) => () =>
          httpRequest(port, 'POST', '/v1/reservations/', member(`o${i}-${tag()}`), {
            flavor_id: flavorId,
            start: hoursAhead(i % 2 === 0 ? 200 : 202),
            end: hoursAhead(i % 2 === 0 ? 203 : 205),
          }),
      ),
    );
    expect(tally(answers), answers.map((a) => a.body).join('\n')).toEqual({ 200: 4, 400: CLIENTS - 4 });
    expect(await rowsOf({ flavor_id: flavorId })).toHaveLength(4);
  });

  it('reservation quota 2: 30 requests of one project on 30 flavors → exactly 2 succeed', async () => {
    const flavorIds: string[] = [];
    for (let i = 0; i < CLIENTS; i++) flavorIds.push(await createFlavor({ slots: 5 }));
    const project = `quota-${tag()}`;
    const start = hoursAhead(300);
    const end = hoursAhead(301);
    const answers = await race(
      flavorIds.map(
        (flavorId) => () => httpRequest(port, 'POST', '/v1/reservations/', member(project), { flavor_id: flavorId, start, end }),
      ),
    );
    expect(tally(answers), answers.map((a) => a.body).join('\n')).toEqual({ 200: 2, 413: CLIENTS - 2 });
    for (const a of answers.filter((x) => x.status === 413)) {
      expect(Object.keys(a.json())).toEqual(['error_message']);
      expect(a.json().error_message).toMatch(/reservation/);
    }
    const rows = await rowsOf({ project_id: project });
    expect(rows).toHaveLength(2);
    expect(new Set(answers.filter((a) => a.status === 200).map((a) => a.json().id))).toEqual(new Set(rows.map((r) => r.id)));
  });
});

describe.each(['mysql', 'postgres'] as const)('no overbooking by extension: 3 app instances, own pools, on %s', (dialect) => {
  let testDb: TestDatabase;
  const apps: AppOnDb[] = [];
  const leases = [new RecordingLeases(), new RecordingLeases(), new RecordingLeases()];

  beforeAll(async () => {
    testDb = await createTestDatabase(dialect);
    const db = testDb.open();
    await upgrade(db);
    await db.close();
    for (const l of leases) apps.push(await appOn(testDb.target, { leases: l }));
  });
  afterAll(async () => {
    for (const a of apps) await a.close();
    await testDb?.drop();
  });

  const HOUR = 3_600_000;
  async function seed(
    db: Db,
    r: Partial<Reservation> & Pick<Reservation, 'flavor_id' | 'project_id' | 'start' | 'end' | 'status'>,
  ): Promise<string> {
    const row: Reservation = {
      id: randomUUID(),
      created_at: Math.floor(Date.now() / 1000) * 1000,
      user_id: `${r.project_id}-user`,
      lease_id: randomUUID(),
      compute_flavor: randomUUID(),
      status_reason: null,
      instance_count: 1,
      ...r,
    };
    await insertReservation(db, row);
    return row.id;
  }

  it('two ACTIVE reservations extending into the last slot from 30 clients: exactly one extension (3 rounds)', async () => {
    for (let round = 0; round < 3; round++) {
      const f = await apps[0]!.app.inject({
        method: 'POST',
        url: '/v1/flavors/',
        headers: ADMIN,
        payload: { name: `ext-${dialect}-${round}`, vcpu: 1, memory_mb: 1024, disk_gb: 10, slots: 2 },
      });
      expect(f.statusCode, f.body).toBe(202);
      const flavorId = f.json().id as string;
      const db = apps[0]!.db;
      const t = Math.ceil(Date.now() / HOUR) * HOUR + (48 + round * 10) * HOUR;
      const a = await seed(db, { flavor_id: flavorId, project_id: 'ext-a', start: t - 30 * HOUR, end: t, status: 'ACTIVE' });
      const b = await seed(db, { flavor_id: flavorId, project_id: 'ext-b', start: t - 30 * HOUR, end: t, status: 'ACTIVE' });
      await seed(db, { flavor_id: flavorId, project_id: 'ext-c', start: t + HOUR, end: t + 3 * HOUR, status: 'ALLOCATED' });
      for (const l of leases) l.reset();
      // Either extension alone fits (2 slots: itself and C); both together would need 3 in [t + 1 h, t + 2 h].
      const newEnd = new Date(t + 2 * HOUR).toISOString();
      const answers = await Promise.all(
        Array.from({ length: CLIENTS }, (_, i) => {
          const [id, project] = i % 2 === 0 ? [a, 'ext-a'] : [b, 'ext-b'];
          return apps[i % 3]!.app.inject({
            method: 'PATCH',
            url: `/v1/reservations/${id}`,
            headers: member(project),
            payload: { end: newEnd },
          });
        }),
      );
      const t200 = answers.filter((x) => x.statusCode === 200);
      expect(
        t200.map((x) => x.body),
        answers.map((x) => `${x.statusCode} ${x.body}`).join('\n'),
      ).toHaveLength(1);
      for (const x of answers.filter((y) => y.statusCode !== 200)) {
        expect(x.statusCode).toBe(400);
        expect(['Failed to extend reservation: No capacity', 'New end date must be greater then existing']).toContain(
          x.json().error_message,
        );
      }
      const ends = await Promise.all(
        [a, b].map(
          async (id) => (await apps[0]!.app.inject({ method: 'GET', url: `/v1/reservations/${id}`, headers: ADMIN })).json().end as string,
        ),
      );
      expect([a, b].filter((_, i) => ends[i] === newEnd.replace(/\.000Z$/, '+00:00'))).toEqual([t200[0]!.json().id]);
      // Exactly one lease was moved.
      expect(leases.flatMap((l) => l.calls)).toHaveLength(1);
    }
  });
});
