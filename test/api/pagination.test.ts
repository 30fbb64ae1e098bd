/** docs/api.md#pagination on every list endpoint. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { as, Clock, call, createFlavor, expectError, expectOk, grant, seedReservation, uniq } from '../support/api-helpers.js';
import { ADMIN, buildTestApp, type TestApp } from '../support/app.js';
import { DIALECTS } from '../support/db.js';

const clock = new Clock(Date.parse('2030-01-01T00:00:00Z'));

describe.each(DIALECTS)('pagination on %s', (dialect) => {
  let t: TestApp;
  const category = uniq('page');
  const project = uniq('pager');
  const member = as(project);
  const flavorIds: string[] = [];

  beforeAll(async () => {
    t = await buildTestApp(dialect, { now: clock.now });
    // 5 flavors of one category (names sort in creation order), 5 grants, 5 reservations.
    for (let i = 0; i < 5; i++) {
      const f = await createFlavor(t, { name: `${category}-${i}`, category });
      flavorIds.push(f.id);
      await grant(t, f.id, project);
      await seedReservation(t, {
        flavor_id: f.id,
        project_id: project,
        start: '2030-02-01T00:00',
        end: '2030-02-01T01:00',
        created_at: `2029-12-01T00:0${i}`,
      });
    }
  });
  afterAll(async () => t?.close());

  const ids = (body: { results: { id: string }[] }) => body.results.map((r) => r.id);

  it('no limit (or 0) means up to 1000 per page, no next', async () => {
    for (const q of ['', '&limit=0']) {
      const body = expectOk(await call(t, 'GET', `/v1/flavors/?category=${category}${q}`, member));
      expect(ids(body)).toEqual(flavorIds);
      expect(body.total).toBe(5);
      expect(body).not.toHaveProperty('next');
    }
  });

  it('limit clamps to 1..1000; a non-integer is a 400', async () => {
    const neg = expectOk(await call(t, 'GET', `/v1/flavors/?category=${category}&limit=-3`, member));
    expect(ids(neg)).toEqual(flavorIds.slice(0, 1));
    const big = expectOk(await call(t, 'GET', `/v1/flavors/?category=${category}&limit=5000`, member));
    expect(ids(big)).toEqual(flavorIds);
    expect(big).not.toHaveProperty('next');
    for (const bad of ['x', '1.5', '2abc', '1e3']) {
      expectError(await call(t, 'GET', `/v1/flavors/?category=${category}&limit=${bad}`, member), 400);
      expectError(await call(t, 'GET', `/v1/reservations/?limit=${bad}`, member), 400);
      expectError(await call(t, 'GET', `/v1/flavorprojects/?limit=${bad}`, ADMIN), 400);
      expectError(await call(t, 'GET', `/v1/maintenancewindows/?limit=${bad}`, member), 400);
    }
  });

  it('pages with total, and next only while a further page exists', async () => {
    const p1 = expectOk(await call(t, 'GET', `/v1/flavors/?category=${category}&limit=2`, member));
    expect(ids(p1)).toEqual(flavorIds.slice(0, 2));
    expect(p1.total).toBe(5);
    const next1 = new URL(p1.next);
    expect(next1.protocol).toBe('http:');
    expect(next1.pathname).toBe('/v1/flavors/');
    expect(Object.fromEntries(next1.searchParams)).toEqual({ category, limit: '2', page: '2' });

    const p2 = expectOk(await call(t, 'GET', next1.pathname + next1.search, member));
    expect(ids(p2)).toEqual(flavorIds.slice(2, 4));
    expect(p2.total).toBe(5);
    const next2 = new URL(p2.next);
    expect(next2.searchParams.get('page')).toBe('3');

    const p3 = expectOk(await call(t, 'GET', next2.pathname + next2.search, member));
    expect(ids(p3)).toEqual(flavorIds.slice(4));
    expect(p3.total).toBe(5);
    expect(p3).not.toHaveProperty('next');
  });

  it('an exact last page has no next', async () => {
    const body = expectOk(await call(t, 'GET', `/v1/flavors/?category=${category}&limit=5`, member));
    expect(body).not.toHaveProperty('next');
    const p2 = expectOk(await call(t, 'GET', `/v1/flavors/?category=${category}&limit=1&page=5`, member));
    expect(ids(p2)).toEqual(flavorIds.slice(4));
    expect(p2).not.toHaveProperty('next');
  });

  it('a page past the end is 200 with empty results', async () => {
    const body = expectOk(await call(t, 'GET', `/v1/flavors/?category=${category}&limit=2&page=9`, member));
    expect(body.results).toEqual([]);
    expect(body.total).toBe(5);
    expect(body).not.toHaveProperty('next');
  });

  it('next keeps all_projects, project_id and the path without the slash', async () => {
    const r1 = expectOk(await call(t, 'GET', `/v1/reservations?all_projects=True&project_id=${project}&limit=3`, ADMIN));
    expect(r1.total).toBe(5);
    expect(r1.results).toHaveLength(3);
    const next = new URL(r1.next);
    expect(next.pathname).toBe('/v1/reservations');
    expect(Object.fromEntries(next.searchParams)).toEqual({ all_projects: 'True', project_id: project, limit: '3', page: '2' });
    const r2 = expectOk(await call(t, 'GET', next.pathname + next.search, ADMIN));
    expect(r2.results).toHaveLength(2);
    expect(r2).not.toHaveProperty('next');
    const all = [...r1.results, ...r2.results].map((r: { id: string }) => r.id);
    expect(new Set(all).size).toBe(5);
  });

  it("all projects' reservations (the unfiltered admin list) page in creation order, then id, without gaps or repeats", async () => {
    const first = expectOk(await call(t, 'GET', '/v1/reservations/?all_projects=true&limit=1000', ADMIN));
    const order = (first.results as { id: string; created_at: string }[])
      .map((r) => [r.created_at, r.id] as const)
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
      .map((r) => r[1]);
    expect(ids(first)).toEqual(order);
    expect(first.total).toBe(order.length);
    const paged: string[] = [];
    for (let page = 1; ; page++) {
      const body = expectOk(await call(t, 'GET', `/v1/reservations/?all_projects=true&limit=2&page=${page}`, ADMIN));
      expect(body.total).toBe(order.length);
      paged.push(...ids(body));
      if (!body.next) break;
    }
    expect(paged).toEqual(order);
  });

  it('flavorprojects and reservations paginate the same way', async () => {
    const g1 = expectOk(await call(t, 'GET', `/v1/flavorprojects/?project_id=${project}&limit=4`, ADMIN));
    expect(g1.total).toBe(5);
    expect(g1.results).toHaveLength(4);
    expect(new URL(g1.next).searchParams.get('project_id')).toBe(project);
    const mine = expectOk(await call(t, 'GET', '/v1/reservations/?limit=2&page=3', member));
    expect(mine.total).toBe(5);
    expect(mine.results).toHaveLength(1);
    expect(mine).not.toHaveProperty('next');
  });

  it('next is built from the Host header', async () => {
    const res = await t.app.inject({
      method: 'GET',
      url: `/v1/flavors/?category=${category}&limit=1`,
      headers: { ...member, host: 'warre.example.org:8888' },
    });
    expect(new URL(expectOk(res).next).origin).toBe('http://warre.example.org:8888');
  });
});
