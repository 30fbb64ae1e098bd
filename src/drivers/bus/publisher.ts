/**
 * Publishing with broker confirms over a {@link BusConnection}. Messages wait in a bounded
 * in-memory queue while the broker is unreachable and are republished after a reconnect
 * (at-least-once: a message whose confirm was lost may arrive twice; consumers can
 * deduplicate on `_unique_id`). Declarations are made once per channel, as oslo does per
 * connection. `publish()` never rejects: it resolves true (confirmed) or false (given up).
 */
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import { type Logger, SILENT_LOGGER } from '../../domain/logger.js';
import { type BusConnection, errorText } from './connection.js';
import { PUBLISH_PROPERTIES } from './envelope.js';
import type { ExchangeSpec, QueueSpec } from './topology.js';

export interface PublishRequest {
  exchange: ExchangeSpec;
  routingKey: string;
  /** Declare this queue and bind it to the exchange with the routing key first (notifications). */
  queue?: QueueSpec;
  body: Buffer;
  /**
   * Connection failures tolerated while the message is pending: -1 = forever, 0 = none,
   * N = N (oslo's `retry`).
   */
  retry: number;
  /** Called once when the message is given up (the caller logs in its own words). */
  onGiveUp?: (reason: string) => void;
}

export interface ConfirmPublisherSettings {
  logger?: Logger;
  /** Most messages held (queued + unconfirmed); beyond, new ones are dropped. Default 10000. */
  maxPending?: number;
  /** Most unconfirmed messages on the wire at once. Default 100. */
  window?: number;
  /** Wait before recreating a channel the broker closed while the connection stayed up, ms. Default 1000. */
  channelRetryMs?: number;
}

interface Item {
  req: PublishRequest;
  resolve: (ok: boolean) => void;
  failures: number;
  done: boolean;
}

/** Error of a channel the broker closed for this message (e.g. 406 PRECONDITION_FAILED): retrying will not help. */
function isChannelError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'number' && code >= 400 && code < 500;
}

export class ConfirmPublisher {
  private readonly conn: BusConnection;
  private readonly logger: Logger;
  private readonly maxPending: number;
  private readonly window: number;
  private readonly channelRetryMs: number;
  private readonly queue: Item[] = [];
  private readonly inflight = new Map<Item, ConfirmChannel>();
  private channel: ConfirmChannel | null = null;
  private opening = false;
  private declared = new Set<string>();
  private pumping = false;
  private closed = false;
  private readonly idleWaiters: (() => void)[] = [];
  private readonly unregister: () => void;
  private readonly onConnectFailed: () => void;
  private channelTimer: NodeJS.Timeout | null = null;

  constructor(conn: BusConnection, settings: ConfirmPublisherSettings = {}) {
    this.conn = conn;
    this.logger = settings.logger ?? SILENT_LOGGER;
    this.maxPending = settings.maxPending ?? 10_000;
    this.window = settings.window ?? 100;
    this.channelRetryMs = settings.channelRetryMs ?? 1000;
    this.unregister = conn.onConnect((model) => this.openChannel(model));
    // A failed connection attempt counts against every waiting message's retry budget.
    this.onConnectFailed = () => this.countFailure([...this.queue], 'connection failed');
    conn.on('reconnect-scheduled', this.onConnectFailed);
    conn.start();
  }

  /** Messages not yet confirmed. */
  get pending(): number {
    return this.queue.length + this.inflight.size;
  }

  publish(req: PublishRequest): Promise<boolean> {
    return new Promise((resolve) => {
      const item: Item = { req, resolve, failures: 0, done: false };
      if (this.closed) return this.giveUp(item, 'the publisher is closed');
      if (this.pending >= this.maxPending) {
        return this.giveUp(item, `${this.pending} messages already waiting for the broker (limit ${this.maxPending})`);
      }
      this.queue.push(item);
      void this.pump();
    });
  }

