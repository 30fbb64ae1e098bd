/**
 * RabbitMQ over TLS, as oslo.messaging configures it: `?ssl=1` in transport_url and
 * `[oslo_messaging_rabbit] ssl_ca_file`, `ssl_cert_file`, `ssl_key_file`. A RabbitMQ
 * node of this test's own (PrivateBroker) gets an AMQPS listener with a certificate
 * from a throw-away CA, and requires client certificates from that CA; Python
 * oslo.messaging (Debian) talks to it over TLS too, on both sides of Warre.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { connectBus, createNotifier } from '../../../src/cli/bus.js';
import type { BusConnection } from '../../../src/drivers/bus/connection.js';
import type { ParsedNotification } from '../../../src/drivers/bus/envelope.js';
import { NotificationListener } from '../../../src/drivers/bus/listener.js';
import { ceilometerEvent } from '../../../src/notification/ceilometer-events.js';
import { capturePino, configFrom, PrivateBroker, waitFor } from '../../support/lifecycle-helpers.js';
import { makeTestPki, type TestPki } from '../../support/pki.js';
import { ensureOsloMessaging, runScript, ScriptProcess } from '../../support/python/oslo.js';

let pki: TestPki;
let broker: PrivateBroker;
const open: BusConnection[] = [];

beforeAll(async () => {
  await ensureOsloMessaging();
  pki = makeTestPki('rabbit');
  broker = new PrivateBroker({ certFile: pki.serverCertFile, keyFile: pki.serverKeyFile, caFile: pki.caFile, requireClientCert: true });
  await broker.start();
}, 180_000);

afterAll(async () => {
  for (const c of open.splice(0)) await c.close().catch(() => undefined);
  await broker?.destroy();
  pki?.remove();
}, 120_000);

const tlsUrl = () => `rabbit://guest:guest@127.0.0.1:${broker.sslPort}/?ssl=1`;

/** The Python side's oslo.config file: the same CA and client certificate. */
function pythonConf(): string {
  const file = join(pki.dir, 'python.conf');
  writeFileSync(
    file,
    `[oslo_messaging_rabbit]\nssl_ca_file = ${pki.caFile}\nssl_cert_file = ${pki.clientCertFile}\nssl_key_file = ${pki.clientKeyFile}\n`,
  );
  return file;
}

function connect(rabbit: Record<string, string>, withNotifier = false) {
  const log = capturePino();
  const config = configFrom({
    DEFAULT: { transport_url: tlsUrl() },
    oslo_messaging_rabbit: rabbit,
    ...(withNotifier ? { oslo_messaging_notifications: { driver: 'messagingv2' } } : {}),
  });
  const conn = connectBus(config, config.DEFAULT.transport_url, log.logger, 'warre-test')!;
  open.push(conn);
  return { conn, log, config };
}

const mutual = () => ({ ssl_ca_file: pki.caFile, ssl_cert_file: pki.clientCertFile, ssl_key_file: pki.clientKeyFile });

describe('transport_url ?ssl=1 with [oslo_messaging_rabbit] ssl_ca_file, ssl_cert_file, ssl_key_file', () => {
  it('sends notifications over TLS that a Python oslo.messaging listener (over TLS) receives', async () => {
    const py = new ScriptProcess('notify_listener.py', [
      '--url',
      tlsUrl(),
      '--config-file',
      pythonConf(),
      '--exchange',
      'warre',
      '--topic',
      'notifications',
      '--count',
      '1',
      '--timeout',
      '60',
    ]);
    try {
      await py.ready(60_000);
      const { conn, log, config } = connect(mutual(), true);
      await conn.whenConnected(30_000);
      const notifier = createNotifier(config, log.logger, conn);
      await notifier.info({ client_timeout: null }, 'warre.reservation.start', { id: 'over-tls' });
      const [line] = await py.waitForLines((l) => l.event_type === 'warre.reservation.start');
      expect(line!.payload).toEqual({ id: 'over-tls' });
      await notifier.close();
      expect(await py.wait()).toBe(0);
    } finally {
      py.kill();
    }
  });

  it('consumes over TLS the lease events Python publishes over TLS', async () => {
    const { conn, log } = connect(mutual());
    const got: ParsedNotification[] = [];
    const listener = new NotificationListener(conn, {
      exchange: 'ceilometer',
      topic: 'warre',
      priorities: ['sample'],
      logger: log.logger,
      handler: async (n) => {
        got.push(n);
        return 'ack';
      },
    });
    await listener.start();
    const leaseId = 'a1b2c3d4-0000-4c67-8100-3ca4541429be';
    await runScript('publish_lease_events.py', [
      '--url',
      tlsUrl(),
      '--config-file',
      pythonConf(),
      '--events',
      JSON.stringify([{ lease_id: leaseId, event_type: 'lease.event.start_lease' }]),
    ]);
    await waitFor(() => got.length >= 1, 'the lease event');
    expect(ceilometerEvent(got[0]!)).toMatchObject({
      eventType: 'lease.event.start_lease',
      traits: expect.objectContaining({ lease_id: leaseId }),
    });
    await listener.stop();
  });

  it('refuses a broker certificate that ssl_ca_file does not vouch for, says why, and keeps retrying', async () => {
    const { conn, log } = connect({ ...mutual(), ssl_ca_file: pki.otherCaFile });
    const refused = () => log.lines.filter((l) => /certificate/i.test(String(l.msg)));
    await waitFor(() => refused().length >= 2, 'two refused connection attempts', 30_000);
    expect(conn.connected).toBe(false);
  });

  it('is refused by a broker that requires a client certificate when ssl_cert_file is not set', async () => {
    const { conn, log } = connect({ ssl_ca_file: pki.caFile });
    const failed = await waitFor(
      () => log.lines.find((l) => /^Connection failed: /.test(String(l.msg))),
      'a refused connection attempt',
      30_000,
    );
    expect(String(failed.msg)).toMatch(/certificate required/);
    expect(conn.connected).toBe(false);
  });

  it('without ssl_ca_file verifies against the system CAs (as py-amqp 5 does): a private CA is refused', async () => {
    const { conn, log } = connect({ ssl_cert_file: pki.clientCertFile, ssl_key_file: pki.clientKeyFile });
    await waitFor(
      () => log.lines.some((l) => /self[- ]signed|unable to (get|verify)|certificate/i.test(String(l.msg))),
      'a refused connection attempt',
      30_000,
    );
    expect(conn.connected).toBe(false);
  });

  it('the same for Python oslo.messaging: without ssl_ca_file its listener cannot connect to this broker', async () => {
    const py = new ScriptProcess('notify_listener.py', ['--url', tlsUrl(), '--count', '1', '--timeout', '5']);
    try {
      // It never reaches "ready" (its first connection fails), then times out.
      await expect(py.ready(8_000)).rejects.toThrow();
      expect(py.stderr).toMatch(/CERTIFICATE_VERIFY_FAILED/);
    } finally {
      py.kill();
    }
  });
});
