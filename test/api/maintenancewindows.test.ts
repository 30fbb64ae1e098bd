/**
 * docs/api.md#maintenance-windows, and its effect on reservations (no capacity
 * while a window covers a flavor; admins bypass it entirely).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  as,
  book,
  Clock,
  call,
  createFlavor,
  createWindow,
  expectError,
  expectOk,
  expectUnchanged,
  iso,
  seedReservation,
  uniq,
} from '../support/api-helpers.js';
import { ADMIN, buildTestApp, MEMBER, READER, type TestApp, WRITER } from '../support/app.js';
import { DIALECTS } from '../support/db.js';

const clock = new Clock(Date.parse('2030-01-01T00:00:30Z'));

describe.each(DIALECTS)('maintenance windows on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect, { now: clock.now });
  });
  afterAll(async () => t?.close());
  beforeEach(() => clock.reset());

  const post = (body: unknown, h = ADMIN) => call(t, 'POST', '/v1/maintenancewindows/', h, body);

  describe('create', () => {
    it('answers 201 with the window and its flavors as {id, name}', async () => {
      const a = await createFlavor(t, { name: uniq('mw-a') });
      const b = await createFlavor(t, { name: uniq('mw-b') });
      const w = expectOk(
        await post(
          { start: '2030-02-01T10:00:59+10:00', end: '2030-02-02T00:00:00Z', note: 'kernel upgrade', flavor_ids: [b.id, a.id] },
          WRITER,
        ),
        201,
      );
      expect(Object.keys(w).sort()).toEqual(['end', 'flavors', 'id', 'note', 'start']);
      expect(w).toEqual({
        id: w.id,
        start: '2030-02-01T00:00:00+00:00',
        end: '2030-02-02T00:00:00+00:00',
        note: 'kernel upgrade',
        flavors: expect.arrayContaining([
          { id: a.id, name: a.name },
          { id: b.id, name: b.name },
        ]),
      });
      expect(w.flavors).toHaveLength(2);
      const got = expectOk(await call(t, 'GET', `/v1/maintenancewindows/${w.id}/`, MEMBER));
      expect({ ...got, flavors: [...got.flavors].sort((x: { id: string }, y: { id: string }) => x.id.localeCompare(y.id)) }).toEqual({
        ...w,
        flavors: [...w.flavors].sort((x: { id: string }, y: { id: string }) => x.id.localeCompare(y.id)),
      });
      // Without flavors and note.
      const bare = expectOk(await post({ start: '2030-03-01T00:00:00Z', end: '2030-03-01T01:00:00Z' }), 201);
      expect(bare).toMatchObject({ note: null, flavors: [] });
    });

    it('refuses end <= start, a start in the past and unknown flavors with their messages', async () => {
      const f = await createFlavor(t);
      await expectUnchanged(t, async () => {
        expectError(
          await post({ start: '2030-02-01T10:00:00Z', end: '2030-02-01T10:00:00Z' }),
          400,
          'Maintenance window end time must be after start time',
        );
        expectError(
          await post({ start: '2030-02-01T10:00:00Z', end: '2030-02-01T09:00:00Z' }),
          400,
          'Maintenance window end time must be after start time',
        );
        // Seconds are dropped first: 10:00:59 → 10:00.
        expectError(
          await post({ start: '2030-02-01T10:00:00Z', end: '2030-02-01T10:00:59Z' }),
          400,
          'Maintenance window end time must be after start time',
        );
        expectError(
          await post({ start: '2029-12-31T23:59:00Z', end: '2030-02-01T09:00:00Z' }),
          400,
          'Maintenance window cannot start in the past',
        );
        expectError(
          await post({ start: '2030-02-01T10:00:00Z', end: '2030-02-02T10:00:00Z', flavor_ids: [f.id, randomUUID()] }),
          404,
          'One or more flavors not found',
        );
        expectError(
          await post({ start: '2030-02-01T10:00:00Z', end: '2030-02-02T10:00:00Z', flavor_ids: ['m1.small'] }),
          404,
          'One or more flavors not found',
        );
      });
      // The current minute is not the past.
      expectOk(await post({ start: '2030-01-01T00:00:00Z', end: '2030-01-01T01:00:00Z' }), 201);
    });

    it('validation errors are 422 with field messages', async () => {
      await expectUnchanged(t, async () => {
        expectError(await post({ start: '2030-02-01T10:00:00Z' }), 422, { end: ['Missing data for required field.'] });
        expectError(await post({ start: '2030-02-01T10:00:00', end: '2030-02-02T10:00:00Z' }), 422, { start: ['Not a valid datetime.'] });
        expectError(await post({ start: '2030-02-01T10:00:00Z', end: '2030-02-02T10:00:00Z', note: 'x'.repeat(256) }), 422, {
          note: ['Longer than maximum length 255.'],
        });
        expectError(await post({ start: '2030-02-01T10:00:00Z', end: '2030-02-02T10:00:00Z', flavor_ids: 'abc' }), 422);
        expectError(await post({ start: '2030-02-01T10:00:00Z', end: '2030-02-02T10:00:00Z', flavor_ids: [1, 2] }), 422);
        expectError(await post({ start: '2030-02-01T10:00:00Z', end: '2030-02-02T10:00:00Z', colour: 'red' }), 422, {
          colour: ['Unknown field.'],
        });
      });
    });

    it('an effective reservation overlapping is a 409; COMPLETE and ERROR ones are not', async () => {
      for (const status of ['PENDING_CREATE', 'ALLOCATED', 'ACTIVE'] as const) {
        const f = await createFlavor(t);
        await seedReservation(t, { flavor_id: f.id, project_id: uniq('p'), start: '2030-02-01T08:00', end: '2030-02-01T10:00', status });
        await expectUnchanged(t, async () => {
          // Closed intervals: touching at 10:00 conflicts.
          expectError(
            await post({ start: '2030-02-01T10:00:00Z', end: '2030-02-01T12:00:00Z', flavor_ids: [f.id] }),
            409,
            'Maintenance window conflicts with existing reservations',
          );
        });
        expectOk(await post({ start: '2030-02-01T10:01:00Z', end: '2030-02-01T12:00:00Z', flavor_ids: [f.id] }), 201);
      }
      for (const status of ['COMPLETE', 'ERROR'] as const) {
        const f = await createFlavor(t);
        await seedReservation(t, { flavor_id: f.id, project_id: uniq('p'), start: '2030-02-01T08:00', end: '2030-02-01T10:00', status });
        expectOk(await post({ start: '2030-02-01T09:00:00Z', end: '2030-02-01T12:00:00Z', flavor_ids: [f.id] }), 201);
      }
      // A reservation of another flavor does not conflict.
      const busy = await createFlavor(t);
      const free = await createFlavor(t);
      await seedReservation(t, { flavor_id: busy.id, project_id: uniq('p'), start: '2030-02-01T08:00', end: '2030-02-01T10:00' });
      expectOk(await post({ start: '2030-02-01T09:00:00Z', end: '2030-02-01T12:00:00Z', flavor_ids: [free.id] }), 201);
    });
  });

  describe('update', () => {
    it('is partial; flavor_ids replaces the set and [] clears it', async () => {
      const a = await createFlavor(t);
      const b = await createFlavor(t);
      const w = await createWindow(t, '2030-04-01T00:00', '2030-04-02T00:00', [a.id], 'first');
      const noted = expectOk(await call(t, 'PATCH', `/v1/maintenancewindows/${w.id}/`, WRITER, { note: 'second' }));
      expect(noted).toEqual({ ...w, note: 'second' });
      const moved = expectOk(await call(t, 'PATCH', `/v1/maintenancewindows/${w.id}/`, ADMIN, { end: '2030-04-03T00:00:45+00:00' }));
      expect(moved).toEqual({ ...w, note: 'second', end: '2030-04-03T00:00:00+00:00' });
      const swapped = expectOk(await call(t, 'PATCH', `/v1/maintenancewindows/${w.id}/`, ADMIN, { flavor_ids: [b.id] }));
      expect(swapped.flavors).toEqual([{ id: b.id, name: b.name }]);
      const cleared = expectOk(await call(t, 'PATCH', `/v1/maintenancewindows/${w.id}/`, ADMIN, { flavor_ids: [], note: null }));
      expect(cleared).toEqual({ id: w.id, start: w.start, end: '2030-04-03T00:00:00+00:00', note: null, flavors: [] });
      expect(expectOk(await call(t, 'GET', `/v1/maintenancewindows/${w.id}/`, MEMBER))).toEqual(cleared);
    });

    it('applies the create checks; start in the past only when start is sent', async () => {
      const f = await createFlavor(t);
      const w = await createWindow(t, '2030-01-02T00:00', '2030-01-03T00:00', [f.id]);
      clock.set('2030-01-02T12:00'); // the window has started
      expectOk(await call(t, 'PATCH', `/v1/maintenancewindows/${w.id}/`, ADMIN, { note: 'running late', end: '2030-01-04T00:00:00Z' }));
      await expectUnchanged(t, async () => {
        expectError(
          await call(t, 'PATCH', `/v1/maintenancewindows/${w.id}/`, ADMIN, { start: '2030-01-02T06:00:00Z' }),
          400,
          'Maintenance window cannot start in the past',
        );
        expectError(
          await call(t, 'PATCH', `/v1/maintenancewindows/${w.id}/`, ADMIN, { end: '2030-01-01T00:00:00Z' }),
          400,
          'Maintenance window end time must be after start time',
        );
        expectError(
          await call(t, 'PATCH', `/v1/maintenancewindows/${w.id}/`, ADMIN, { flavor_ids: [randomUUID()] }),
          404,
          'One or more flavors not found',
        );
        expectError(await call(t, 'PATCH', `/v1/maintenancewindows/${w.id}/`, ADMIN, { start: 'soon' }), 422, {
          start: ['Not a valid datetime.'],
        });
        const unknown = randomUUID();
        expectError(
          await call(t, 'PATCH', `/v1/maintenancewindows/${unknown}/`, ADMIN, { note: 'x' }),
          404,
          `MaintenanceWindow ${unknown} doesn't exist`,
        );
      });
    });

    it('409 when the new times or flavors meet an effective reservation', async () => {
      const f = await createFlavor(t);
      const g = await createFlavor(t);
      await seedReservation(t, { flavor_id: f.id, project_id: uniq('p'), start: '2030-05-01T10:00', end: '2030-05-01T12:00' });
      await seedReservation(t, { flavor_id: g.id, project_id: uniq('p'), start: '2030-05-02T10:00', end: '2030-05-02T12:00' });
      const w = await createWindow(t, '2030-05-01T00:00', '2030-05-01T09:00', [f.id]);
      await expectUnchanged(t, async () => {
        expectError(
          await call(t, 'PATCH', `/v1/maintenancewindows/${w.id}/`, ADMIN, { end: '2030-05-01T10:30:00Z' }),
          409,
          'Maintenance window conflicts with existing reservations',
        );
        expectError(
          await call(t, 'PATCH', `/v1/maintenancewindows/${w.id}/`, ADMIN, { end: '2030-05-02T11:00:00Z', flavor_ids: [g.id] }),
          409,
          'Maintenance window conflicts with existing reservations',
        );
      });
      expectOk(await call(t, 'PATCH', `/v1/maintenancewindows/${w.id}/`, ADMIN, { end: '2030-05-01T10:30:00Z', flavor_ids: [] }));
    });
  });

  describe('list, get, delete', () => {
    it('lists windows sorted by start, paginated', async () => {
      const before = expectOk(await call(t, 'GET', '/v1/maintenancewindows/', READER)).total;
      const late = await createWindow(t, '2032-03-01T00:00', '2032-03-02T00:00', []);
      const early = await createWindow(t, '2032-01-01T00:00', '2032-01-02T00:00', []);
      const mid = await createWindow(t, '2032-02-01T00:00', '2032-02-02T00:00', []);
      const all = expectOk(await call(t, 'GET', '/v1/maintenancewindows/', MEMBER));
      expect(all.total).toBe(before + 3);
      const starts = all.results.map((w: { start: string }) => w.start);
      expect(starts).toEqual([...starts].sort());
      expect(all.results.slice(-3).map((w: { id: string }) => w.id)).toEqual([early.id, mid.id, late.id]);
      const page = expectOk(await call(t, 'GET', `/v1/maintenancewindows/?limit=1&page=${before + 2}`, MEMBER));
      expect(page.results.map((w: { id: string }) => w.id)).toEqual([mid.id]);
      expect(new URL(page.next).searchParams.get('page')).toBe(String(before + 3));
    });

    it('get of an unknown window is a 404; delete answers 204 and then 404', async () => {
      const unknown = randomUUID();
      expectError(await call(t, 'GET', `/v1/maintenancewindows/${unknown}/`, MEMBER), 404, `MaintenanceWindow ${unknown} doesn't exist`);
      expectError(await call(t, 'GET', '/v1/maintenancewindows/abc/', MEMBER), 404);
      const f = await createFlavor(t);
      const w = await createWindow(t, '2030-07-01T00:00', '2030-07-02T00:00', [f.id]);
      const res = await call(t, 'DELETE', `/v1/maintenancewindows/${w.id}/`, WRITER);
      expect(res.statusCode).toBe(204);
      expect(res.body).toBe('');
      expectError(await call(t, 'GET', `/v1/maintenancewindows/${w.id}/`, MEMBER), 404);
      expectError(await call(t, 'DELETE', `/v1/maintenancewindows/${w.id}/`, ADMIN), 404, `MaintenanceWindow ${w.id} doesn't exist`);
      expect(
        await t.db.kysely.selectFrom('maintenance_window_flavor').selectAll().where('maintenance_window_id', '=', w.id).execute(),
      ).toEqual([]);
      // The flavor is bookable again.
      expectOk(await book(t, MEMBER, f.id, '2030-07-01T10:00', '2030-07-01T11:00'));
    });
  });

  describe('effect on reservations', () => {
    it('a member cannot book inside a window of the flavor, even when slots are free', async () => {
      const f = await createFlavor(t, { slots: 5 });
      await createWindow(t, '2030-06-10T00:00', '2030-06-11T00:00', [f.id]);
      const p = as(uniq('p'));
      await expectUnchanged(t, async () => {
        for (const [s, e] of [
          ['2030-06-10T10:00', '2030-06-10T11:00'],
          ['2030-06-09T20:00', '2030-06-10T00:00'],
          ['2030-06-11T00:00', '2030-06-11T02:00'],
          ['2030-06-09T00:00', '2030-06-12T00:00'],
        ] as const) {
          expectError(await book(t, p, f.id, s, e), 400, 'Reservation conflicts with a maintenance window');
        }
      });
      expectOk(await book(t, p, f.id, '2030-06-11T00:01', '2030-06-11T02:00'));
      // The window occupies every slot in the free-slot answer.
      expect(expectOk(await call(t, 'GET', `/v1/flavors/${f.id}/freeslots/?start=2030-06-10&end=2030-06-11T12:00:00Z`, p))).toEqual([
        { start: iso('2030-06-11T00:01'), end: iso('2030-06-11T12:00') },
      ]);
    });

    it('an admin bypasses the window entirely: it is ignored for capacity too', async () => {
      const f = await createFlavor(t, { slots: 1 });
      await createWindow(t, '2030-06-20T00:00', '2030-06-21T00:00', [f.id]);
      const r = expectOk(await book(t, ADMIN, f.id, '2030-06-20T10:00', '2030-06-20T12:00'));
      expect(r.status).toBe('PENDING_CREATE');
      // The slot is now taken by the reservation, which still counts.
      expectError(await book(t, ADMIN, f.id, '2030-06-20T11:00', '2030-06-20T13:00'), 400, 'No capacity');
      expectOk(await book(t, ADMIN, f.id, '2030-06-20T12:01', '2030-06-20T13:00'));
    });

    it('the window only covers its own flavors', async () => {
      const covered = await createFlavor(t);
      const other = await createFlavor(t);
      await createWindow(t, '2030-06-25T00:00', '2030-06-26T00:00', [covered.id]);
      expectOk(await book(t, as(uniq('p')), other.id, '2030-06-25T10:00', '2030-06-25T12:00'));
    });
  });
});
