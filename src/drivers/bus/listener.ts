/**
 * A notification listener compatible with oslo.messaging's (docs/interop.md#oslo-messaging-topology,
 * docs/interop.md#lease-events): for a target
 * (exchange, topic) and priorities it declares `<topic>.<priority>` queues bound to the exchange
 * with the configured flags and consumes them with manual acks. Several listeners (TS or
 * Python) on one queue compete for messages.
 *
 * Unlike Warre's Python listener, which acks whatever happens, a message is acked only after the
 * handler resolves `'ack'`; `'requeue'` or a throw puts it back after a delay (backing off per
 * message, without holding up other messages). Bodies that cannot be decoded are logged and
 * rejected without requeue, never redelivered in a loop.
 */
import type { Channel, ConsumeMessage } from 'amqplib';
import { type BusConnection, errorText } from './connection.js';
import { BusConsumer, type ConsumerSettings, settle } from './consumer.js';
import { BusDecodeError, type ParsedNotification, parseNotification } from './envelope.js';
import { declareBinding, topicExchange, topicQueue } from './topology.js';

export type NotificationHandler = (message: ParsedNotification) => Promise<'ack' | 'requeue'>;

export interface NotificationListenerSettings extends ConsumerSettings {
  /** e.g. `ceilometer`. */
  exchange: string;
  /** e.g. `warre`. */
  topic: string;
  /** Lower case, e.g. `['sample']` → queue `warre.sample`. */
  priorities: string[];
  /** Consume from a queue of this name instead of `<topic>.<priority>` (oslo's `pool`). */
  pool?: string | null;
  handler: NotificationHandler;
  /** First requeue delay, ms (default 1000); doubles per redelivery of the same message. */
  requeueDelayMs?: number;
  /** Longest requeue delay, ms (default 5000). */
  requeueMaxDelayMs?: number;
}

export class NotificationListener extends BusConsumer {
  private readonly s: Required<Omit<NotificationListenerSettings, 'pool' | 'logger' | 'prefetch' | 'channelRetryMs'>> & {
    pool: string | null;
  };
  /** Redeliveries seen per message (by `_unique_id`/message id), for the requeue backoff. */
  private readonly attempts = new Map<string, number>();

  constructor(conn: BusConnection, settings: NotificationListenerSettings) {
    if (settings.priorities.length === 0) throw new Error('A notification listener needs at least one priority');
    super(conn, 'Notification listener', settings);
    this.s = {
      exchange: settings.exchange,
      topic: settings.topic,
      priorities: settings.priorities.map((p) => p.toLowerCase()),
      pool: settings.pool ?? null,
      handler: settings.handler,
      requeueDelayMs: settings.requeueDelayMs ?? 1000,
      requeueMaxDelayMs: settings.requeueMaxDelayMs ?? 5000,
    };
  }

  /** The queue names consumed. */
  get queues(): string[] {
    return [...new Set(this.s.priorities.map((p) => this.s.pool ?? `${this.s.topic}.${p}`))];
  }

  protected async declare(ch: Channel): Promise<string[]> {
    const o = this.conn.options;
    const exchange = topicExchange(this.s.exchange, o);
    for (const priority of this.s.priorities) {
      const key = `${this.s.topic}.${priority}`;
      await declareBinding(ch, exchange, topicQueue(this.s.pool ?? key, o), key);
    }
    return this.queues;
  }

  protected consuming(queues: string[]): void {
    this.logger.info(
      { exchange: this.s.exchange, queues },
      `Consuming notifications from ${queues.join(', ')} on exchange ${this.s.exchange}`,
    );
  }

  protected async handle(ch: Channel, msg: ConsumeMessage): Promise<void> {
    let parsed: ParsedNotification;
    try {
      parsed = parseNotification(msg.content);
    } catch (err) {
      const id = err instanceof BusDecodeError ? err.messageId : null;
      this.logger.error(
        { err, message_id: id, routing_key: msg.fields.routingKey, exchange: msg.fields.exchange },
        `Failed to process message${id ? ` ${id}` : ''} on ${msg.fields.routingKey}: ${errorText(err)}; dropping it`,
      );
      settle(() => ch.reject(msg, false));
      return;
    }
    const key = parsed.uniqueId ?? parsed.messageId;
    let outcome: 'ack' | 'requeue';
    try {
      outcome = await this.s.handler(parsed);
    } catch (err) {
      this.logger.error(
        { err, message_id: parsed.messageId, event_type: parsed.eventType },
        `Notification handler failed for ${parsed.eventType ?? 'message'} ${parsed.messageId ?? ''}: ${errorText(err)}; requeueing`,
      );
      outcome = 'requeue';
    }
    if (outcome === 'ack') {
      if (key) this.attempts.delete(key);
      settle(() => ch.ack(msg));
      return;
    }
    const n = (key ? (this.attempts.get(key) ?? 0) : 0) + 1;
    if (key) {
      if (this.attempts.size >= 10_000) this.attempts.delete(this.attempts.keys().next().value!);
      this.attempts.set(key, n);
    }
    const wait = Math.min(this.s.requeueDelayMs * 2 ** (n - 1), this.s.requeueMaxDelayMs);
    this.logger.warn(
      { message_id: parsed.messageId, event_type: parsed.eventType, delay_ms: wait },
      `Requeueing notification ${parsed.messageId ?? ''} in ${wait} ms`,
    );
    await new Promise<void>((resolve) =>
      this.later(wait, () => {
        settle(() => ch.nack(msg, false, true));
        resolve();
      }),
    );
  }
}
