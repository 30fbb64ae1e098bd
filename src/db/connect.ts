/**
 * The one way to open a database: a Kysely instance for SQLite
 * (better-sqlite3), MySQL/MariaDB (mysql2) or PostgreSQL (pg), plus the
 * dialect's value codec. Datetimes come back as strings on every dialect.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, type SqliteDatabase as SqliteDialectDatabase } from 'kysely';
import type * as Mysql2 from 'mysql2';
import type Pg from 'pg';
import type { DatabaseTarget } from '../config/database-url.js';
import { type Codec, wellFormedText } from './codec.js';
import { type DialectAdapter, dialectAdapter } from './dialect.js';
import { LazyBeginMysqlDialect } from './lazy-begin.js';
import { type AvailabilityLogger, DbAvailability, guardMysqlPool, guardPgPool, type Limits } from './resilience.js';
import type { Database } from './schema.js';

/**
 * What every repository function takes first: the database, or a transaction on it
 * (src/db/transaction.ts), with its dialect adapter and value codec.
 */
export interface Queryable {
  readonly kysely: Kysely<Database>;
  readonly dialect: DialectAdapter;
  /** `dialect.codec`, the dialect's value encoding, at hand. */
  readonly codec: Codec;
}

/** The one database object: built by {@link openDatabase}, passed everywhere. */
export interface Db extends Queryable {
  /** Human-readable location (file path or masked URL) for start-up messages. */
  location: string;
  /** MySQL/PostgreSQL: whether the database answers; logs outages (src/db/resilience.ts). */
  availability?: DbAvailability;
  close(): Promise<void>;
}

export interface OpenOptions {
  poolSize?: number;
  /** `[database] connect_timeout`: opening a connection (TCP and login). */
  connectTimeoutMs?: number;
  /** `[database] pool_timeout`: waiting for a pooled connection. */
  acquireTimeoutMs?: number;
  /** `[database] statement_timeout`: waiting for one statement's answer. */
  statementTimeoutMs?: number;
  /** Where outages are logged (one line when the database goes, one when it is back). */
  logger?: AvailabilityLogger;
}

/** The `[database]` defaults (docs/operations.md). */
export const DB_TIMEOUT_DEFAULTS = { connectTimeoutMs: 5_000, acquireTimeoutMs: 5_000, statementTimeoutMs: 10_000 };

/**
 * Each driver is loaded when a database of its kind is opened, not with this module: a process
 * holds only the one it uses (mysql2, pg and better-sqlite3 together are about 6 MB of memory
 * per process; BENCHMARKS.md, memory). They are CommonJS packages, so `require` loads them
 * synchronously and opening stays synchronous.
 */
const load = createRequire(import.meta.url);
const sqliteDriver = () => load('better-sqlite3') as typeof SqliteDatabase;
const mysqlDriver = () => load('mysql2') as typeof Mysql2;
let pgLoaded: typeof Pg | null = null;
function pgDriver(): typeof Pg {
  if (pgLoaded) return pgLoaded;
  const pg = load('pg') as typeof Pg;
  // PostgreSQL `timestamp without time zone` (1114): keep the naive UTC string.
  pg.types.setTypeParser(1114, (v: string) => v);
  // bigint counts (COUNT(*), SUM) as numbers: our counts are far below 2^53.
  pg.types.setTypeParser(20, (v: string) => Number(v));
  pg.types.setTypeParser(1700, (v: string) => Number(v));
  pgLoaded = pg;
  return pg;
}

/**
 * Kysely's SQLite driver prepares every statement anew; preparing costs as
 * much as running a small query, so prepared statements are kept per SQL text
 * (the set of distinct statements Warre issues is small and fixed).
 *
 * The statements handed out also make string parameters well-formed: better-sqlite3 would
 * store a lone UTF-16 surrogate as invalid UTF-8 bytes, which read back as three U+FFFD and
 * which Python's sqlite3 module (the Python service) cannot decode at all; it becomes U+FFFD,
 * as mysql2 and pg already do when they encode. (Here rather than in a Kysely plugin: a plugin
 * copies every statement's syntax tree, which cost as much as a create's extra INSERT.)
 */
function cachingStatements(database: SqliteDatabase.Database): SqliteDialectDatabase {
  const cache = new Map<string, SqliteStatement>();
  return {
    close: () => database.close(),
    prepare: (text: string) => {
      let stmt = cache.get(text);
      if (!stmt) {
        stmt = wellFormedParameters(database.prepare(text));
        if (cache.size >= 500) cache.delete(cache.keys().next().value!);
        cache.set(text, stmt);
      }
      return stmt;
    },
  };
}

