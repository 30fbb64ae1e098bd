/**
 * Byte compatibility with the real oslo.messaging (Debian python3-oslo.messaging) on the real
 * RabbitMQ: the same inputs give the same bytes and properties, Python listeners understand
 * our notifications, and our listener understands Ceilometer-style events.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RequestContext } from '../../../src/auth/context.js';
import { BusConnection } from '../../../src/drivers/bus/connection.js';
import { encodeBody, notificationMessage, type ParsedNotification, rpcCastMessage } from '../../../src/drivers/bus/envelope.js';
import { NotificationListener } from '../../../src/drivers/bus/listener.js';
import { Notifier } from '../../../src/drivers/bus/notifier.js';
import { DEFAULT_BUS_OPTIONS } from '../../../src/drivers/bus/options.js';
import { rpcContext, sanitizeNotificationContext } from '../../../src/drivers/bus/request-context.js';
import { RpcClient } from '../../../src/drivers/bus/rpc.js';
import { declareBinding, topicExchange, topicQueue } from '../../../src/drivers/bus/topology.js';
import { ceilometerEvent } from '../../../src/notification/ceilometer-events.js';
import { type ReservationForPayload, renderReservationPayload } from '../../../src/notification/reservation-payload.js';
import { ensureOsloMessaging, runScript, ScriptProcess } from '../../support/python/oslo.js';
import { createVhost, recordingLogger, type TestVhost, waitFor } from '../../support/rabbit.js';

let vh: TestVhost;
let conn: BusConnection;
const logger = recordingLogger();

beforeAll(async () => {
  await ensureOsloMessaging();
  vh = await createVhost('interop');
  conn = BusConnection.fromUrl(vh.transportUrl(), {}, { logger, name: 'interop-test' }).start();
  await conn.whenConnected(10_000);
});

afterAll(async () => {
  await conn?.close();
  await vh?.delete();
});

const MESSAGE_ID = '06c2d056-668c-41e5-8944-e0a3ee3ba2d8';
const UNIQUE_ID = 'd73cd888f5094b9da08b545b64979f9c';

const reservation: ReservationForPayload = {
  id: '3c2b1a09-8f7e-4d6c-b5a4-9382716f5e4d',
  flavor: {
    id: '9d1c3e0a-5b7f-4c2d-8e6a-1f2b3c4d5e6f',
    name: 'Zürich ☃ 😀 "quoted"',
    vcpu: 4,
    memory_mb: 16384,
    disk_gb: 30,
    ephemeral_gb: 0,
    active: true,
    category: null,
    availability_zone: 'melbourne-qh2',
    start: null,
    end: new Date('2027-06-30T00:00:00.120Z'),
  },
  user_id: 'a3f5c8d2e1b04f6a9c7d8e9f0a1b2c3d',
  project_id: '9e8d7c6b5a4f43e2b1c0d9e8f7a6b5c4',
  lease_id: '6b5b1e4c-2f1a-4d8e-9a0e-0d6f1f7c9b11',
  start: new Date('2026-12-01T00:00:00Z'),
  end: new Date('2026-12-03T00:00:00Z'),
  instance_count: 2,
};

/** The reservation as the Python script receives it ({"$datetime": …} → naive datetime). */
function pythonPayload(r: ReservationForPayload): unknown {
  const dt = (d: Date | null) => (d ? { $datetime: d.toISOString().slice(0, 23) + '000' } : null);
  return {
    id: r.id,
    flavor: { ...r.flavor, start: dt(r.flavor.start), end: dt(r.flavor.end) },
    user_id: r.user_id,
    project_id: r.project_id,
    lease_id: r.lease_id,
    start: dt(r.start),
    end: dt(r.end),
    instance_count: r.instance_count,
  };
}

const ctx: RequestContext = {
  userId: 'a3f5c8d2e1b04f6a9c7d8e9f0a1b2c3d',
  userName: null,
  userDomainId: 'default',
  userDomainName: null,
  projectId: '9e8d7c6b5a4f43e2b1c0d9e8f7a6b5c4',
  projectName: null,
  projectDomainId: 'default',
  projectDomainName: null,
  domainId: null,
  domainName: null,
  roles: ['member', 'reader'],
  isAdminProject: false,
  systemScope: null,
  requestId: 'req-7a1c2b3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
  authToken: 'gAAAAABexampletoken',
};
const pythonCtx = {
  kind: 'request',
  values: {
    user_id: ctx.userId,
    project_id: ctx.projectId,
    user_domain_id: 'default',
    project_domain_id: 'default',
    roles: ctx.roles,
    request_id: ctx.requestId,
    auth_token: ctx.authToken,
    is_admin_project: false,
  },
};

