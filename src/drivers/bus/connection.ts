/**
 * One resilient AMQP connection, as oslo.messaging keeps it: the hosts of the transport URL are
 * shuffled once and tried round-robin; after a whole round fails it waits
 * `rabbit_retry_interval`, then `+rabbit_retry_backoff` more per attempt, at most
 * `rabbit_interval_max` seconds. After every (re)connect the registered setup functions run
 * again, so publishers and consumers recreate their channels, topology and consumers.
 *
 * Hand-written rather than amqplib's built-in recovery because that one knows a single URL
 * only; failover between several brokers is what `transport_url` asks for.
 */
import { EventEmitter } from 'node:events';
import amqp, { type ChannelModel } from 'amqplib';
import { type Logger, SILENT_LOGGER } from '../../domain/logger.js';
import { busConnectFailures, busReconnects } from '../../metrics/registry.js';
import { type BusOptions, busOptions } from './options.js';
import { type ConnectTarget, resolveTransport } from './transport-url.js';

export type BusConnectionState = 'idle' | 'connecting' | 'connected' | 'waiting' | 'closed';

/** Runs on every successful (re)connect with the new connection. */
export type ConnectHook = (model: ChannelModel) => Promise<void> | void;

export interface BusConnectionSettings {
  logger?: Logger;
  /** Shown in the broker's connection list (`connection_name` client property). */
  name?: string;
  /** Shuffle the hosts once (oslo does; tests may want a fixed order). Default true. */
  shuffle?: boolean;
}

/**
 * Events: `state` (BusConnectionState), `connected` ({ host }), `disconnected` ({ host, error }),
 * `reconnect-scheduled` ({ attempt, delayMs, error }), `blocked` (reason), `unblocked`, `closed`.
 * Never emits `error`: connection problems are logged and retried, never thrown.
 */
export class BusConnection extends EventEmitter {
  readonly options: BusOptions;
  private readonly targets: ConnectTarget[];
  private readonly logger: Logger;
  private readonly name: string;
  private readonly hooks: ConnectHook[] = [];
  private cursor = 0;
  private current: ChannelModel | null = null;
  private currentLabel = '';
  private _state: BusConnectionState = 'idle';
  private loop: Promise<void> | null = null;
  private cancelSleep: (() => void) | null = null;

  /** Build from a `transport_url` (its query overrides `options`). Throws on an invalid URL. */
  static fromUrl(transportUrl: string, options: Partial<BusOptions> = {}, settings: BusConnectionSettings = {}): BusConnection {
    const resolved = resolveTransport(transportUrl, options);
    return new BusConnection(resolved.targets, resolved.options, settings);
  }

  constructor(targets: ConnectTarget[], options: Partial<BusOptions> = {}, settings: BusConnectionSettings = {}) {
    super();
    if (targets.length === 0) throw new Error('BusConnection needs at least one broker');
    this.options = busOptions(options);
    this.targets = settings.shuffle === false ? [...targets] : shuffle([...targets]);
    this.logger = settings.logger ?? SILENT_LOGGER;
    this.name = settings.name ?? 'warre';
  }

  get state(): BusConnectionState {
    return this._state;
  }

  /** The open connection, or null while (re)connecting. */
  get model(): ChannelModel | null {
    return this.current;
  }

  get isClosed(): boolean {
    return this._state === 'closed';
  }

  get connected(): boolean {
    return this.current !== null;
  }

  /** Start connecting in the background (idempotent). */
  start(): this {
    if (!this.loop && this._state !== 'closed') {
      this.loop = this.run().catch((err: unknown) => {
        // run() handles its own errors; this is a last resort so the process never dies of it.
        this.logger.error({ err }, 'Message bus connection loop failed');
      });
    }
    return this;
  }

  /**
   * Register a setup function: it runs now if connected and after every reconnect. Errors are
   * logged (the hook's channel work is retried on the next reconnect). Returns an unregister
   * function.
   */
  onConnect(hook: ConnectHook): () => void {
    this.hooks.push(hook);
    if (this.current) void this.runHook(hook, this.current);
    return () => {
      const i = this.hooks.indexOf(hook);
      if (i >= 0) this.hooks.splice(i, 1);
    };
  }

