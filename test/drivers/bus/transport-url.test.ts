import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_BUS_OPTIONS } from '../../../src/drivers/bus/options.js';
import {
  applyQueryOptions,
  connectTargets,
  parseTransportUrl,
  pyUnquote,
  redactUrl,
  resolveTransport,
  TransportUrlError,
} from '../../../src/drivers/bus/transport-url.js';
import { ensureOsloMessaging, runScript } from '../../support/python/oslo.js';

describe('parseTransportUrl (oslo.messaging parse results, docs/interop.md#transport-url)', () => {
  it('rabbit://guest:guest@127.0.0.1:5672/ → one host, vhost ""', () => {
    expect(parseTransportUrl('rabbit://guest:guest@127.0.0.1:5672/')).toEqual({
      transport: 'rabbit',
      virtualHost: '',
      hosts: [{ hostname: '127.0.0.1', port: 5672, username: 'guest', password: 'guest' }],
      query: {},
    });
  });

  it('rabbit://u:p@h → vhost null, port null', () => {
    const u = parseTransportUrl('rabbit://u:p@h');
    expect(u.virtualHost).toBeNull();
    expect(u.hosts).toEqual([{ hostname: 'h', port: null, username: 'u', password: 'p' }]);
  });

  it('rabbit://u:p@h// → vhost "/"', () => {
    expect(parseTransportUrl('rabbit://u:p@h//').virtualHost).toBe('/');
  });

  it('three hosts, percent-decoded password, vhost and query', () => {
    const u = parseTransportUrl('rabbit://warre:s3cr%40t@mq1:5672,warre:s3cr%40t@mq2:5672,warre:s3cr%40t@mq3:5672/nectar?ssl=1');
    expect(u.hosts).toEqual(['mq1', 'mq2', 'mq3'].map((hostname) => ({ hostname, port: 5672, username: 'warre', password: 's3cr@t' })));
    expect(u.virtualHost).toBe('nectar');
    expect(u.query).toEqual({ ssl: '1' });
  });

  it('hosts with and without credentials mixed → error naming both', () => {
    expect(() => parseTransportUrl('rabbit://u:p@h1,h2:5673/')).toThrow(TransportUrlError);
    expect(() => parseTransportUrl('rabbit://u:p@h1,h2:5673/')).toThrow(/with credentials: h1.*without credentials: h2/);
  });

  it('a user without a password counts as "without credentials"', () => {
    expect(() => parseTransportUrl('rabbit://u:p@h1,u@h2/')).toThrow(/without credentials: h2/);
    expect(parseTransportUrl('rabbit://u@h1/').hosts[0]).toEqual({ hostname: 'h1', port: null, username: 'u', password: null });
  });

  it('IPv6 hosts, empty port, percent-encoded vhost and user', () => {
    const u = parseTransportUrl('rabbit://us%3Aer:p%2Fw@[::1]:5673,us%3Aer:p%2Fw@[fe80::2]:/a%2Fb');
    expect(u.hosts).toEqual([
      { hostname: '::1', port: 5673, username: 'us:er', password: 'p/w' },
      { hostname: 'fe80::2', port: null, username: 'us:er', password: 'p/w' },
    ]);
    expect(u.virtualHost).toBe('a/b');
  });

  it('query: repeated keys joined with ",", blank values and "+" like parse_qs', () => {
    const u = parseTransportUrl('rabbit://h/?a=1&a=2&empty=&flag&b=x+y%21');
    expect(u.query).toEqual({ a: '1,2', b: 'x y!' });
  });

  it('no hosts at all', () => {
    expect(parseTransportUrl('rabbit:///').hosts).toEqual([]);
    expect(parseTransportUrl('rabbit://').virtualHost).toBeNull();
  });

  it('rejects a URL without scheme and a bad port', () => {
    // Python's urlparse reads "guest:" as a scheme; the driver check refuses it later.
    expect(parseTransportUrl('guest:guest@h/')).toEqual({ transport: 'guest', virtualHost: null, hosts: [], query: {} });
    expect(() => resolveTransport('guest:guest@h/')).toThrow(/unsupported transport driver/);
    expect(() => parseTransportUrl('//h/')).toThrow(/No scheme specified/);
    expect(() => parseTransportUrl('rabbit://u:p@h:abc/')).toThrow(/invalid port/);
    expect(() => parseTransportUrl('rabbit://u:p@[::1/')).toThrow(/Invalid IPv6 URL/);
  });

  it('errors do not leak the password', () => {
    try {
      parseTransportUrl('rabbit://u:sekrit@h:abc/');
      expect.fail('should throw');
    } catch (err) {
      expect((err as Error).message).not.toContain('sekrit');
    }
    expect(redactUrl('rabbit://a:b@h1,c:d@h2/v')).toBe('rabbit://a:***@h1,c:***@h2/v');
  });

  it('pyUnquote decodes UTF-8 and tolerates bad escapes', () => {
    expect(pyUnquote('Z%C3%BCrich%zz%')).toBe('Zürich%zz%');
    expect(pyUnquote('%FF')).toBe('\ufffd');
  });
});

