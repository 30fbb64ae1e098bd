/**
 * `warre all` (what `npm start` runs): the API, the lease worker, the lease
 * simulator's events and the periodic tasks in one process, on the
 * configured database (by default an SQLite file in ./.warre).
 */
import type { WarreConfig } from '../config/load.js';
import { leasedReservations } from '../db/repositories/simulated-leases.js';
import { LeaseSimulator } from '../drivers/blazar/simulator.js';
import type { LeaseBackend } from '../drivers/lease-backend.js';
import { LeaseEventHandler } from '../notification/lease-events.js';
import { startApiProcess } from './api.js';
import { connectBus, createNotifier, notificationTransportUrl } from './bus.js';
import { dashboardUrl } from './dashboard.js';
import { createLeaseBackend } from './leases.js';
import { createLogger, createServiceSession, ensureSchema, openConfiguredDatabase } from './runtime.js';
import { createMessenger, createPeriodic, createWorker } from './worker-parts.js';

export async function runAllInOne(config: WarreConfig): Promise<void> {
  const log = createLogger(config, 'warre');
  const db = openConfiguredDatabase(config, log);
  await ensureSchema(db, config, log, true);
  const serviceSession = createServiceSession(config, log);
  // Bus notifications only when configured ([oslo_messaging_notifications] driver + a transport URL).
  const needsBus = config.oslo_messaging_notifications.driver.some((d) => d === 'messaging' || d === 'messagingv2');
  const notifyConn = needsBus ? connectBus(config, notificationTransportUrl(config), log, 'warre-all') : null;
  const messenger = createMessenger(config, log, serviceSession, createNotifier(config, log, notifyConn));
  const events = new LeaseEventHandler(db, messenger, log);

  let simulator: LeaseSimulator | null = null;
  if (config.warre.lease_backend === 'simulator') {
    simulator = new LeaseSimulator(
      async (e) => {
        const outcome = await events.handle(e.eventType, e.leaseId, e.messageId);
        if (outcome === 'retry') throw new Error(`lease ${e.leaseId} not recorded yet`);
      },
      { beforeEndMinutes: config.simulator.before_end_minutes, logger: log },
    );
    const leased = await leasedReservations(db);
    simulator.restore(
      leased.map((r) => ({
        leaseId: r.lease_id,
        start: new Date(r.start),
        end: new Date(r.end),
        firedStart: r.status === 'ACTIVE',
        firedEnd: false,
      })),
    );
  }
  const leases: LeaseBackend | null = createLeaseBackend(config, log, simulator);
  if (!leases) throw new Error('no lease back-end');
  const worker = createWorker(config, log, db, leases, messenger, serviceSession);
  const periodic = createPeriodic(config, log, db, messenger, serviceSession);
  worker.start();
  periodic.start();

  const api = await startApiProcess(config, log, { db, leases, nudgeWorker: () => worker.wake(), autoUpgrade: true, withWorker: true });
  const data = config.databaseTarget.dialect === 'sqlite' ? config.databaseTarget.filename : db.location;
  const portal = dashboardUrl(config, api.url);
  const banner = [
    '',
    `  Warre is running (all-in-one: API + worker + ${leases.name === 'simulator' ? 'lease simulator' : 'Blazar'} + periodic tasks)`,
    `  API:      ${api.url}/v1/   (auth_strategy = ${config.DEFAULT.auth_strategy})`,
    ...(portal ? [`  Portal:   ${portal}`] : []),
    `  Data:     ${data}`,
    `  Config:   ${config.source ?? 'built-in all-in-one defaults (no config file)'}`,
    '',
  ].join('\n');
  process.stdout.write(`${banner}\n`);
  log.info({ url: api.url, data }, 'warre all-in-one started');

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    log.info('stopping');
    await api.close().catch(() => {});
    await worker.stop();
    await periodic.stop();
    simulator?.stop();
    await messenger.close();
    await notifyConn?.close();
    await db.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}
