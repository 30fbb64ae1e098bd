/**
 * Bounded waits and outage handling for the MySQL/MariaDB and PostgreSQL pools
 * (docs/operations.md "Database"):
 *
 * - acquiring a pooled connection waits at most `[database] pool_timeout`
 *   (opening a new one: `connect_timeout`, set on the drivers themselves);
 * - every statement waits at most `[database] statement_timeout` for its
 *   answer; then the connection is destroyed (never handed out again). Schema
 *   changes (migrations) are not limited;
 * - a connection-level failure (refused, reset, timed out, lost) becomes a
 *   {@link DatabaseUnavailableError}, which the API answers with 503;
 * - a connection that died while idle in the pool (a database restart) is
 *   dropped and the statement run once more on a fresh connection, when that
 *   is safe: a read, or the first statement of a transaction;
 * - {@link DbAvailability} logs one line when the database goes away and one
 *   when it answers again, instead of one stack trace per request.
 *
 * Kysely sees the same pool interfaces as without this module.
 */
import type { MysqlPool, MysqlPoolConnection, PostgresPool, PostgresPoolClient } from 'kysely';
import type { PgStatementResult } from './dialect.js';

/** The database cannot be reached or did not answer in time. */
export class DatabaseUnavailableError extends Error {
  readonly status = 503;
  constructor(
    message: string,
    /**
     * True when nothing of the failed unit of work can have been committed: a failure while
     * acquiring or connecting, a read, or a statement of a transaction before its COMMIT.
     * A transaction that failed so may be run again as a whole (src/db/transaction.ts).
     */
    readonly retriable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DatabaseUnavailableError';
  }
}

export function isDatabaseUnavailable(err: unknown): err is DatabaseUnavailableError {
  return err instanceof DatabaseUnavailableError;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'PROTOCOL_ENQUEUE_AFTER_QUIT',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'ER_TOO_MANY_USER_CONNECTIONS',
  // PostgreSQL SQLSTATEs: server shutting down, starting up, too many connections.
  '57P01',
  '57P02',
  '57P03',
  '53300',
]);
const PG_CONNECTION_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|not queryable|Client was closed|connection error|closed state/i;

