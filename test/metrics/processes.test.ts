/**
 * Metrics of real processes (dist/, docs/metrics.md#several-processes): `warre api` with
 * `[api] workers = 2` gives one answer for both processes whichever one a scrape reaches;
 * `warre worker` serves `[worker] metrics_port` (with two processes too), and only to
 * `[api] metrics_allowed_networks`; `warre all` serves API, worker and simulator counters in
 * one answer. Every answer passes `promtool check metrics`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyConfigFile, ensureBuilt, freePort, httpRequest, runWarre, startWarre, type WarreProcess, warreEnv } from '../cli/process.js';
import { startApiProcesses } from '../hardening/api-processes.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { HAVE_PROMTOOL, parseMetrics, promtoolCheck } from './prometheus.js';

const ADMIN = { 'x-user-id': 'admin', 'x-project-id': 'admin-project', 'x-roles': 'admin' };

async function scrape(port: number) {
  const res = await httpRequest(port, 'GET', '/metrics');
  expect(res.status, res.body).toBe(200);
  expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
  if (HAVE_PROMTOOL) expect(promtoolCheck(res.body)).toEqual({ code: 0, output: '' });
  return parseMetrics(res.body);
}

describe('warre api with two processes', () => {
  let api: Awaited<ReturnType<typeof startApiProcesses>>;
  beforeAll(async () => {
    api = await startApiProcesses('sqlite', 2);
  }, 120_000);
  afterAll(async () => api?.stop());

  it('answers the sum of both processes: the request counter counts every request, whichever process served it', async () => {
    const requests = 20;
    // One connection each: node:cluster hands connections to the processes in turn.
    for (let i = 0; i < requests; i++) expect((await httpRequest(api.port, 'GET', '/v1/flavors/', ADMIN)).status).toBe(200);
    const series = { route: '/v1/flavors', method: 'GET', status: '200' };
    // Several scrapes, so both processes answer some: each answer has all the requests.
    for (let i = 0; i < 4; i++) {
      const m = await scrape(api.port);
      expect(m.value('warre_http_requests_total', series)).toBe(requests);
      expect(m.value('warre_http_request_duration_seconds_count', { route: '/v1/flavors', method: 'GET' })).toBe(requests);
      // Gauges read from the database once, not added up per process.
      expect(m.all('warre_reservations')).toHaveLength(5);
      expect(m.value('warre_lease_jobs_waiting')).toBe(0);
      // Node's own version is taken once, not summed.
      expect(m.all('nodejs_version_info')).toHaveLength(1);
    }
  });

  it('counts a reservation created through either process in the database gauges', async () => {
    const flavor = await httpRequest(api.port, 'POST', '/v1/flavors/', ADMIN, {
      name: 'metrics-f',
      vcpu: 1,
      memory_mb: 512,
      disk_gb: 1,
      slots: 3,
    });
    expect(flavor.status, flavor.body).toBe(202);
    const id = flavor.json().id as string;
    const start = new Date(Math.ceil(Date.now() / 60_000) * 60_000 + 86_400_000);
    const end = new Date(start.getTime() + 3_600_000);
    const r = await httpRequest(api.port, 'POST', '/v1/reservations/', ADMIN, {
      flavor_id: id,
      start: start.toISOString(),
      end: end.toISOString(),
    });
    expect(r.status, r.body).toBe(200);
    const m = await scrape(api.port);
    expect(m.value('warre_flavor_slots', { flavor_id: id, flavor: 'metrics-f' })).toBe(3);
    expect(m.value('warre_reservations', { status: 'PENDING_CREATE' })).toBe(1);
    expect(m.value('warre_lease_jobs_waiting')).toBe(1);
    expect(m.value('warre_http_requests_total', { route: '/v1/reservations', method: 'POST', status: '200' })).toBe(1);
  });
});

describe('warre worker on [worker] metrics_port', () => {
  let testDb: TestDatabase;
  const started: WarreProcess[] = [];
  beforeAll(async () => {
    ensureBuilt();
    testDb = await createTestDatabase('sqlite');
    const r = await runWarre(['manage', 'db', 'upgrade'], warreEnv({ WARRE_DATABASE__CONNECTION: testDb.url }));
    expect(r.code, r.stderr).toBe(0);
  });
  afterAll(async () => {
    for (const p of started) await p.stop();
    await testDb?.drop();
  });

  async function worker(extra: Record<string, string>): Promise<number> {
    const port = await freePort();
    const p = startWarre(
      ['worker'],
      warreEnv({
        WARRE_DATABASE__CONNECTION: testDb.url,
        WARRE_WARRE__LEASE_BACKEND: 'blazar',
        WARRE_WARRE__USER_NOTIFIER: 'logging',
        WARRE_WORKER__METRICS_PORT: String(port),
        ...extra,
      }),
    );
    started.push(p);
    const workers = Number(extra.WARRE_WORKER__WORKERS ?? '1');
    await p.waitFor(/warre-worker started/, { count: workers, timeoutMs: 30_000 });
    return port;
  }

  it('serves the worker processes in one answer (two processes), without the database gauges of the API', async () => {
    const port = await worker({ WARRE_WORKER__WORKERS: '2' });
    for (let i = 0; i < 3; i++) {
      const m = await scrape(port);
      expect(m.value('warre_lease_creations_total', { outcome: 'created', reason: 'new' })).toBe(0);
      expect(m.all('warre_lease_events_total').length).toBeGreaterThan(0);
      expect(m.all('nodejs_version_info')).toHaveLength(1);
      expect(m.all('warre_reservations')).toEqual([]);
    }
    expect((await httpRequest(port, 'GET', '/elsewhere')).status).toBe(404);
    expect((await httpRequest(port, 'POST', '/metrics')).status).toBe(405);
  });

  it('answers 403 in the API error shape to an address outside [api] metrics_allowed_networks', async () => {
    const port = await worker({ WARRE_API__METRICS_ALLOWED_NETWORKS: '10.0.0.0/8' });
    const res = await httpRequest(port, 'GET', '/metrics');
    expect(res.status).toBe(403);
    expect(res.json()).toEqual({ error_message: 'Metrics are not served to this address (see [api] metrics_allowed_networks)' });
  });

  it('refuses to start on a bad network, naming the option', async () => {
    const r = await runWarre(
      ['worker'],
      warreEnv({
        WARRE_DATABASE__CONNECTION: testDb.url,
        WARRE_WARRE__LEASE_BACKEND: 'blazar',
        WARRE_WARRE__USER_NOTIFIER: 'logging',
        WARRE_WORKER__METRICS_PORT: String(await freePort()),
        WARRE_API__METRICS_ALLOWED_NETWORKS: '10.0.0.0/8, nowhere',
      }),
      { timeoutMs: 30_000 },
    );
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toContain('[api] metrics_allowed_networks: "nowhere" is not an address or a network');
  });
});

describe('warre all: API, worker and lease events in one registry', () => {
  let cwd: string;
  let port: number;
  let proc: WarreProcess | undefined;
  beforeAll(async () => {
    ensureBuilt();
    cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'warre-metrics-all-'));
    port = await freePort();
    proc = startWarre(
      ['all'],
      warreEnv({
        WARRE_CONFIG_FILE: emptyConfigFile(),
        WARRE_API__PORT: String(port),
        WARRE_DEFAULT__AUTH_STRATEGY: 'noauth',
        WARRE_WARRE__LEASE_BACKEND: 'simulator',
        WARRE_WARRE__USER_NOTIFIER: 'logging',
      }),
      { cwd },
    );
    await proc.waitFor(/Data: +\S+/, { timeoutMs: 60_000 });
  });
  afterAll(async () => {
    await proc?.stop(10_000);
    fs.rmSync(cwd, { recursive: true, force: true });
  });

  it('a reservation made through the API, leased by the worker: every part counted on the API port', async () => {
    const f = await httpRequest(port, 'POST', '/v1/flavors/', ADMIN, {
      name: 'aio.metrics',
      vcpu: 1,
      memory_mb: 512,
      disk_gb: 1,
      slots: 2,
    });
    expect(f.status, f.body).toBe(202);
    const start = Math.floor(Date.now() / 60_000) * 60_000 + 2 * 3_600_000;
    const r = await httpRequest(port, 'POST', '/v1/reservations/', ADMIN, {
      flavor_id: f.json().id,
      start: new Date(start).toISOString(),
      end: new Date(start + 3_600_000).toISOString(),
    });
    expect(r.status, r.body).toBe(200);
    let m = await scrape(port);
    for (let i = 0; i < 200 && m.value('warre_reservations', { status: 'ALLOCATED' }) !== 1; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      m = await scrape(port);
    }
    expect(m.value('warre_reservations', { status: 'ALLOCATED' })).toBe(1);
    expect(m.value('warre_lease_jobs_waiting')).toBe(0);
    expect(m.value('warre_lease_creations_total', { outcome: 'created', reason: 'new' })).toBe(1);
    expect(m.value('warre_user_messages_total', { event: 'create', result: 'sent' })).toBe(1);
    expect(m.value('warre_http_requests_total', { route: '/v1/reservations', method: 'POST', status: '200' })).toBe(1);
  });
});
