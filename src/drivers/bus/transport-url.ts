/**
 * `transport_url` parsing with oslo.messaging's rules (docs/interop.md#transport-url):
 * `rabbit://[user:pass@]host[:port][,[user:pass@]host[:port]…]/[vhost][?option=value&…]`.
 */
import { checkServerIdentity, type SecureVersion } from 'node:tls';
import amqp, { type Options, type SocketOptions } from 'amqplib';
import { readPemFile } from '../pem.js';
import { type BusOptions, DEFAULT_BUS_OPTIONS, IGNORED_RABBIT_OPTIONS } from './options.js';

export class TransportUrlError extends Error {
  constructor(url: string, reason: string) {
    super(`Invalid transport_url ${redactUrl(url)}: ${reason}`);
    this.name = 'TransportUrlError';
  }
}

export interface TransportHost {
  hostname: string | null;
  port: number | null;
  username: string | null;
  password: string | null;
}

export interface TransportUrl {
  /** The driver (scheme), e.g. `rabbit`. */
  transport: string;
  /** `null` = no path (broker default), `""` = `/` path (broker default), else percent-decoded. */
  virtualHost: string | null;
  hosts: TransportHost[];
  /** Query parameters; repeated keys are joined with `,` (as oslo does). */
  query: Record<string, string>;
}

/** One broker to try: amqplib's connect arguments plus a log label without credentials. */
export interface ConnectTarget {
  connect: Options.Connect;
  socket: SocketOptions;
  /** `host:port` for logs. */
  label: string;
}

const SCHEME_CHARS = /^[A-Za-z][A-Za-z0-9+.-]*$/;

