/**
 * docs/api.md#no-overbooking [beyond] "No overbooking under concurrency", through the HTTP
 * layer: concurrent requests for the last slot, or the last unit of quota,
 * have exactly one winner. (No timing assertions: only outcomes.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { as, book, Clock, call, createFlavor, expectOk, uniq } from '../support/api-helpers.js';
import { ADMIN, buildTestApp, type TestApp } from '../support/app.js';
import { DIALECTS } from '../support/db.js';

const clock = new Clock(Date.parse('2030-01-01T00:00:00Z'));
const ONE_RESERVATION = 'race-quota-1';
const N = 8;

describe.each(DIALECTS)('concurrent requests on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect, { now: clock.now, projectLimits: new Map([[ONE_RESERVATION, { reservation: 1 }]]) });
  });
  afterAll(async () => t?.close());

  const outcome = (codes: number[]) => {
    const m: Record<number, number> = {};
    for (const c of codes) m[c] = (m[c] ?? 0) + 1;
    return m;
  };

  it('the last slot of a flavor goes to exactly one of several projects', async () => {
    const f = await createFlavor(t, { slots: 2 });
    expectOk(await book(t, as(uniq('first')), f.id, '2030-01-05T10:00', '2030-01-05T12:00'));
    const res = await Promise.all(
      Array.from({ length: N }, (_, i) => book(t, as(uniq(`racer${i}`)), f.id, '2030-01-05T11:00', '2030-01-05T13:00')),
    );
    expect(outcome(res.map((r) => r.statusCode))).toEqual({ 200: 1, 400: N - 1 });
    for (const r of res.filter((x) => x.statusCode === 400)) expect(r.json()).toEqual({ error_message: 'No capacity' });
    const all = expectOk(await call(t, 'GET', `/v1/reservations/?all_projects=true&flavor_id=${f.id}`, ADMIN));
    expect(all.total).toBe(2);
  });

  it('multi-instance requests never exceed the slots together', async () => {
    const f = await createFlavor(t, { slots: 5 });
    const res = await Promise.all(Array.from({ length: N }, () => book(t, as(uniq('k')), f.id, '2030-01-06T10:00', '2030-01-06T12:00', 2)));
    expect(outcome(res.map((r) => r.statusCode))).toEqual({ 200: 2, 400: N - 2 });
  });

  it("the last unit of a project's reservation quota goes to one request", async () => {
    const flavors = await Promise.all(Array.from({ length: N }, () => createFlavor(t)));
    const res = await Promise.all(flavors.map((f) => book(t, as(ONE_RESERVATION), f.id, '2030-01-07T10:00', '2030-01-07T11:00')));
    expect(outcome(res.map((r) => r.statusCode))).toEqual({ 200: 1, 413: N - 1 });
  });

  it('a maintenance window and a reservation racing for the same time: not both', async () => {
    for (let round = 0; round < 3; round++) {
      const f = await createFlavor(t, { slots: 3 });
      const [w, r] = await Promise.all([
        call(t, 'POST', '/v1/maintenancewindows/', ADMIN, {
          start: '2030-01-08T00:00:00Z',
          end: '2030-01-09T00:00:00Z',
          flavor_ids: [f.id],
        }),
        book(t, as(uniq('mw')), f.id, '2030-01-08T10:00', '2030-01-08T11:00'),
      ]);
      expect([w.statusCode, r.statusCode].sort()).toEqual(w.statusCode === 201 ? [201, 400] : [200, 409]);
    }
  });
});
