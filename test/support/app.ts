/** Builds the real API app on a test database (noauth, config quotas) for `inject` tests. */

import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { type AppOptions, buildApp } from '../../src/api/app.js';
import { NoAuthAuthenticator } from '../../src/auth/noauth.js';
import type { Db } from '../../src/db/connect.js';
import type { LeaseBackend } from '../../src/drivers/lease-backend.js';
import { PolicyEnforcer } from '../../src/policy/enforcer.js';
import { ConfigLimitsProvider } from '../../src/quota/config-limits.js';
import type { Services } from '../../src/services/dependencies.js';
import { FlavorCatalog } from '../../src/services/flavor-catalog.js';
import { type Dialect, migratedDatabase } from './db.js';
import { checkEveryAnswer } from './openapi-check.js';

export interface TestApp {
  app: FastifyInstance;
  db: Db;
  svc: Services;
  nudged: string[];
  close(): Promise<void>;
}

export interface TestAppOptions {
  quota?: { default_reservation: number; default_hours: number };
  projectLimits?: Map<string, Partial<{ reservation: number; hours: number }>>;
  leases?: LeaseBackend | null;
  now?: () => number;
  poolSize?: number;
  policyFile?: string | null;
  /** `[api] flavor_cache_seconds` (default 1, as warre-api). */
  flavorCacheSeconds?: number;
  /** Check every answer against the OpenAPI document (test/support/openapi-check.ts); default true. */
  checkAnswers?: boolean;
  /** `GET /metrics` settings (default: loopback only, this process's registry). */
  metrics?: AppOptions['metrics'];
}

export async function buildTestApp(dialect: Dialect, opts: TestAppOptions = {}): Promise<TestApp> {
  const { db, close } = await migratedDatabase(dialect, opts.poolSize);
  const logger = pino({ level: process.env.WARRE_TEST_LOG ?? 'silent' });
  const nudged: string[] = [];
  const svc: Services = {
    db,
    limits: new ConfigLimitsProvider({
      quota: opts.quota ?? { default_reservation: 1000, default_hours: 10_000_000 },
      projectLimits: opts.projectLimits ?? new Map(),
    }),
    leases: opts.leases ?? null,
    serviceSession: null,
    nudgeWorker: (id) => nudged.push(id),
    now: opts.now ?? (() => Date.now()),
    log: logger,
    // As warre-api runs: the conformance suite goes through the flavor cache (docs/operations.md#flavor-cache).
    flavorCatalog: new FlavorCatalog(db, opts.flavorCacheSeconds ?? 1),
  };
  const app = await buildApp({
    svc,
    authenticator: new NoAuthAuthenticator(),
    policy: new PolicyEnforcer({ policyFile: opts.policyFile ?? null }),
    logger,
    ...(opts.metrics ? { metrics: opts.metrics } : {}),
  });
  await app.ready();
  if (opts.checkAnswers !== false) checkEveryAnswer(app);
  return {
    app,
    db,
    svc,
    nudged,
    close: async () => {
      await app.close();
      await close();
    },
  };
}

export const ADMIN = { 'x-user-id': 'admin-user', 'x-project-id': 'admin-project', 'x-roles': 'admin' };
export const MEMBER = { 'x-user-id': 'user-a', 'x-project-id': 'project-a', 'x-roles': 'member' };
export const OTHER = { 'x-user-id': 'user-b', 'x-project-id': 'project-b', 'x-roles': 'member' };
export const READER = { 'x-user-id': 'reader', 'x-project-id': 'project-r', 'x-roles': 'read_only' };
export const WRITER = { 'x-user-id': 'writer', 'x-project-id': 'project-w', 'x-roles': 'cloud_admin' };
