/**
 * The real v1 API app on an existing, already-migrated database (unlike
 * test/support/app.ts, which makes a fresh one): noauth, config quotas,
 * its own connection pool, so several instances act like separate processes
 * at the database.
 */

import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildApp } from '../../src/api/app.js';
import { NoAuthAuthenticator } from '../../src/auth/noauth.js';
import type { DatabaseTarget } from '../../src/config/database-url.js';
import { type Db, openDatabase } from '../../src/db/connect.js';
import type { LeaseBackend } from '../../src/drivers/lease-backend.js';
import { PolicyEnforcer } from '../../src/policy/enforcer.js';
import { ConfigLimitsProvider } from '../../src/quota/config-limits.js';

export interface AppOnDb {
  app: FastifyInstance;
  db: Db;
  close(): Promise<void>;
}

export async function appOn(target: DatabaseTarget, opts: { leases?: LeaseBackend | null; now?: () => number } = {}): Promise<AppOnDb> {
  const db = openDatabase(target);
  const logger = pino({ level: process.env.WARRE_TEST_LOG ?? 'silent' });
  const app = await buildApp({
    svc: {
      db,
      limits: new ConfigLimitsProvider({ quota: { default_reservation: 100, default_hours: 1_000_000 }, projectLimits: new Map() }),
      leases: opts.leases ?? null,
      serviceSession: null,
      nudgeWorker: () => {},
      now: opts.now ?? (() => Date.now()),
      log: logger,
    },
    authenticator: new NoAuthAuthenticator(),
    policy: new PolicyEnforcer({ policyFile: null }),
    logger,
  });
  await app.ready();
  return {
    app,
    db,
    close: async () => {
      await app.close();
      await db.close();
    },
  };
}
