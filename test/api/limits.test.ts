/** docs/api.md#limits and docs/api.md#quotas from the configuration (no Keystone). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { as, book, Clock, call, createFlavor, expectError, expectOk, type Headers, seedReservation, uniq } from '../support/api-helpers.js';
import { ADMIN, buildTestApp, MEMBER, READER, type TestApp, WRITER } from '../support/app.js';
import { DIALECTS } from '../support/db.js';

const clock = new Clock(Date.parse('2030-01-01T00:00:00Z'));
const OVERRIDDEN = 'limits-override';
const BOTH = 'limits-both';

describe.each(DIALECTS)('limits on %s', (dialect) => {
  let t: TestApp;
  let flavorId: string;

  beforeAll(async () => {
    t = await buildTestApp(dialect, {
      now: clock.now,
      quota: { default_reservation: 10, default_hours: 100 },
      projectLimits: new Map([
        [OVERRIDDEN, { hours: 7 }],
        [BOTH, { reservation: 0, hours: 0 }],
      ]),
    });
    flavorId = (await createFlavor(t, { slots: 100 })).id;
  });
  afterAll(async () => t?.close());

  const limits = async (url: string, h: Headers = MEMBER) => expectOk(await call(t, 'GET', url, h));

  it('answers {"absolute": {...}} for the caller\'s project, with and without the slash', async () => {
    const p = as(uniq('fresh'));
    for (const url of ['/v1/limits', '/v1/limits/']) {
      const body = await limits(url, p);
      expect(body).toEqual({ absolute: { maxHours: 100, maxReservations: 10, totalHoursUsed: 0, totalReservationsUsed: 0 } });
    }
  });

  it('usage counts effective reservations: hours = Σ instance_count × ceil(hours)', async () => {
    const project = uniq('usage');
    const seed = (
      start: string,
      end: string,
      status: 'PENDING_CREATE' | 'ALLOCATED' | 'ACTIVE' | 'COMPLETE' | 'ERROR',
      instance_count: number,
    ) => seedReservation(t, { flavor_id: flavorId, project_id: project, start, end, status, instance_count });
    await seed('2030-02-01T00:00', '2030-02-01T01:30', 'PENDING_CREATE', 1); // 2
    await seed('2030-02-02T00:00', '2030-02-02T01:00', 'ALLOCATED', 2); // 2
    await seed('2030-02-03T00:00', '2030-02-03T00:01', 'ACTIVE', 3); // 3
    await seed('2030-02-04T00:00', '2030-02-04T10:00', 'COMPLETE', 5); // not counted
    await seed('2030-02-05T00:00', '2030-02-05T10:00', 'ERROR', 5); // not counted
    await seedReservation(t, { flavor_id: flavorId, project_id: uniq('elsewhere'), start: '2030-02-01T00:00', end: '2030-02-01T05:00' });
    expect(await limits('/v1/limits', as(project))).toEqual({
      absolute: { maxHours: 100, maxReservations: 10, totalHoursUsed: 7, totalReservationsUsed: 3 },
    });
    // A reservation made through the API adds to it.
    expectOk(await book(t, as(project), flavorId, '2030-01-10T00:00', '2030-01-10T02:30', 2));
    expect((await limits('/v1/limits/', as(project))).absolute).toMatchObject({ totalHoursUsed: 13, totalReservationsUsed: 4 });
  });

  it('project_id=X for admin and readers; members 403', async () => {
    const project = uniq('target');
    await seedReservation(t, { flavor_id: flavorId, project_id: project, start: '2030-02-01T00:00', end: '2030-02-01T03:00' });
    const expected = { absolute: { maxHours: 100, maxReservations: 10, totalHoursUsed: 3, totalReservationsUsed: 1 } };
    for (const h of [ADMIN, READER, WRITER]) {
      expect(await limits(`/v1/limits?project_id=${project}`, h)).toEqual(expected);
      // Given twice (some setups do), the first wins.
      expect(await limits(`/v1/limits?project_id=${project}&project_id=${uniq('other')}`, h)).toEqual(expected);
    }
    expectError(await call(t, 'GET', `/v1/limits?project_id=${project}`, MEMBER), 403, 'Not authorised');
    // A member naming its own project is still asking for list:all.
    expectError(await call(t, 'GET', `/v1/limits/?project_id=${MEMBER['x-project-id']}`, MEMBER), 403, 'Not authorised');
  });

  it('reflects per-project overrides from the configuration', async () => {
    expect(await limits('/v1/limits', as(OVERRIDDEN))).toEqual({
      absolute: { maxHours: 7, maxReservations: 10, totalHoursUsed: 0, totalReservationsUsed: 0 },
    });
    expect(await limits(`/v1/limits?project_id=${BOTH}`, READER)).toEqual({
      absolute: { maxHours: 0, maxReservations: 0, totalHoursUsed: 0, totalReservationsUsed: 0 },
    });
    // And they are what reservations are checked against.
    expectOk(await book(t, as(OVERRIDDEN), flavorId, '2030-01-10T00:00', '2030-01-10T07:00'));
    expectError(
      await book(t, as(OVERRIDDEN), flavorId, '2030-01-11T00:00', '2030-01-11T00:30'),
      413,
      `Project ${OVERRIDDEN} is over a limit for [Resource hours is over limit of 7 due to current usage 7 and delta 1]`,
    );
    expectError(
      await book(t, as(BOTH), flavorId, '2030-01-11T00:00', '2030-01-11T00:30'),
      413,
      `Project ${BOTH} is over a limit for [Resource reservation is over limit of 0 due to current usage 0 and delta 1]`,
    );
  });
});
