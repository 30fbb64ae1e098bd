/**
 * `warre-api`: the REST API, `[api] workers` processes sharing the port
 * (node:cluster; the primary only supervises and restarts workers).
 */
import cluster from 'node:cluster';
import os from 'node:os';
import type { Logger } from 'pino';
import { KeystoneAuthenticator } from '../auth/keystone.js';
import type { WarreConfig } from '../config/load.js';
import { aggregateForWorkers, prepareProcessMetrics } from '../metrics/cluster.js';
import { UnifiedLimitsProvider } from '../quota/unified-limits.js';
import type { Services } from '../services/dependencies.js';
import { FlavorCatalog } from '../services/flavor-catalog.js';
import { supervise } from './cluster.js';
import { dashboardOptions } from './dashboard.js';
import { trimHeapWhenIdle } from './idle-heap.js';
import { type CheckTiming, type KeystoneCheck, serviceUserCheck, startKeystoneChecks, tokenValidationCheck } from './keystone-checks.js';
import {
  checkSchema,
  createAuthenticator,
  createLimits,
  createLogger,
  createPolicy,
  createServiceSession,
  ensureSchema,
  openConfiguredDatabase,
} from './runtime.js';

export interface RunningApi {
  url: string;
  /** Settles when the Keystone start-up checks have run once (at once when there are none). */
  keystoneChecked: Promise<void>;
  close(): Promise<void>;
}

/** One API process on this configuration. `extra` lets all-in-one share its worker and backend. */
export async function startApiProcess(
  config: WarreConfig,
  log: Logger,
  extra: Partial<Pick<Services, 'leases' | 'nudgeWorker' | 'db'>> & {
    autoUpgrade?: boolean;
    port?: number;
    /** Run the Keystone start-up checks (docs/keystone.md#start-up-checks); default true. */
    keystoneChecks?: boolean;
    keystoneCheckTiming?: CheckTiming;
    /** The process also runs the lease worker (all-in-one): the checks include the bot's. */
    withWorker?: boolean;
  } = {},
): Promise<RunningApi> {
  // All-in-one passes its database: one SQLite connection per process, since
  // better-sqlite3 waits for a lock synchronously and two connections in one
  // process would block each other.
  // Imported here, not at the top: the cluster primary only supervises and need not load them.
  const [{ buildApp }, { createLeaseBackend }, { createWorkerNudge }, { releaseSpareBuffers }] = await Promise.all([
    import('../api/app.js'),
    import('./leases.js'),
    import('./bus.js'),
    import('../api/json-bytes.js'),
  ]);
  const ownDb = extra.db === undefined;
  const db = extra.db ?? openConfiguredDatabase(config, log);
  await ensureSchema(db, config, log, extra.autoUpgrade ?? false);
  const serviceSession = createServiceSession(config, log);
  const busNudge = extra.nudgeWorker ? null : createWorkerNudge(config, log);
  const svc: Services = {
    db,
    limits: createLimits(config, log),
    leases: extra.leases !== undefined ? extra.leases : createLeaseBackend(config, log, null),
    serviceSession,
    nudgeWorker: extra.nudgeWorker ?? busNudge?.nudge ?? (() => {}),
    now: () => Date.now(),
    log,
    rateExtraSpec: config.warre.rate_extra_spec,
    flavorCatalog: new FlavorCatalog(db, config.api.flavor_cache_seconds),
  };
  const authenticator = createAuthenticator(config, log);
  const checks: KeystoneCheck[] = [];
  if (authenticator instanceof KeystoneAuthenticator) checks.push(tokenValidationCheck(authenticator.validator.session));
  const { limits } = svc;
  if (limits instanceof UnifiedLimitsProvider) checks.push({ section: 'oslo_limit', run: () => limits.check() });
  if (serviceSession) {
    const blazar = svc.leases?.name === 'blazar';
    const worker = extra.withWorker ?? false;
    checks.push(serviceUserCheck(config, serviceSession, { blazar, nova: worker, grants: worker && blazar }));
  }
  const keystoneChecks = extra.keystoneChecks === false ? null : startKeystoneChecks(checks, log, extra.keystoneCheckTiming);
  const app = await buildApp({
    svc,
    authenticator,
    policy: createPolicy(config, log),
    logger: log,
    publicUrl: config.api.public_url,
    brokerHealth: busNudge ? () => busNudge.health() : undefined,
    dashboard: dashboardOptions(config),
    timeouts: { requestMs: Math.round(config.api.request_timeout * 1000), headersMs: Math.round(config.api.headers_timeout * 1000) },
    metrics: { allowedNetworks: config.api.metrics_allowed_networks },
  });
  prepareProcessMetrics();
  const port = extra.port ?? config.api.port;
  const address = await app.listen({ host: config.api.host, port });
  const heapTrim = trimHeapWhenIdle(app.server, log, { beforeTrim: releaseSpareBuffers });
  return {
    url: address,
    keystoneChecked: keystoneChecks?.firstRound ?? Promise.resolve(),
    close: async () => {
      keystoneChecks?.stop();
      heapTrim?.stop();
      await app.close();
      await authenticator.close?.();
      await busNudge?.close();
      if (ownDb) await db.close();
    },
  };
}

export async function runApi(config: WarreConfig): Promise<void> {
  const log = createLogger(config, 'warre-api');
  const workers = config.api.workers > 0 ? config.api.workers : os.availableParallelism();
  if (await supervise(workers, log, 'API', () => checkSchema(config, log))) {
    // One /metrics answer for all processes: the one a scrape reaches asks this primary (docs/metrics.md).
    aggregateForWorkers();
    return;
  }
  // With [api] workers > 1, the first process checks Keystone for all (docs/keystone.md#start-up-checks).
  const api = await startApiProcess(config, log, { keystoneChecks: !cluster.isWorker || cluster.worker?.id === 1 });
  log.info({ url: api.url, pid: process.pid }, 'warre-api listening');
  const stop = async () => {
    await api.close().catch(() => {});
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}
