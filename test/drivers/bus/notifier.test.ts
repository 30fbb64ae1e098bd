/** Notifier drivers that do not touch the wire, and configuration errors. */
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { Logger } from '../../../src/domain/logger.js';
import { Notifier, notificationTransportUrl } from '../../../src/drivers/bus/notifier.js';

describe('Notifier without a broker', () => {
  it('no driver = silently disabled', async () => {
    const n = new Notifier();
    expect(n.enabled).toBe(false);
    await expect(n.info({ user_id: 'u' }, 'warre.reservation.start', {})).resolves.toBeUndefined();
    expect(n.notifications).toEqual([]);
  });

  it('the test driver records the sanitised context and the message (messagingv2 date style)', async () => {
    const n = new Notifier({ driver: ['test', 'noop'], retry: 5 });
    await n.info({ client_timeout: null, user_id: 'u', auth_token: 'secret' }, 'warre.reservation.end', {
      end: new Date('2026-12-03T00:00:00Z'),
    });
    expect(n.notifications).toHaveLength(1);
    const [rec] = n.notifications;
    expect(rec!.context).toEqual({ user_id: 'u' });
    expect(rec!.priority).toBe('INFO');
    expect(rec!.retry).toBe(5);
    expect(rec!.message).toMatchObject({
      publisher_id: null,
      event_type: 'warre.reservation.end',
      priority: 'INFO',
      payload: { end: '2026-12-03T00:00:00.000000' },
      _context_user_id: 'u',
    });
    expect(JSON.stringify(rec!.message)).not.toContain('secret');
  });

  it('the log driver writes the notification as JSON through a pino logger', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        cb();
      },
    });
    const logger: Logger = pino({ level: 'debug' }, sink); // pino is a Logger as it is
    const n = new Notifier({ driver: ['log'], logger });
    await n.notify(null, 'warre.reservation.in_use', { id: 'r1' }, 'WARN');
    await new Promise((r) => setImmediate(r));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, logger: 'oslo.messaging.notification.warre.reservation.in_use' });
    const msg = JSON.parse(lines[0]!.msg as string) as Record<string, unknown>;
    expect(msg).toMatchObject({ event_type: 'warre.reservation.in_use', priority: 'WARN', payload: { id: 'r1' } });
    expect(msg).not.toHaveProperty('_unique_id');
  });

  it('notification transport_url falls back to [DEFAULT]', () => {
    expect(notificationTransportUrl({ transport_url: 'rabbit://a/' }, 'rabbit://b/')).toBe('rabbit://a/');
    expect(notificationTransportUrl({ transport_url: null }, 'rabbit://b/')).toBe('rabbit://b/');
    expect(() => notificationTransportUrl({}, null)).toThrow(/No transport_url/);
  });

  it('configuration errors are clear', () => {
    expect(() => new Notifier({ driver: ['kafka' as never] })).toThrow(/Unknown \[oslo_messaging_notifications\] driver "kafka"/);
    expect(() => new Notifier({ driver: ['messagingv2'] })).toThrow(/need a message bus connection/);
  });
});
