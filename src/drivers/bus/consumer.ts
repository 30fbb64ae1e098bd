/**
 * What every consumer on the bus shares (the notification listener, the RPC server): a
 * channel of its own, opened on every (re)connection; queues declared and consumed with
 * manual acks; the channel reopened when the broker closes it while the connection
 * lives (a refused declaration, a consumer cancelled because its queue was deleted);
 * handlers tracked so that `stop()` waits for them.
 */
import type { Channel, ChannelModel, ConsumeMessage } from 'amqplib';
import { type Logger, SILENT_LOGGER } from '../../domain/logger.js';
import { type BusConnection, errorText } from './connection.js';

export interface ConsumerSettings {
  logger?: Logger;
  /** Unacked messages per consumer; default the connection's `rabbit_qos_prefetch_count` (0 = unlimited). */
  prefetch?: number;
  /** Wait before reopening a channel the broker closed while connected, ms (default 1000). */
  channelRetryMs?: number;
}

export abstract class BusConsumer {
  protected readonly logger: Logger;
  protected stopped = false;
  private readonly prefetch: number;
  private readonly channelRetryMs: number;
  private channel: Channel | null = null;
  private opening = false;
  private consumerTags: string[] = [];
  private unregister: (() => void) | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  /** Pending delayed actions; `stop()` runs them at once (requeues happen now, retries see `stopped`). */
  private readonly timers = new Map<NodeJS.Timeout, () => void>();
  private readonly firstConsume: { resolve: () => void; promise: Promise<void> };

  constructor(
    protected readonly conn: BusConnection,
    /** For log lines: "Notification listener", "RPC server". */
    private readonly what: string,
    settings: ConsumerSettings,
  ) {
    this.logger = settings.logger ?? SILENT_LOGGER;
    this.prefetch = settings.prefetch ?? conn.options.rabbit_qos_prefetch_count;
    this.channelRetryMs = settings.channelRetryMs ?? 1000;
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    this.firstConsume = { resolve, promise };
  }

  /** Declare exchanges, queues and bindings; return the queues to consume. */
  protected abstract declare(ch: Channel): Promise<string[]>;

  /** One delivered message; settle it on `ch` (see {@link settle}). Errors are logged. */
  protected abstract handle(ch: Channel, msg: ConsumeMessage): Promise<void>;

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
    if (ch) for (const tag of this.consumerTags) await ch.cancel(tag).catch(() => undefined);
    for (const [t, fn] of [...this.timers]) {
      clearTimeout(t);
      this.timers.delete(t);
      fn();
    }
    await Promise.allSettled([...this.inFlight]);
    this.channel = null;
    if (ch) await ch.close().catch(() => undefined);
  }

  /** Run `fn` after `ms` (at once when stopping). */
  protected later(ms: number, fn: () => void): void {
    if (this.stopped) {
      fn();
      return;
    }
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.set(t, fn);
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
    ch.on('error', (err: Error) => this.logger.error({ err }, `${this.what} channel error: ${errorText(err)}`));
    ch.on('close', () => this.channelClosed(ch, model));
    this.channel = ch;
    this.consumerTags = [];
    if (this.prefetch > 0) await ch.prefetch(this.prefetch);
    const queues = await this.declare(ch);
    for (const queue of queues) {
      const { consumerTag } = await ch.consume(queue, (msg) => this.onMessage(ch, msg), { noAck: false });
      this.consumerTags.push(consumerTag);
    }
    this.consuming(queues);
    this.firstConsume.resolve();
  }

  /** Log that consuming started (once per channel). */
  protected abstract consuming(queues: string[]): void;

  private channelClosed(ch: Channel, model: ChannelModel): void {
    if (this.channel !== ch) return;
    this.channel = null;
    if (this.stopped) return;
    // Only the channel closed: reopen it while this connection lives (a new one sets up by itself).
    if (this.conn.model === model)
      this.later(this.channelRetryMs, () => {
        if (this.conn.model === model && !this.channel)
          void this.setup(model).catch((err: unknown) => {
            this.logger.error({ err }, `${this.what} setup failed: ${errorText(err)}`);
          });
      });
  }

  private onMessage(ch: Channel, msg: ConsumeMessage | null): void {
    if (msg === null) {
      // The broker cancelled the consumer (queue deleted…): start again on a new channel.
      this.logger.warn(`${this.what}: consumer cancelled by the broker; resubscribing`);
      ch.close().catch(() => undefined);
      return;
    }
    const task = this.handle(ch, msg).catch((err: unknown) => {
      this.logger.error({ err }, `${this.what} failed to process a message: ${errorText(err)}`);
    });
    this.inFlight.add(task);
    void task.finally(() => this.inFlight.delete(task));
  }
}

/** Ack/nack on the delivering channel; if it closed meanwhile the broker redelivers anyway. */
export function settle(fn: () => void): boolean {
  try {
    fn();
    return true;
  } catch {
    // IllegalOperationError: channel closed — the message is already back in the queue.
    return false;
  }
}
