/**
 * Crash recovery of the real `warre worker` process (docs/api.md#lease-creation [beyond]): it is
 * killed with SIGKILL after Blazar created the lease but before the database
 * commit; the restarted worker finds the lease by name instead of creating a
 * second one. Real Keystone (service user, bot role grant, bot login scoped to
 * the project, catalog); fake Blazar behind a proxy that holds its answer.
 *
 * Needs `npm run build`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Db } from '../../src/db/connect.js';
import { DIALECTS, migratedDatabase, type TestDatabase } from '../support/db.js';
import { FakeBlazar } from '../support/fake-blazar.js';
import * as ks from '../support/keystone.js';
import {
  DAY,
  HoldingProxy,
  requireBuild,
  reservationRow,
  seedFlavor,
  seedReservation,
  WarreProcess,
  waitFor,
  writeConfig,
} from '../support/lifecycle-helpers.js';

const blazar = new FakeBlazar();
const proxy = new HoldingProxy('');
let region = '';
let project: ks.Named;
let bot: { id: string; password: string; roleId: string };

beforeAll(async () => {
  requireBuild();
  await ks.ensureKeystone();
  await blazar.start();
  proxy.upstream = blazar.rootUrl;
  await proxy.start();
  // A region of our own, so this `reservation` endpoint is the only one the worker can pick.
  region = ks.uniqueName('lc-region');
  await ks.adminRequest('POST', '/regions', { region: { id: region, description: 'warre lifecycle tests' } });
  const service = await ks.createService(ks.uniqueName('blazar'), 'reservation');
  await ks.createEndpoint(service.id, `${proxy.rootUrl}/v1`, 'public', region);
  project = await ks.createProject();
  const password = `bot-${ks.RUN_SUFFIX}`;
  const botUser = await ks.createUser({ password });
  const role = await ks.createRole();
  bot = { id: botUser.id, password, roleId: role.id };
});

afterAll(async () => {
  await ks.cleanupKeystone();
  if (region) await ks.adminRequest('DELETE', `/regions/${region}`, undefined, [204, 404]).catch(() => undefined);
  await proxy.stop();
  await blazar.stop();
});

describe.each(DIALECTS)('warre worker killed between the Blazar call and the commit (%s)', (dialect) => {
  let db: Db;
  let testDb: TestDatabase;
  let close: () => Promise<void>;
  const procs: WarreProcess[] = [];

  beforeAll(async () => {
    ({ db, testDb, close } = await migratedDatabase(dialect));
  });
  afterAll(async () => {
    for (const p of procs) await p.stop('SIGKILL');
    await close();
  });

  it('the restarted worker finds the lease by name: one lease, reservation ALLOCATED', async () => {
    blazar.reset();
    blazar.leases.clear();
    const conf = writeConfig({
      DEFAULT: { debug: false },
      database: { connection: testDb.url },
      warre: {
        lease_backend: 'blazar',
        user_notifier: 'logging',
        bot_user_id: bot.id,
        bot_password: bot.password,
        bot_role_id: bot.roleId,
      },
      worker: { claim_ttl: 3, lease_retry_timeout: 120 },
      blazar: { region_name: region },
      service_auth: {
        auth_url: ks.keystoneUrl(),
        username: 'admin',
        password: ks.ADMIN_PASSWORD,
        user_domain_name: 'Default',
        project_name: 'admin',
        project_domain_name: 'Default',
      },
    });
    const flavor = await seedFlavor(db);
    const start = Math.floor((Date.now() + DAY) / 60_000) * 60_000;
    const id = await seedReservation(db, { flavor, start, end: start + DAY, projectId: project.id });

    proxy.holdIf = (method, path) => method === 'POST' && path.startsWith('/v1/leases');
    const first = new WarreProcess(['worker', '--config-file', conf]);
    procs.push(first);
    await waitFor(() => proxy.held.length === 1 || !first.alive, 'the worker to call Blazar', 45_000);
    expect(first.alive).toBe(true);
    // Blazar has the lease; Warre has not recorded it.
    expect(blazar.leases.size).toBe(1);
    const lease = [...blazar.leases.values()][0]!;
    expect(lease.name).toBe(`Reservation ${id}`);
    expect(await reservationRow(db, id)).toMatchObject({ status: 'PENDING_CREATE', lease_id: null });

    const exit = await first.stop('SIGKILL');
    expect(exit.signal).toBe('SIGKILL');
    proxy.release(); // the killed worker's connection is gone; nothing reaches it
    expect(await reservationRow(db, id)).toMatchObject({ status: 'PENDING_CREATE', lease_id: null });

    const second = new WarreProcess(['worker', '--config-file', conf]);
    procs.push(second);
    await waitFor(
      async () => (await reservationRow(db, id))?.status === 'ALLOCATED' || !second.alive,
      'the restarted worker to allocate',
      60_000,
    );
    expect(second.alive).toBe(true);

    expect(await reservationRow(db, id)).toMatchObject({
      status: 'ALLOCATED',
      lease_id: lease.id,
      compute_flavor: lease.reservationId,
      status_reason: null,
    });
    expect(blazar.requestsFor('POST')).toHaveLength(1);
    expect(blazar.leases.size).toBe(1);
    expect(blazar.requests.filter((r) => r.method === 'GET' && r.path === '/v1/leases').length).toBeGreaterThanOrEqual(1);
    expect(second.find('found the lease of an earlier attempt', { reservation: id })).toHaveLength(1);
    // The bot's token was used with Blazar (a Keystone token, not the service user's name).
    expect(String(blazar.requests[0]!.headers['x-auth-token'])).toMatch(/^gAAAAA/);
    await waitFor(
      () => second.find('User message (logging notifier, not sent)', { event: 'create' }).length > 0,
      'the create message',
      10_000,
    );
    expect(second.find('User message (logging notifier, not sent)', { event: 'create', reservation_id: id })).toHaveLength(1);

    // The bot now holds its role on the project (the worker granted it).
    const grants = await ks.adminRequest('GET', `/role_assignments?user.id=${bot.id}&scope.project.id=${project.id}`);
    expect(grants.role_assignments.map((a: { role: { id: string } }) => a.role.id)).toContain(bot.roleId);

    const stopped = await second.stop('SIGTERM');
    expect(stopped.code).toBe(0);
  });
});
