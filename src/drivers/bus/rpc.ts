/**
 * oslo.messaging RPC casts between Warre's API and worker (docs/interop.md#rpc-casts): fire-and-forget
 * messages on exchange `warre`, routing key `warre-worker`, understood by a Python worker too.
 * Only a nudge: the worker finds PENDING_CREATE reservations without it.
 */
import { randomUUID } from 'node:crypto';
import type { Channel, ConsumeMessage } from 'amqplib';
import { type Logger, SILENT_LOGGER } from '../../domain/logger.js';
import { type BusConnection, errorText } from './connection.js';
import { BusConsumer, type ConsumerSettings, settle } from './consumer.js';
import { BusDecodeError, encodeBody, parseRpcMessage, rpcCastMessage } from './envelope.js';
import { ConfirmPublisher } from './publisher.js';
import { type MessageContext, type OsloContextExtras, rpcContext } from './request-context.js';
import { declareBinding, fanoutExchange, fanoutQueue, topicExchange, topicQueue } from './topology.js';

/** The worker API version Warre's client pins (`warre/worker/api.py`). */
export const WORKER_API_VERSION = '1.0';

export interface RpcClientSettings {
  /** Control exchange, default `warre`. */
  exchange?: string;
  /** Default `warre-worker`. */
  topic?: string;
  logger?: Logger;
  /**
   * Connection failures tolerated before a cast is given up (default 3; oslo's default is
   * forever, but a cast is only a nudge and callers must not pile up).
   */
  retry?: number;
  /** Casts held while the broker is unreachable (default 1000). */
  maxPending?: number;
}

export interface CastOptions {
  /** Send to `<topic>.<server>` only. */
  server?: string;
  /** Send to every server (exchange `<topic>_fanout`). */
  fanout?: boolean;
  version?: string;
  contextExtras?: OsloContextExtras;
}

export class RpcClient {
  readonly exchange: string;
  readonly topic: string;
  private readonly conn: BusConnection;
  private readonly logger: Logger;
  private readonly retry: number;
  private readonly publisher: ConfirmPublisher;

  constructor(conn: BusConnection, settings: RpcClientSettings = {}) {
    this.conn = conn;
    this.exchange = settings.exchange ?? 'warre';
    this.topic = settings.topic ?? 'warre-worker';
    this.logger = settings.logger ?? SILENT_LOGGER;
    this.retry = settings.retry ?? 3;
    this.publisher = new ConfirmPublisher(conn, { logger: this.logger, maxPending: settings.maxPending ?? 1000 });
  }

  /**
   * Cast `method(**args)` with the (unsanitised) context. Resolves true once the broker has
   * the message, false when given up (logged); never rejects.
   */
  cast(context: MessageContext, method: string, args: Record<string, unknown>, opts: CastOptions = {}): Promise<boolean> {
    try {
      const inner = rpcCastMessage({
        method,
        args,
        version: opts.version ?? WORKER_API_VERSION,
        context: rpcContext(context, opts.contextExtras),
      });
      const body = encodeBody(inner, true);
      const exchange = opts.fanout ? fanoutExchange(this.topic) : topicExchange(this.exchange, this.conn.options);
      const routingKey = opts.fanout ? '' : opts.server ? `${this.topic}.${opts.server}` : this.topic;
      const uniqueId = inner._unique_id as string;
      this.logger.debug({ unique_id: uniqueId, method }, `CAST unique_id: ${uniqueId} exchange '${exchange.name}' topic '${routingKey}'`);
      return this.publisher.publish({
        exchange,
        routingKey,
        body,
        retry: this.retry,
        onGiveUp: (reason) => this.logger.error({ method, unique_id: uniqueId }, `Failed to cast ${method} to ${routingKey}: ${reason}`),
      });
    } catch (err) {
      this.logger.error({ err, method }, `Failed to cast ${method}: ${errorText(err)}`);
      return Promise.resolve(false);
    }
  }

