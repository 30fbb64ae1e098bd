/**
 * A Blazar endpoint registered or moved after the worker's first lease for a project
 * (docs/keystone.md#catalog), with the real Keystone (test/support/keystone.ts), the worker's
 * real bot sessions (role grant, project-scoped bot login, catalog) and fake Blazars. Before,
 * the bot session kept the catalog of its first login for the token's hour: a reservation
 * made after the endpoint was registered or moved went to ERROR too.
 *
 * Each run uses a region of its own, so its `reservation` endpoint is the only one the
 * worker can pick. `[service_auth] catalog_max_age` is checked on the service session.
 */
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createServiceSession } from '../../../src/cli/runtime.js';
import { botSessions } from '../../../src/cli/worker-parts.js';
import type { Db } from '../../../src/db/connect.js';
import { leaseFailure } from '../../../src/domain/lifecycle.js';
import { BlazarLeaseBackend } from '../../../src/drivers/blazar/client.js';
import type { KeystoneSession } from '../../../src/drivers/keystone/session.js';
import { LeaseWorker } from '../../../src/worker/lease-worker.js';
import { DIALECTS, migratedDatabase } from '../../support/db.js';
import { FakeBlazar } from '../../support/fake-blazar.js';
import { countHttpRequests } from '../../support/http-spy.js';
import * as ks from '../../support/keystone.js';
import {
  configFrom,
  DAY,
  RecordingMessenger,
  recordingLogger,
  reservationRow,
  seedFlavor,
  seedReservation,
} from '../../support/lifecycle-helpers.js';

const regions: string[] = [];
let bot: { id: string; password: string; roleId: string };
let project: ks.Named;

/** A region of our own (deleted afterwards). */
async function newRegion(): Promise<string> {
  const id = ks.uniqueName('catalog-region');
  await ks.adminRequest('POST', '/regions', { region: { id, description: 'warre catalog tests' } });
  regions.push(id);
  return id;
}

const serviceAuth = (extra: Record<string, string | number> = {}) => ({
  auth_url: ks.keystoneUrl(),
  username: 'admin',
  password: ks.ADMIN_PASSWORD,
  user_domain_name: 'Default',
  project_name: 'admin',
  project_domain_name: 'Default',
  ...extra,
});

beforeAll(async () => {
  await ks.ensureKeystone();
  project = await ks.createProject();
  const password = `bot-${ks.RUN_SUFFIX}`;
  const botUser = await ks.createUser({ password });
  bot = { id: botUser.id, password, roleId: (await ks.createRole()).id };
}, 900_000);

