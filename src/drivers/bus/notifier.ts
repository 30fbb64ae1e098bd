/**
 * oslo.messaging's `Notifier` as Warre uses it (docs/interop.md#notifications): `[oslo_messaging_notifications]`
 * drivers and topics, exchange = the control exchange (`warre`), no publisher id. Sending never
 * throws to the caller; failures are logged like the Python notifier logs them.
 */
import { randomUUID } from 'node:crypto';
import { type Logger, SILENT_LOGGER } from '../../domain/logger.js';
import { busNotifications } from '../../metrics/registry.js';
import type { BusConnection } from './connection.js';
import { encodeBody, notificationMessage } from './envelope.js';
import { DEFAULT_NOTIFIER_OPTIONS, type NotificationDriver, type NotifierOptions } from './options.js';
import { ConfirmPublisher } from './publisher.js';
import { nowMicros, pyJsonDumps } from './python-json.js';
import { type MessageContext, type OsloContextExtras, sanitizeNotificationContext } from './request-context.js';
import { topicExchange, topicQueue } from './topology.js';

const DRIVERS: readonly NotificationDriver[] = ['messagingv2', 'messaging', 'log', 'noop', 'test'];

export interface NotifierSettings extends Partial<NotifierOptions> {
  /** The control exchange; Warre's code forces `warre`. */
  exchange?: string;
  /** `null` for Warre (it never sets one). */
  publisherId?: string | null;
  logger?: Logger;
  /** Required when a `messaging*` driver is configured. */
  connection?: BusConnection | null;
  /** Notifications held while the broker is unreachable. Default 10000. */
  maxPending?: number;
}

/** What the `test` driver records for each notification. */
export interface RecordedNotification {
  context: Record<string, unknown>;
  message: Record<string, unknown>;
  priority: string;
  retry: number;
}

export class Notifier {
  readonly drivers: readonly NotificationDriver[];
  readonly topics: readonly string[];
  readonly exchange: string;
  readonly retry: number;
  readonly publisherId: string | null;
  /** Filled by the `test` driver. */
  readonly notifications: RecordedNotification[] = [];
  private readonly logger: Logger;
  private readonly connection: BusConnection | null;
  private readonly publisher: ConfirmPublisher | null;

  constructor(settings: NotifierSettings = {}) {
    const drivers = settings.driver ?? DEFAULT_NOTIFIER_OPTIONS.driver;
    for (const d of drivers) {
      if (!DRIVERS.includes(d)) throw new Error(`Unknown [oslo_messaging_notifications] driver "${d}" (one of ${DRIVERS.join(', ')})`);
    }
    this.drivers = [...new Set(drivers)];
    this.topics = [...(settings.topics ?? DEFAULT_NOTIFIER_OPTIONS.topics)];
    this.exchange = settings.exchange ?? 'warre';
    this.retry = settings.retry ?? DEFAULT_NOTIFIER_OPTIONS.retry;
    this.publisherId = settings.publisherId ?? null;
    this.logger = settings.logger ?? SILENT_LOGGER;
    this.connection = settings.connection ?? null;
    const wire = this.drivers.some((d) => d === 'messaging' || d === 'messagingv2');
    if (wire && !this.connection) throw new Error('The messaging notification drivers need a message bus connection');
    this.publisher =
      wire && this.connection ? new ConfirmPublisher(this.connection, { logger: this.logger, maxPending: settings.maxPending }) : null;
  }

  /** False when no driver is configured (oslo's default: silently disabled). */
  get enabled(): boolean {
    return this.drivers.length > 0;
  }

  /** Notifications waiting for the broker. */
  get pending(): number {
    return this.publisher?.pending ?? 0;
  }

  info(context: MessageContext, eventType: string, payload: unknown): Promise<void> {
    return this.notify(context, eventType, payload, 'INFO');
  }

  sample(context: MessageContext, eventType: string, payload: unknown): Promise<void> {
    return this.notify(context, eventType, payload, 'SAMPLE');
  }

  warn(context: MessageContext, eventType: string, payload: unknown): Promise<void> {
    return this.notify(context, eventType, payload, 'WARN');
  }