type SqliteStatement = ReturnType<SqliteDialectDatabase['prepare']>;

/** Parameters as given, unless one is a string with a lone surrogate: then a copy with each replaced. */
export function wellFormed(parameters: readonly unknown[]): readonly unknown[] {
  for (let i = 0; i < parameters.length; i++) {
    const v = parameters[i];
    if (typeof v === 'string' && wellFormedText(v) !== v) {
      return parameters.map((p) => (typeof p === 'string' ? wellFormedText(p) : p));
    }
  }
  return parameters;
}

function wellFormedParameters(stmt: SqliteDatabase.Statement): SqliteStatement {
  return {
    reader: stmt.reader,
    all: (parameters) => stmt.all(wellFormed(parameters)),
    run: (parameters) => stmt.run(wellFormed(parameters)),
    iterate: (parameters) => stmt.iterate(wellFormed(parameters)),
  } as SqliteStatement;
}

export function openDatabase(target: DatabaseTarget, opts: OpenOptions = {}): Db {
  const poolSize = opts.poolSize ?? 10;
  const connectTimeout = opts.connectTimeoutMs ?? DB_TIMEOUT_DEFAULTS.connectTimeoutMs;
  let kysely: Kysely<Database>;
  let location: string;
  let availability: DbAvailability | undefined;
  const limits = (what: string): Limits => {
    availability = new DbAvailability(what, opts.logger ?? null);
    return {
      acquireTimeoutMs: opts.acquireTimeoutMs ?? DB_TIMEOUT_DEFAULTS.acquireTimeoutMs,
      statementTimeoutMs: opts.statementTimeoutMs ?? DB_TIMEOUT_DEFAULTS.statementTimeoutMs,
      poolSize,
      availability,
    };
  };
  switch (target.dialect) {
    case 'sqlite': {
      if (target.filename !== ':memory:') fs.mkdirSync(path.dirname(target.filename), { recursive: true });
      const Sqlite = sqliteDriver();
      const database = new Sqlite(target.filename);
      database.pragma('journal_mode = WAL');
      database.pragma('busy_timeout = 10000');
      database.pragma('synchronous = NORMAL');
      database.pragma('foreign_keys = ON');
      kysely = new Kysely<Database>({
        dialect: new SqliteDialect({ database: cachingStatements(database) }),
      });
      location = target.filename;
      break;
    }
    case 'mysql': {
      const pool = mysqlDriver().createPool({
        host: target.socketPath ? undefined : target.host,
        port: target.port,
        socketPath: target.socketPath,
        user: target.user,
        password: target.password,
        database: target.database,
        charset: 'utf8mb4',
        dateStrings: true,
        timezone: 'Z',
        connectionLimit: poolSize,
        connectTimeout,
        supportBigNumbers: true,
        decimalNumbers: true,
        // Several statements in one round trip (src/db/dialect.ts, batch): a reservation create
        // sends its locks and reads as one query. Safe here because every statement is built by
        // Kysely with parameters (mysql2 escapes them); no SQL text is ever made from input.
        multipleStatements: true,
      });
      // READ COMMITTED for every transaction (see src/db/transaction.ts), set once per connection.
      pool.on('connection', (conn) => {
        conn.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
      });
      location = `mysql://${target.user}@${target.socketPath ?? `${target.host}:${target.port}`}/${target.database}`;
      kysely = new Kysely<Database>({ dialect: new LazyBeginMysqlDialect({ pool: guardMysqlPool(pool, limits(location)) }) });
      break;
    }
    case 'postgres': {
      const pool = new (pgDriver().Pool)({
        host: target.host,
        port: target.port,
        user: target.user,
        password: target.password || undefined,
        database: target.database,
        max: poolSize,
        connectionTimeoutMillis: connectTimeout,
      });
      // An idle client losing its connection must not crash the process.
      pool.on('error', () => {});
      location = `postgresql://${target.user}@${target.host}:${target.port}/${target.database}`;
      kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool: guardPgPool(pool, limits(location)) }) });
      break;
    }
  }
  const dialect = dialectAdapter(target.dialect);
  return {
    kysely,
    dialect,
    codec: dialect.codec,
    location,
    ...(availability ? { availability } : {}),
    close: () => kysely.destroy(),
  };
}