async function publishWithPython(spec: Record<string, unknown>): Promise<void> {
  await runScript('oslo_publish_fixed.py', [], {
    stdin: JSON.stringify({ url: vh.transportUrl(), message_id: MESSAGE_ID, unique_id: UNIQUE_ID, ...spec }),
  });
}

async function takeOne(queue: string) {
  const msgs = await vh.drain(queue);
  expect(msgs).toHaveLength(1);
  return msgs[0]!;
}

describe('same bytes and properties as oslo.messaging', () => {
  it('messagingv2 notification with a request context', async () => {
    await publishWithPython({
      kind: 'notification',
      driver: 'messagingv2',
      topics: ['notifications'],
      publisher_id: null,
      event_type: 'warre.reservation.exists',
      priority: 'info',
      payload: pythonPayload(reservation),
      context: pythonCtx,
      timestamp: '2026-11-25T12:33:22.986006',
    });
    const py = await takeOne('notifications.info');
    expect(py.fields).toMatchObject({ exchange: 'warre', routingKey: 'notifications.info' });

    const ours = encodeBody(
      notificationMessage(
        {
          publisherId: null,
          eventType: 'warre.reservation.exists',
          priority: 'INFO',
          payload: renderReservationPayload(reservation, 'messagingv2'),
          context: sanitizeNotificationContext(ctx),
          messageId: MESSAGE_ID,
          uniqueId: UNIQUE_ID,
          timestamp: Date.UTC(2026, 10, 25, 12, 33, 22) * 1000 + 986006,
        },
        'strtime',
      ),
      true,
    );
    expect(ours.toString('utf8')).toBe(py.content.toString('utf8'));
    expect(ours.equals(py.content)).toBe(true);

    // Our Notifier publishes with exactly the same AMQP properties, exchange and routing key.
    const notifier = new Notifier({ driver: ['messagingv2'], connection: conn, logger });
    await notifier.info(ctx, 'warre.reservation.exists', reservation);
    const mine = await takeOne('notifications.info');
    expect(mine.properties).toEqual(py.properties);
    expect(mine.fields.exchange).toBe('warre');
    expect(mine.fields.routingKey).toBe('notifications.info');
    const inner = JSON.parse(JSON.parse(mine.content.toString())['oslo.message'] as string) as Record<string, unknown>;
    const pyInner = JSON.parse(JSON.parse(py.content.toString())['oslo.message'] as string) as Record<string, unknown>;
    expect(Object.keys(inner)).toEqual(Object.keys(pyInner));
    expect(inner.payload).toEqual(pyInner.payload);
    await notifier.close();
  });

  it('messaging (v1) notification with a dict context and a whole-second timestamp', async () => {
    const dictCtx = { client_timeout: null, user_id: 'u-1', auth_token: 'secret', roles: ['admin'] };
    await publishWithPython({
      kind: 'notification',
      driver: 'messaging',
      topics: ['notifications'],
      publisher_id: 'warre.host1',
      event_type: 'warre.reservation.end',
      priority: 'info',
      payload: pythonPayload(reservation),
      context: { kind: 'dict', values: dictCtx },
      timestamp: '2026-11-25T12:33:22',
    });
    const py = await takeOne('notifications.info');
    const ours = encodeBody(
      notificationMessage(
        {
          publisherId: 'warre.host1',
          eventType: 'warre.reservation.end',
          priority: 'INFO',
          payload: renderReservationPayload(reservation, 'messaging'),
          context: sanitizeNotificationContext(dictCtx),
          messageId: MESSAGE_ID,
          uniqueId: UNIQUE_ID,
          timestamp: new Date('2026-11-25T12:33:22Z'),
        },
        'isoformat',
      ),
      false,
    );
    expect(ours.toString('utf8')).toBe(py.content.toString('utf8'));
    expect(py.content.toString()).toContain('"timestamp": "2026-11-25 12:33:22"');
  });

  it('RPC cast create_lease (unsanitised context)', async () => {
    const ch = await vh.channel();
    await declareBinding(ch, topicExchange('warre', DEFAULT_BUS_OPTIONS), topicQueue('warre-worker', DEFAULT_BUS_OPTIONS));
    await publishWithPython({
      kind: 'cast',
      method: 'create_lease',
      args: { reservation_id: reservation.id },
      version: '1.0',
      context: pythonCtx,
      timestamp: '2026-11-25T12:33:22.986006',
    });
    const py = await takeOne('warre-worker');
    expect(py.fields).toMatchObject({ exchange: 'warre', routingKey: 'warre-worker' });
    const ours = encodeBody(
      rpcCastMessage({
        method: 'create_lease',
        args: { reservation_id: reservation.id },
        version: '1.0',
        context: rpcContext(ctx),
        uniqueId: UNIQUE_ID,
      }),
      true,
    );
    expect(ours.toString('utf8')).toBe(py.content.toString('utf8'));

    const client = new RpcClient(conn, { logger });
    expect(await client.castCreateLease(reservation.id, ctx)).toBe(true);
    const mine = await takeOne('warre-worker');
    expect(mine.properties).toEqual(py.properties);
    expect(mine.fields).toMatchObject({ exchange: 'warre', routingKey: 'warre-worker' });
    await client.close();
  });
});