describe('query options override [oslo_messaging_rabbit]', () => {
  it('converts booleans and integers like oslo.config', () => {
    const u = parseTransportUrl('rabbit://h/?amqp_durable_queues=true&ssl=1&rabbit_qos_prefetch_count=5&amqp_auto_delete=Off');
    const o = applyQueryOptions({ ...DEFAULT_BUS_OPTIONS, amqp_auto_delete: true }, u);
    expect(o.amqp_durable_queues).toBe(true);
    expect(o.ssl).toBe(true);
    expect(o.rabbit_qos_prefetch_count).toBe(5);
    expect(o.amqp_auto_delete).toBe(false);
  });

  it('unknown options and bad values are errors; oslo-only options are accepted', () => {
    expect(() => applyQueryOptions(DEFAULT_BUS_OPTIONS, parseTransportUrl('rabbit://h/?nope=1'))).toThrow(/unknown option "nope"/);
    expect(() => applyQueryOptions(DEFAULT_BUS_OPTIONS, parseTransportUrl('rabbit://h/?ssl=maybe'))).toThrow(/boolean/);
    expect(() => applyQueryOptions(DEFAULT_BUS_OPTIONS, parseTransportUrl('rabbit://h/?heartbeat_timeout_threshold=1.5'))).toThrow(
      /integer/,
    );
    expect(applyQueryOptions(DEFAULT_BUS_OPTIONS, parseTransportUrl('rabbit://h/?kombu_failover_strategy=shuffle'))).toEqual(
      DEFAULT_BUS_OPTIONS,
    );
  });
});

