/**
 * docs/availability.md through the HTTP layer on every database: `GET /v1/availability/`,
 * `GET /v1/offers/`, `POST /v1/reservations/?dry_run=true`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  as,
  Clock,
  call,
  createFlavor,
  createWindow,
  expectError,
  expectOk,
  expectUnchanged,
  grant,
  type Headers,
  iso,
  newProject,
  RESERVATION_FIELDS,
  seedReservation,
  uniq,
} from '../support/api-helpers.js';
import { ADMIN, buildTestApp, MEMBER, type TestApp } from '../support/app.js';
import { DIALECTS } from '../support/db.js';

const clock = new Clock(Date.parse('2030-01-01T00:00:30Z'));
const LIMITED = newProject('limited');

describe.each(DIALECTS)('availability, offers and dry runs on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect, {
      now: clock.now,
      projectLimits: new Map([[LIMITED.id, { reservation: 1, hours: 10 }]]),
    });
  });
  afterAll(async () => t?.close());

  const availability = async (q: string, headers: Headers = MEMBER) => expectOk(await call(t, 'GET', `/v1/availability/${q}`, headers));
  const offers = async (q: string, headers: Headers = MEMBER) => expectOk(await call(t, 'GET', `/v1/offers/${q}`, headers));
  const intervals = (pairs: [string, string, number][]) => pairs.map(([start, end, free]) => ({ start: iso(start), end: iso(end), free }));

  describe('GET /v1/availability/', () => {
    it('answers the step function of free slots per flavor, with the flavor and its slots', async () => {
      const category = uniq('cat');
      const f = await createFlavor(t, { slots: 3, category, availability_zone: 'az1', extra_specs: { 'nectar:rate': '2' } });
      await seedReservation(t, {
        flavor_id: f.id,
        project_id: 'p1',
        start: '2030-01-10T10:00',
        end: '2030-01-10T14:00',
        instance_count: 2,
      });
      await seedReservation(t, { flavor_id: f.id, project_id: 'p2', start: '2030-01-10T12:00', end: '2030-01-10T16:00', status: 'ACTIVE' });
      // Not effective: ignored.
      await seedReservation(t, {
        flavor_id: f.id,
        project_id: 'p3',
        start: '2030-01-10T00:00',
        end: '2030-01-11T00:00',
        status: 'ERROR',
        instance_count: 3,
      });
      await seedReservation(t, {
        flavor_id: f.id,
        project_id: 'p3',
        start: '2030-01-10T00:00',
        end: '2030-01-11T00:00',
        status: 'COMPLETE',
        instance_count: 3,
      });
      await createWindow(t, '2030-01-10T20:00', '2030-01-10T21:00', [f.id]);

      const body = await availability(`?start=2030-01-10&end=2030-01-11&category=${category}`);
      expect(body.start).toBe(iso('2030-01-10T00:00'));
      expect(body.end).toBe(iso('2030-01-11T00:00'));
      expect(body.results).toHaveLength(1);
      const [row] = body.results;
      expect(row.flavor).toEqual({
        id: f.id,
        name: f.name,
        description: null,
        category,
        availability_zone: 'az1',
        vcpu: 2,
        memory_mb: 2048,
        disk_gb: 20,
        slots: 3,
        max_length_hours: 504,
        extra_specs: { 'nectar:rate': '2' },
      });
      expect(row.slots).toBe(3);
      expect(row.intervals).toEqual(
        intervals([
          ['2030-01-10T00:00', '2030-01-10T10:00', 3],
          ['2030-01-10T10:00', '2030-01-10T12:00', 1],
          ['2030-01-10T12:00', '2030-01-10T14:00', 0],
          ['2030-01-10T14:00', '2030-01-10T16:00', 2],
          ['2030-01-10T16:00', '2030-01-10T20:00', 3],
          ['2030-01-10T20:00', '2030-01-10T21:00', 0],
          ['2030-01-10T21:00', '2030-01-11T00:00', 3],
        ]),
      );
    });

    it('agrees with freeslots for each instance count (up to the one-minute guards)', async () => {
      const f = await createFlavor(t, { slots: 2 });
      await seedReservation(t, { flavor_id: f.id, project_id: 'p1', start: '2030-01-10T10:00', end: '2030-01-10T14:00' });
      await seedReservation(t, { flavor_id: f.id, project_id: 'p1', start: '2030-01-10T12:00', end: '2030-01-10T16:00' });
      const [row] = (await availability(`?start=2030-01-10&end=2030-01-11&flavor_id=${f.id}`)).results;
      expect(row.intervals).toEqual(
        intervals([
          ['2030-01-10T00:00', '2030-01-10T10:00', 2],
          ['2030-01-10T10:00', '2030-01-10T12:00', 1],
          ['2030-01-10T12:00', '2030-01-10T14:00', 0],
          ['2030-01-10T14:00', '2030-01-10T16:00', 1],
          ['2030-01-10T16:00', '2030-01-11T00:00', 2],
        ]),
      );
      const free = async (k: number) =>
        expectOk(await call(t, 'GET', `/v1/flavors/${f.id}/freeslots/?start=2030-01-10&end=2030-01-11&instance_count=${k}`, MEMBER));
      // free ≥ 1 on [00:00, 12:00) and [14:00, 24:00); free ≥ 2 on [00:00, 10:00) and [16:00, 24:00).
      expect(await free(1)).toEqual([
        { start: iso('2030-01-10T00:00'), end: iso('2030-01-10T11:59') },
        { start: iso('2030-01-10T14:01'), end: iso('2030-01-11T00:00') },
      ]);
      expect(await free(2)).toEqual([
        { start: iso('2030-01-10T00:00'), end: iso('2030-01-10T09:59') },
        { start: iso('2030-01-10T16:01'), end: iso('2030-01-11T00:00') },
      ]);
    });

    it('defaults to the current minute and 90 days; time outside the flavor validity has 0 free', async () => {
      const f = await createFlavor(t, { start: iso('2030-02-01T00:00'), end: iso('2030-03-01T00:00') });
      const body = await availability(`?flavor_id=${f.id}`);
      expect(body.start).toBe(iso('2030-01-01T00:00'));
      expect(body.end).toBe(iso('2030-04-01T00:00'));
      expect(body.results[0].intervals).toEqual(
        intervals([
          ['2030-01-01T00:00', '2030-02-01T00:00', 0],
          ['2030-02-01T00:00', '2030-03-01T00:00', 1],
          ['2030-03-01T00:00', '2030-04-01T00:00', 0],
        ]),
      );
      // Datetimes with offsets are normalised (seconds dropped, UTC).
      const b2 = await availability(`?flavor_id=${f.id}&start=2030-02-01T10:30:45%2B02:00&end=2030-02-02T00:00:00Z`);
      expect(b2.start).toBe(iso('2030-02-01T08:30'));
      expect(b2.results[0].intervals).toEqual(intervals([['2030-02-01T08:30', '2030-02-02T00:00', 1]]));
    });

    it('shows what the caller may book: public or granted, active; all_projects for admins only', async () => {
      const category = uniq('vis');
      const pub = await createFlavor(t, { category, name: `${category}-a-public` });
      const priv = await createFlavor(t, { category, name: `${category}-b-private`, is_public: false });
      const granted = await createFlavor(t, { category, name: `${category}-c-granted`, is_public: false });
      const inactive = await createFlavor(t, { category, name: `${category}-d-inactive`, active: false });
      await grant(t, granted.id, MEMBER['x-project-id']);
      const names = async (q: string, headers: Headers) =>
        (await availability(`?category=${category}${q}`, headers)).results.map((r: any) => r.flavor.id);
      expect(await names('', MEMBER)).toEqual([pub.id, granted.id]);
      expect(await names('&all_projects=true', MEMBER)).toEqual([pub.id, granted.id]);
      expect(await names('', as('someone-else'))).toEqual([pub.id]);
      expect(await names('&all_projects=true', ADMIN)).toEqual([pub.id, priv.id, granted.id, inactive.id]);
      const all = await availability(`?category=${category}&all_projects=1&flavor_id=${inactive.id}`, ADMIN);
      expect(all.results[0].intervals.map((i: any) => i.free)).toEqual([0]);
    });

    it('filters by category, availability zone and repeated flavor_id', async () => {
      const category = uniq('filter');
      const a = await createFlavor(t, { category, availability_zone: 'az-a', name: `${category}-a` });
      const b = await createFlavor(t, { category, availability_zone: 'az-b', name: `${category}-b` });
      const c = await createFlavor(t, { category, availability_zone: 'az-b', name: `${category}-c` });
      const ids = async (q: string) => (await availability(`?category=${category}${q}`)).results.map((r: any) => r.flavor.id);
      expect(await ids('')).toEqual([a.id, b.id, c.id]);
      expect(await ids('&availability_zone=az-b')).toEqual([b.id, c.id]);
      expect(await ids(`&flavor_id=${a.id}&flavor_id=${c.id}`)).toEqual([a.id, c.id]);
      expect(await ids(`&flavor_id=${a.id}&availability_zone=az-b`)).toEqual([]);
    });

    it('bad input is a 400 with a clear message', async () => {
      const bad = async (q: string, message: string | RegExp) => {
        const res = await call(t, 'GET', `/v1/availability/${q}`, MEMBER);
        expectError(res, 400);
        expect(res.json().error_message).toMatch(message);
      };
      await bad('?start=2030-01-10&end=2030-01-10', 'Availability end must be after start');
      await bad('?start=2030-01-10&end=2030-01-09', 'Availability end must be after start');
      await bad('?start=2030-01-01&end=2031-01-03', /366 days at most/);
      await bad('?start=tomorrow', /query parameter start/);
      await bad('?end=2030-02-30', /query parameter end/);
      await bad('?flavor_id=not-a-uuid', /query parameter flavor_id/);
      await bad('?all_projects=maybe', /query parameter all_projects/);
      // A full 366 days is accepted.
      await availability('?start=2030-01-01&end=2031-01-02');
      // Under noauth, no project is a 401 as everywhere.
      expect((await call(t, 'GET', '/v1/availability/', { 'x-user-id': 'u' })).statusCode).toBe(401);
    });
  });

  describe('GET /v1/offers/', () => {
    it('offers the earliest bookable start per flavor, ordered by start then the smaller flavor, and the offer books', async () => {
      const category = uniq('offer');
      const big = await createFlavor(t, { category, vcpu: 16, memory_mb: 65536, slots: 2, extra_specs: { 'nectar:rate': '1.5' } });
      const small = await createFlavor(t, { category, vcpu: 4, memory_mb: 8192, slots: 2 });
      const later = await createFlavor(t, { category, vcpu: 1, memory_mb: 1024, slots: 2 });
      // `later` is full until 2030-01-05 12:00 (its reservation ends then; a booking may start at its end).
      await seedReservation(t, {
        flavor_id: later.id,
        project_id: 'p1',
        start: '2029-12-31T00:00',
        end: '2030-01-05T12:00',
        instance_count: 2,
        status: 'ACTIVE',
      });
      // `small` has one slot taken from 2030-01-02: two instances fit only before it for 24 h.
      await seedReservation(t, { flavor_id: small.id, project_id: 'p1', start: '2030-01-02T06:00', end: '2030-01-03T00:00' });

      const body = await offers(`?category=${category}&instance_count=2&hours=12&earliest_start=2030-01-01T00:05:00Z`);
      expect(body.results.map((o: any) => [o.flavor.id, o.start, o.end])).toEqual([
        [small.id, iso('2030-01-01T00:05'), iso('2030-01-01T12:05')],
        [big.id, iso('2030-01-01T00:05'), iso('2030-01-01T12:05')],
        [later.id, iso('2030-01-05T12:00'), iso('2030-01-06T00:00')],
      ]);
      const [first, second] = body.results;
      expect(Object.keys(first).sort()).toEqual([
        'cost',
        'end',
        'flavor',
        'hours',
        'instance_count',
        'quota_reason',
        'start',
        'within_quota',
      ]);
      expect(first).toMatchObject({ instance_count: 2, hours: 24, cost: null, within_quota: true, quota_reason: null });
      expect(second.cost).toBe(36); // 24 hours × 1.5
      expect(second.flavor).toMatchObject({ id: big.id, vcpu: 16, memory_mb: 65536, slots: 2, extra_specs: { 'nectar:rate': '1.5' } });

      // A longer booking on `small` must wait for its reservation to end.
      const long = await offers(`?flavor_id=${small.id}&instance_count=2&hours=30`);
      expect(long.results.map((o: any) => o.start)).toEqual([iso('2030-01-03T00:00')]);

      // Every offer, sent unchanged, books.
      const p = newProject('booker');
      for (const o of body.results) {
        const res = await call(t, 'POST', '/v1/reservations/', p.headers, {
          flavor_id: o.flavor.id,
          start: o.start,
          end: o.end,
          instance_count: o.instance_count,
        });
        expect(res.statusCode, res.body).toBe(200);
      }
      // Booked: the next offers move on, to the end of what was just booked (a booking may
      // start when another ends).
      const after = await offers(`?category=${category}&instance_count=2&hours=12&earliest_start=2030-01-01T00:05:00Z`);
      expect(after.results.map((o: any) => [o.flavor.id, o.start])).toEqual([
        [small.id, iso('2030-01-01T12:05')],
        [big.id, iso('2030-01-01T12:05')],
        [later.id, iso('2030-01-06T00:00')],
      ]);
    });

    it('honours maintenance, validity, max length, slots, vcpu/memory filters and limit', async () => {
      const category = uniq('rules');
      const m = await createFlavor(t, { category, name: `${category}-m`, vcpu: 8, memory_mb: 1000 });
      await createWindow(t, '2030-01-02T00:00', '2030-01-03T00:00', [m.id]);
      const v = await createFlavor(t, {
        category,
        name: `${category}-v`,
        vcpu: 2,
        memory_mb: 4000,
        start: iso('2030-01-04T00:00'),
        end: iso('2030-01-04T05:00'),
      });
      const shortMax = await createFlavor(t, { category, name: `${category}-s`, max_length_hours: 2 });
      const q = `?category=${category}&instance_count=1&hours=4&earliest_start=2030-01-01T22:00:00Z`;
      const byFlavor = (b: any) => Object.fromEntries(b.results.map((o: any) => [o.flavor.id, o.start]));
      const got = byFlavor(await offers(q));
      // The maintenance window touches any booking starting before 2030-01-03 00:01.
      expect(got[m.id]).toBe(iso('2030-01-03T00:01'));
      expect(got[v.id]).toBe(iso('2030-01-04T00:00'));
      expect(got[shortMax.id]).toBeUndefined();
      // Too long for v's validity.
      expect(byFlavor(await offers(`?category=${category}&instance_count=1&hours=6`))[v.id]).toBeUndefined();
      // More instances than slots: nothing.
      expect((await offers(`?category=${category}&instance_count=2&hours=1`)).results).toEqual([]);
      expect(Object.keys(byFlavor(await offers(`${q}&min_vcpu=4`)))).toEqual([m.id]);
      expect(Object.keys(byFlavor(await offers(`${q}&min_memory_mb=2000`)))).toEqual([v.id]);
      expect((await offers(`${q}&limit=1`)).results.map((o: any) => o.flavor.id)).toEqual([m.id]);
      // Nothing in the start range.
      expect((await offers(`${q}&latest_start=2030-01-02T12:00:00Z&flavor_id=${m.id}`)).results).toEqual([]);
    });

    it('never offers a start in the past, and only flavors the project may book', async () => {
      const category = uniq('access');
      const priv = await createFlavor(t, { category, is_public: false });
      const pub = await createFlavor(t, { category });
      const body = await offers(`?category=${category}&instance_count=1&hours=1&earliest_start=2029-06-01`, ADMIN);
      expect(body.results.map((o: any) => [o.flavor.id, o.start])).toEqual([[pub.id, iso('2030-01-01T00:00')]]);
      await grant(t, priv.id, ADMIN['x-project-id']);
      expect((await offers(`?category=${category}&instance_count=1&hours=1`, ADMIN)).results).toHaveLength(2);
    });

    it('finds the same earliest start as a search over the whole range, however far it is (chunked search)', async () => {
      // Flavors full for a while, then free: the fit is found in a later pass of the search.
      const category = uniq('far');
      const cases: [number, string][] = [];
      for (const [i, fullUntil] of [
        '2030-01-08T00:00',
        '2030-01-08T00:01',
        '2030-01-21T23:59',
        '2030-02-20T00:00',
        '2030-03-31T00:00',
      ].entries()) {
        const f = await createFlavor(t, { category, name: `${category}-${i}`, slots: 1 });
        await seedReservation(t, { flavor_id: f.id, project_id: 'p1', start: '2029-12-31T00:00', end: fullUntil, status: 'ACTIVE' });
        // A short free gap just too small for 3 hours, then busy again for a day.
        const gapEnd = new Date(Date.parse(`${fullUntil}:00Z`) + 2 * 3_600_000).toISOString().slice(0, 16);
        const busyEnd = new Date(Date.parse(`${fullUntil}:00Z`) + 26 * 3_600_000).toISOString().slice(0, 16);
        await seedReservation(t, { flavor_id: f.id, project_id: 'p1', start: gapEnd, end: busyEnd });
        cases.push([i, busyEnd]);
      }
      const body = await offers(`?category=${category}&instance_count=1&hours=3`);
      const byName = Object.fromEntries(body.results.map((o: any) => [o.flavor.name, o.start]));
      expect(byName).toEqual(
        Object.fromEntries(cases.filter(([, busyEnd]) => busyEnd < '2030-04-01').map(([i, busyEnd]) => [`${category}-${i}`, iso(busyEnd)])),
      );
    });

    it('says when the booking is over quota, and why', async () => {
      const f = await createFlavor(t, { category: uniq('quota'), slots: 5 });
      const q = `?flavor_id=${f.id}&instance_count=2&hours=6`;
      const [over] = (await offers(q, LIMITED.headers)).results;
      expect(over.within_quota).toBe(false);
      expect(over.quota_reason).toMatch(/hours/);
      const [fits] = (await offers(`?flavor_id=${f.id}&instance_count=1&hours=10`, LIMITED.headers)).results;
      expect(fits).toMatchObject({ within_quota: true, quota_reason: null, hours: 10 });
    });

    it('bad parameters are a 400 naming the parameter', async () => {
      const bad = async (q: string, name: string) => {
        const res = await call(t, 'GET', `/v1/offers/${q}`, MEMBER);
        expectError(res, 400);
        expect(res.json().error_message).toContain(name);
      };
      await bad('?hours=2', 'instance_count');
      await bad('?instance_count=1', 'hours');
      for (const v of ['0', '-1', 'x', '1.5', '', '99999999999999999999']) {
        await bad(`?instance_count=${v}&hours=1`, 'instance_count');
        await bad(`?instance_count=1&hours=${v}`, 'hours');
      }
      await bad('?instance_count=1&hours=1&earliest_start=2030-02-01&latest_start=2030-01-01', 'latest_start');
      await bad('?instance_count=1&hours=1&earliest_start=2030-01-01&latest_start=2031-06-01', 'latest_start');
      await bad('?instance_count=1&hours=1&earliest_start=soon', 'earliest_start');
      await bad('?instance_count=1&hours=1&limit=0', 'limit');
      await bad('?instance_count=1&hours=1&min_vcpu=-1', 'min_vcpu');
      await bad('?instance_count=1&hours=1&min_memory_mb=lots', 'min_memory_mb');
      await bad('?instance_count=1&hours=1&flavor_id=x', 'flavor_id');
      // limit above 100 is clamped, not refused.
      await offers('?instance_count=1&hours=1&limit=1000');
    });
  });

  describe('POST /v1/reservations/?dry_run=true', () => {
    it('answers the reservation as it would be created, with hours and cost, and writes nothing', async () => {
      const f = await createFlavor(t, { slots: 2, extra_specs: { 'nectar:rate': 0.5 } });
      const p = newProject('dry');
      const nudges = t.nudged.length;
      const res = await expectUnchanged(t, () =>
        call(t, 'POST', '/v1/reservations/?dry_run=true', p.headers, {
          flavor_id: f.id,
          start: iso('2030-01-10T10:00'),
          end: iso('2030-01-10T13:30'),
          instance_count: 2,
        }),
      );
      const body = expectOk(res);
      expect(Object.keys(body).sort()).toEqual([...RESERVATION_FIELDS, 'cost', 'hours'].sort());
      expect(body).toMatchObject({
        id: null,
        status: 'PENDING_CREATE',
        project_id: p.id,
        user_id: p.headers['x-user-id'],
        lease_id: null,
        start: iso('2030-01-10T10:00'),
        end: iso('2030-01-10T13:30'),
        instance_count: 2,
        hours: 8,
        cost: 4,
      });
      expect(body.flavor.id).toBe(f.id);
      expect(t.nudged.length).toBe(nudges);
      // dry_run=false is a real create.
      const real = expectOk(
        await call(t, 'POST', '/v1/reservations/?dry_run=false', p.headers, {
          flavor_id: f.id,
          start: iso('2030-01-10T10:00'),
          end: iso('2030-01-10T13:30'),
        }),
      );
      expect(real.id).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('refuses exactly as a create would, changing nothing', async () => {
      const f = await createFlavor(t, { slots: 1, max_length_hours: 10 });
      await seedReservation(t, { flavor_id: f.id, project_id: 'p1', start: '2030-01-10T00:00', end: '2030-01-11T00:00' });
      const both = async (headers: Headers, body: unknown, status: number) => {
        const dry = await expectUnchanged(t, () => call(t, 'POST', '/v1/reservations/?dry_run=true', headers, body));
        const real = await expectUnchanged(t, () => call(t, 'POST', '/v1/reservations/', headers, body));
        expectError(dry, status);
        expect(dry.json()).toEqual(real.json());
        expect(real.statusCode).toBe(status);
      };
      const body = (start: string, end: string, extra = {}) => ({ flavor_id: f.id, start: iso(start), end: iso(end), ...extra });
      await both(MEMBER, body('2030-01-10T10:00', '2030-01-10T12:00'), 400); // No capacity
      await both(MEMBER, body('2030-01-12T00:00', '2030-01-12T12:00'), 400); // too long
      await both(MEMBER, body('2029-12-31T00:00', '2029-12-31T01:00'), 400); // in the past
      await both(MEMBER, { ...body('2030-01-12T00:00', '2030-01-12T01:00'), flavor_id: '6b6f0a57-7e4c-4c0e-9d1b-0e1e5f2a9c11' }, 404);
      await both(MEMBER, { flavor_id: f.id, start: 'soon' }, 422);
      await both(MEMBER, body('2030-01-12T00:00', '2030-01-12T09:00', { instance_count: 2 }), 400); // 2 > 1 slot
      // Over the hours quota: 413 with the same text.
      const g = await createFlavor(t, { slots: 5 });
      await both(
        LIMITED.headers,
        { flavor_id: g.id, start: iso('2030-01-12T00:00'), end: iso('2030-01-12T06:00'), instance_count: 2 },
        413,
      );
      expectError(await call(t, 'POST', '/v1/reservations/?dry_run=perhaps', MEMBER, body('2030-01-12T00:00', '2030-01-12T01:00')), 400);
    });
  });
});
