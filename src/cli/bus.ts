/**
 * The message bus of a production deployment, configured as oslo.messaging
 * is: `[DEFAULT] transport_url` for RPC, `[oslo_messaging_notifications]
 * transport_url` (else the default one) for notifications and lease events,
 * `[oslo_messaging_rabbit]` flags for topology.
 */
import type { Logger } from 'pino';
import type { WarreConfig } from '../config/load.js';
import { BusConnection } from '../drivers/bus/connection.js';
import { Notifier } from '../drivers/bus/notifier.js';
import type { BusOptions, NotificationDriver } from '../drivers/bus/options.js';
import { RpcClient } from '../drivers/bus/rpc.js';
import { resolveTransport } from '../drivers/bus/transport-url.js';

export function busOptionsFrom(config: WarreConfig): Partial<BusOptions> {
  const r = config.oslo_messaging_rabbit;
  return {
    amqp_durable_queues: r.amqp_durable_queues,
    amqp_auto_delete: r.amqp_auto_delete,
    rabbit_quorum_queue: r.rabbit_quorum_queue,
    rabbit_ha_queues: r.rabbit_ha_queues,
    rabbit_qos_prefetch_count: r.rabbit_qos_prefetch_count,
    heartbeat_timeout_threshold: r.heartbeat_timeout_threshold,
    rabbit_transient_queues_ttl: r.rabbit_transient_queues_ttl,
    rabbit_retry_interval: r.rabbit_retry_interval,
    rabbit_retry_backoff: r.rabbit_retry_backoff,
    rabbit_interval_max: r.rabbit_interval_max,
    rabbit_login_method: r.rabbit_login_method,
    ssl: r.ssl,
    ssl_ca_file: r.ssl_ca_file ?? '',
    ssl_cert_file: r.ssl_cert_file ?? '',
    ssl_key_file: r.ssl_key_file ?? '',
    ssl_version: r.ssl_version ?? '',
    ssl_enforce_hostname_verification: r.ssl_enforce_hostname_verification,
  };
}

export function notificationTransportUrl(config: WarreConfig): string | null {
  return config.oslo_messaging_notifications.transport_url ?? config.DEFAULT.transport_url;
}

/** A started connection for this URL, or null when none is configured. */
export function connectBus(config: WarreConfig, url: string | null, log: Logger, name: string): BusConnection | null {
  if (!url) return null;
  const { options, targets } = resolveTransport(url, busOptionsFrom(config));
  return new BusConnection(targets, options, { logger: log, name }).start();
}

/** The notifier of `[oslo_messaging_notifications]`; silent (no connection) when no driver is set. */
export function createNotifier(config: WarreConfig, log: Logger, conn: BusConnection | null): Notifier {
  const n = config.oslo_messaging_notifications;
  const drivers = n.driver as NotificationDriver[];
  const needsBus = drivers.some((d) => d === 'messaging' || d === 'messagingv2');
  if (needsBus && !conn)
    throw new Error('[oslo_messaging_notifications] driver needs a transport_url ([oslo_messaging_notifications] or [DEFAULT])');
  return new Notifier({
    driver: drivers,
    topics: n.topics,
    retry: n.retry,
    exchange: config.DEFAULT.control_exchange,
    logger: log,
    connection: needsBus ? conn : null,
  });
}

/** The API's nudge to separate workers: an oslo RPC cast `create_lease` (what the Python API sends). */
export function createWorkerNudge(
  config: WarreConfig,
  log: Logger,
): { nudge: (id: string) => void; health(): Promise<{ ok: boolean; error?: string }>; close(): Promise<void> } | null {
  const conn = connectBus(config, config.DEFAULT.transport_url, log, 'warre-api');
  if (!conn) return null;
  const client = new RpcClient(conn, { exchange: config.DEFAULT.control_exchange, logger: log });
  return {
    nudge: (id) => void client.cast({}, 'create_lease', { reservation_id: id }).catch(() => {}),
    health: async () => (conn.state === 'connected' ? { ok: true } : { ok: false, error: `message bus ${conn.state}` }),
    close: async () => {
      await client.close();
      await conn.close();
    },
  };
}