/** Is this a failure of the connection (not of the statement)? */
export function isConnectionFailure(err: unknown): boolean {
  if (err instanceof DatabaseUnavailableError) return true;
  const e = err as { code?: unknown; fatal?: unknown; message?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  if (typeof e.code === 'string' && (NETWORK_CODES.has(e.code) || e.code.startsWith('08'))) return true;
  if (e.fatal === true) return true; // mysql2: the connection is unusable
  return typeof e.message === 'string' && PG_CONNECTION_MESSAGES.test(e.message);
}

/** A connection that died while idle: the statement never reached the server. */
function isStaleConnection(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  if (
    e.code === 'ECONNRESET' ||
    e.code === 'EPIPE' ||
    e.code === 'PROTOCOL_CONNECTION_LOST' ||
    e.code === 'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR'
  )
    return true;
  return typeof e.message === 'string' && /Connection terminated unexpectedly|not queryable|closed state/i.test(e.message);
}

/**
 * The statement cannot have reached the server: the connection was known to be closed, or the
 * peer had already reset it when the statement was written. Any statement may be repeated then.
 */
function neverSent(err: unknown): boolean {
  const e = err as { code?: unknown; syscall?: unknown; message?: unknown } | null;
  if (!e || typeof e !== 'object') return false;
  if (e.code === 'EPIPE' || (e.code === 'ECONNRESET' && e.syscall === 'write')) return true;
  if (e.code === 'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR' || e.code === 'PROTOCOL_ENQUEUE_AFTER_QUIT') return true;
  return typeof e.message === 'string' && /closed state|not queryable|Client was closed/i.test(e.message);
}

/** Statements that change nothing when run twice (or start a transaction that a retry starts anew). */
const SAFE_TO_REPEAT = /^\s*(select|with\s|show|begin|start transaction|set transaction|set session)\b/i;

/**
 * Whether running `sql` twice changes nothing: for a batch (statements joined by `;` and a new
 * line, src/db/dialect.ts), every statement must be safe, not only the first. A PostgreSQL batch
 * has its values written in, and a text value holding `;` and a new line splits off a piece
 * that is then judged too: that can only make a batch look unsafe, never hide a write.
 */
export function safeToRepeat(sql: string): boolean {
  // A batch that opens a transaction (MySQL's BEGIN sent with the first statements,
  // src/db/lazy-begin.ts) runs the rest inside it: a retry starts it anew, as before.
  if (BEGINS.test(sql)) return true;
  return sql.split(/;\s*\n/).every((statement) => SAFE_TO_REPEAT.test(statement));
}
const BEGINS = /^\s*(begin|start transaction)\b/i;
// A COMMIT alone, or as the last statement of a multi-statement query (src/db/dialect.ts,
// batchThenCommit, MySQL): that text has `?` for every value, so no value can fake one. A
// PostgreSQL batch, whose values are written in, never carries a COMMIT, and its text ends with
// its last statement's own text or a literal's closing quote, never inside a value.
const ENDS = /(?:^|;)\s*(commit|rollback)\s*;?\s*$/i;
const COMMIT = /(?:^|;)\s*commit\s*;?\s*$/i;
/** Schema changes (migrations) may rightly take long on big tables: no statement limit. */
const SCHEMA_CHANGE = /^\s*(create|alter|drop|rename|truncate)\b/i;

export interface AvailabilityLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

/** Whether the database answers, as the last statements saw it; logs each change once. */
export class DbAvailability {
  private downSince: number | null = null;
  private failures = 0;
  constructor(
    private readonly what: string,
    private logger: AvailabilityLogger | null = null,
  ) {}

  setLogger(logger: AvailabilityLogger | null): void {
    this.logger = logger;
  }

  get available(): boolean {
    return this.downSince === null;
  }

  down(err: unknown): void {
    this.failures++;
    if (this.downSince !== null) return;
    this.downSince = Date.now();
    this.logger?.warn(
      { database: this.what, error: (err as Error)?.message ?? String(err) },
      'database unavailable: answering 503 until it is back',
    );
  }

  up(): void {
    if (this.downSince === null) return;
    const seconds = Math.round((Date.now() - this.downSince) / 100) / 10;
    this.logger?.info({ database: this.what, seconds, failed_statements: this.failures }, 'database available again');
    this.downSince = null;
    this.failures = 0;
  }
}

export interface Limits {
  /** ms to wait for a pooled connection. */
  acquireTimeoutMs: number;
  /** ms to wait for one statement's answer. */
  statementTimeoutMs: number;
  /** Connections in the pool: the most stale ones a statement may meet in a row. */
  poolSize: number;
  availability: DbAvailability;
}

/** Wait for `p` at most `ms`; on timeout `late` gets what `p` eventually gives. */
function deadline<T>(p: Promise<T>, ms: number, onTimeout: () => Error, late: (v: T) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      reject(onTimeout());
    }, ms);
    timer.unref?.();
    p.then(
      (v) => {
        if (done) return late(v);
        done = true;
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/**
 * The per-checkout bookkeeping both dialects share: the transaction state, whether a COMMIT
 * was sent, the raw connection being dead.
 */
abstract class Guarded<Raw> {
  protected inTransaction = false;
  protected commitSent = false;
  protected dead = false;
  protected statements = 0;

  constructor(
    protected raw: Raw,
    protected readonly limits: Limits,
    private readonly acquireRaw: () => Promise<Raw>,
  ) {}

  protected abstract send(raw: Raw, sql: string, params: readonly unknown[]): Promise<unknown>;
  /** Close the raw connection for good (never back into the pool). */
  protected abstract destroyRaw(raw: Raw): void;

  protected unavailable(message: string, cause: unknown, sql: string): DatabaseUnavailableError {
    // Nothing can have been committed unless the failed statement was (or followed) a COMMIT,
    // or was a write outside a transaction.
    const retriable = !this.commitSent && !COMMIT.test(sql) && (this.inTransaction || safeToRepeat(sql) || ENDS.test(sql));
    return new DatabaseUnavailableError(message, retriable, { cause });
  }

  async run(sql: string, params: readonly unknown[]): Promise<unknown> {
    if (this.dead) throw this.unavailable('The database connection was lost', null, sql);
    const first = this.statements++ === 0;
    if (COMMIT.test(sql)) this.commitSent = true;
    try {
      const result = await this.timed(sql, params);
      this.track(sql);
      this.limits.availability.up();
      return result;
    } catch (err) {
      if (!isConnectionFailure(err)) throw err;
      this.kill();
      // A connection that died idle in the pool: the statement once more on a live one, when
      // safe — a read or a BEGIN, or any first statement that never reached the server. The
      // pool may hold several such connections after an outage: each is dropped in turn (at
      // most the pool's size); a database that is really down fails to connect.
      let last = err;
      if (first && !this.inTransaction && (safeToRepeat(sql) || neverSent(err))) {
        for (let stale = 0; isStaleConnection(last) && stale < this.limits.poolSize; stale++) {
          try {
            this.raw = await acquireWithin(this.acquireRaw, this.limits, (r) => this.destroyRaw(r));
            this.dead = false;
            const result = await this.timed(sql, params);
            this.track(sql);
            this.limits.availability.up();
            return result;
          } catch (again) {
            if (!isConnectionFailure(again)) throw again;
            this.kill();
            last = again;
          }
        }
      }
      this.limits.availability.down(last);
      throw this.unavailable(describe(last), last, sql);
    }
  }

  private track(sql: string): void {
    // A query may do both ("begin; …; commit"): it ended the transaction.
    if (ENDS.test(sql)) this.inTransaction = false;
    else if (BEGINS.test(sql)) this.inTransaction = true;
  }

  private timed(sql: string, params: readonly unknown[]): Promise<unknown> {
    const raw = this.raw;
    const ms = this.limits.statementTimeoutMs;
    if (ms <= 0 || SCHEMA_CHANGE.test(sql)) return this.send(raw, sql, params);
    return deadline(
      this.send(raw, sql, params),
      ms,
      () => {
        // No answer in time: this connection is closed, its late answer ignored.
        const e = new Error(`No answer from the database within ${ms / 1000} s ([database] statement_timeout)`);
        (e as { code?: string }).code = 'ETIMEDOUT';
        return e;
      },
      () => {},
    );
  }

  protected kill(): void {
    if (this.dead) return;
    this.dead = true;
    try {
      this.destroyRaw(this.raw);
    } catch {
      // already closed
    }
  }
}

function describe(err: unknown): string {
  const e = err as { code?: string; message?: string };
  return `The database is unavailable: ${e?.message ?? String(err)}${e?.code && !e.message?.includes(e.code) ? ` (${e.code})` : ''}`;
}

async function acquireWithin<Raw>(acquire: () => Promise<Raw>, limits: Limits, release: (r: Raw) => void): Promise<Raw> {
  const ms = limits.acquireTimeoutMs;
  try {
    return await deadline(
      acquire(),
      ms,
      () =>
        new DatabaseUnavailableError(`The database is unavailable: no connection within ${ms / 1000} s ([database] pool_timeout)`, true),
      release,
    );
  } catch (err) {
    if (!isConnectionFailure(err)) throw err;
    limits.availability.down(err);
    throw err instanceof DatabaseUnavailableError ? err : new DatabaseUnavailableError(describe(err), true, { cause: err });
  }
}

// ---------------------------------------------------------------- MySQL / MariaDB (mysql2)

type Mysql2Connection = MysqlPoolConnection & { destroy(): void };

class GuardedMysqlConnection extends Guarded<Mysql2Connection> implements MysqlPoolConnection {
  protected send(raw: Mysql2Connection, sql: string, params: readonly unknown[]): Promise<unknown> {
    return new Promise((resolve, reject) => raw.query(sql, [...params], (err, result) => (err ? reject(err) : resolve(result))));
  }

  protected destroyRaw(raw: Mysql2Connection): void {
    raw.destroy();
  }

  query(sql: string, parameters: unknown[]): never;
  query(sql: string, parameters: unknown[], callback: (error: unknown, result: never) => void): void;
  query(sql: string, parameters: unknown[], callback?: (error: unknown, result: never) => void): void {
    if (!callback) throw new Error('streaming queries are not used by Warre');
    this.run(sql, parameters).then(
      (r) => callback(null, r as never),
      (err: unknown) => callback(err, undefined as never),
    );
  }

  release(): void {
    if (!this.dead) this.raw.release();
  }
}

export function guardMysqlPool(pool: MysqlPool, limits: Limits): MysqlPool {
  const acquireRaw = () =>
    new Promise<Mysql2Connection>((resolve, reject) =>
      pool.getConnection((err, c) => (err ? reject(err) : resolve(c as unknown as Mysql2Connection))),
    );
  return {
    getConnection(callback) {
      acquireWithin(acquireRaw, limits, (c) => c.release()).then(
        (raw) => callback(null, new GuardedMysqlConnection(raw, limits, acquireRaw)),
        (err: unknown) => callback(err, undefined as never),
      );
    },
    end: (callback) => pool.end(callback),
  };
}

// ---------------------------------------------------------------- PostgreSQL (pg)

interface PgClient extends PostgresPoolClient {
  connection?: { stream?: { destroy(): void } };
}

/**
 * node-postgres answers a multi-statement query (a batch, src/db/dialect.ts) with one result per
 * statement; Kysely reads one. The results become the rows of one answer, which the batch
 * reads back statement by statement.
 */
function oneAnswer(result: unknown): unknown {
  if (!Array.isArray(result)) return result;
  const rows: PgStatementResult[] = result.map((r: PgStatementResult) => ({ command: r.command, rowCount: r.rowCount, rows: r.rows }));
  return { command: 'BATCH', rowCount: null, rows };
}

class GuardedPgClient extends Guarded<PgClient> {
  protected send(raw: PgClient, sql: string, params: readonly unknown[]): Promise<unknown> {
    const p = raw.query(sql, params).then(oneAnswer);
    p.catch(() => {}); // a late failure after a timeout is not unhandled
    return p;
  }

  protected destroyRaw(raw: PgClient): void {
    raw.release(true);
    raw.connection?.stream?.destroy();
  }

  query(sql: string, parameters: readonly unknown[]): Promise<never> {
    return this.run(sql, parameters) as Promise<never>;
  }

  release(destroy?: boolean): void {
    if (!this.dead) this.raw.release(destroy);
  }
}

export function guardPgPool(pool: PostgresPool, limits: Limits): PostgresPool {
  const listening = new WeakSet<PgClient>();
  const acquireRaw = async () => {
    const client = (await pool.connect()) as PgClient;
    if (!listening.has(client)) {
      // A checked-out client whose socket fails (a write into a reset connection) emits
      // 'error', which the pool only listens to while the client is idle; the failure
      // reaches the statement anyway. Without a listener it would end the process.
      (client as unknown as { on(e: 'error', f: () => void): void }).on('error', () => {});
      listening.add(client);
    }
    return client;
  };
  return {
    async connect() {
      const raw = await acquireWithin(acquireRaw, limits, (c) => c.release());
      return new GuardedPgClient(raw, limits, acquireRaw) as unknown as PostgresPoolClient;
    },
    end: () => pool.end(),
  };
}
