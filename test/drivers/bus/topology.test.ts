/** Declared flags (docs/interop.md#oslo-messaging-topology, docs/interop.md#rpc-casts), checked on the real broker with rabbitmqctl. */
import { afterAll, describe, expect, it } from 'vitest';
import { BusConnection } from '../../../src/drivers/bus/connection.js';
import { NotificationListener } from '../../../src/drivers/bus/listener.js';
import { Notifier } from '../../../src/drivers/bus/notifier.js';
import { DEFAULT_BUS_OPTIONS } from '../../../src/drivers/bus/options.js';
import { ConfirmPublisher } from '../../../src/drivers/bus/publisher.js';
import { RpcServer } from '../../../src/drivers/bus/rpc.js';
import { queueArguments, topicExchange } from '../../../src/drivers/bus/topology.js';
import { createVhost, recordingLogger, type TestVhost } from '../../support/rabbit.js';

const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn().catch(() => undefined);
});

async function setup(
  label: string,
  query?: string,
): Promise<{ vh: TestVhost; conn: BusConnection; logger: ReturnType<typeof recordingLogger> }> {
  const vh = await createVhost(label);
  cleanup.push(() => vh.delete());
  const logger = recordingLogger();
  const conn = BusConnection.fromUrl(vh.transportUrl(query), {}, { logger }).start();
  cleanup.push(() => conn.close());
  await conn.whenConnected(10_000);
  return { vh, conn, logger };
}

describe('queueArguments', () => {
  it('HA, quorum (+limits), transient TTL', () => {
    const o = { ...DEFAULT_BUS_OPTIONS };
    expect(queueArguments(o)).toEqual({});
    expect(queueArguments({ ...o, rabbit_ha_queues: true })).toEqual({ 'x-ha-policy': 'all' });
    expect(queueArguments({ ...o, rabbit_quorum_queue: true, rabbit_quorum_delivery_limit: 5 })).toEqual({
      'x-queue-type': 'quorum',
      'x-delivery-limit': 5,
    });
    expect(queueArguments(o, { transient: true })).toEqual({ 'x-expires': 1_800_000 });
    expect(() => queueArguments({ ...o, rabbit_ha_queues: true, rabbit_quorum_queue: true })).toThrow(/not both/);
  });
});