  error(context: MessageContext, eventType: string, payload: unknown): Promise<void> {
    return this.notify(context, eventType, payload, 'ERROR');
  }

  /**
   * Send through every configured driver. Resolves once each wire driver's messages are
   * confirmed by the broker or given up (logged); never rejects. Payload `Date`s are rendered
   * per driver (`messagingv2`: `2026-12-01T00:00:00.000000`, `messaging`: `2026-12-01T00:00:00`).
   */
  async notify(
    context: MessageContext,
    eventType: string,
    payload: unknown,
    priority: string,
    extras: OsloContextExtras = {},
  ): Promise<void> {
    if (this.drivers.length === 0) return;
    const sends: Promise<boolean>[] = [];
    let failed = false;
    try {
      const ctx = sanitizeNotificationContext(context, extras);
      // One message id and timestamp per notification, a new _unique_id per send (as oslo).
      const messageId = randomUUID();
      const timestamp = nowMicros();
      const base = { publisherId: this.publisherId, eventType, priority, payload, context: ctx, messageId, timestamp };
      for (const driver of this.drivers) {
        switch (driver) {
          case 'messagingv2':
          case 'messaging': {
            const v2 = driver === 'messagingv2';
            for (const topic of this.topics) {
              const routingKey = `${topic}.${priority.toLowerCase()}`;
              const inner = notificationMessage(base, v2 ? 'strtime' : 'isoformat');
              const body = encodeBody(inner, v2);
              sends.push(
                this.publisher!.publish({
                  exchange: topicExchange(this.exchange, this.connection!.options),
                  routingKey,
                  queue: topicQueue(routingKey, this.connection!.options),
                  body,
                  retry: this.retry,
                  onGiveUp: (reason) =>
                    this.logger.error(
                      { reason, event_type: eventType, message_id: messageId },
                      `Could not send notification to ${topic}. Payload=${pyJsonDumps(inner)}: ${reason}`,
                    ),
                }),
              );
            }
            break;
          }
          case 'log': {
            const inner = notificationMessage(base, 'strtime');
            delete inner._unique_id;
            for (const k of Object.keys(inner)) if (k.startsWith('_context_')) delete inner[k];
            const logFn = logLevel(this.logger, priority);
            logFn({ logger: `oslo.messaging.notification.${eventType}` }, pyJsonDumps(inner));
            break;
          }
          case 'test':
            this.notifications.push({
              context: ctx,
              message: notificationMessage(base, 'strtime'),
              priority: priority.toUpperCase(),
              retry: this.retry,
            });
            break;
          case 'noop':
            break;
        }
      }
    } catch (err) {
      failed = true;
      this.logger.error({ err, event_type: eventType }, `Problem '${(err as Error).message}' attempting to send to notification system.`);
    }
    const confirmed = await Promise.all(sends);
    if (this.drivers.some((d) => d !== 'noop'))
      busNotifications.inc({ event: eventType, result: failed || confirmed.includes(false) ? 'failed' : 'sent' });
  }

  /** Wait up to `timeoutMs` for unsent notifications, then give up the rest (logged). */
  async close(timeoutMs = 5000): Promise<void> {
    await this.publisher?.close(timeoutMs);
  }
}

function logLevel(logger: Logger, priority: string): Logger['info'] {
  switch (priority.toLowerCase()) {
    case 'debug':
      return logger.debug.bind(logger);
    case 'warn':
    case 'warning':
      return logger.warn.bind(logger);
    case 'error':
    case 'critical':
      return logger.error.bind(logger);
    default:
      return logger.info.bind(logger);
  }
}

/**
 * The notification bus URL as oslo picks it: `[oslo_messaging_notifications] transport_url`,
 * else `[DEFAULT] transport_url`. Throws when neither is set.
 */
export function notificationTransportUrl(notifications: Partial<NotifierOptions>, defaultTransportUrl: string | null | undefined): string {
  const url = notifications.transport_url || defaultTransportUrl;
  if (!url) throw new Error('No transport_url: set [oslo_messaging_notifications] transport_url or [DEFAULT] transport_url');
  return url;
}
