/**
 * `GET /metrics` of the API (docs/metrics.md) on each database: promtool accepts the live
 * answer; requests show up by route template; a reservation moves the database gauges
 * (docs/metrics.md#from-the-database); only the allowed networks may read it
 * (docs/metrics.md#access).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { NoAuthAuthenticator } from '../../src/auth/noauth.js';
import { PolicyEnforcer } from '../../src/policy/enforcer.js';
import { as, book, Clock, call, createFlavor, expectError, expectOk, uniq } from '../support/api-helpers.js';
import { buildTestApp, type TestApp } from '../support/app.js';
import { DIALECTS } from '../support/db.js';
import { HAVE_PROMTOOL, parseMetrics, promtoolCheck } from './prometheus.js';

const clock = new Clock(Date.parse('2030-01-01T00:00:00Z'));

async function scrape(t: TestApp, remoteAddress?: string) {
  const res = await t.app.inject({ method: 'GET', url: '/metrics', ...(remoteAddress ? { remoteAddress } : {}) });
  expect(res.statusCode, res.body).toBe(200);
  expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
  return { text: res.body, metrics: parseMetrics(res.body) };
}

describe.each(DIALECTS)('GET /metrics on %s', (dialect) => {
  let t: TestApp;

  beforeAll(async () => {
    t = await buildTestApp(dialect, { now: clock.now });
  });
  afterAll(async () => t?.close());

  it.skipIf(!HAVE_PROMTOOL)('is accepted by promtool check metrics (with data in every family)', async () => {
    const flavor = await createFlavor(t, { slots: 5 });
    expect((await book(t, as(uniq('p')), flavor.id, '2030-01-02T10:00', '2030-01-02T12:00')).statusCode).toBe(200);
    await call(t, 'GET', '/v1/no-such-thing', as(uniq('p')));
    const { text } = await scrape(t);
    expect(text).toContain('warre_flavor_slots{');
    expect(text).toContain('warre_http_request_duration_seconds_bucket{');
    expect(promtoolCheck(text)).toEqual({ code: 0, output: '' });
  });

  it.skipIf(!HAVE_PROMTOOL)('promtool does complain about a broken answer (the check above can fail)', () => {
    const r = promtoolCheck('# HELP x_total a gauge named like a counter\n# TYPE x_total gauge\nx_total 1\n');
    expect(r.code).not.toBe(0);
    expect(r.output).toContain('x_total');
  });

  it('counts requests by route template, method and status, never by URL', async () => {
    const flavor = await createFlavor(t);
    const h = as(uniq('routes'));
    const created = expectOk(await book(t, h, flavor.id, '2030-01-03T10:00', '2030-01-03T11:00'));
    const before = (await scrape(t)).metrics;
    const labels = { route: '/v1/reservations/:id', method: 'GET', status: '200' };
    const countBefore = before.value('warre_http_requests_total', labels) ?? 0;
    const histogramBefore =
      before.value('warre_http_request_duration_seconds_count', { route: '/v1/reservations/:id', method: 'GET' }) ?? 0;
    for (let i = 0; i < 3; i++) expectOk(await call(t, 'GET', `/v1/reservations/${created.id}/`, h));
    expectError(await call(t, 'GET', `/v1/reservations/${crypto.randomUUID()}/`, h), 404);
    const { text, metrics } = await scrape(t);
    expect(metrics.value('warre_http_requests_total', labels)).toBe(countBefore + 3);
    expect(metrics.value('warre_http_requests_total', { ...labels, status: '404' })).toBeGreaterThanOrEqual(1);
    expect(metrics.value('warre_http_request_duration_seconds_count', { route: '/v1/reservations/:id', method: 'GET' })).toBe(
      histogramBefore + 4,
    );
    expect(metrics.value('warre_http_requests_total', { route: '/v1/reservations', method: 'POST', status: '200' })).toBeGreaterThanOrEqual(
      1,
    );
    expect(text).not.toContain(created.id);
  });

  it('labels requests that matched no route "unmatched"', async () => {
    const before = parseMetrics((await scrape(t)).text).value('warre_http_requests_total', {
      route: 'unmatched',
      method: 'GET',
      status: '404',
    });
    expectError(await call(t, 'GET', `/v1/nothing-here/${uniq('x')}`, as(uniq('lost'))), 404);
    const after = (await scrape(t)).metrics.value('warre_http_requests_total', { route: 'unmatched', method: 'GET', status: '404' });
    expect(after).toBe((before ?? 0) + 1);
  });

  it('reads reservations by status, waiting lease jobs and their age, slots and slots in use from the database', async () => {
    clock.reset();
    const flavor = await createFlavor(t, { slots: 7 });
    const before = (await scrape(t)).metrics;
    const pending = before.value('warre_reservations', { status: 'PENDING_CREATE' })!;
    expect(before.value('warre_lease_jobs_waiting')).toBe(pending);
    expect(before.value('warre_flavor_slots', { flavor_id: flavor.id, flavor: flavor.name })).toBe(7);
    expect(before.value('warre_flavor_slots_in_use', { flavor_id: flavor.id })).toBe(0);
    // Every status is there, at 0 when no reservation has it.
    expect(before.value('warre_reservations', { status: 'ERROR' })).toBe(0);

    // Created at 2030-01-01T00:00 (the clock), for 2030-01-04 10:00–12:00.
    const r = expectOk(await book(t, as(uniq('gauges')), flavor.id, '2030-01-04T10:00', '2030-01-04T12:00', 3));
    expect(r.status).toBe('PENDING_CREATE');
    const after = (await scrape(t)).metrics;
    expect(after.value('warre_reservations', { status: 'PENDING_CREATE' })).toBe(pending + 1);
    expect(after.value('warre_lease_jobs_waiting')).toBe(pending + 1);
    // Not started yet: no slot in use.
    expect(after.value('warre_flavor_slots_in_use', { flavor_id: flavor.id })).toBe(0);

    // An hour into the reservation: its 3 instances hold 3 slots; the oldest waiting job (created at the
    // start of the clock, as every reservation of this file) is 3 days 11 hours old.
    clock.set('2030-01-04T11:00');
    const during = (await scrape(t)).metrics;
    expect(during.value('warre_flavor_slots_in_use', { flavor_id: flavor.id, flavor: flavor.name })).toBe(3);
    expect(during.value('warre_flavor_slots', { flavor_id: flavor.id })).toBe(7);
    expect(during.value('warre_lease_jobs_oldest_age_seconds')).toBe((3 * 24 + 11) * 3600);

    // Deleted: the gauges go back.
    expect((await call(t, 'DELETE', `/v1/reservations/${r.id}/`, as(r.project_id, 'member', r.user_id))).statusCode).toBe(204);
    const gone = (await scrape(t)).metrics;
    expect(gone.value('warre_flavor_slots_in_use', { flavor_id: flavor.id })).toBe(0);
    expect(gone.value('warre_reservations', { status: 'PENDING_CREATE' })).toBe(pending);
    clock.reset();
  });

  it('answers without identity (a scraper has no token)', async () => {
    // buildTestApp's noauth needs X-Project-Id on every other path; /metrics needs none.
    const res = await t.app.inject({ method: 'GET', url: '/metrics/' });
    expect(res.statusCode).toBe(200);
  });
});

describe('who may read /metrics ([api] metrics_allowed_networks)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp('sqlite', { metrics: { allowedNetworks: ['10.0.0.0/8', '2001:db8::/32'] } });
  });
  afterAll(async () => t?.close());

  it('refuses loopback with 403 in the error shape when only 10.0.0.0/8 is allowed', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/metrics' });
    expectError(res, 403, 'Metrics are not served to this address (see [api] metrics_allowed_networks)');
    expect(res.headers['x-openstack-request-id']).toMatch(/^req-/);
    expect(res.body).not.toContain('warre_');
  });

  it('serves the allowed networks, IPv4 (also as an IPv4-mapped IPv6 peer) and IPv6', async () => {
    for (const remoteAddress of ['10.1.2.3', '::ffff:10.200.0.1', '2001:db8::5']) await scrape(t, remoteAddress);
    for (const remoteAddress of ['11.0.0.1', '2001:db9::1', '::1']) {
      expect((await t.app.inject({ method: 'GET', url: '/metrics', remoteAddress })).statusCode, remoteAddress).toBe(403);
    }
  });

  it('refuses to start on an entry that is not a network, naming the option', async () => {
    const start = (networks: string[]) =>
      buildApp({
        svc: t.svc,
        authenticator: new NoAuthAuthenticator(),
        policy: new PolicyEnforcer({ policyFile: null }),
        logger: t.svc.log as never,
        metrics: { allowedNetworks: networks },
      });
    for (const bad of ['10.0.0.0/33', 'example.org', '10.0.0.0/8/1', '::1/129', '10.0.0.0/']) {
      await expect(start([bad]), bad).rejects.toThrow(`[api] metrics_allowed_networks: "${bad}" is not an address or a network`);
    }
  });
});