describe('declarations on the broker', () => {
  it('defaults: non-durable, not auto-delete, no arguments (publisher declares and binds the queue)', async () => {
    const { vh, conn } = await setup('topo-default');
    const n = new Notifier({ driver: ['messagingv2'], connection: conn });
    await n.info(null, 'warre.reservation.start', {});
    await n.close();
    expect((await vh.exchanges()).find((e) => e.name === 'warre')).toEqual({
      name: 'warre',
      type: 'topic',
      durable: false,
      auto_delete: false,
    });
    expect((await vh.queues()).find((q) => q.name === 'notifications.info')).toMatchObject({
      durable: false,
      auto_delete: false,
      exclusive: false,
      arguments: {},
      messages: 1,
    });
    expect(await vh.bindings()).toContainEqual({
      source_name: 'warre',
      destination_name: 'notifications.info',
      routing_key: 'notifications.info',
    });
  });

  it('?amqp_durable_queues=true declares durable exchanges and queues; a mismatched notifier only logs', async () => {
    const { vh, conn } = await setup('topo-durable', 'amqp_durable_queues=true');
    expect(conn.options.amqp_durable_queues).toBe(true);
    const n = new Notifier({ driver: ['messagingv2'], connection: conn, topics: ['notifications', 'billing'] });
    await n.info(null, 'warre.reservation.start', {});
    await n.close();
    const listener = new NotificationListener(conn, {
      exchange: 'ceilometer',
      topic: 'warre',
      priorities: ['sample'],
      handler: async () => 'ack',
    });
    await listener.start();
    await listener.stop();
    const exchanges = await vh.exchanges();
    expect(exchanges.find((e) => e.name === 'warre')?.durable).toBe(true);
    expect(exchanges.find((e) => e.name === 'ceilometer')?.durable).toBe(true);
    const queues = await vh.queues();
    for (const name of ['notifications.info', 'billing.info', 'warre.sample']) {
      expect(
        queues.find((q) => q.name === name),
        name,
      ).toMatchObject({ durable: true, auto_delete: false });
    }

    // A notifier configured non-durable against the durable exchange: 406, logged, never thrown.
    const logger = recordingLogger();
    const plain = BusConnection.fromUrl(vh.transportUrl(), {}, { logger }).start();
    cleanup.push(() => plain.close());
    const bad = new Notifier({ driver: ['messagingv2'], connection: plain, logger });
    await expect(bad.info(null, 'warre.reservation.end', { x: 1 })).resolves.toBeUndefined();
    const line = logger.lines.find((l) => l.level === 'error' && l.msg.startsWith('Could not send notification to notifications.'));
    expect(line?.msg).toMatch(/PRECONDITION_FAILED - inequivalent arg 'durable' for exchange 'warre'/);
    expect(line?.msg).toContain('"event_type": "warre.reservation.end"');
    await bad.close();
    // The connection survives, and a publisher whose channel the broker closed reopens it.
    expect(plain.connected).toBe(true);
    const pub = new ConfirmPublisher(plain, { logger, channelRetryMs: 100 });
    const body = Buffer.from('{}');
    expect(await pub.publish({ exchange: topicExchange('warre', plain.options), routingKey: 'x', body, retry: -1 })).toBe(false);
    expect(await pub.publish({ exchange: topicExchange('elsewhere', plain.options), routingKey: 'x', body, retry: -1 })).toBe(true);
    expect((await vh.queues()).find((q) => q.name === 'notifications.info')?.messages).toBe(1);
    await pub.close();
  });

  it('quorum queues: durable and x-queue-type quorum', async () => {
    const { vh, conn } = await setup('topo-quorum', 'rabbit_quorum_queue=true');
    const n = new Notifier({ driver: ['messagingv2'], connection: conn });
    await n.info(null, 'e', {});
    await n.close();
    expect((await vh.exchanges()).find((e) => e.name === 'warre')?.durable).toBe(true);
    expect((await vh.queues()).find((q) => q.name === 'notifications.info')).toMatchObject({
      durable: true,
      arguments: { 'x-queue-type': 'quorum' },
    });
  });

  it('RPC server: warre-worker, warre-worker.<host>, fanout exchange (auto-delete) and expiring fanout queue', async () => {
    const { vh, conn } = await setup('topo-rpc');
    const server = new RpcServer(conn, { server: 'worker-1', handler: () => undefined });
    await server.start();
    expect(server.fanoutQueue).toMatch(/^warre-worker_fanout_[0-9a-f]{32}$/);
    const exchanges = await vh.exchanges();
    expect(exchanges).toContainEqual({ name: 'warre', type: 'topic', durable: false, auto_delete: false });
    expect(exchanges).toContainEqual({ name: 'warre-worker_fanout', type: 'fanout', durable: false, auto_delete: true });
    const queues = await vh.queues();
    expect(queues.find((q) => q.name === 'warre-worker')).toMatchObject({
      durable: false,
      auto_delete: false,
      arguments: {},
      consumers: 1,
    });
    expect(queues.find((q) => q.name === 'warre-worker.worker-1')).toMatchObject({ durable: false, arguments: {}, consumers: 1 });
    expect(queues.find((q) => q.name === server.fanoutQueue)).toMatchObject({
      durable: false,
      auto_delete: false,
      arguments: { 'x-expires': 1_800_000 },
      consumers: 1,
    });
    const bindings = await vh.bindings();
    expect(bindings).toContainEqual({ source_name: 'warre', destination_name: 'warre-worker', routing_key: 'warre-worker' });
    expect(bindings).toContainEqual({
      source_name: 'warre',
      destination_name: 'warre-worker.worker-1',
      routing_key: 'warre-worker.worker-1',
    });
    expect(bindings).toContainEqual({
      source_name: 'warre-worker_fanout',
      destination_name: server.fanoutQueue,
      routing_key: 'warre-worker',
    });
    await server.stop();
  });
});
