/**
 * docs/api.md#reservation-create: the answer, normalisation, the order of the
 * checks (quota reservation → schema / flavor → quota hours → rules), every
 * message of docs/api.md#messages, and capacity for k > 1. A refused request changes nothing.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
  grant,
  type Headers,
  RESERVATION_FIELDS,
  seedReservation,
  uniq,
} from '../support/api-helpers.js';
import { buildTestApp, MEMBER, type TestApp } from '../support/app.js';
import { DIALECTS } from '../support/db.js';

const clock = new Clock(Date.parse('2030-01-01T00:00:30.750Z'));

/** Projects with configured quota overrides (docs/api.md#quotas, config limits). */
const NO_RESERVATIONS = 'quota-res-0';
const ONE_RESERVATION = 'quota-res-1';
const ONE_HOUR = 'quota-hours-1';
const TEN_HOURS = 'quota-hours-10';

const post = (t: TestApp, headers: Headers, body: unknown) => call(t, 'POST', '/v1/reservations/', headers, body);

describe.each(DIALECTS)('reservation create on %s', (dialect) => {
  let t: TestApp;
  let flavor: any;

  beforeAll(async () => {
    t = await buildTestApp(dialect, {
      now: clock.now,
      quota: { default_reservation: 100, default_hours: 100_000 },
      projectLimits: new Map([
        [NO_RESERVATIONS, { reservation: 0 }],
        [ONE_RESERVATION, { reservation: 1 }],
        [ONE_HOUR, { hours: 1 }],
        [TEN_HOURS, { hours: 10 }],
      ]),
    });
    flavor = await createFlavor(t, { slots: 1000, description: 'general' });
  });
  afterAll(async () => t?.close());

  describe('success', () => {
    it('answers 200 PENDING_CREATE with the nested flavor and the caller as owner', async () => {
      const h = as(uniq('ok'), 'member', 'the-user');
      const res = await post(t, h, { flavor_id: flavor.id, start: '2030-01-02T10:00:00+00:00', end: '2030-01-02T12:00:00+00:00' });
      const r = expectOk(res);
      expect(Object.keys(r).sort()).toEqual(RESERVATION_FIELDS);
      expect(r).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        created_at: '2030-01-01T00:00:30+00:00',
        user_id: 'the-user',
        project_id: h['x-project-id'],
        flavor,
        lease_id: null,
        compute_flavor: null,
        status: 'PENDING_CREATE',
        status_reason: null,
        start: '2030-01-02T10:00:00+00:00',
        end: '2030-01-02T12:00:00+00:00',
        instance_count: 1,
      });
      expect(t.nudged).toContain(r.id);
      expect(expectOk(await call(t, 'GET', `/v1/reservations/${r.id}/`, h))).toEqual(r);
    });

    it('normalises start and end: seconds dropped, then converted to UTC; Z accepted', async () => {
      const h = as(uniq('norm'));
      const r = expectOk(
        await post(t, h, { flavor_id: flavor.id, start: '2030-01-01T20:00:45+10:00', end: '2030-01-01T14:30:59.999Z', instance_count: 3 }),
      );
      expect(r.start).toBe('2030-01-01T10:00:00+00:00');
      expect(r.end).toBe('2030-01-01T14:30:00+00:00');
      expect(r.instance_count).toBe(3);
      const neg = expectOk(await post(t, h, { flavor_id: flavor.id, start: '2030-01-03T01:00:00-05:30', end: '2030-01-03T08:00:00-0530' }));
      expect(neg.start).toBe('2030-01-03T06:30:00+00:00');
      expect(neg.end).toBe('2030-01-03T13:30:00+00:00');
    });

    it('may start in the current minute', async () => {
      expectOk(await book(t, as(uniq('now')), flavor.id, '2030-01-01T00:00', '2030-01-01T01:00'));
    });
  });

  describe('validation (422) and unknown flavor (404)', () => {
    it('a datetime without offset, bad types, missing or unknown fields are 422', async () => {
      const h = as(uniq('v'));
      const ok = { flavor_id: flavor.id, start: '2030-01-05T10:00:00+00:00', end: '2030-01-05T11:00:00+00:00' };
      const cases: [Record<string, unknown>, Record<string, string[]> | null][] = [
        [{ ...ok, start: '2030-01-05T10:00:00' }, { start: ['Not a valid datetime.'] }],
        [{ ...ok, end: '2030-01-05' }, { end: ['Not a valid datetime.'] }],
        [{ ...ok, end: 1893456000 }, { end: ['Not a valid datetime.'] }],
        [{ flavor_id: flavor.id }, { start: ['Missing data for required field.'], end: ['Missing data for required field.'] }],
        [{ start: ok.start, end: ok.end }, { flavor_id: ['Missing data for required field.'] }],
        [{ ...ok, instance_count: 'x' }, { instance_count: ['Not a valid integer.'] }],
        [{ ...ok, instance_count: 0 }, null],
        [{ ...ok, instance_count: -1 }, null],
        [{ ...ok, instance_count: 1e12 }, null],
        [{ ...ok, status: 'ACTIVE' }, { status: ['Unknown field.'] }],
        [{ ...ok, project_id: 'someone-else' }, { project_id: ['Unknown field.'] }],
        [{ ...ok, flavor_id: 42 }, { flavor_id: ['Not a valid string.'] }],
      ];
      await expectUnchanged(t, async () => {
        for (const [body, errors] of cases) {
          const res = await post(t, h, body);
          expectError(res, 422, errors ?? undefined);
          if (!errors) expect(Object.keys(res.json().error_message)).toEqual(['instance_count']);
        }
      });
    });

    it('an unknown flavor is 404 Flavor does not exist', async () => {
      await expectUnchanged(t, async () => {
        for (const id of [randomUUID(), 'm1.small', '']) {
          expectError(
            await post(t, MEMBER, { flavor_id: id, start: '2030-01-05T10:00:00Z', end: '2030-01-05T11:00:00Z' }),
            404,
            'Flavor does not exist',
          );
        }
      });
    });
  });

  describe('quota and the order of checks', () => {
    it('the reservation quota comes first: before 422 and 404', async () => {
      const h = as(NO_RESERVATIONS);
      const msg = `Project ${NO_RESERVATIONS} is over a limit for [Resource reservation is over limit of 0 due to current usage 0 and delta 1]`;
      await expectUnchanged(t, async () => {
        expectError(await post(t, h, { flavor_id: flavor.id, start: '2030-01-05T10:00:00Z', end: '2030-01-05T11:00:00Z' }), 413, msg);
        expectError(await post(t, h, { flavor_id: flavor.id, start: 'bad', instance_count: 'x' }), 413, msg);
        expectError(await post(t, h, { flavor_id: randomUUID(), start: '2030-01-05T10:00:00Z', end: '2030-01-05T11:00:00Z' }), 413, msg);
        // ...but not before "no input".
        expectError(await post(t, h, {}), 400, 'No input data provided');
      });
    });

    it('usage counts effective reservations only', async () => {
      const h = as(ONE_RESERVATION);
      await seedReservation(t, {
        flavor_id: flavor.id,
        project_id: ONE_RESERVATION,
        start: '2029-01-01T00:00',
        end: '2029-01-01T01:00',
        status: 'COMPLETE',
      });
      await seedReservation(t, {
        flavor_id: flavor.id,
        project_id: ONE_RESERVATION,
        start: '2029-01-01T00:00',
        end: '2029-01-01T01:00',
        status: 'ERROR',
      });
      const first = expectOk(await book(t, h, flavor.id, '2030-01-05T10:00', '2030-01-05T11:00'));
      await expectUnchanged(t, async () => {
        expectError(
          await book(t, h, flavor.id, '2030-01-06T10:00', '2030-01-06T11:00'),
          413,
          `Project ${ONE_RESERVATION} is over a limit for [Resource reservation is over limit of 1 due to current usage 1 and delta 1]`,
        );
      });
      await t.db.kysely.updateTable('reservation').set({ status: 'COMPLETE' }).where('id', '=', first.id).execute();
      expectOk(await book(t, h, flavor.id, '2030-01-06T10:00', '2030-01-06T11:00'));
    });

    it('schema errors and unknown flavors come before the hours quota', async () => {
      const h = as(ONE_HOUR);
      await expectUnchanged(t, async () => {
        expectError(await post(t, h, { flavor_id: flavor.id, start: '2030-01-05T10:00:00Z', end: '2030-01-06T10:00:00' }), 422, {
          end: ['Not a valid datetime.'],
        });
        expectError(
          await post(t, h, { flavor_id: randomUUID(), start: '2030-01-05T10:00:00Z', end: '2030-01-06T10:00:00Z' }),
          404,
          'Flavor does not exist',
        );
      });
    });

    it('the hours quota (total_hours × instance_count) comes before the 400 rules', async () => {
      const h = as(ONE_HOUR);
      const inactive = await createFlavor(t, { active: false });
      const tiny = await createFlavor(t, { max_length_hours: 1 });
      const over = (delta: number) =>
        `Project ${ONE_HOUR} is over a limit for [Resource hours is over limit of 1 due to current usage 0 and delta ${delta}]`;
      await expectUnchanged(t, async () => {
        expectError(await book(t, h, inactive.id, '2030-01-05T10:00', '2030-01-05T12:00'), 413, over(2));
        expectError(await book(t, h, tiny.id, '2030-01-05T10:00', '2030-01-05T12:00'), 413, over(2));
        expectError(await book(t, h, flavor.id, '2029-01-05T10:00', '2029-01-05T11:01'), 413, over(2));
        expectError(await book(t, h, flavor.id, '2030-01-05T10:00', '2030-01-05T11:00', 2), 413, over(2));
        expectError(await book(t, h, flavor.id, '2030-01-05T10:00', '2030-01-05T10:01', 3), 413, over(3));
        // Within the quota the rule answers.
        expectError(await book(t, h, inactive.id, '2030-01-05T10:00', '2030-01-05T11:00'), 400, 'Flavor is not available');
      });
      expectOk(await book(t, h, flavor.id, '2030-01-05T10:00', '2030-01-05T11:00'));
      await expectUnchanged(t, async () => {
        expectError(
          await book(t, h, flavor.id, '2030-01-06T10:00', '2030-01-06T10:30'),
          413,
          `Project ${ONE_HOUR} is over a limit for [Resource hours is over limit of 1 due to current usage 1 and delta 1]`,
        );
      });
    });

    it('hours usage is Σ instance_count × ceil(hours) of effective reservations', async () => {
      const h = as(TEN_HOURS);
      await seedReservation(t, {
        flavor_id: flavor.id,
        project_id: TEN_HOURS,
        start: '2030-02-01T00:00',
        end: '2030-02-01T01:30',
        instance_count: 2,
      }); // 4
      await seedReservation(t, {
        flavor_id: flavor.id,
        project_id: TEN_HOURS,
        start: '2030-02-02T00:00',
        end: '2030-02-02T00:10',
        status: 'ACTIVE',
      }); // 1
      await seedReservation(t, {
        flavor_id: flavor.id,
        project_id: TEN_HOURS,
        start: '2030-02-03T00:00',
        end: '2030-02-03T09:00',
        status: 'COMPLETE',
      }); // 0
      await expectUnchanged(t, async () => {
        expectError(
          await book(t, h, flavor.id, '2030-01-05T10:00', '2030-01-05T12:01', 2),
          413,
          `Project ${TEN_HOURS} is over a limit for [Resource hours is over limit of 10 due to current usage 5 and delta 6]`,
        );
      });
      expectOk(await book(t, h, flavor.id, '2030-01-05T10:00', '2030-01-05T12:30', 1)); // 3 → 8
      expectOk(await book(t, h, flavor.id, '2030-01-06T10:00', '2030-01-06T10:01', 2)); // 2 → 10
    });
  });

  describe('rules (400) in their order', () => {
    it('each refusal has its documented text (docs/api.md#messages)', async () => {
      const p = as(uniq('rules'));
      const inactive = await createFlavor(t, { active: false });
      const privateF = await createFlavor(t, { is_public: false });
      const short = await createFlavor(t, { max_length_hours: 3 });
      const dated = await createFlavor(t, { start: '2030-03-01T12:00:00Z', end: '2030-04-01T00:00:00Z' });
      const single = await createFlavor(t, { slots: 1 });
      await seedReservation(t, { flavor_id: single.id, project_id: uniq('x'), start: '2030-01-10T10:00', end: '2030-01-10T12:00' });
      const maint = await createFlavor(t, { slots: 10 });
      await createWindow(t, '2030-01-20T00:00', '2030-01-21T00:00', [maint.id]);

      const cases: [string, string, string, string, number?][] = [
        [inactive.id, '2030-01-05T10:00', '2030-01-05T11:00', 'Flavor is not available'],
        [privateF.id, '2030-01-05T10:00', '2030-01-05T11:00', 'Flavor is not accessible'],
        [short.id, '2030-01-05T10:00', '2030-01-05T13:01', 'Reservation is too long, max allowed is 3 hours'],
        [short.id, '2030-01-05T10:00', '2030-01-07T10:00', 'Reservation is too long, max allowed is 3 hours'],
        [dated.id, '2030-03-01T11:59', '2030-03-01T13:00', 'Reservation start time before flavor start time of 2030-03-01 12:00:00'],
        [dated.id, '2030-03-31T23:00', '2030-04-01T00:01', 'Reservation end time after flavor end time of 2030-04-01 00:00:00'],
        [
          flavor.id,
          '2030-02-01T12:00',
          '2030-02-01T10:00',
          'Reservation start time of 2030-02-01 12:00:00 after reservation end time of 2030-02-01 10:00:00',
        ],
        [
          flavor.id,
          '2030-02-01T10:00',
          '2030-02-01T10:00',
          'Reservation start time of 2030-02-01 10:00:00 after reservation end time of 2030-02-01 10:00:00',
        ],
        [flavor.id, '2029-12-31T23:59', '2030-01-01T02:00', 'Reservation cannot start in the past'],
        [maint.id, '2030-01-20T23:00', '2030-01-21T01:00', 'Reservation conflicts with a maintenance window'],
        [single.id, '2030-01-10T11:00', '2030-01-10T13:00', 'No capacity'],
        [single.id, '2030-01-10T09:00', '2030-01-10T10:00', 'No capacity'],
      ];
      await expectUnchanged(t, async () => {
        for (const [id, s, e, msg] of cases) expectError(await book(t, p, id, s, e), 400, msg);
        // Seconds are dropped before comparing: 10:00:10 → 10:00:50 is zero length.
        expectError(
          await post(t, p, { flavor_id: flavor.id, start: '2030-02-01T10:00:10Z', end: '2030-02-01T10:00:50Z' }),
          400,
          'Reservation start time of 2030-02-01 10:00:00 after reservation end time of 2030-02-01 10:00:00',
        );
      });
      // The limits themselves are allowed.
      expectOk(await book(t, p, short.id, '2030-01-05T10:00', '2030-01-05T13:00'));
      expectOk(await book(t, p, dated.id, '2030-03-01T12:00', '2030-03-01T13:00'));
      expectOk(await book(t, p, dated.id, '2030-03-31T23:00', '2030-04-01T00:00'));
      // Starting exactly when another ends fits (the busy segment contains the start), as historically.
      expectOk(await book(t, p, single.id, '2030-01-10T12:00', '2030-01-10T13:00'));
      expectOk(await book(t, p, single.id, '2030-01-10T08:00', '2030-01-10T09:59'));
      await grant(t, privateF.id, p['x-project-id']);
      expectOk(await book(t, p, privateF.id, '2030-01-05T10:00', '2030-01-05T11:00'));
    });

    it('the first broken rule wins', async () => {
      const p = as(uniq('order'));
      const inactivePrivate = await createFlavor(t, { active: false, is_public: false, max_length_hours: 1 });
      const privateShort = await createFlavor(t, { is_public: false, max_length_hours: 1 });
      const shortDated = await createFlavor(t, { max_length_hours: 1, start: '2030-03-01T00:00:00Z', end: '2030-03-02T00:00:00Z' });
      const dated = await createFlavor(t, { start: '2030-03-01T00:00:00Z', end: '2030-03-02T00:00:00Z' });
      const maintSingle = await createFlavor(t, { slots: 1 });
      await createWindow(t, '2030-01-20T00:00', '2030-01-21T00:00', [maintSingle.id]);
      await seedReservation(t, {
        flavor_id: maintSingle.id,
        project_id: uniq('x'),
        start: '2030-01-19T00:00',
        end: '2030-01-22T00:00',
        status: 'ACTIVE',
      });
      await expectUnchanged(t, async () => {
        expectError(await book(t, p, inactivePrivate.id, '2030-01-05T10:00', '2030-01-05T13:00'), 400, 'Flavor is not available');
        expectError(await book(t, p, privateShort.id, '2030-01-05T10:00', '2030-01-05T13:00'), 400, 'Flavor is not accessible');
        expectError(
          await book(t, p, shortDated.id, '2030-01-05T10:00', '2030-01-05T13:00'),
          400,
          'Reservation is too long, max allowed is 1 hours',
        );
        expectError(
          await book(t, p, dated.id, '2030-01-05T10:00', '2030-01-05T09:00'),
          400,
          'Reservation start time before flavor start time of 2030-03-01 00:00:00',
        );
        expectError(
          await book(t, p, flavor.id, '2029-12-31T10:00', '2029-12-31T09:00'),
          400,
          'Reservation start time of 2029-12-31 10:00:00 after reservation end time of 2029-12-31 09:00:00',
        );
        expectError(await book(t, p, maintSingle.id, '2029-12-31T10:00', '2030-01-20T09:00'), 400, 'Reservation cannot start in the past');
        expectError(
          await book(t, p, maintSingle.id, '2030-01-20T10:00', '2030-01-20T11:00'),
          400,
          'Reservation conflicts with a maintenance window',
        );
      });
    });
  });

  describe('capacity with instance_count (docs/api.md#several-instances)', () => {
    it('k instances need k free slots over the whole window', async () => {
      const p = as(uniq('k'));
      const one = await createFlavor(t, { slots: 1 });
      await expectUnchanged(t, async () => {
        expectError(await book(t, p, one.id, '2030-01-05T10:00', '2030-01-05T11:00', 3), 400, 'No capacity');
        expectError(await book(t, p, one.id, '2030-01-05T10:00', '2030-01-05T11:00', 2), 400, 'No capacity');
      });
      const three = await createFlavor(t, { slots: 3 });
      await seedReservation(t, { flavor_id: three.id, project_id: uniq('x'), start: '2030-01-05T10:30', end: '2030-01-05T10:40' });
      await expectUnchanged(t, async () => {
        expectError(await book(t, p, three.id, '2030-01-05T10:00', '2030-01-05T11:00', 3), 400, 'No capacity');
      });
      expectOk(await book(t, p, three.id, '2030-01-05T10:00', '2030-01-05T11:00', 2));
      await expectUnchanged(t, async () => {
        expectError(await book(t, p, three.id, '2030-01-05T10:35', '2030-01-05T10:36', 1), 400, 'No capacity');
      });
      expectOk(await book(t, p, three.id, '2030-01-05T11:01', '2030-01-05T12:00', 3));
    });
  });
});
