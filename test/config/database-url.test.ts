import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { maskUrl, parseDatabaseUrl } from '../../src/config/database-url.js';
import { ConfigError } from '../../src/config/errors.js';

const base = '/srv/warre';

describe('parseDatabaseUrl: SQLite', () => {
  it.each([
    ['sqlite://', ':memory:'],
    ['sqlite:///:memory:', ':memory:'],
    ['sqlite:///warre.db', '/srv/warre/warre.db'],
    ['sqlite:///data/../db/warre.db', '/srv/warre/db/warre.db'],
    ['sqlite:////var/lib/warre/warre.db', '/var/lib/warre/warre.db'],
    ['sqlite+pysqlite:////var/lib/warre/warre.db', '/var/lib/warre/warre.db'],
    ['SQLITE:////var/lib/warre/my%20db.sqlite', '/var/lib/warre/my db.sqlite'],
    ['sqlite:////var/lib/warre/warre.db?timeout=20', '/var/lib/warre/warre.db'],
  ])('%s', (url, filename) => {
    expect(parseDatabaseUrl(url, base)).toEqual({ dialect: 'sqlite', filename });
  });
});

describe('parseDatabaseUrl: MySQL / MariaDB', () => {
  it.each(['mysql', 'mysql+pymysql', 'mysql+mysqldb', 'mariadb', 'mariadb+pymysql'])('%s://', (scheme) => {
    expect(parseDatabaseUrl(`${scheme}://warre:pw@db.example.org:3307/warre?charset=utf8`, base)).toEqual({
      dialect: 'mysql',
      host: 'db.example.org',
      port: 3307,
      user: 'warre',
      password: 'pw',
      database: 'warre',
      params: { charset: 'utf8' },
    });
  });

  it('percent-decodes user and password, defaults the port, allows / and : in the password', () => {
    expect(parseDatabaseUrl('mysql+pymysql://war%20re:s3cr%40t:/x@127.0.0.1/warre', base)).toMatchObject({
      user: 'war re',
      password: 's3cr@t:/x',
      host: '127.0.0.1',
      port: 3306,
    });
  });

  it('takes unix_socket as the socket path and keeps other parameters', () => {
    expect(parseDatabaseUrl('mysql+pymysql://root@/warre?unix_socket=/run/mysqld/mysqld.sock&charset=utf8mb4', base)).toEqual({
      dialect: 'mysql',
      host: 'localhost',
      port: 3306,
      user: 'root',
      password: '',
      database: 'warre',
      params: { charset: 'utf8mb4' },
      socketPath: '/run/mysqld/mysqld.sock',
    });
  });

  it('accepts an IPv6 host', () => {
    expect(parseDatabaseUrl('mysql://u:p@[::1]:3306/warre', base)).toMatchObject({ host: '::1', port: 3306 });
  });
});

describe('parseDatabaseUrl: PostgreSQL', () => {
  it.each(['postgresql', 'postgresql+psycopg2', 'postgres'])('%s://', (scheme) => {
    expect(parseDatabaseUrl(`${scheme}://warre:p%2Fw@pg:5433/warre?sslmode=require`, base)).toEqual({
      dialect: 'postgres',
      host: 'pg',
      port: 5433,
      user: 'warre',
      password: 'p/w',
      database: 'warre',
      params: { sslmode: 'require' },
    });
  });

  it('takes ?host= as a socket directory', () => {
    expect(parseDatabaseUrl('postgresql://postgres@/warre?host=/var/run/postgresql', base)).toEqual({
      dialect: 'postgres',
      host: '/var/run/postgresql',
      port: 5432,
      user: 'postgres',
      password: '',
      database: 'warre',
      params: {},
    });
  });
});

describe('parseDatabaseUrl: bad values', () => {
  const accepted =
    'accepted: sqlite:///relative/path, sqlite:////absolute/path, sqlite://, mysql+pymysql://user:pass@host:port/db, postgresql://user:pass@host:port/db';
  it.each([
    ['oracle://u:hunter2@h/db', 'oracle://u:***@h/db', 'unknown dialect "oracle"'],
    ['warre.db', 'warre.db', undefined],
    ['', '', undefined],
    ['sqlite://host/warre.db', 'sqlite://host/warre.db', 'three slashes'],
    ['mysql+pymysql://u:hunter2@h:abc/db', 'mysql+pymysql://u:***@h:abc/db', 'bad port "abc"'],
    ['mysql+pymysql://u:hunter2@h:70000/db', 'mysql+pymysql://u:***@h:70000/db', 'bad port'],
    ['postgresql://u:hunter2@h:5432/', 'postgresql://u:***@h:5432/', 'no database name'],
    ['mysql://u:hunter2@h/%zz', 'mysql://u:***@h/%zz', 'bad percent-encoding'],
    ['mysql://u:p@ss@h/db', 'mysql://u:***@ss@h/db', '%40'],
  ])('%j', (url, shown, reason) => {
    let error: unknown;
    try {
      parseDatabaseUrl(url, base);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message.startsWith(`[database] connection: unsupported URL "${shown}"`)).toBe(true);
    expect(message.endsWith(accepted)).toBe(true);
    expect(message).not.toContain('hunter2');
    if (reason !== undefined) expect(message).toContain(reason);
  });
});

describe('maskUrl', () => {
  it.each([
    ['mysql+pymysql://warre:secret@db/warre', 'mysql+pymysql://warre:***@db/warre'],
    ['rabbit://a:p1@h1:5672,b:p2@h2:5672/vhost?ssl=1', 'rabbit://a:***@h1:5672,b:***@h2:5672/vhost?ssl=1'],
    ['postgresql://h/db?user=u&password=pw', 'postgresql://h/db?user=u&password=***'],
    ['sqlite:////var/lib/warre.db', 'sqlite:////var/lib/warre.db'],
    ['rabbit://guest@h/', 'rabbit://guest@h/'],
  ])('%s', (url, masked) => {
    expect(maskUrl(url)).toBe(masked);
  });

  it('never shows the password of a generated URL', () => {
    const lower = fc.stringMatching(/^[a-z][a-z0-9.-]{0,10}$/);
    const password = fc.stringMatching(/^[A-Z0-9:/!,%]{1,16}$/).filter((p) => /[A-Z]/.test(p));
    fc.assert(
      fc.property(lower, password, lower, lower, (user, pw, host, db) => {
        const url = `mysql+pymysql://${user}:${pw}@${host}:3306/${db}?charset=utf8`;
        expect(maskUrl(url)).not.toContain(pw);
        expect(maskUrl(url)).toContain(`@${host}:3306/${db}`);
      }),
    );
  });
});