describe('Warre notifier → Python oslo.messaging listener', () => {
  it('receives warre.reservation.start from the messagingv2 and messaging drivers', async () => {
    const py = new ScriptProcess('notify_listener.py', ['--url', vh.transportUrl(), '--count', '2', '--timeout', '40']);
    try {
      await py.ready();
      const v2 = new Notifier({ driver: ['messagingv2'], connection: conn, logger });
      const v1 = new Notifier({ driver: ['messaging'], connection: conn, logger });
      // The consumer's context: {"client_timeout": null} → no _context_ keys.
      await v2.info({ client_timeout: null }, 'warre.reservation.start', reservation);
      await v1.info({ client_timeout: null }, 'warre.reservation.start', reservation);
      const lines = await py.waitForLines((l) => l.event_type === 'warre.reservation.start', 2);
      const byPayloadStart = Object.fromEntries(lines.map((l) => [(l.payload as { start: string }).start, l]));
      const fromV2 = byPayloadStart['2026-12-01T00:00:00.000000']!;
      const fromV1 = byPayloadStart['2026-12-01T00:00:00']!;
      expect(fromV2.payload).toEqual(renderReservationPayload(reservation, 'messagingv2'));
      expect(fromV1.payload).toEqual(renderReservationPayload(reservation, 'messaging'));
      for (const l of [fromV1, fromV2]) {
        expect(l.priority).toBe('info');
        expect(l.publisher_id).toBeNull();
        expect(l.ctxt).toEqual({ client_timeout: null });
        expect((l.metadata as { message_id: string }).message_id).toMatch(/^[0-9a-f-]{36}$/);
        expect((l.metadata as { timestamp: string }).timestamp).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?$/);
      }
      await v2.close();
      await v1.close();
      expect(await py.wait()).toBe(0);
    } finally {
      py.kill();
    }
  });
});

describe('Python Ceilometer-style publisher → Warre listener', () => {
  it('gets the lease events (priority sample) and reads traits by name', async () => {
    const got: ParsedNotification[] = [];
    const listener = new NotificationListener(conn, {
      exchange: 'ceilometer',
      topic: 'warre',
      priorities: ['sample'],
      logger,
      handler: async (n) => {
        got.push(n);
        return 'ack';
      },
    });
    await listener.start();
    expect(listener.queues).toEqual(['warre.sample']);
    const events = [
      { lease_id: 'd7d01207-5df7-4c67-8100-3ca4541429be', event_type: 'lease.event.start_lease' },
      { lease_id: 'e8e12318-0000-4c67-8100-3ca4541429be', event_type: 'lease.event.before_end_lease', omit: ['user_id', 'start_date'] },
      { lease_id: 'f9f23429-1111-4c67-8100-3ca4541429be', event_type: 'lease.event.end_lease', omit: ['service'] },
    ];
    const out = JSON.parse(
      await runScript('publish_lease_events.py', ['--url', vh.transportUrl(), '--events', JSON.stringify(events)]),
    ) as {
      sent: string[];
    };
    await waitFor(() => got.length >= 3, '3 lease events');
    for (const n of got) {
      expect(n.enveloped).toBe(true);
      expect(n.eventType).toBe('event');
      expect(n.priority).toBe('sample');
      expect(n.publisherId).toBe('telemetry.publisher.ceilo-host');
      expect(n.context).toEqual({});
    }
    const parsed = got.map((n) => ceilometerEvent(n)!);
    expect(new Set(parsed.map((e) => e.messageId))).toEqual(new Set(out.sent));
    for (const e of events) {
      const ev = parsed.find((p) => p.eventType === e.event_type)!;
      expect(ev.traits.lease_id).toBe(e.lease_id);
      for (const omitted of e.omit ?? []) expect(ev.traits).not.toHaveProperty(omitted);
    }
    await listener.stop();
    expect((await vh.queues()).find((q) => q.name === 'warre.sample')).toMatchObject({
      durable: false,
      auto_delete: false,
      messages: 0,
      arguments: {},
    });
  });
});
