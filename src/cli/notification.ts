/**
 * `warre-notification`: consumes lease events where the Python service does
 * (exchange `ceilometer`, topic `warre`, priority `sample` → queue
 * `warre.sample`) and moves reservations along. A message is acknowledged
 * only after the database commit; database errors requeue it with a delay;
 * malformed messages are logged and dropped.
 */
import type { WarreConfig } from '../config/load.js';
import { leaseEventType } from '../domain/lifecycle.js';
import { NotificationListener } from '../drivers/bus/listener.js';
import { aggregateForWorkers } from '../metrics/cluster.js';
import { leaseEvents } from '../metrics/registry.js';
import { ceilometerEvent } from '../notification/ceilometer-events.js';
import { LeaseEventHandler } from '../notification/lease-events.js';
import { connectBus, createNotifier, notificationTransportUrl } from './bus.js';
import { supervise } from './cluster.js';
import { checkSchema, createLogger, createServiceSession, ensureSchema, openConfiguredDatabase } from './runtime.js';
import { serveMetrics } from './worker.js';
import { createMessenger } from './worker-parts.js';

export async function runNotification(config: WarreConfig): Promise<void> {
  const log = createLogger(config, 'warre-notification');
  if (await supervise(config.worker.workers, log, 'notification', () => checkSchema(config, log))) {
    if (config.worker.metrics_port !== null) aggregateForWorkers();
    return;
  }
  const url = notificationTransportUrl(config);
  if (!url)
    throw new Error('warre-notification needs a message bus: set [oslo_messaging_notifications] transport_url or [DEFAULT] transport_url');
  const db = openConfiguredDatabase(config, log);
  await ensureSchema(db, config, log, false);
  const conn = connectBus(config, url, log, 'warre-notification')!;
  const messenger = createMessenger(config, log, createServiceSession(config, log), createNotifier(config, log, conn));
  const events = new LeaseEventHandler(db, messenger, log);
  const listener = new NotificationListener(conn, {
    exchange: 'ceilometer',
    topic: 'warre',
    priorities: ['sample'],
    logger: log,
    requeueMaxDelayMs: 30_000,
    handler: async (n) => {
      const ev = ceilometerEvent(n);
      const type = ev?.eventType ? leaseEventType(ev.eventType) : null;
      const leaseId = ev?.traits.lease_id;
      if (!ev || !type) {
        log.debug({ message_id: n.messageId, event_type: ev?.eventType ?? n.eventType }, 'not a lease event; ignored');
        return 'ack';
      }
      if (typeof leaseId !== 'string' || leaseId === '') {
        log.warn({ message_id: n.messageId, event_type: ev.eventType }, 'lease event without a lease_id trait; dropped');
        leaseEvents.inc({ event: type, outcome: 'dropped' });
        return 'ack';
      }
      try {
        const outcome = await events.handle(type, leaseId, ev.messageId ?? n.messageId);
        return outcome === 'retry' ? 'requeue' : 'ack';
      } catch (err) {
        log.error({ err, message_id: n.messageId, lease: leaseId }, 'cannot apply lease event; requeued');
        return 'requeue';
      }
    },
  });
  const metrics = await serveMetrics(config, log);
  await listener.start();
  log.info('warre-notification consuming warre.sample');

  const stop = async () => {
    log.info('stopping');
    await metrics?.close();
    await listener.stop().catch(() => {});
    await messenger.close();
    await conn.close();
    await db.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}
