/** NotificationListener delivery semantics against the real RabbitMQ. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BusConnection } from '../../../src/drivers/bus/connection.js';
import { encodeBody, notificationMessage, type ParsedNotification, PUBLISH_PROPERTIES } from '../../../src/drivers/bus/envelope.js';
import { NotificationListener } from '../../../src/drivers/bus/listener.js';
import { createVhost, rabbitmqctl, recordingLogger, type TestVhost, waitFor } from '../../support/rabbit.js';

let vh: TestVhost;
let conn: BusConnection;

beforeAll(async () => {
  vh = await createVhost('listener');
  conn = BusConnection.fromUrl(vh.transportUrl(), {}, { name: 'listener-test' }).start();
  await conn.whenConnected(10_000);
});

afterAll(async () => {
  await conn?.close();
  await vh?.delete();
});

function sample(eventType: string, payload: unknown = {}): Buffer {
  return encodeBody(notificationMessage({ publisherId: 'test', eventType, priority: 'SAMPLE', payload }, 'strtime'), true);
}

async function publishRaw(exchange: string, routingKey: string, body: Buffer, props = PUBLISH_PROPERTIES): Promise<void> {
  const ch = await vh.channel();
  ch.publish(exchange, routingKey, body, props);
}

async function queueCounts(name: string): Promise<{ ready: number; unacked: number }> {
  const out = await rabbitmqctl('list_queues', '-p', vh.name, 'name', 'messages_ready', 'messages_unacknowledged', '--formatter', 'json');
  const q = (JSON.parse(out) as { name: string; messages_ready: number; messages_unacknowledged: number }[]).find((x) => x.name === name);
  return { ready: q?.messages_ready ?? -1, unacked: q?.messages_unacknowledged ?? -1 };
}

describe('NotificationListener', () => {
  it('acks only after the handler resolves; "requeue" and throws redeliver the message', async () => {
    const seen: ParsedNotification[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const outcomes: ('requeue' | 'throw' | 'wait-then-ack')[] = ['requeue', 'throw', 'wait-then-ack'];
    const logger = recordingLogger();
    const listener = new NotificationListener(conn, {
      exchange: 'ceilometer',
      topic: 'acks',
      priorities: ['sample'],
      logger,
      requeueDelayMs: 50,
      handler: async (n) => {
        seen.push(n);
        const what = outcomes[seen.length - 1];
        if (what === 'requeue') return 'requeue';
        if (what === 'throw') throw new Error('database is down');
        await gate;
        return 'ack';
      },
    });
    await listener.start();
    await publishRaw('ceilometer', 'acks.sample', sample('lease.event.start_lease'));

    await waitFor(() => seen.length === 3, 'the third delivery');
    // The handler is still running: the broker holds the message as unacknowledged.
    expect(await queueCounts('acks.sample')).toEqual({ ready: 0, unacked: 1 });
    expect(new Set(seen.map((n) => n.uniqueId)).size).toBe(1);
    release();
    await waitFor(async () => (await queueCounts('acks.sample')).unacked === 0, 'the ack');
    expect(await queueCounts('acks.sample')).toEqual({ ready: 0, unacked: 0 });
    expect(logger.lines.some((l) => l.level === 'error' && l.msg.includes('database is down'))).toBe(true);
    await listener.stop();
    expect(seen).toHaveLength(3);
  });

  it('drops undecodable bodies (logged with their message id, rejected without requeue) and goes on', async () => {
    const seen: ParsedNotification[] = [];
    const logger = recordingLogger();
    const listener = new NotificationListener(conn, {
      exchange: 'ceilometer',
      topic: 'garbage',
      priorities: ['sample'],
      logger,
      handler: async (n) => {
        seen.push(n);
        return 'ack';
      },
    });
    await listener.start();
    await publishRaw('ceilometer', 'garbage.sample', Buffer.from('this is not json'));
    await publishRaw(
      'ceilometer',
      'garbage.sample',
      Buffer.from('{"oslo.version": "2.0", "oslo.message": "{\\"message_id\\": \\"aaaabbbb-1111\\", oops'),
    );
    await publishRaw('ceilometer', 'garbage.sample', Buffer.from([0xc3, 0x28]), { ...PUBLISH_PROPERTIES, contentType: 'text/plain' });
    await publishRaw('ceilometer', 'garbage.sample', sample('good.one'));
    await waitFor(() => seen.length === 1, 'the good message');
    await waitFor(() => logger.lines.filter((l) => l.msg.startsWith('Failed to process message')).length === 3, 'three drop logs');
    expect(seen[0]!.eventType).toBe('good.one');
    expect(logger.lines.some((l) => l.msg.includes('Failed to process message aaaabbbb-1111'))).toBe(true);
    await waitFor(async () => (await queueCounts('garbage.sample')).unacked === 0, 'no unacked message');
    expect(await queueCounts('garbage.sample')).toEqual({ ready: 0, unacked: 0 });
    await listener.stop();
  });

  it('listeners on one queue compete for its messages, each handled once', async () => {
    const a: string[] = [];
    const b: string[] = [];
    const make = (into: string[]) =>
      new NotificationListener(conn, {
        exchange: 'ceilometer',
        topic: 'shared',
        priorities: ['sample'],
        prefetch: 1,
        handler: async (n) => {
          into.push(n.uniqueId!);
          await new Promise((r) => setTimeout(r, 5));
          return 'ack';
        },
      });
    const la = make(a);
    const lb = make(b);
    await la.start();
    await lb.start();
    for (let i = 0; i < 20; i++) await publishRaw('ceilometer', 'shared.sample', sample(`e${i}`));
    await waitFor(() => a.length + b.length === 20, '20 messages');
    expect(new Set([...a, ...b]).size).toBe(20);
    expect(a.length).toBeGreaterThan(0);
    expect(b.length).toBeGreaterThan(0);
    await la.stop();
    await lb.stop();
  });

  it('stop() returns unacked messages to the queue', async () => {
    const listener = new NotificationListener(conn, {
      exchange: 'ceilometer',
      topic: 'stopping',
      priorities: ['sample'],
      requeueDelayMs: 60_000,
      handler: async () => 'requeue',
    });
    await listener.start();
    await publishRaw('ceilometer', 'stopping.sample', sample('x'));
    await waitFor(async () => (await queueCounts('stopping.sample')).unacked === 1, 'the delivery');
    await listener.stop();
    await waitFor(async () => (await queueCounts('stopping.sample')).ready === 1, 'the message back in the queue');
  });
});
