/**
 * A notification listener compatible with oslo.messaging's (interop.md §1.2, §1.3): for a target
 * (exchange, topic) and priorities it declares `<topic>.<priority>` queues bound to the exchange
 * with the configured flags and consumes them with manual acks. Several listeners (TS or
 * Python) on one queue compete for messages.
 *
 * Unlike Warre's Python listener, which acks whatever happens, a message is acked only after the
 * handler resolves `'ack'`; `'requeue'` or a throw puts it back after a delay (backing off per
 * message, without holding up other messages). Bodies that cannot be decoded are logged and
 * rejected without requeue, never redelivered in a loop.
 */
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { errorText, type BusConnection } from './connection.js';
import { BusDecodeError, parseNotification, type ParsedNotification } from './envelope.js';
import { SILENT_LOGGER, type BusLogger } from './options.js';
import { declareBinding, topicExchange, topicQueue } from './topology.js';

export type NotificationHandler = (message: ParsedNotification) => Promise<'ack' | 'requeue'>;

export interface NotificationListenerSettings {
  /** e.g. `ceilometer`. */
  exchange: string;
  /** e.g. `warre`. */
  topic: string;
  /** Lower case, e.g. `['sample']` → queue `warre.sample`. */
  priorities: string[];
  /** Consume from a queue of this name instead of `<topic>.<priority>` (oslo's `pool`). */
  pool?: string | null;
  handler: NotificationHandler;
  logger?: BusLogger;
  /** Unacked messages per consumer; default the connection's `rabbit_qos_prefetch_count` (0 = unlimited). */
  prefetch?: number;
  /** First requeue delay, ms (default 1000); doubles per redelivery of the same message. */
  requeueDelayMs?: number;
  /** Longest requeue delay, ms (default 5000). */
  requeueMaxDelayMs?: number;
  /** Wait before reopening a channel the broker closed while connected, ms (default 1000). */
  channelRetryMs?: number;
}

export class NotificationListener {
  private readonly conn: BusConnection;
  private readonly s: Required<Omit<NotificationListenerSettings, 'pool' | 'logger' | 'prefetch'>> & {
    pool: string | null;
    prefetch: number;
  };
  private readonly logger: BusLogger;
  private channel: Channel | null = null;
  private opening = false;
  private consumerTags: string[] = [];
  private unregister: (() => void) | null = null;
  private stopped = false;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly timers = new Map<NodeJS.Timeout, () => void>();
  /** Redeliveries seen per message (by `_unique_id`/message id), for the requeue backoff. */
  private readonly attempts = new Map<string, number>();
  private firstConsume: { resolve: () => void; promise: Promise<void> };

  constructor(conn: BusConnection, settings: NotificationListenerSettings) {
    if (settings.priorities.length === 0) throw new Error('A notification listener needs at least one priority');
    this.conn = conn;
    this.logger = settings.logger ?? SILENT_LOGGER;
    this.s = {
      exchange: settings.exchange,
      topic: settings.topic,
      priorities: settings.priorities.map((p) => p.toLowerCase()),
      pool: settings.pool ?? null,
      handler: settings.handler,
      prefetch: settings.prefetch ?? conn.options.rabbit_qos_prefetch_count,
      requeueDelayMs: settings.requeueDelayMs ?? 1000,
      requeueMaxDelayMs: settings.requeueMaxDelayMs ?? 5000,
      channelRetryMs: settings.channelRetryMs ?? 1000,
    };
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    this.firstConsume = { resolve, promise };
  }

  /** The queue names consumed. */
  get queues(): string[] {
    return this.s.priorities.map((p) => this.s.pool ?? `${this.s.topic}.${p}`);
  }

  /**
   * Start consuming (now and after every reconnect). Resolves once consuming for the first
   * time; if the broker is down it keeps trying in the background (await with a timeout if
   * you need to know).
   */
  start(): Promise<void> {
    if (!this.unregister) {
      this.unregister = this.conn.onConnect((model) => this.setup(model));
      this.conn.start();
    }
    return this.firstConsume.promise;
  }

  /** Stop consuming, wait for running handlers, close the channel. Unacked messages return to the queue. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.unregister?.();
    const ch = this.channel;
    if (ch) {
      for (const tag of this.consumerTags) await ch.cancel(tag).catch(() => undefined);
    }
    // Requeue now what was waiting for its delay.
    for (const [t, fn] of [...this.timers]) {
      clearTimeout(t);
      this.timers.delete(t);
      fn();
    }
    await Promise.allSettled([...this.inFlight]);
    this.channel = null;
    if (ch) await ch.close().catch(() => undefined);
  }

  private async setup(model: ChannelModel): Promise<void> {
    if (this.stopped || this.opening || this.channel) return;
    this.opening = true;
    let ch: Channel;
    try {
      ch = await model.createChannel();
    } finally {
      this.opening = false;
    }
    ch.on('error', (err: Error) => this.logger.error({ err }, `Notification listener channel error: ${errorText(err)}`));
    ch.on('close', () => this.channelClosed(ch, model));
    this.channel = ch;
    this.consumerTags = [];
    const o = this.conn.options;
    if (this.s.prefetch > 0) await ch.prefetch(this.s.prefetch);
    const exchange = topicExchange(this.s.exchange, o);
    for (const priority of this.s.priorities) {
      const key = `${this.s.topic}.${priority}`;
      await declareBinding(ch, exchange, topicQueue(this.s.pool ?? key, o), key);
    }
    for (const queue of new Set(this.queues)) {
      const { consumerTag } = await ch.consume(queue, (msg) => this.onMessage(ch, msg), { noAck: false });
      this.consumerTags.push(consumerTag);
    }
    this.logger.info(
      { exchange: this.s.exchange, queues: this.queues },
      `Consuming notifications from ${this.queues.join(', ')} on exchange ${this.s.exchange}`,
    );
    this.firstConsume.resolve();
  }

  private channelClosed(ch: Channel, model: ChannelModel): void {
    if (this.channel !== ch) return;
    this.channel = null;
    if (this.stopped) return;
    // Only the channel closed (e.g. a refused declaration): reopen it while connected.
    if (this.conn.model === model) this.later(this.s.channelRetryMs, () => {
      if (this.conn.model === model && !this.channel) void this.setup(model).catch((err: unknown) => {
        this.logger.error({ err }, `Notification listener setup failed: ${errorText(err)}`);
      });
    });
  }

  private onMessage(ch: Channel, msg: ConsumeMessage | null): void {
    if (msg === null) {
      // The broker cancelled the consumer (queue deleted…): start again on a new channel.
      this.logger.warn(`Consumer cancelled by the broker on ${this.queues.join(', ')}; resubscribing`);
      ch.close().catch(() => undefined);
      return;
    }
    const task = this.process(ch, msg).catch((err: unknown) => {
      this.logger.error({ err }, `Failed to process a notification: ${errorText(err)}`);
    });
    this.inFlight.add(task);
    void task.finally(() => this.inFlight.delete(task));
  }

  private async process(ch: Channel, msg: ConsumeMessage): Promise<void> {
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
    const n = (key ? this.attempts.get(key) ?? 0 : 0) + 1;
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

  private later(ms: number, fn: () => void): void {
    if (this.stopped) return fn();
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.set(t, fn);
  }
}

/** Ack/nack on the delivering channel; if it closed meanwhile the broker redelivers anyway. */
function settle(fn: () => void): void {
  try {
    fn();
  } catch {
    // IllegalOperationError: channel closed — the message is already back in the queue.
  }
}