/** Parse a transport URL exactly like `oslo_messaging.TransportURL.parse`. */
export function parseTransportUrl(url: string): TransportUrl {
  // Python's urlsplit, by hand: the WHATWG URL parser rejects comma-separated host lists.
  let rest = url.trim();
  const colon = rest.indexOf(':');
  if (colon <= 0 || !SCHEME_CHARS.test(rest.slice(0, colon))) {
    throw new TransportUrlError(url, 'No scheme specified');
  }
  const transport = rest.slice(0, colon).toLowerCase();
  rest = rest.slice(colon + 1);
  let netloc = '';
  if (rest.startsWith('//')) {
    rest = rest.slice(2);
    const end = rest.search(/[/?#]/);
    netloc = end < 0 ? rest : rest.slice(0, end);
    rest = end < 0 ? '' : rest.slice(end);
  }
  if (netloc.includes('[') !== netloc.includes(']')) throw new TransportUrlError(url, 'Invalid IPv6 URL');
  const hash = rest.indexOf('#');
  if (hash >= 0) rest = rest.slice(0, hash);
  const qmark = rest.indexOf('?');
  const path = qmark >= 0 ? rest.slice(0, qmark) : rest;
  const queryString = qmark >= 0 ? rest.slice(qmark + 1) : '';

  const query: Record<string, string> = {};
  for (const [key, values] of parseQs(queryString)) query[key] = values.join(',');

  const virtualHost = path.startsWith('/') ? pyUnquote(path.slice(1)) : null;

  const hosts: TransportHost[] = [];
  const withCreds: (string | null)[] = [];
  const withoutCreds: (string | null)[] = [];
  for (const item of netloc.split(',')) {
    if (!item) continue;
    let hostPart = item;
    let username: string | null = null;
    let password: string | null = null;
    const at = item.lastIndexOf('@');
    if (at >= 0) {
      let user = item.slice(0, at);
      hostPart = item.slice(at + 1);
      const c = user.indexOf(':');
      if (c >= 0) {
        password = pyUnquote(user.slice(c + 1));
        user = user.slice(0, c);
      }
      username = pyUnquote(user);
    }
    let hostname: string | null = hostPart;
    let portText: string | null = null;
    if (!hostPart) {
      hostname = null;
    } else if (hostPart.startsWith('[')) {
      const close = hostPart.indexOf(']');
      if (close < 0) throw new TransportUrlError(url, 'Invalid IPv6 URL');
      const after = hostPart.slice(close);
      hostname = hostPart.slice(1, close);
      const pc = after.indexOf(':');
      if (pc >= 0) portText = after.slice(pc + 1);
    } else if (hostPart.includes(':')) {
      const pc = hostPart.indexOf(':');
      hostname = hostPart.slice(0, pc);
      portText = hostPart.slice(pc + 1);
    }
    let port: number | null = null;
    if (portText !== null && portText !== '') {
      if (!/^\s*\+?\d+\s*$/.test(portText)) throw new TransportUrlError(url, `invalid port "${portText}"`);
      port = Number.parseInt(portText.trim(), 10);
    }
    if (username === null || password === null) withoutCreds.push(hostname);
    else withCreds.push(hostname);
    hosts.push({ hostname, port, username, password });
  }
  if (withCreds.length > 0 && withoutCreds.length > 0) {
    throw new TransportUrlError(
      url,
      `all hosts must be set with username/password or none; hosts with credentials: ${withCreds.join(', ')}; ` +
        `hosts without credentials: ${withoutCreds.join(', ')}`,
    );
  }
  return { transport, virtualHost, hosts, query };
}

/**
 * Apply the URL query over `[oslo_messaging_rabbit]` options: a query parameter overrides the
 * option of the same name (converted to its type). Unknown names and unconvertible values are
 * errors, as in oslo.messaging (its transport fails to load).
 */
export function applyQueryOptions(base: BusOptions, url: TransportUrl, rawUrl = ''): BusOptions {
  const out: BusOptions = { ...base };
  const target = out as unknown as Record<string, unknown>;
  const defaults = DEFAULT_BUS_OPTIONS as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(url.query)) {
    if (IGNORED_RABBIT_OPTIONS.includes(key)) continue;
    if (!Object.hasOwn(defaults, key)) {
      throw new TransportUrlError(rawUrl, `unknown option "${key}" in the query (no such [oslo_messaging_rabbit] option)`);
    }
    const kind = typeof defaults[key];
    if (kind === 'boolean') {
      const v = value.trim().toLowerCase();
      if (['true', '1', 'on', 'yes'].includes(v)) target[key] = true;
      else if (['false', '0', 'off', 'no'].includes(v)) target[key] = false;
      else throw new TransportUrlError(rawUrl, `option "${key}" must be a boolean, got "${value}"`);
    } else if (kind === 'number') {
      if (!/^\s*[+-]?\d+\s*$/.test(value)) {
        throw new TransportUrlError(rawUrl, `option "${key}" must be an integer, got "${value}"`);
      }
      target[key] = Number.parseInt(value.trim(), 10);
    } else {
      target[key] = value;
    }
  }
  return out;
}

const TLS_VERSIONS: Record<string, SecureVersion | null> = {
  tlsv1: 'TLSv1',
  tlsv1_1: 'TLSv1.1',
  tlsv1_2: 'TLSv1.2',
  tlsv1_3: 'TLSv1.3',
  sslv23: null, // "negotiate the highest": Node's default
};

/**
 * amqplib connect arguments for every host of the URL, in URL order (the connection shuffles
 * them). No host → `localhost:5672` as guest/guest; hosts without credentials use guest/guest
 * (kombu's defaults). The port defaults to 5672 even with TLS, as in oslo.messaging.
 */
export function connectTargets(url: TransportUrl, options: BusOptions): ConnectTarget[] {
  if (url.transport !== 'rabbit') {
    throw new TransportUrlError(`${url.transport}://`, `unsupported transport driver "${url.transport}" (only "rabbit")`);
  }
  if (options.rabbit_quorum_queue && options.rabbit_ha_queues) {
    throw new Error(
      'Configuration Error: rabbit_quorum_queue and rabbit_ha_queues both enabled, queue type is quorum or HA (mirrored) not both',
    );
  }
  const hosts = url.hosts.length > 0 ? url.hosts : [{ hostname: null, port: null, username: null, password: null }];
  const socketBase = tlsSocketOptions(options);
  return hosts.map((h) => {
    const hostname = h.hostname || 'localhost';
    const port = h.port ?? 5672;
    const username = h.username || 'guest';
    const password = h.password || 'guest';
    const mechanism = options.rabbit_login_method.toUpperCase();
    let credentials: ReturnType<typeof amqp.credentials.plain>;
    if (mechanism === 'AMQPLAIN') credentials = amqp.credentials.amqplain(username, password);
    else if (mechanism === 'PLAIN') credentials = amqp.credentials.plain(username, password);
    else throw new Error(`Unsupported rabbit_login_method "${options.rabbit_login_method}" (AMQPLAIN or PLAIN)`);
    return {
      connect: {
        protocol: options.ssl ? 'amqps' : 'amqp',
        hostname,
        port,
        username,
        password,
        // amqplib percent-decodes the vhost once more; an empty vhost means the broker default "/".
        vhost: encodeURIComponent(url.virtualHost ?? ''),
        heartbeat: options.heartbeat_timeout_threshold,
      },
      socket: { ...socketBase, credentials, timeout: options.connect_timeout * 1000 },
      label: `${hostname.includes(':') ? `[${hostname}]` : hostname}:${port}`,
    };
  });
}

/** Parse the URL, apply its query to the options, and build the connect targets. */
export function resolveTransport(
  rawUrl: string,
  base: Partial<BusOptions> = {},
): { url: TransportUrl; options: BusOptions; targets: ConnectTarget[] } {
  const url = parseTransportUrl(rawUrl);
  const options = applyQueryOptions({ ...DEFAULT_BUS_OPTIONS, ...base }, url, rawUrl);
  return { url, options, targets: connectTargets(url, options) };
}

/** The URL with passwords replaced by `***`, for logs and errors. */
export function redactUrl(url: string): string {
  return url.replace(/([/,][^/,@:]*:)[^@/,]*@/g, '$1***@');
}

function tlsSocketOptions(options: BusOptions): SocketOptions {
  if (!options.ssl) return {};
  // As oslo.messaging on py-amqp 5 (checked against Debian's, test/drivers/bus/tls.test.ts): the broker
  // certificate is always verified, against ssl_ca_file (instead of the system CAs) when set;
  // its host name only with ssl_ca_file and ssl_enforce_hostname_verification.
  const out: SocketOptions = { rejectUnauthorized: true };
  const option = (name: string) => `[oslo_messaging_rabbit] ${name}`;
  if (options.ssl_ca_file) out.ca = readPemFile(options.ssl_ca_file, option('ssl_ca_file'), 'CERTIFICATE');
  if (options.ssl_cert_file) out.cert = readPemFile(options.ssl_cert_file, option('ssl_cert_file'), 'CERTIFICATE');
  if (options.ssl_key_file) out.key = readPemFile(options.ssl_key_file, option('ssl_key_file'), 'PRIVATE KEY');
  out.checkServerIdentity = options.ssl_ca_file && options.ssl_enforce_hostname_verification ? checkServerIdentity : () => undefined;
  if (options.ssl_version) {
    const key = options.ssl_version.toLowerCase();
    if (!Object.hasOwn(TLS_VERSIONS, key)) throw new Error(`Invalid SSL version : ${options.ssl_version}`);
    const v = TLS_VERSIONS[key];
    if (v) {
      out.minVersion = v;
      out.maxVersion = v;
    }
  }
  return out;
}

/** Python's `urllib.parse.parse_qs` (blank values dropped, `+` is a space, order kept). */
function parseQs(qs: string): [string, string[]][] {
  const out = new Map<string, string[]>();
  for (const part of qs.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const rawValue = part.slice(eq + 1);
    if (!rawValue) continue;
    const name = pyUnquote(part.slice(0, eq).replace(/\+/g, ' '));
    const value = pyUnquote(rawValue.replace(/\+/g, ' '));
    const list = out.get(name);
    if (list) list.push(value);
    else out.set(name, [value]);
  }
  return [...out];
}

/** Python's `urllib.parse.unquote`: %XX sequences as UTF-8, invalid bytes replaced, never throws. */
export function pyUnquote(s: string): string {
  if (!s.includes('%')) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; ) {
    const ch = s[i]!;
    if (ch === '%' && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(s.slice(i + 1, i + 3), 16));
      i += 3;
    } else {
      const cp = s.codePointAt(i)!;
      const chunk = String.fromCodePoint(cp);
      bytes.push(...Buffer.from(chunk, 'utf8'));
      i += chunk.length;
    }
  }
  return new TextDecoder('utf-8').decode(Uint8Array.from(bytes));
}
