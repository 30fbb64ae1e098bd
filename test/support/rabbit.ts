/**
 * RabbitMQ helpers for tests against the real broker (127.0.0.1:5672, guest/guest): a fresh
 * vhost per test file (so exchange `warre` etc. never collide with other test files), broker
 * introspection through `rabbitmqctl`, and reading queues directly with amqplib.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import amqp, { type Channel, type ChannelModel, type GetMessage } from 'amqplib';

const run = promisify(execFile);

export const RABBIT_HOSTPORT = '127.0.0.1:5672';

/** Run `rabbitmqctl -q <args>` and return its stdout. */
export async function rabbitmqctl(...args: string[]): Promise<string> {
  const { stdout } = await run('rabbitmqctl', ['-q', ...args], { timeout: 60_000 });
  return stdout;
}

export interface QueueInfo {
  name: string;
  durable: boolean;
  auto_delete: boolean;
  exclusive: boolean;
  arguments: Record<string, unknown>;
  messages: number;
  consumers: number;
}

export interface ExchangeInfo {
  name: string;
  type: string;
  durable: boolean;
  auto_delete: boolean;
}

export interface BindingInfo {
  source_name: string;
  destination_name: string;
  routing_key: string;
}

export interface TestVhost {
  name: string;
  /** `rabbit://guest:guest@127.0.0.1:5672/<vhost>` plus an optional query (`ssl=0&…`). */
  transportUrl(query?: string): string;
  /** amqplib URL for the vhost. */
  amqpUrl: string;
  /** Close every client connection of this vhost (only this one: other tests keep theirs). */
  closeConnections(reason?: string): Promise<void>;
  queues(): Promise<QueueInfo[]>;
  exchanges(): Promise<ExchangeInfo[]>;
  bindings(): Promise<BindingInfo[]>;
  /** A connection of the test's own, closed by `delete()`. */
  channel(): Promise<Channel>;
  /** Take up to `max` messages from a queue (auto-ack). */
  drain(queue: string, max?: number): Promise<GetMessage[]>;
  /** Delete the vhost with everything in it. */
  delete(): Promise<void>;
}

/** Create a uniquely named vhost that guest may use fully. */
export async function createVhost(label: string): Promise<TestVhost> {
  const name = `warre-test-${label}-${process.pid}-${randomBytes(3).toString('hex')}`;
  await rabbitmqctl('add_vhost', name);
  await rabbitmqctl('set_permissions', '-p', name, 'guest', '.*', '.*', '.*');
  let model: ChannelModel | null = null;
  let ch: Channel | null = null;
  const amqpUrl = `amqp://guest:guest@${RABBIT_HOSTPORT}/${encodeURIComponent(name)}`;

  const listJson = async <T>(what: string, cols: string[]): Promise<T[]> => {
    const out = await rabbitmqctl(what, '-p', name, ...cols, '--formatter', 'json');
    return JSON.parse(out.trim() || '[]') as T[];
  };

  const channel = async (): Promise<Channel> => {
    if (ch) return ch;
    model = await amqp.connect(amqpUrl);
    model.on('error', () => undefined);
    ch = await model.createChannel();
    ch.on('error', () => undefined);
    ch.on('close', () => {
      ch = null;
    });
    model.on('close', () => {
      model = null;
      ch = null;
    });
    return ch;
  };

  return {
    name,
    amqpUrl,
    transportUrl: (query) => `rabbit://guest:guest@${RABBIT_HOSTPORT}/${encodeURIComponent(name)}${query ? `?${query}` : ''}`,
    async closeConnections(reason = 'test: closing connections') {
      await rabbitmqctl('close_all_connections', '--vhost', name, '--limit', '1000', reason);
    },
    queues: async () =>
      (await listJson<QueueInfo>('list_queues', ['name', 'durable', 'auto_delete', 'exclusive', 'arguments', 'messages', 'consumers'])).map(
        (q) => ({ ...q, arguments: tableToObject(q.arguments) }),
      ),
    exchanges: async () =>
      (await listJson<ExchangeInfo>('list_exchanges', ['name', 'type', 'durable', 'auto_delete'])).filter(
        (e) => e.name !== '' && !e.name.startsWith('amq.'),
      ),
    bindings: () => listJson<BindingInfo>('list_bindings', ['source_name', 'destination_name', 'routing_key']),
    channel,
    async drain(queue, max = Number.POSITIVE_INFINITY) {
      const c = await channel();
      const out: GetMessage[] = [];
      while (out.length < max) {
        const m = await c.get(queue, { noAck: true });
        if (m === false) break;
        out.push(m);
      }
      return out;
    },
    async delete() {
      const m = model as ChannelModel | null;
      if (m) await m.close().catch(() => undefined);
      await rabbitmqctl('delete_vhost', name).catch(() => undefined);
    },
  };
}

/** rabbitmqctl prints an argument table as `[[key, type, value], …]` (`[]` when empty). */
function tableToObject(t: unknown): Record<string, unknown> {
  if (!Array.isArray(t)) return (t ?? {}) as Record<string, unknown>;
  return Object.fromEntries(t.filter((e): e is unknown[] => Array.isArray(e)).map((e) => [String(e[0]), e[e.length - 1]]));
}

/** Poll `check` until it returns a truthy value; throws with `what` after `timeoutMs`. */
export async function waitFor<T>(check: () => T | Promise<T>, what: string, timeoutMs = 20_000, intervalMs = 50): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A logger that records lines (pino-style calls) for assertions. */
export interface RecordingLogger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
  lines: { level: string; obj: Record<string, unknown>; msg: string }[];
}

export function recordingLogger(echo = false): RecordingLogger {
  const lines: RecordingLogger['lines'] = [];
  const at =
    (level: string) =>
    (obj: object | string, msg?: string): void => {
      const entry = typeof obj === 'string' ? { level, obj: {}, msg: obj } : { level, obj: obj as Record<string, unknown>, msg: msg ?? '' };
      lines.push(entry);
      if (echo) console.log(level, entry.msg);
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), lines };
}