afterAll(async () => {
  await ks.cleanupKeystone();
  for (const r of regions) await ks.adminRequest('DELETE', `/regions/${r}`, undefined, [204, 404]).catch(() => undefined);
});

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe.each(DIALECTS)('the worker and a Blazar endpoint registered or moved later (%s)', (dialect) => {
  let db: Db;
  let close: () => Promise<void>;
  const first = new FakeBlazar();
  const second = new FakeBlazar();

  beforeAll(async () => {
    ({ db, close } = await migratedDatabase(dialect));
    await first.start();
    await second.start();
  });
  afterAll(async () => {
    await first.stop();
    await second.stop();
    await close();
  });

  it('re-reads the catalog: missing endpoint, then registered, moved (old URL answers 404), moved again (old URL refuses)', async () => {
    const region = await newRegion();
    const config = configFrom({
      warre: { lease_backend: 'blazar', bot_user_id: bot.id, bot_password: bot.password, bot_role_id: bot.roleId },
      blazar: { region_name: region },
      service_auth: serviceAuth(),
    });
    const log = recordingLogger();
    const worker = new LeaseWorker({
      db,
      leases: new BlazarLeaseBackend({ region }),
      botSession: botSessions(config, createServiceSession(config, pino({ enabled: false }))),
      messenger: new RecordingMessenger(),
      log,
      claimTtlMs: 60_000,
      retryTimeoutMs: 900_000,
    });
    const flavor = await seedFlavor(db);
    const start = Math.floor((Date.now() + DAY) / 60_000) * 60_000;
    const reserve = () => seedReservation(db, { flavor, start, end: start + DAY, projectId: project.id });

    // 1. No reservation endpoint in the region: ERROR, with a plain reason for the member.
    const r1 = await reserve();
    expect(await worker.runOnce()).toBe(1);
    expect(await reservationRow(db, r1)).toMatchObject({ status: 'ERROR', status_reason: leaseFailure('catalog', '').reason });
    const failed = log.lines.find((l) => l.msg === 'lease creation failed; reservation in ERROR');
    expect(failed?.obj['error']).toBe(`No public endpoint for service type reservation in region ${region} in the catalog`);

    // 2. Registered now: the project's bot session (kept from step 1) reads a fresh catalog.
    const service = await ks.createService(ks.uniqueName('blazar'), 'reservation');
    const endpointId = await ks.createEndpoint(service.id, first.url, 'public', region);
    const r2 = await reserve();
    expect(await worker.runOnce()).toBe(1);
    const row2 = await reservationRow(db, r2);
    expect(row2).toMatchObject({ status: 'ALLOCATED', status_reason: null });
    expect(first.leases.has(row2!.lease_id!)).toBe(true);

    // 3. Moved: the old URL answers 404 (an unknown path there); the request goes to the new one, once.
    await ks.adminRequest('PATCH', `/endpoints/${endpointId}`, { endpoint: { url: second.url } });
    first.failNext(1, 404, 'The resource could not be found.');
    const r3 = await reserve();
    expect(await worker.runOnce()).toBe(1);
    const row3 = await reservationRow(db, r3);
    expect(row3).toMatchObject({ status: 'ALLOCATED', status_reason: null });
    expect(second.leases.has(row3!.lease_id!)).toBe(true);
    expect(first.requestsFor('POST')).toHaveLength(2); // r2's lease, r3's 404
    expect(second.requestsFor('POST')).toHaveLength(1);
    expect(first.leases.size).toBe(1);

    // 4. Moved back, and the server at the old URL is gone (connection refused).
    await ks.adminRequest('PATCH', `/endpoints/${endpointId}`, { endpoint: { url: first.url } });
    await second.stop();
    const r4 = await reserve();
    expect(await worker.runOnce()).toBe(1);
    const row4 = await reservationRow(db, r4);
    expect(row4).toMatchObject({ status: 'ALLOCATED', status_reason: null });
    expect(first.leases.has(row4!.lease_id!)).toBe(true);
    expect(first.leases.size).toBe(2);
    // Every lease was made with the bot's own token (the project's), never the service user's.
    const botToken = String(first.requestsFor('POST').at(-1)!.headers['x-auth-token']);
    expect(botToken).toMatch(/^gAAAAA/);
  }, 120_000);
});

describe('[service_auth] catalog_max_age', () => {
  let region: string;
  let endpointId: string;
  let session: KeystoneSession;

  beforeAll(async () => {
    region = await newRegion();
    const service = await ks.createService(ks.uniqueName('blazar'), 'reservation');
    endpointId = await ks.createEndpoint(service.id, 'http://127.0.0.1:9/old/v1', 'public', region);
  });

  it('is 300 s by default, and a catalog older than it is read again, even with no failure to notice', async () => {
    expect(configFrom({ service_auth: serviceAuth() }).service_auth.catalog_max_age).toBe(300);
    session = createServiceSession(configFrom({ service_auth: serviceAuth({ catalog_max_age: 60 }) }), pino({ enabled: false }))!;
    const logins = countHttpRequests('POST', '/v3/auth/tokens');
    expect(await session.getEndpoint('reservation', { region })).toBe('http://127.0.0.1:9/old/v1');
    await ks.adminRequest('PATCH', `/endpoints/${endpointId}`, { endpoint: { url: 'http://127.0.0.1:9/new/v1' } });
    vi.useFakeTimers({ toFake: ['Date'] });
    const t0 = Date.now();
    vi.setSystemTime(t0 + 50_000);
    expect(await session.getEndpoint('reservation', { region })).toBe('http://127.0.0.1:9/old/v1');
    expect(logins.count()).toBe(1);
    vi.setSystemTime(t0 + 61_000);
    expect(await session.getEndpoint('reservation', { region })).toBe('http://127.0.0.1:9/new/v1');
    expect(logins.count()).toBe(2);
  });
});
