/**
 * Resilience on the real broker: `rabbitmqctl close_all_connections` (for this test's vhost
 * only) while 200 notifications are being published; every one still arrives.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BusConnection } from '../../../src/drivers/bus/connection.js';
import { NotificationListener } from '../../../src/drivers/bus/listener.js';
import { Notifier } from '../../../src/drivers/bus/notifier.js';
import { resolveTransport } from '../../../src/drivers/bus/transport-url.js';
import { createVhost, recordingLogger, type TestVhost, waitFor } from '../../support/rabbit.js';

let vh: TestVhost;
const fast = { rabbit_retry_interval: 0.2, rabbit_retry_backoff: 0.2, rabbit_interval_max: 1 };
const cleanup: (() => Promise<void>)[] = [];

beforeAll(async () => {
  vh = await createVhost('reconnect');
});

afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn().catch(() => undefined);
  await vh?.delete();
});

describe('reconnects', () => {
  it('no notification is lost when the broker drops every connection twice', async () => {
    const pubLog = recordingLogger();
    const pubConn = BusConnection.fromUrl(vh.transportUrl(), fast, { logger: pubLog, name: 'reconnect-pub' }).start();
    const subConn = BusConnection.fromUrl(vh.transportUrl(), fast, { name: 'reconnect-sub' }).start();
    cleanup.push(
      () => pubConn.close(),
      () => subConn.close(),
    );
    let pubConnects = 0;
    let pubDrops = 0;
    let subDrops = 0;
    pubConn.on('connected', () => pubConnects++);
    pubConn.on('disconnected', () => pubDrops++);
    subConn.on('disconnected', () => subDrops++);

    const received = new Set<string>();
    const seqs = new Set<number>();
    const listener = new NotificationListener(subConn, {
      exchange: 'warre',
      topic: 'notifications',
      priorities: ['info'],
      handler: async (n) => {
        received.add(n.messageId!);
        seqs.add((n.payload as { seq: number }).seq);
        return 'ack';
      },
    });
    cleanup.push(() => listener.stop());
    await listener.start();

    const notifier = new Notifier({ driver: ['messagingv2'], connection: pubConn, logger: pubLog });
    const sends: Promise<void>[] = [];
    const kills: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) {
      sends.push(notifier.info(null, 'warre.reservation.exists', { seq: i }));
      if (i === 40 || i === 130) kills.push(vh.closeConnections());
      await new Promise((r) => setTimeout(r, 10));
    }
    await Promise.all(kills);
    await Promise.all(sends); // resolve once confirmed: none was given up (retry = -1)
    await waitFor(() => received.size >= 200, '200 distinct notifications', 50_000);
    expect(received.size).toBe(200);
    expect([...seqs].sort((a, b) => a - b)).toEqual([...Array(200).keys()]);
    expect(pubDrops).toBeGreaterThanOrEqual(1);
    expect(subDrops).toBeGreaterThanOrEqual(1);
    expect(pubConnects).toBeGreaterThanOrEqual(1);
    await pubConn.whenConnected(20_000); // back after the drops
    expect(pubLog.lines.some((l) => l.msg.startsWith('Could not send notification'))).toBe(false);
    expect(pubLog.lines.some((l) => l.level === 'error' && /AMQP server on .* is unreachable/.test(l.msg))).toBe(true);
    await notifier.close();
  });

  it('fails over to the next host and keeps retrying an unreachable broker without throwing', async () => {
    // Port 1 refuses connections: the first (fixed-order) host is dead, the second is the broker.
    const url = `rabbit://guest:guest@127.0.0.1:1,guest:guest@127.0.0.1:5672/${encodeURIComponent(vh.name)}`;
    const { targets, options } = resolveTransport(url, fast);
    const logger = recordingLogger();
    const conn = new BusConnection(targets, options, { logger, shuffle: false }).start();
    cleanup.push(() => conn.close());
    await conn.whenConnected(10_000);
    expect(logger.lines.some((l) => l.level === 'error' && l.msg.startsWith('Connection failed') && l.obj.host === '127.0.0.1:1')).toBe(
      true,
    );
    await conn.close();

    // Only dead hosts: retries with backoff, a notifier with retry=1 gives up and logs; nothing throws.
    const dead = resolveTransport('rabbit://guest:guest@127.0.0.1:1/', fast);
    const deadLog = recordingLogger();
    const deadConn = new BusConnection(dead.targets, dead.options, { logger: deadLog }).start();
    cleanup.push(() => deadConn.close());
    const notifier = new Notifier({ driver: ['messagingv2'], connection: deadConn, logger: deadLog, retry: 1 });
    await notifier.info(null, 'warre.reservation.start', { id: 'x' });
    expect(deadLog.lines.some((l) => l.msg.startsWith('Could not send notification to notifications.'))).toBe(true);
    await expect(deadConn.whenConnected(300)).rejects.toThrow(/Not connected/);
    await notifier.close();
    await deadConn.close();
    await expect(deadConn.whenConnected()).rejects.toThrow(/closed/);
  });
});
