/**
 * docs/api.md#reservations: list / get / extend (PATCH) / delete, with a
 * recording lease back-end standing in for Blazar.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LeaseError } from '../../src/drivers/lease-backend.js';
import {
  as,
  at,
  Clock,
  call,
  createFlavor,
  createWindow,
  expectError,
  expectOk,
  expectUnchanged,
  type Headers,
  RESERVATION_FIELDS,
  RecordingLeases,
  reservationRow,
  type SeedReservation,
  seedReservation,
  uniq,
} from '../support/api-helpers.js';
import { ADMIN, buildTestApp, MEMBER, OTHER, READER, type TestApp, WRITER } from '../support/app.js';
import { DIALECTS } from '../support/db.js';

const clock = new Clock(Date.parse('2030-01-01T00:00:30.750Z'));
const HOURS_12 = 'ext-quota-12';

describe.each(DIALECTS)('reservation list/get/extend/delete on %s', (dialect) => {
  let t: TestApp;
  const leases = new RecordingLeases();

  beforeAll(async () => {
    t = await buildTestApp(dialect, { now: clock.now, leases, projectLimits: new Map([[HOURS_12, { hours: 12 }]]) });
  });
  afterAll(async () => t?.close());
  beforeEach(() => leases.reset());

  describe('list and get', () => {
    let f1: any;
    let f2: any;
    const mine: string[] = [];
    let theirs: string;

    beforeAll(async () => {
      f1 = await createFlavor(t, { slots: 10 });
      f2 = await createFlavor(t, { slots: 10 });
      const p = MEMBER['x-project-id'];
      mine.push(
        await seedReservation(t, {
          flavor_id: f1.id,
          project_id: p,
          start: '2030-02-01T00:00',
          end: '2030-02-01T01:00',
          created_at: '2029-12-01T00:00:01',
        }),
      );
      mine.push(
        await seedReservation(t, {
          flavor_id: f2.id,
          project_id: p,
          start: '2030-02-02T00:00',
          end: '2030-02-02T01:00',
          status: 'COMPLETE',
          created_at: '2029-12-01T00:00:02',
        }),
      );
      mine.push(
        await seedReservation(t, {
          flavor_id: f1.id,
          project_id: p,
          start: '2030-02-03T00:00',
          end: '2030-02-03T01:00',
          status: 'ERROR',
          created_at: '2029-12-01T00:00:03',
        }),
      );
      theirs = await seedReservation(t, {
        flavor_id: f1.id,
        project_id: OTHER['x-project-id'],
        start: '2030-02-01T00:00',
        end: '2030-02-01T01:00',
      });
    });

    const ids = (body: { results: { id: string }[] }) => body.results.map((r) => r.id);

    it("lists the caller's project only, in every state, with the nested flavor", async () => {
      const body = expectOk(await call(t, 'GET', '/v1/reservations/', MEMBER));
      expect(ids(body).sort()).toEqual([...mine].sort());
      expect(body.total).toBe(3);
      for (const r of body.results) {
        expect(Object.keys(r).sort()).toEqual(RESERVATION_FIELDS);
        expect(r.project_id).toBe(MEMBER['x-project-id']);
        expect(typeof r.flavor.name).toBe('string');
        expect(r).not.toHaveProperty('flavor_id');
      }
      expect(ids(expectOk(await call(t, 'GET', '/v1/reservations/', OTHER)))).toEqual([theirs]);
      expect(expectOk(await call(t, 'GET', '/v1/reservations/', as(uniq('empty'))))).toEqual({ results: [], total: 0 });
    });

    it('filters by flavor_id', async () => {
      expect(ids(expectOk(await call(t, 'GET', `/v1/reservations/?flavor_id=${f1.id}`, MEMBER))).sort()).toEqual([mine[0], mine[2]].sort());
      expect(ids(expectOk(await call(t, 'GET', `/v1/reservations/?flavor_id=${f2.id}`, MEMBER)))).toEqual([mine[1]]);
      expect(expectOk(await call(t, 'GET', `/v1/reservations/?flavor_id=${randomUUID()}`, MEMBER)).total).toBe(0);
    });

    it('all_projects and project_id for list:all roles; ignored for members', async () => {
      for (const h of [ADMIN, READER, WRITER]) {
        const all = expectOk(await call(t, 'GET', `/v1/reservations/?all_projects=true&flavor_id=${f1.id}`, h));
        expect(ids(all).sort()).toEqual([mine[0], mine[2], theirs].sort());
        const other = expectOk(await call(t, 'GET', `/v1/reservations/?project_id=${OTHER['x-project-id']}`, h));
        expect(ids(other)).toEqual([theirs]);
        const both = expectOk(
          await call(t, 'GET', `/v1/reservations/?all_projects=1&project_id=${MEMBER['x-project-id']}&flavor_id=${f2.id}`, h),
        );
        expect(ids(both)).toEqual([mine[1]]);
        // Without either, their own project.
        expect(expectOk(await call(t, 'GET', `/v1/reservations/?flavor_id=${f1.id}`, h)).total).toBe(0);
      }
      const asMember = expectOk(await call(t, 'GET', `/v1/reservations/?all_projects=true&project_id=${OTHER['x-project-id']}`, MEMBER));
      expect(ids(asMember).sort()).toEqual([...mine].sort());
    });

    it('get: own, or 404 for a foreign, unknown or malformed id', async () => {
      const r = expectOk(await call(t, 'GET', `/v1/reservations/${mine[0]}/`, MEMBER));
      expect(r).toMatchObject({
        id: mine[0],
        status: 'PENDING_CREATE',
        start: '2030-02-01T00:00:00+00:00',
        created_at: '2029-12-01T00:00:01+00:00',
      });
      expect(r.flavor).toEqual(f1);
      expectError(await call(t, 'GET', `/v1/reservations/${theirs}/`, MEMBER), 404, `Reservation ${theirs} doesn't exist`);
      const unknown = randomUUID();
      expectError(await call(t, 'GET', `/v1/reservations/${unknown}/`, MEMBER), 404, `Reservation ${unknown} doesn't exist`);
      expectError(await call(t, 'GET', '/v1/reservations/1/', ADMIN), 404, "Reservation 1 doesn't exist");
    });
  });

  describe('extend (PATCH)', () => {
    /** An ACTIVE reservation with a lease, of a fresh flavor unless one is given. */
    async function active(over: Partial<SeedReservation> & { flavor?: Record<string, unknown> } = {}) {
      const { flavor: flavorFields, ...seed } = over;
      const flavorId = seed.flavor_id ?? (await createFlavor(t, { slots: 1, ...flavorFields })).id;
      const lease = uniq('lease');
      const id = await seedReservation(t, {
        project_id: MEMBER['x-project-id'],
        start: '2030-01-01T00:00',
        end: '2030-01-01T10:00',
        status: 'ACTIVE',
        lease_id: lease,
        ...seed,
        flavor_id: flavorId,
      });
      return { id, flavorId, lease };
    }
    const patch = (id: string, body: unknown, h: Headers = MEMBER) => call(t, 'PATCH', `/v1/reservations/${id}/`, h, body);

    it('succeeds: the lease gets the new (normalised) end, then the row', async () => {
      const { id, lease } = await active();
      const r = expectOk(await patch(id, { end: '2030-01-01T14:00:59+02:00' }));
      expect(r).toMatchObject({
        id,
        end: '2030-01-01T12:00:00+00:00',
        start: '2030-01-01T00:00:00+00:00',
        status: 'ACTIVE',
        lease_id: lease,
      });
      expect(Object.keys(r).sort()).toEqual(RESERVATION_FIELDS);
      expect(leases.calls).toEqual([{ op: 'update', leaseId: lease, end: new Date(at('2030-01-01T12:00')) }]);
      expect(expectOk(await call(t, 'GET', `/v1/reservations/${id}/`, MEMBER)).end).toBe('2030-01-01T12:00:00+00:00');
    });

    it('schema errors are 400 and come before the policy check', async () => {
      const { id } = await active();
      await expectUnchanged(t, async () => {
        for (const h of [MEMBER, OTHER]) {
          expectError(await patch(id, { end: 'later' }, h), 400, { end: ['Not a valid datetime.'] });
          expectError(await patch(id, { end: '2030-01-01T12:00:00' }, h), 400, { end: ['Not a valid datetime.'] });
          expectError(await patch(id, { end: '2030-01-01T12:00:00Z', start: '2030-01-01T01:00:00Z' }, h), 400, {
            start: ['Unknown field.'],
          });
          expectError(await patch(id, { instance_count: 2 }, h), 400);
          expectError(await patch(id, {}, h), 400, 'No input data provided');
        }
      });
      expect(leases.calls).toEqual([]);
    });

    it('policy (404) comes before the date check; unknown ids are 404', async () => {
      const { id } = await active();
      await expectUnchanged(t, async () => {
        expectError(await patch(id, { end: '2030-01-01T12:00:00Z' }, OTHER), 404, `Reservation ${id} doesn't exist`);
        expectError(await patch(id, { end: '2030-01-01T09:00:00Z' }, OTHER), 404, `Reservation ${id} doesn't exist`);
        expectError(await patch(id, { end: '2030-01-01T12:00:00Z' }, READER), 404, `Reservation ${id} doesn't exist`);
        const unknown = randomUUID();
        expectError(await patch(unknown, { end: '2030-01-01T12:00:00Z' }), 404, `Reservation ${unknown} doesn't exist`);
      });
    });

    it('a new end that is not later is a 400, whatever the state', async () => {
      const { id } = await active();
      const pending = await seedReservation(t, {
        flavor_id: (await createFlavor(t)).id,
        project_id: MEMBER['x-project-id'],
        start: '2030-01-05T00:00',
        end: '2030-01-05T10:00',
      });
      await expectUnchanged(t, async () => {
        for (const end of ['2030-01-01T10:00:00Z', '2030-01-01T10:00:59Z', '2030-01-01T09:00:00Z', '2029-01-01T00:00:00Z']) {
          expectError(await patch(id, { end }), 400, 'New end date must be greater then existing');
        }
        expectError(await patch(pending, { end: '2030-01-05T09:00:00Z' }), 400, 'New end date must be greater then existing');
      });
      expect(leases.calls).toEqual([]);
    });

    it('the hours quota (ceil(added hours) × instance_count) comes before the lease checks', async () => {
      const flavorId = (await createFlavor(t, { slots: 10 })).id;
      // Usage: 2 × 5 h = 10 of 12.
      const id = await seedReservation(t, {
        flavor_id: flavorId,
        project_id: HOURS_12,
        start: '2030-01-02T00:00',
        end: '2030-01-02T05:00',
        instance_count: 2,
      });
      const h = as(HOURS_12);
      await expectUnchanged(t, async () => {
        expectError(
          await patch(id, { end: '2030-01-02T06:01:00Z' }, h),
          413,
          `Project ${HOURS_12} is over a limit for [Resource hours is over limit of 12 due to current usage 10 and delta 4]`,
        );
      });
      // Within the quota, the missing lease answers.
      expectError(await patch(id, { end: '2030-01-02T06:00:00Z' }, h), 400, 'Failed to extend reservation: No lease');
    });

    it('refuses without a lease, outside ACTIVE, too long, or without capacity', async () => {
      const noLease = await active({ lease_id: null });
      const allocated = await active({ status: 'ALLOCATED' });
      const pendingNoLease = await active({ status: 'PENDING_CREATE', lease_id: null });
      const complete = await active({ status: 'COMPLETE' });
      // max_length_hours counts from now (00:00:30.75): 24 h reach 2030-01-02T00:00:30.
      const short = await active({ flavor: { max_length_hours: 24 } });
      const blocked = await active();
      await seedReservation(t, { flavor_id: blocked.flavorId, project_id: uniq('x'), start: '2030-01-01T11:00', end: '2030-01-01T12:00' });
      const maintained = await active();
      await createWindow(t, '2030-01-01T11:00', '2030-01-01T12:00', [maintained.flavorId]);
      const cases: [string, string, string][] = [
        [noLease.id, '2030-01-01T12:00:00Z', 'No lease'],
        [pendingNoLease.id, '2030-01-01T12:00:00Z', 'No lease'],
        [allocated.id, '2030-01-01T12:00:00Z', 'Reservation must be in ACTIVE state'],
        [complete.id, '2030-01-01T12:00:00Z', 'Reservation must be in ACTIVE state'],
        [short.id, '2030-01-02T00:01:00Z', 'Reservation is too long, max allowed is 24 hours'],
        [blocked.id, '2030-01-01T11:30:00Z', 'No capacity'],
        [blocked.id, '2030-01-01T11:00:00Z', 'No capacity'],
        [maintained.id, '2030-01-01T11:30:00Z', 'No capacity'],
      ];
      await expectUnchanged(t, async () => {
        for (const [id, end, reason] of cases) expectError(await patch(id, { end }), 400, `Failed to extend reservation: ${reason}`);
      });
      expect(leases.calls).toEqual([]);
      // Up to the limits it works.
      expectOk(await patch(short.id, { end: '2030-01-02T00:00:00Z' }));
      expectOk(await patch(blocked.id, { end: '2030-01-01T10:59:00Z' }));
      expect(leases.calls.map((c) => c.leaseId)).toEqual([short.lease, blocked.lease]);
    });

    it('k instances need k free slots over the extension', async () => {
      const flavorId = (await createFlavor(t, { slots: 3 })).id;
      const mineK = await active({ flavor_id: flavorId, instance_count: 2 });
      await seedReservation(t, {
        flavor_id: flavorId,
        project_id: uniq('x'),
        start: '2030-01-01T10:30',
        end: '2030-01-01T11:00',
        instance_count: 2,
      });
      await expectUnchanged(t, async () => {
        expectError(await patch(mineK.id, { end: '2030-01-01T10:45:00Z' }), 400, 'Failed to extend reservation: No capacity');
      });
      expectOk(await patch(mineK.id, { end: '2030-01-01T10:29:00Z' }));
    });

    it('a lease update failure is a 400 and leaves the row alone', async () => {
      const { id, lease } = await active();
      for (const err of [
        LeaseError.fromStatus(500, 'Not enough hosts available'),
        LeaseError.fromStatus(404, 'Lease not found'),
        new Error('connection reset'),
      ]) {
        leases.failUpdate = err;
        await expectUnchanged(t, async () => {
          expectError(await patch(id, { end: '2030-01-01T12:00:00Z' }), 400, 'Failed to extend reservation: Failed to extend lease');
        });
      }
      expect(leases.calls).toHaveLength(3);
      expect(leases.calls[0]).toEqual({ op: 'update', leaseId: lease, end: new Date(at('2030-01-01T12:00')) });
      expect((await call(t, 'GET', `/v1/reservations/${id}/`, MEMBER)).json().end).toBe('2030-01-01T10:00:00+00:00');
    });
  });

  describe('delete', () => {
    const del = (id: string, h: Headers = MEMBER) => call(t, 'DELETE', `/v1/reservations/${id}/`, h);
    const seed = async (lease: string | null, project = MEMBER['x-project-id']) =>
      seedReservation(t, {
        flavor_id: (await createFlavor(t)).id,
        project_id: project,
        start: '2030-01-05T00:00',
        end: '2030-01-05T01:00',
        status: lease ? 'ALLOCATED' : 'PENDING_CREATE',
        lease_id: lease,
      });

    it('deletes the lease, then the row (204)', async () => {
      const lease = uniq('lease');
      const id = await seed(lease);
      const res = await del(id);
      expect(res.statusCode, res.body).toBe(204);
      expect(res.body).toBe('');
      expect(leases.calls).toEqual([{ op: 'delete', leaseId: lease }]);
      expect(await reservationRow(t, id)).toBeUndefined();
      expectError(await call(t, 'GET', `/v1/reservations/${id}/`, MEMBER), 404);
      expectError(await del(id), 404, `Reservation ${id} doesn't exist`);
    });

    it('a 404 from the lease back-end counts as deleted', async () => {
      const lease = uniq('gone');
      const id = await seed(lease);
      leases.failDelete = LeaseError.fromStatus(404, `Object with id ${lease} not found`);
      expect((await del(id)).statusCode).toBe(204);
      expect(leases.calls).toEqual([{ op: 'delete', leaseId: lease }]);
      expect(await reservationRow(t, id)).toBeUndefined();
    });

    it('any other lease failure is a 500 and the row stays', async () => {
      const lease = uniq('stuck');
      const id = await seed(lease);
      for (const err of [
        LeaseError.fromStatus(500, 'boom'),
        LeaseError.fromStatus(409, 'in use'),
        new LeaseError('timeout', { status: null, transient: true }),
        new Error('socket hang up'),
      ]) {
        leases.failDelete = err;
        await expectUnchanged(t, async () => {
          const res = await del(id);
          expectError(res, 500, 'Failed to delete reservation, please try again later');
          expect(res.body).not.toMatch(/boom|socket|stack|at /);
        });
      }
      expect(leases.calls).toHaveLength(4);
      expect(await reservationRow(t, id)).toBeDefined();
      leases.failDelete = null;
      expect((await del(id)).statusCode).toBe(204);
    });

    it('without a lease only the row goes', async () => {
      const id = await seed(null);
      expect((await del(id)).statusCode).toBe(204);
      expect(leases.calls).toEqual([]);
      expect(await reservationRow(t, id)).toBeUndefined();
    });

    it('a foreign or unknown reservation is a 404 and stays', async () => {
      const id = await seed(uniq('lease'), OTHER['x-project-id']);
      await expectUnchanged(t, async () => {
        expectError(await del(id), 404, `Reservation ${id} doesn't exist`);
        expectError(await del(id, READER), 404, `Reservation ${id} doesn't exist`);
        expectError(await del(randomUUID()), 404);
      });
      expect(leases.calls).toEqual([]);
      expect((await del(id, ADMIN)).statusCode).toBe(204);
    });
  });
});
