import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, buildTestApp, MEMBER, type TestApp } from '../support/app.js';
import { DIALECTS } from '../support/db.js';

describe.each(DIALECTS)('smoke on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect);
  });
  afterAll(async () => t?.close());

  it('creates a flavor and books it', async () => {
    const f = await t.app.inject({
      method: 'POST',
      url: '/v1/flavors/',
      headers: ADMIN,
      payload: { name: 'gpu', vcpu: 4, memory_mb: 1024, disk_gb: 10, slots: 2 },
    });
    expect(f.statusCode).toBe(202);
    const flavor = f.json();
    const start = new Date(Date.now() + 3600_000).toISOString().slice(0, 16) + ':00+00:00';
    const end = new Date(Date.now() + 7200_000).toISOString().slice(0, 16) + ':00+00:00';
    const r = await t.app.inject({
      method: 'POST',
      url: '/v1/reservations',
      headers: MEMBER,
      payload: { flavor_id: flavor.id, start, end, instance_count: 2 },
    });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.json().status).toBe('PENDING_CREATE');
    expect(r.headers['x-openstack-request-id']).toMatch(/^req-/);
    const r2 = await t.app.inject({
      method: 'POST',
      url: '/v1/reservations',
      headers: MEMBER,
      payload: { flavor_id: flavor.id, start, end },
    });
    expect(r2.statusCode).toBe(400);
    expect(r2.json()).toEqual({ error_message: 'No capacity' });
    const list = await t.app.inject({ method: 'GET', url: '/v1/reservations/', headers: MEMBER });
    expect(list.json().total).toBe(1);
    const slots = await t.app.inject({ method: 'GET', url: `/v1/flavors/${flavor.id}/freeslots?start=2020-01-01`, headers: MEMBER });
    expect(slots.statusCode, slots.body).toBe(200);
    expect(slots.json().length).toBe(2);
  });
});
