/**
 * Configuration of the message bus, named exactly like oslo.messaging's options so that
 * `[oslo_messaging_rabbit]` and `[oslo_messaging_notifications]` sections (and
 * `transport_url` query parameters) map onto them one to one.
 */
import { OPTIONS, type OptionValue } from '../../config/options.js';

/** `[oslo_messaging_rabbit]` options that change what goes over the wire or how we reconnect. */
export interface BusOptions {
  /** Connect with TLS (`?ssl=1` in the transport URL sets it). */
  ssl: boolean;
  /** e.g. `TLSv1_2`; empty = library default. */
  ssl_version: string;
  ssl_key_file: string;
  ssl_cert_file: string;
  /** When set, the broker certificate is verified against it (otherwise not verified, as oslo). */
  ssl_ca_file: string;
  ssl_enforce_hostname_verification: boolean;
  /** `AMQPLAIN` (oslo default) or `PLAIN`; RabbitMQ accepts both. */
  rabbit_login_method: string;
  /** Seconds before the first reconnect attempt. */
  rabbit_retry_interval: number;
  /** Seconds added to the delay after each failed attempt. */
  rabbit_retry_backoff: number;
  /** Longest delay between attempts, seconds. */
  rabbit_interval_max: number;
  /** Adds `x-ha-policy: all` to queues. */
  rabbit_ha_queues: boolean;
  /** Adds `x-queue-type: quorum` and forces durable exchanges/queues. */
  rabbit_quorum_queue: boolean;
  rabbit_quorum_delivery_limit: number;
  /** (sic: oslo.messaging spells it this way) */
  rabbit_quroum_max_memory_length: number;
  rabbit_quroum_max_memory_bytes: number;
  /** `x-expires` (seconds) of the RPC fanout queues. */
  rabbit_transient_queues_ttl: number;
  /** Unacknowledged messages a consumer may hold; 0 = unlimited (oslo's default). */
  rabbit_qos_prefetch_count: number;
  /** AMQP heartbeat requested from the broker, seconds (0 disables). */
  heartbeat_timeout_threshold: number;
  /** Exchanges and queues are durable. Must match the other services on the broker. */
  amqp_durable_queues: boolean;
  /** Exchanges and queues auto-delete. */
  amqp_auto_delete: boolean;
  /** Socket connect timeout, seconds (not an oslo option). */
  connect_timeout: number;
}

/** The `[oslo_messaging_rabbit]` default of an option, from the one registry of options. */
function registryDefault<K extends keyof typeof OPTIONS.oslo_messaging_rabbit>(name: K) {
  const spec = OPTIONS.oslo_messaging_rabbit[name];
  return spec.default({ allInOne: false, cwd: '.' }) as OptionValue<typeof spec>;
}

/**
 * The defaults of every bus option: those of `[oslo_messaging_rabbit]` come from the option
 * registry (src/config/options.ts), so a connection made without a configuration file (tests,
 * tools) behaves as a configured one; the rest are oslo.messaging's.
 */
export const DEFAULT_BUS_OPTIONS: Readonly<BusOptions> = Object.freeze({
  ssl: registryDefault('ssl'),
  ssl_version: registryDefault('ssl_version') ?? '',
  ssl_key_file: registryDefault('ssl_key_file') ?? '',
  ssl_cert_file: registryDefault('ssl_cert_file') ?? '',
  ssl_ca_file: registryDefault('ssl_ca_file') ?? '',
  ssl_enforce_hostname_verification: registryDefault('ssl_enforce_hostname_verification'),
  rabbit_login_method: registryDefault('rabbit_login_method'),
  rabbit_retry_interval: registryDefault('rabbit_retry_interval'),
  rabbit_retry_backoff: registryDefault('rabbit_retry_backoff'),
  rabbit_interval_max: registryDefault('rabbit_interval_max'),
  rabbit_ha_queues: registryDefault('rabbit_ha_queues'),
  rabbit_quorum_queue: registryDefault('rabbit_quorum_queue'),
  rabbit_quorum_delivery_limit: 0,
  rabbit_quroum_max_memory_length: 0,
  rabbit_quroum_max_memory_bytes: 0,
  rabbit_transient_queues_ttl: registryDefault('rabbit_transient_queues_ttl'),
  rabbit_qos_prefetch_count: registryDefault('rabbit_qos_prefetch_count'),
  heartbeat_timeout_threshold: registryDefault('heartbeat_timeout_threshold'),
  amqp_durable_queues: registryDefault('amqp_durable_queues'),
  amqp_auto_delete: registryDefault('amqp_auto_delete'),
  connect_timeout: 10,
});

/**
 * oslo.messaging `[oslo_messaging_rabbit]` options that exist but do not apply to this
 * implementation; accepted (and ignored) in a transport URL query so that a URL valid for the
 * Python services is valid here too.
 */
export const IGNORED_RABBIT_OPTIONS: readonly string[] = [
  'ssl_enforce_fips_mode',
  'heartbeat_in_pthread',
  'kombu_reconnect_delay',
  'kombu_compression',
  'kombu_missing_consumer_retry_timeout',
  'kombu_failover_strategy',
  'heartbeat_rate',
  'direct_mandatory_flag',
  'enable_cancel_on_failover',
];

/** Notification drivers of oslo.messaging that Warre implements. */
export type NotificationDriver = 'messagingv2' | 'messaging' | 'log' | 'noop' | 'test';

/** `[oslo_messaging_notifications]`. */
export interface NotifierOptions {
  /** Empty list = notifications disabled (oslo's default). */
  driver: NotificationDriver[];
  /** Default `["notifications"]`; the routing key is `<topic>.<priority>`. */
  topics: string[];
  /** Unset → `[DEFAULT] transport_url`. */
  transport_url?: string | null;
  /** -1 = retry forever, 0 = no retry, N = N retries after a connection failure. */
  retry: number;
}

export const DEFAULT_NOTIFIER_OPTIONS: Readonly<NotifierOptions> = Object.freeze({
  driver: [],
  topics: ['notifications'],
  transport_url: null,
  retry: -1,
});

/** Merge partial options over the defaults. */
export function busOptions(partial: Partial<BusOptions> = {}): BusOptions {
  return { ...DEFAULT_BUS_OPTIONS, ...partial };
}