describe('connectTargets', () => {
  it('maps hosts to amqplib options (vhost, heartbeat, TLS from ?ssl=1, default port 5672)', () => {
    const { targets, options } = resolveTransport('rabbit://warre:s3cr%40t@mq1,warre:s3cr%40t@mq2:5671/nectar?ssl=1', {
      heartbeat_timeout_threshold: 30,
    });
    expect(options.ssl).toBe(true);
    expect(targets.map((t) => t.label)).toEqual(['mq1:5672', 'mq2:5671']);
    expect(targets[0]!.connect).toEqual({
      protocol: 'amqps',
      hostname: 'mq1',
      port: 5672,
      username: 'warre',
      password: 's3cr@t',
      vhost: 'nectar',
      heartbeat: 30,
    });
    expect(targets[0]!.socket.credentials?.mechanism).toBe('AMQPLAIN');
    // no CA file → verified against the system CAs, without a host name check (py-amqp 5)
    expect(targets[0]!.socket.rejectUnauthorized).toBe(true);
    expect(targets[0]!.socket.ca).toBeUndefined();
    expect(targets[0]!.socket.checkServerIdentity!('mq1', {} as never)).toBeUndefined();
  });

  it('vhost "", null and "/" all reach the broker default; guest/guest without credentials; PLAIN login', () => {
    const base = { ...DEFAULT_BUS_OPTIONS, rabbit_login_method: 'PLAIN' };
    expect(connectTargets(parseTransportUrl('rabbit://h/'), base)[0]!.connect.vhost).toBe('');
    expect(connectTargets(parseTransportUrl('rabbit://h'), base)[0]!.connect.vhost).toBe('');
    expect(connectTargets(parseTransportUrl('rabbit://h//'), base)[0]!.connect.vhost).toBe('%2F');
    const t = connectTargets(parseTransportUrl('rabbit:///'), base)[0]!;
    expect(t.connect).toMatchObject({ protocol: 'amqp', hostname: 'localhost', port: 5672, username: 'guest', password: 'guest' });
    expect(t.socket.credentials?.mechanism).toBe('PLAIN');
  });

  it('TLS options: CA file → verified certificate, hostname check only when enforced, ssl_version pins the protocol', () => {
    const dir = mkdtempSync(join(tmpdir(), 'warre-tls-'));
    const ca = join(dir, 'ca.pem');
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    writeFileSync(ca, pem);
    writeFileSync(join(dir, 'junk.pem'), 'not really a certificate');
    try {
      const [t] = resolveTransport('rabbit://u:p@mq/?ssl=true', { ssl_ca_file: ca, ssl_version: 'TLSv1_2' }).targets;
      expect(t!.connect.protocol).toBe('amqps');
      expect(t!.socket.rejectUnauthorized).toBe(true);
      expect(String(t!.socket.ca)).toBe(pem);
      expect(t!.socket.minVersion).toBe('TLSv1.2');
      expect(t!.socket.maxVersion).toBe('TLSv1.2');
      expect(t!.socket.checkServerIdentity!('mq', {} as never)).toBeUndefined();
      const [strict] = resolveTransport('rabbit://u:p@mq/?ssl=true&ssl_enforce_hostname_verification=true', { ssl_ca_file: ca }).targets;
      expect(strict!.socket.checkServerIdentity).not.toBe(t!.socket.checkServerIdentity);
      expect(() => resolveTransport('rabbit://u:p@mq/?ssl=1&ssl_version=sslv9')).toThrow(/Invalid SSL version : sslv9/);
      // Unreadable or wrong files are named with their option, at start-up.
      expect(() => resolveTransport('rabbit://u:p@mq/?ssl=1', { ssl_ca_file: join(dir, 'nope.pem') })).toThrow(
        `[oslo_messaging_rabbit] ssl_ca_file: cannot read ${join(dir, 'nope.pem')} (ENOENT)`,
      );
      expect(() => resolveTransport('rabbit://u:p@mq/?ssl=1', { ssl_ca_file: join(dir, 'junk.pem') })).toThrow(
        `[oslo_messaging_rabbit] ssl_ca_file: ${join(dir, 'junk.pem')} holds no PEM certificate`,
      );
      expect(() => resolveTransport('rabbit://u:p@mq/?ssl=1', { ssl_ca_file: ca, ssl_cert_file: ca, ssl_key_file: ca })).toThrow(
        `[oslo_messaging_rabbit] ssl_key_file: ${ca} holds no PEM private key`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses other drivers and quorum + HA together', () => {
    expect(() => resolveTransport('kafka://h:9092/')).toThrow(/unsupported transport driver "kafka"/);
    expect(() => resolveTransport('rabbit://h/?rabbit_quorum_queue=true&rabbit_ha_queues=true')).toThrow(/quorum or HA/);
  });
});

describe('same results as oslo.messaging TransportURL.parse', () => {
  const urls = [
    'rabbit://guest:guest@127.0.0.1:5672/',
    'rabbit://u:p@h',
    'rabbit://u:p@h//',
    'rabbit://warre:s3cr%40t@mq1:5672,warre:s3cr%40t@mq2:5672,warre:s3cr%40t@mq3:5672/nectar?ssl=1',
    'rabbit://us%3Aer:p%2Fw@[::1]:5673,us%3Aer:p%2Fw@[fe80::2]:/a%2Fb',
    'rabbit://h/?a=1&a=2&empty=&flag&b=x+y%21',
    'RABBIT://H//x#frag?y=1',
    'rabbit://u:p@h//?x=1#z',
    'rabbit:///',
    'rabbit://',
    'rabbit://u@h1,u@h2/v',
    'guest:guest@h/',
    'rabbit://u:p@h:abc/',
    'rabbit://u:p@[::1/',
    // oslo only warns here; Warre refuses (tested above)
    'rabbit://u:p@h1,h2:5673/',
  ];

  it('every URL of the list', async () => {
    await ensureOsloMessaging();
    const py = JSON.parse(await runScript('parse_transport_urls.py', [], { stdin: JSON.stringify(urls) })) as Record<string, unknown>[];
    urls.forEach((url, i) => {
      const expected = py[i]!;
      let ours: Record<string, unknown>;
      try {
        const u = parseTransportUrl(url);
        ours = { transport: u.transport, virtual_host: u.virtualHost, hosts: u.hosts, query: u.query, mixed_credentials_warning: false };
      } catch (err) {
        ours = { error: (err as Error).message };
      }
      if (expected.mixed_credentials_warning) {
        expect(ours.error, url).toMatch(/all hosts must be set with username\/password or none/);
      } else if (expected.error) {
        expect(ours.error, url).toBeTypeOf('string');
      } else {
        expect(ours, url).toEqual(expected);
      }
    });
  });
});