  /** Resolves with the connection once connected; rejects on close or after `timeoutMs`. */
  whenConnected(timeoutMs?: number): Promise<ChannelModel> {
    if (this.current) return Promise.resolve(this.current);
    if (this.isClosed) return Promise.reject(new Error('Message bus connection is closed'));
    this.start();
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const cleanup = (): void => {
        this.off('connected', onConnected);
        this.off('closed', onClosed);
        if (timer) clearTimeout(timer);
      };
      const onConnected = (): void => {
        cleanup();
        if (this.current) resolve(this.current);
        else reject(new Error('Message bus connection lost'));
      };
      const onClosed = (): void => {
        cleanup();
        reject(new Error('Message bus connection is closed'));
      };
      this.on('connected', onConnected);
      this.on('closed', onClosed);
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          cleanup();
          reject(new Error(`Not connected to the message bus after ${timeoutMs} ms`));
        }, timeoutMs);
      }
    });
  }

  /** Drop the current connection (a reconnect follows). */
  forceReconnect(reason = 'forced reconnect'): void {
    const model = this.current;
    if (!model) return;
    this.logger.warn(`Dropping the message bus connection to ${this.currentLabel}: ${reason}`);
    model.close().catch(() => undefined);
  }

  /** Close for good: stop reconnecting and close the connection. */
  async close(): Promise<void> {
    if (this.isClosed) return;
    this.setState('closed');
    this.cancelSleep?.();
    const model = this.current;
    this.current = null;
    if (model) {
      try {
        await model.close();
      } catch {
        // already closing or closed
      }
    }
    await this.loop;
    this.emit('closed');
  }

  private setState(s: BusConnectionState): void {
    if (this._state === 'closed' && s !== 'closed') return;
    this._state = s;
    this.emit('state', s);
  }

  private async run(): Promise<void> {
    let attempt = 0;
    let failuresThisRound = 0;
    while (this._state !== 'closed') {
      const target = this.targets[this.cursor % this.targets.length]!;
      this.cursor++;
      this.setState('connecting');
      let model: ChannelModel;
      try {
        model = await amqp.connect(target.connect, {
          ...target.socket,
          clientProperties: { connection_name: this.name },
        });
      } catch (err) {
        if (this.isClosed) return;
        failuresThisRound++;
        // Like kombu: try every host once without waiting, then back off.
        let delayMs = 0;
        if (failuresThisRound >= this.targets.length) {
          failuresThisRound = 0;
          attempt++;
          const o = this.options;
          delayMs = Math.min(o.rabbit_retry_interval + o.rabbit_retry_backoff * (attempt - 1), o.rabbit_interval_max) * 1000;
        }
        this.logger.error({ err, host: target.label }, `Connection failed: ${errorText(err)} (retrying in ${delayMs / 1000} seconds)`);
        busConnectFailures.inc({ connection: this.name });
        this.emit('reconnect-scheduled', { attempt, delayMs, error: err });
        this.setState('waiting');
        await this.sleep(delayMs);
        continue;
      }
      if (this.isClosed) {
        await model.close().catch(() => undefined);
        return;
      }
      attempt = 0;
      failuresThisRound = 0;
      const closed = new Promise<Error | undefined>((resolve) => {
        model.on('close', (err?: Error) => resolve(err));
      });
      model.on('error', (err: Error) => {
        this.logger.error({ err, host: target.label }, `Message bus connection error: ${errorText(err)}`);
      });
      model.on('blocked', (reason: string) => {
        this.logger.error(`The broker has blocked the connection: ${reason}`);
        this.emit('blocked', reason);
      });
      model.on('unblocked', () => {
        this.logger.info('The broker has unblocked the connection');
        this.emit('unblocked');
      });
      this.current = model;
      this.currentLabel = target.label;
      this.setState('connected');
      this.logger.info({ host: target.label }, `Connected to AMQP server on ${target.label}`);
      this.emit('connected', { host: target.label });
      for (const hook of [...this.hooks]) await this.runHook(hook, model);

      const error = await closed;
      if (this.current === model) this.current = null;
      if (this.isClosed) return;
      this.logger.error(
        { err: error, host: target.label },
        `AMQP server on ${target.label} is unreachable: ${error ? errorText(error) : 'connection closed'}. Trying again in ${this.options.rabbit_retry_interval} seconds.`,
      );
      this.emit('disconnected', { host: target.label, error });
      busReconnects.inc({ connection: this.name });
      this.setState('waiting');
      await this.sleep(this.options.rabbit_retry_interval * 1000);
    }
  }

  private async runHook(hook: ConnectHook, model: ChannelModel): Promise<void> {
    try {
      await hook(model);
    } catch (err) {
      if (this.current === model) {
        this.logger.error({ err }, `Message bus setup failed after connecting: ${errorText(err)}`);
      } else {
        this.logger.debug({ err }, `Message bus setup interrupted by a disconnect: ${errorText(err)}`);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.isClosed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.cancelSleep = () => {
        this.cancelSleep = null;
        done();
      };
    });
  }
}

/** A short text for an error of any kind. */
export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** A promise that resolves after `ms` (used between retries). */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
