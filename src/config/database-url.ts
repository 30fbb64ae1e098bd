/**
 * `[database] connection`: the SQLAlchemy URLs existing Warre deployments use, turned into
 * what the SQLite, MySQL/MariaDB and PostgreSQL drivers need.
 */
import path from 'node:path';
import { ConfigError } from './errors.js';

export type DatabaseTarget =
  | { dialect: 'sqlite' /** A file path, or ':memory:'. */; filename: string }
  | {
      dialect: 'mysql';
      host: string;
      port: number;
      user: string;
      password: string;
      database: string;
      /** Query parameters other than unix_socket (e.g. charset). */
      params: Record<string, string>;
      socketPath?: string;
    }
  | {
      dialect: 'postgres';
      /** A host name, or a socket directory (from ?host=/path). */
      host: string;
      port: number;
      user: string;
      password: string;
      database: string;
      /** Query parameters other than host (e.g. sslmode). */
      params: Record<string, string>;
    };

const ACCEPTED =
  'sqlite:///relative/path, sqlite:////absolute/path, sqlite://, ' +
  'mysql+pymysql://user:pass@host:port/db, postgresql://user:pass@host:port/db';

const DIALECTS: Record<string, 'sqlite' | 'mysql' | 'postgres'> = {
  sqlite: 'sqlite',
  'sqlite+pysqlite': 'sqlite',
  mysql: 'mysql',
  'mysql+pymysql': 'mysql',
  'mysql+mysqldb': 'mysql',
  mariadb: 'mysql',
  'mariadb+pymysql': 'mysql',
  'mariadb+mysqldb': 'mysql',
  postgresql: 'postgres',
  'postgresql+psycopg2': 'postgres',
  'postgresql+psycopg': 'postgres',
  postgres: 'postgres',
};

const DEFAULT_PORTS = { mysql: 3306, postgres: 5432 } as const;

// The layout of an SQLAlchemy URL: the password may hold ':' and '/', the host may be [IPv6].
const SERVER_URL = /^([^:/?#]*):\/\/(?:([^:/@]*)(?::([^@]*))?@)?(?:\[([^\]/?]+)\]|([^/:?]*))(?::([^/?]*))?(?:\/([^?]*))?(?:\?(.*))?$/s;

/**
 * Parses a database URL. Relative SQLite paths resolve against `baseDir`.
 * @example parseDatabaseUrl('mysql+pymysql://warre:s3cr%40t@db:3306/warre?charset=utf8', '/')
 *   // → { dialect: 'mysql', host: 'db', port: 3306, user: 'warre', password: 's3cr@t', database: 'warre', params: { charset: 'utf8' } }
 */
export function parseDatabaseUrl(url: string, baseDir: string): DatabaseTarget {
  const fail = (reason?: string): never => {
    const why = reason === undefined ? '' : ` (${reason})`;
    throw new ConfigError(`[database] connection: unsupported URL "${maskUrl(url)}"${why}; accepted: ${ACCEPTED}`);
  };
  const value = url.trim();
  const sep = value.indexOf('://');
  if (sep < 0) return fail();
  const dialect = DIALECTS[value.slice(0, sep).toLowerCase()];
  if (dialect === undefined) return fail(`unknown dialect "${value.slice(0, sep)}"`);

  if (dialect === 'sqlite') {
    const rest = value.slice(sep + 3).replace(/\?.*$/s, '');
    if (rest === '' || rest === '/' || rest === '/:memory:') return { dialect, filename: ':memory:' };
    if (!rest.startsWith('/')) return fail('a SQLite URL has no host: use three slashes before the path');
    const file = decode(rest.slice(1), fail);
    return { dialect, filename: path.isAbsolute(file) ? file : path.resolve(baseDir, file) };
  }

  const m = SERVER_URL.exec(value);
  if (m === null) return fail();
  const [, , user = '', password = '', ipv6, hostname = '', portText = '', db = '', query = ''] = m;
  if (portText !== '' && !/^\d+$/.test(portText)) return fail(`bad port "${portText}"`);
  const port = portText === '' ? DEFAULT_PORTS[dialect] : Number(portText);
  if (port < 1 || port > 65535) return fail(`bad port "${portText}"`);
  const database = decode(db, fail);
  if (database === '') return fail('no database name');
  const params: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(query)) params[k] = v;
  const common = {
    user: decode(user, fail),
    password: decode(password, fail),
    port,
    database,
  };
  if (hostname.includes('@')) return fail('write an "@" in the user name or password as %40');
  const host = ipv6 ?? decode(hostname, fail);

  if (dialect === 'mysql') {
    const { unix_socket: socketPath, ...rest } = params;
    return {
      dialect,
      host: host === '' ? 'localhost' : host,
      ...common,
      params: rest,
      ...(socketPath !== undefined ? { socketPath } : {}),
    };
  }
  const { host: socketDir, ...rest } = params;
  return { dialect, host: socketDir ?? (host === '' ? 'localhost' : host), ...common, params: rest };
}

function decode(text: string, fail: (reason: string) => never): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return fail('bad percent-encoding');
  }
}

/**
 * Hides the passwords of a URL for logging: every `user:password@` (also in multi-host
 * `transport_url`s) and `password=` query parameter. It errs on the side of hiding more.
 */
export function maskUrl(url: string): string {
  return url.replace(/(:\/\/|,)([^:@/,?#]*):([^@]*?)@/g, '$1$2:***@').replace(/([?&](?:password|passwd)=)[^&#]*/gi, '$1***');
}
