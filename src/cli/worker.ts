/**
 * `warre-worker`: creates Blazar leases for PENDING_CREATE reservations and
 * runs the periodic tasks. Listens for the API's `create_lease` casts on the
 * bus (a nudge: it also polls, so nothing depends on the cast arriving).
 */

import cluster from 'node:cluster';
import type { Logger } from 'pino';
import type { WarreConfig } from '../config/load.js';
import { RpcServer } from '../drivers/bus/rpc.js';
import { aggregateForWorkers } from '../metrics/cluster.js';
import { type MetricsServer, startMetricsServer } from '../metrics/server.js';
import { connectBus, createNotifier, notificationTransportUrl } from './bus.js';
import { supervise } from './cluster.js';
import { serviceUserCheck, startKeystoneChecks } from './keystone-checks.js';
import { createLeaseBackend } from './leases.js';
import { checkSchema, createLogger, createServiceSession, ensureSchema, openConfiguredDatabase } from './runtime.js';
import { createMessenger, createPeriodic, createWorker } from './worker-parts.js';

export async function runWorker(config: WarreConfig): Promise<void> {
  const log = createLogger(config, 'warre-worker');
  if (await supervise(config.worker.workers, log, 'worker', () => checkSchema(config, log))) {
    if (config.worker.metrics_port !== null) aggregateForWorkers();
    return;
  }
  const db = openConfiguredDatabase(config, log);
  await ensureSchema(db, config, log, false);
  const serviceSession = createServiceSession(config, log);
  const leases = createLeaseBackend(config, log, null);
  if (!leases) throw new Error('[warre] lease_backend = simulator runs only in all-in-one mode ("warre all"); use blazar for warre-worker');
  const rpcConn = connectBus(config, config.DEFAULT.transport_url, log, 'warre-worker');
  const notifyUrl = notificationTransportUrl(config);
  const notifyConn = notifyUrl === config.DEFAULT.transport_url ? rpcConn : connectBus(config, notifyUrl, log, 'warre-worker-notify');
  const messenger = createMessenger(config, log, serviceSession, createNotifier(config, log, notifyConn));
  const worker = createWorker(config, log, db, leases, messenger, serviceSession);
  const periodic = createPeriodic(config, log, db, messenger, serviceSession);
  let rpc: RpcServer | null = null;
  if (rpcConn) {
    rpc = new RpcServer(rpcConn, {
      exchange: config.DEFAULT.control_exchange,
      server: config.DEFAULT.host,
      logger: log,
      handler: (method, args) => {
        if (method === 'create_lease') {
          log.debug({ reservation: args.reservation_id }, 'create_lease cast received');
          worker.wake();
        }
      },
    });
    void rpc.start().catch((err: unknown) => log.error({ err }, 'RPC server failed to start'));
  } else {
    log.warn('[DEFAULT] transport_url is not set: the worker polls for new reservations every few seconds');
  }
  const metrics = await serveMetrics(config, log);
  worker.start();
  periodic.start();
  log.info({ worker: worker.id, backend: leases.name }, 'warre-worker started');
  // The first worker process checks Warre's identities in Keystone for all (docs/keystone.md#start-up-checks).
  const first = !cluster.isWorker || cluster.worker?.id === 1;
  const keystoneChecks =
    serviceSession && first
      ? startKeystoneChecks([serviceUserCheck(config, serviceSession, { blazar: true, nova: true, grants: true })], log)
      : null;
  if (!serviceSession && first)
    log.error('[service_auth] auth_url is not set: the bot role cannot be granted; every lease fails until it is');

  const stop = async () => {
    log.info('stopping');
    keystoneChecks?.stop();
    await metrics?.close();
    await rpc?.stop().catch(() => {});
    await worker.stop();
    await periodic.stop();
    await messenger.close();
    await rpcConn?.close();
    if (notifyConn !== rpcConn) await notifyConn?.close();
    await db.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}

/** `GET /metrics` on `[worker] metrics_port` (docs/metrics.md), or null when it is not set. */
export async function serveMetrics(config: WarreConfig, log: Logger): Promise<MetricsServer | null> {
  const port = config.worker.metrics_port;
  if (port === null) return null;
  return startMetricsServer({ port, allowedNetworks: config.api.metrics_allowed_networks, log });
}