  /** Resolves true once nothing is pending, false after `timeoutMs`. */
  drain(timeoutMs: number): Promise<boolean> {
    if (this.pending === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        const i = this.idleWaiters.indexOf(onIdle);
        if (i >= 0) this.idleWaiters.splice(i, 1);
        resolve(false);
      }, timeoutMs);
      const onIdle = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      this.idleWaiters.push(onIdle);
    });
  }

  /** Wait up to `timeoutMs` for pending messages, give up the rest, close the channel. */
  async close(timeoutMs = 5000): Promise<void> {
    if (this.closed) return;
    await this.drain(timeoutMs);
    this.closed = true;
    this.unregister();
    this.conn.off('reconnect-scheduled', this.onConnectFailed);
    if (this.channelTimer) clearTimeout(this.channelTimer);
    for (const item of [...this.queue, ...this.inflight.keys()]) this.giveUp(item, 'shutting down');
    this.queue.length = 0;
    this.inflight.clear();
    const ch = this.channel;
    this.channel = null;
    if (ch) await ch.close().catch(() => undefined);
  }

  private async openChannel(model: ChannelModel): Promise<void> {
    if (this.closed || this.opening || this.channel) return;
    this.opening = true;
    try {
      const ch = await model.createConfirmChannel();
      ch.on('error', (err: Error) => {
        this.logger.error({ err }, `Message bus channel error: ${errorText(err)}`);
      });
      ch.on('close', () => this.channelClosed(ch, model));
      this.channel = ch;
      this.declared = new Set();
    } finally {
      this.opening = false;
    }
    void this.pump();
  }

  private channelClosed(ch: ConfirmChannel, model: ChannelModel): void {
    if (this.channel === ch) this.channel = null;
    // Unconfirmed messages of this channel go back to the front of the queue, in order.
    const lost = [...this.inflight].filter(([, c]) => c === ch).map(([item]) => item);
    for (const item of lost) this.inflight.delete(item);
    this.queue.unshift(...lost.filter((i) => !i.done));
    this.countFailure(lost, 'connection lost before the broker confirmed');
    if (this.closed) return;
    // The broker closed only the channel (e.g. a declare was refused): open a new one soon.
    if (this.conn.model === model && !this.channelTimer) {
      this.channelTimer = setTimeout(() => {
        this.channelTimer = null;
        if (this.conn.model === model) void this.openChannel(model).catch(() => undefined);
      }, this.channelRetryMs);
    }
  }

  private countFailure(items: Item[], reason: string): void {
    for (const item of items) {
      if (item.done) continue;
      item.failures++;
      if (item.req.retry >= 0 && item.failures > item.req.retry) {
        const i = this.queue.indexOf(item);
        if (i >= 0) this.queue.splice(i, 1);
        this.giveUp(item, `${reason} (retry=${item.req.retry})`);
      }
    }
    this.checkIdle();
  }

  private giveUp(item: Item, reason: string): void {
    if (item.done) return;
    item.done = true;
    try {
      item.req.onGiveUp?.(reason);
    } catch {
      // a logging callback must not break the publisher
    }
    item.resolve(false);
    this.checkIdle();
  }

  private succeed(item: Item): void {
    if (item.done) return;
    item.done = true;
    item.resolve(true);
  }

  private checkIdle(): void {
    if (this.pending === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  /** Send queued messages, in order, keeping at most `window` unconfirmed. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.channel && this.queue.length > 0 && this.inflight.size < this.window && !this.closed) {
        const ch = this.channel;
        const item = this.queue[0]!;
        if (item.done) {
          this.queue.shift();
          continue;
        }
        try {
          await this.declare(ch, item.req);
        } catch (err) {
          if (isChannelError(err)) {
            // The broker refused the declaration (e.g. inequivalent durability): permanent.
            if (this.queue[0] === item) this.queue.shift();
            this.giveUp(item, errorText(err));
            continue;
          }
          // The channel or connection is going away: channelClosed() requeues and reopens;
          // should the channel survive after all, try again shortly.
          this.schedulePump();
          return;
        }
        if (this.channel !== ch || this.queue[0] !== item) continue;
        this.queue.shift();
        this.inflight.set(item, ch);
        let writable = true;
        try {
          writable = ch.publish(item.req.exchange.name, item.req.routingKey, item.req.body, PUBLISH_PROPERTIES, (err) => {
            if (this.inflight.get(item) !== ch) return; // already requeued by channelClosed
            // "channel closed": channelClosed() (the next 'close' listener) requeues it.
            if (err !== null && (err as Error).message !== 'message nacked') return;
            this.inflight.delete(item);
            if (err === null) this.succeed(item);
            else {
              // A broker nack: publish it again.
              this.queue.unshift(item);
              this.countFailure([item], 'the broker did not confirm');
            }
            this.checkIdle();
            void this.pump();
          });
        } catch (err) {
          this.inflight.delete(item);
          if ((err as Error).name === 'IllegalOperationError') {
            // The channel closed under us: channelClosed() reopens and pumps again.
            this.queue.unshift(item);
            return;
          }
          this.giveUp(item, errorText(err));
          continue;
        }
        if (!writable)
          await new Promise<void>((resolve) => {
            const done = (): void => {
              ch.off('drain', done);
              ch.off('close', done);
              resolve();
            };
            ch.on('drain', done);
            ch.on('close', done);
          });
      }
    } finally {
      this.pumping = false;
    }
  }

  private schedulePump(): void {
    setTimeout(() => void this.pump(), this.channelRetryMs).unref();
  }

  private async declare(ch: ConfirmChannel, req: PublishRequest): Promise<void> {
    const ex = req.exchange;
    if (ex.name && !this.declared.has(`x:${ex.name}`)) {
      await ch.assertExchange(ex.name, ex.type, ex.options);
      this.declared.add(`x:${ex.name}`);
    }
    if (req.queue) {
      const key = `q:${ex.name}:${req.routingKey}:${req.queue.name}`;
      if (!this.declared.has(key)) {
        await ch.assertQueue(req.queue.name, req.queue.options);
        await ch.bindQueue(req.queue.name, ex.name, req.routingKey);
        this.declared.add(key);
      }
    }
  }
}