  /** `WorkerAPI.create_lease`: cast `create_lease(reservation_id=…)` version 1.0 to `warre-worker`. */
  castCreateLease(reservationId: string, context: MessageContext, extras?: OsloContextExtras): Promise<boolean> {
    return this.cast(context, 'create_lease', { reservation_id: reservationId }, { contextExtras: extras });
  }

  async close(timeoutMs = 2000): Promise<void> {
    await this.publisher.close(timeoutMs);
  }
}

export type RpcHandler = (method: string, args: Record<string, unknown>, context: Record<string, unknown>) => Promise<void> | void;

export interface RpcServerSettings extends ConsumerSettings {
  exchange?: string;
  topic?: string;
  /** This host's name (`[DEFAULT] host`): queue `<topic>.<server>`. */
  server: string;
  handler: RpcHandler;
}

/**
 * The worker's RPC server: queues `warre-worker`, `warre-worker.<host>` (exchange `warre`) and
 * `warre-worker_fanout_<uuid hex>` (fanout exchange `warre-worker_fanout`), declared like
 * oslo's. Messages are acked on receipt, as oslo does for casts; duplicates (same
 * `_unique_id`) are dropped; RPC *calls* are not answered.
 */
export class RpcServer extends BusConsumer {
  readonly exchange: string;
  readonly topic: string;
  readonly server: string;
  /** The fanout queue name, fixed for this server's lifetime (redeclared on reconnect). */
  readonly fanoutQueue: string;
  private readonly handler: RpcHandler;
  private readonly recentIds: string[] = [];

  constructor(conn: BusConnection, settings: RpcServerSettings) {
    super(conn, 'RPC server', settings);
    this.exchange = settings.exchange ?? 'warre';
    this.topic = settings.topic ?? 'warre-worker';
    this.server = settings.server;
    this.handler = settings.handler;
    this.fanoutQueue = `${this.topic}_fanout_${randomUUID().replace(/-/g, '')}`;
  }

  protected async declare(ch: Channel): Promise<string[]> {
    const o = this.conn.options;
    const topicEx = topicExchange(this.exchange, o);
    const serverKey = `${this.topic}.${this.server}`;
    await declareBinding(ch, topicEx, topicQueue(this.topic, o), this.topic);
    await declareBinding(ch, topicEx, topicQueue(serverKey, o), serverKey);
    await declareBinding(ch, fanoutExchange(this.topic), fanoutQueue(this.fanoutQueue, o), this.topic);
    return [this.topic, serverKey, this.fanoutQueue];
  }

  protected consuming(queues: string[]): void {
    this.logger.info(`RPC server consuming ${queues.join(', ')} on exchange ${this.exchange}`);
  }

  protected async handle(ch: Channel, msg: ConsumeMessage): Promise<void> {
    // Acked on receipt, as oslo does for casts; if the channel closed, it comes again.
    if (!settle(() => ch.ack(msg))) return;
    let parsed: ReturnType<typeof parseRpcMessage>;
    try {
      parsed = parseRpcMessage(msg.content);
    } catch (err) {
      const id = err instanceof BusDecodeError ? err.messageId : null;
      this.logger.error({ err, unique_id: id }, `Failed to process RPC message${id ? ` ${id}` : ''}: ${errorText(err)}; dropping it`);
      return;
    }
    if (parsed.uniqueId) {
      if (this.recentIds.includes(parsed.uniqueId)) {
        this.logger.warn({ unique_id: parsed.uniqueId }, `Duplicate RPC message ${parsed.uniqueId} dropped`);
        return;
      }
      this.recentIds.push(parsed.uniqueId);
      if (this.recentIds.length > 100) this.recentIds.shift();
    }
    if (parsed.msgId) {
      this.logger.warn({ method: parsed.method }, `RPC call ${parsed.method} received: calls are not answered, handling it as a cast`);
    }
    const { method, args, context } = parsed;
    try {
      await this.handler(method, args, context);
    } catch (err) {
      this.logger.error({ err, method }, `Exception during RPC message handling (${method}): ${errorText(err)}`);
    }
  }
}
