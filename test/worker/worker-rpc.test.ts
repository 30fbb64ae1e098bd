/**
 * The API's nudge reaches a separate `warre worker` process over RabbitMQ:
 * the oslo RPC cast `create_lease` (docs/interop.md#rpc-casts) on `[DEFAULT]
 * transport_url` wakes the worker, which then takes the reservation. Without
 * a bot identity configured, lease creation fails permanently and says why.
 *
 * Needs `npm run build`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createWorkerNudge } from '../../src/cli/bus.js';
import type { Db } from '../../src/db/connect.js';
import { leaseFailure } from '../../src/domain/lifecycle.js';
import { migratedDatabase, type TestDatabase } from '../support/db.js';
import {
  capturePino,
  configFrom,
  DAY,
  MINUTE,
  requireBuild,
  reservationRow,
  seedFlavor,
  seedReservation,
  WarreProcess,
  waitFor,
  writeConfig,
} from '../support/lifecycle-helpers.js';
import { createVhost, type TestVhost } from '../support/rabbit.js';

let vh: TestVhost;
let db: Db;
let testDb: TestDatabase;
let closeDb: () => Promise<void>;
let worker: WarreProcess;

beforeAll(async () => {
  requireBuild();
  vh = await createVhost('lc-rpc');
  ({ db, testDb, close: closeDb } = await migratedDatabase('sqlite'));
  const conf = writeConfig({
    DEFAULT: { transport_url: vh.transportUrl(), debug: true },
    database: { connection: testDb.url },
    warre: { lease_backend: 'blazar', user_notifier: 'logging' },
  });
  worker = new WarreProcess(['worker', '--config-file', conf]);
  await worker.waitForLog('warre-worker started');
  await waitFor(
    async () => (await vh.queues()).some((q) => q.name === 'warre-worker' && q.consumers === 1),
    'the worker RPC server',
    20_000,
  );
});

afterAll(async () => {
  await worker?.stop();
  await closeDb?.();
  await vh?.delete();
});

describe('warre worker and the create_lease cast', () => {
  it('wakes on the cast; with no bot identity the reservation goes to ERROR with the reason', async () => {
    const flavor = await seedFlavor(db);
    const start = Math.floor((Date.now() + DAY) / MINUTE) * MINUTE;
    const id = await seedReservation(db, { flavor, start, end: start + DAY });
    const log = capturePino();
    const nudge = createWorkerNudge(configFrom({ DEFAULT: { transport_url: vh.transportUrl() } }), log.logger)!;
    try {
      nudge.nudge(id);
      await worker.waitForLog('create_lease cast received', { reservation: id }, 20_000);
    } finally {
      await nudge.close();
    }
    await waitFor(async () => (await reservationRow(db, id))?.status === 'ERROR', 'the reservation to fail', 20_000);
    // The member reads a plain reason (docs/api.md#lease-failures); the operator's detail is logged.
    expect((await reservationRow(db, id))!.status_reason).toBe(leaseFailure('identity', '').reason);
    await worker.waitForLog('lease creation failed; reservation in ERROR', { reservation: id }, 5_000);
    expect(worker.alive).toBe(true);
  });
});
