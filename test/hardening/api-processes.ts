/**
 * A real `warre api` with several worker processes on a fresh test database, as the race
 * tests of this folder drive it: noauth, simulated leases, user messages only logged.
 */
import { expect } from 'vitest';
import type { Db } from '../../src/db/connect.js';
import { ensureBuilt, freePort, processGroupMembers, runWarre, startWarre, type WarreProcess, warreEnv } from '../cli/process.js';
import { createTestDatabase, type Dialect, type TestDatabase } from '../support/db.js';

export interface ApiProcesses {
  port: number;
  /** A connection of the test's own to the same database, to check rows. */
  db: Db;
  /** Stops the API (asserting no process of its group is left), closes `db`, drops the database. */
  stop(): Promise<void>;
}

export async function startApiProcesses(dialect: Dialect, workers: number, extraEnv: Record<string, string> = {}): Promise<ApiProcesses> {
  ensureBuilt();
  const testDb: TestDatabase = await createTestDatabase(dialect);
  const port = await freePort();
  const env = warreEnv({
    WARRE_DATABASE__CONNECTION: testDb.url,
    WARRE_API__PORT: String(port),
    WARRE_API__WORKERS: String(workers),
    WARRE_DEFAULT__AUTH_STRATEGY: 'noauth',
    WARRE_WARRE__LEASE_BACKEND: 'simulator',
    WARRE_WARRE__USER_NOTIFIER: 'logging',
    ...extraEnv,
  });
  const upgraded = await runWarre(['manage', 'db', 'upgrade'], env);
  expect(upgraded.code, upgraded.stderr).toBe(0);
  const api: WarreProcess = startWarre(['api'], env);
  await api.waitFor(/warre-api listening/, { count: workers });
  const db = testDb.open();
  return {
    port,
    db,
    stop: async () => {
      const pgid = api.pid;
      await api.stop();
      // The primary is gone and so is every cluster worker it forked.
      expect(processGroupMembers(pgid)).toEqual([]);
      await db.close();
      await testDb.drop();
    },
  };
}
