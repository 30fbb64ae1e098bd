/**
 * docs/api.md#free-slots, `GET /v1/flavors/{id}/freeslots/`: hand-computed answers of
 * the historical sweep through the HTTP layer, defaults, parameters, errors.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  as,
  Clock,
  call,
  createFlavor,
  createWindow,
  expectError,
  expectOk,
  grant,
  type Headers,
  iso,
  seedReservation,
  uniq,
} from '../support/api-helpers.js';
import { ADMIN, buildTestApp, MEMBER, type TestApp } from '../support/app.js';
import { DIALECTS } from '../support/db.js';

const clock = new Clock(Date.parse('2030-01-01T00:00:30Z'));

/** `[['2030-01-10T00:00', '2030-01-10T09:59'], …]` → the API's slot list. */
const slots = (pairs: [string, string][]) => pairs.map(([start, end]) => ({ start: iso(start), end: iso(end) }));

describe.each(DIALECTS)('free slots on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect, { now: clock.now });
  });
  afterAll(async () => t?.close());

  const free = async (flavorId: string, query = '', headers: Headers = MEMBER) =>
    expectOk(await call(t, 'GET', `/v1/flavors/${flavorId}/freeslots/${query}`, headers));

  const DAY = '?start=2030-01-10&end=2030-01-11';

  it('is a bare list; defaults are start = now, end = now + 365 days', async () => {
    const f = await createFlavor(t);
    const body = await free(f.id);
    expect(body).toEqual([{ start: '2030-01-01T00:00:30+00:00', end: '2031-01-01T00:00:30+00:00' }]);
    // Only end given: start is now.
    expect(await free(f.id, '?end=2030-02-01')).toEqual([{ start: '2030-01-01T00:00:30+00:00', end: '2030-02-01T00:00:00+00:00' }]);
    // Only start given: end is now + 365 days.
    expect(await free(f.id, '?start=2030-06-01')).toEqual([{ start: '2030-06-01T00:00:00+00:00', end: '2031-01-01T00:00:30+00:00' }]);
    // Without the trailing slash too.
    expect(expectOk(await call(t, 'GET', `/v1/flavors/${f.id}/freeslots${DAY}`, MEMBER))).toEqual(
      slots([['2030-01-10T00:00', '2030-01-11T00:00']]),
    );
  });

  it('accepts YYYY-MM-DD and full datetimes (normalised)', async () => {
    const f = await createFlavor(t);
    expect(await free(f.id, '?start=2030-01-10T10:30:45%2B02:00&end=2030-01-12T00:00:00Z')).toEqual(
      slots([['2030-01-10T08:30', '2030-01-12T00:00']]),
    );
    expect(await free(f.id, '?start=2030-01-10&end=2030-01-10')).toEqual(slots([['2030-01-10T00:00', '2030-01-10T00:00']]));
  });

  it('end before start, or a bad date, is a 400', async () => {
    const f = await createFlavor(t);
    expectError(await call(t, 'GET', `/v1/flavors/${f.id}/freeslots/?start=2030-01-11&end=2030-01-10`, MEMBER), 400);
    expectError(await call(t, 'GET', `/v1/flavors/${f.id}/freeslots/?end=2029-06-01`, MEMBER), 400);
    for (const bad of ['2030-13-01', '2030-02-30', 'tomorrow', '01/02/2030', '2030-01-10T10:00:00', '2030-1-1']) {
      expectError(await call(t, 'GET', `/v1/flavors/${f.id}/freeslots/?start=${bad}`, MEMBER), 400);
      expectError(await call(t, 'GET', `/v1/flavors/${f.id}/freeslots/?end=${bad}`, MEMBER), 400);
    }
    for (const bad of ['0', '-1', 'x', '1.5']) {
      expectError(await call(t, 'GET', `/v1/flavors/${f.id}/freeslots/?instance_count=${bad}`, MEMBER), 400);
    }
  });

  it('one reservation splits the day with the one-minute guard after it', async () => {
    const f = await createFlavor(t);
    await seedReservation(t, { flavor_id: f.id, project_id: uniq('p'), start: '2030-01-10T10:00', end: '2030-01-10T12:00' });
    expect(await free(f.id, DAY)).toEqual(
      slots([
        ['2030-01-10T00:00', '2030-01-10T09:59'],
        ['2030-01-10T12:01', '2030-01-11T00:00'],
      ]),
    );
  });

  it('a maintenance window of the flavor is busy too', async () => {
    const f = await createFlavor(t, { slots: 2 });
    await seedReservation(t, {
      flavor_id: f.id,
      project_id: uniq('p'),
      start: '2030-01-10T10:00',
      end: '2030-01-10T12:00',
      instance_count: 2,
    });
    await createWindow(t, '2030-01-10T15:00', '2030-01-10T16:00', [f.id]);
    // A window of another flavor changes nothing here.
    const other = await createFlavor(t);
    await createWindow(t, '2030-01-10T18:00', '2030-01-10T19:00', [other.id]);
    expect(await free(f.id, DAY)).toEqual(
      slots([
        ['2030-01-10T00:00', '2030-01-10T09:59'],
        ['2030-01-10T12:01', '2030-01-10T14:59'],
        ['2030-01-10T16:01', '2030-01-11T00:00'],
      ]),
    );
  });

  it('a gap of exactly one minute is not offered; a two-minute gap gives a one-minute slot', async () => {
    const f1 = await createFlavor(t);
    const p = uniq('p');
    await seedReservation(t, { flavor_id: f1.id, project_id: p, start: '2030-01-10T10:00', end: '2030-01-10T12:00' });
    await seedReservation(t, { flavor_id: f1.id, project_id: p, start: '2030-01-10T12:01', end: '2030-01-10T13:00' });
    expect(await free(f1.id, DAY)).toEqual(
      slots([
        ['2030-01-10T00:00', '2030-01-10T09:59'],
        ['2030-01-10T13:01', '2030-01-11T00:00'],
      ]),
    );

    const f2 = await createFlavor(t);
    await seedReservation(t, { flavor_id: f2.id, project_id: p, start: '2030-01-10T10:00', end: '2030-01-10T12:00' });
    await seedReservation(t, { flavor_id: f2.id, project_id: p, start: '2030-01-10T12:02', end: '2030-01-10T13:00' });
    expect(await free(f2.id, DAY)).toEqual(
      slots([
        ['2030-01-10T00:00', '2030-01-10T09:59'],
        ['2030-01-10T12:01', '2030-01-10T12:01'],
        ['2030-01-10T13:01', '2030-01-11T00:00'],
      ]),
    );
  });

  it('touching reservations do not overlap; a busy start moves the first slot', async () => {
    const f = await createFlavor(t, { slots: 1 });
    const p = uniq('p');
    await seedReservation(t, { flavor_id: f.id, project_id: p, start: '2030-01-09T22:00', end: '2030-01-10T01:00' });
    await seedReservation(t, { flavor_id: f.id, project_id: p, start: '2030-01-10T01:00', end: '2030-01-10T02:00' });
    // Busy from before S until 02:00: the only slot starts one minute after.
    expect(await free(f.id, DAY)).toEqual(slots([['2030-01-10T02:01', '2030-01-11T00:00']]));
  });

  it('only effective reservations (PENDING_CREATE, ALLOCATED, ACTIVE) occupy slots', async () => {
    const f = await createFlavor(t);
    const p = uniq('p');
    await seedReservation(t, { flavor_id: f.id, project_id: p, start: '2030-01-10T01:00', end: '2030-01-10T02:00', status: 'COMPLETE' });
    await seedReservation(t, { flavor_id: f.id, project_id: p, start: '2030-01-10T03:00', end: '2030-01-10T04:00', status: 'ERROR' });
    await seedReservation(t, { flavor_id: f.id, project_id: p, start: '2030-01-10T05:00', end: '2030-01-10T06:00', status: 'ALLOCATED' });
    await seedReservation(t, { flavor_id: f.id, project_id: p, start: '2030-01-10T07:00', end: '2030-01-10T08:00', status: 'ACTIVE' });
    expect(await free(f.id, DAY)).toEqual(
      slots([
        ['2030-01-10T00:00', '2030-01-10T04:59'],
        ['2030-01-10T06:01', '2030-01-10T06:59'],
        ['2030-01-10T08:01', '2030-01-11T00:00'],
      ]),
    );
  });

  it('instance_count=k treats a segment as busy when fewer than k slots are free', async () => {
    const f = await createFlavor(t, { slots: 3 });
    await seedReservation(t, {
      flavor_id: f.id,
      project_id: uniq('p'),
      start: '2030-01-10T10:00',
      end: '2030-01-10T12:00',
      instance_count: 2,
    });
    const whole = slots([['2030-01-10T00:00', '2030-01-11T00:00']]);
    const split = slots([
      ['2030-01-10T00:00', '2030-01-10T09:59'],
      ['2030-01-10T12:01', '2030-01-11T00:00'],
    ]);
    expect(await free(f.id, DAY)).toEqual(whole);
    expect(await free(f.id, `${DAY}&instance_count=1`)).toEqual(whole);
    expect(await free(f.id, `${DAY}&instance_count=2`)).toEqual(split);
    expect(await free(f.id, `${DAY}&instance_count=3`)).toEqual(split);
    expect(await free(f.id, `${DAY}&instance_count=4`)).toEqual([]);
  });

  it('is clamped to the flavor start and end', async () => {
    const f = await createFlavor(t, { start: '2030-01-05T06:00:00+00:00', end: '2030-01-20T18:00:00+00:00' });
    expect(await free(f.id, '?start=2030-01-01&end=2030-02-01')).toEqual(slots([['2030-01-05T06:00', '2030-01-20T18:00']]));
    expect(await free(f.id, '?start=2030-01-10&end=2030-01-11')).toEqual(slots([['2030-01-10T00:00', '2030-01-11T00:00']]));
  });

  it('an inactive flavor, or one whose end has passed, has no free slots', async () => {
    const inactive = await createFlavor(t, { active: false });
    expect(await free(inactive.id, DAY, ADMIN)).toEqual([]);
    const ended = await createFlavor(t, { start: '2029-01-01T00:00:00+00:00', end: '2029-12-31T00:00:00+00:00' });
    expect(await free(ended.id, '?start=2029-06-01&end=2029-07-01')).toEqual([]);
  });

  it('a private flavor not granted is a 404, granted is served; unknown is a 404', async () => {
    const f = await createFlavor(t, { is_public: false });
    const p = as(uniq('granted'));
    expectError(await call(t, 'GET', `/v1/flavors/${f.id}/freeslots/${DAY}`, MEMBER), 404, `Flavor ${f.id} doesn't exist`);
    await grant(t, f.id, p['x-project-id']);
    expect(await free(f.id, DAY, p)).toHaveLength(1);
    expect(await free(f.id, DAY, ADMIN)).toHaveLength(1);
    const unknown = randomUUID();
    expectError(await call(t, 'GET', `/v1/flavors/${unknown}/freeslots/`, MEMBER), 404, `Flavor ${unknown} doesn't exist`);
    expectError(await call(t, 'GET', '/v1/flavors/m1.small/freeslots/', MEMBER), 404);
  });
});
