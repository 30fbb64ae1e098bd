/**
 * MySQL/MariaDB: a transaction's BEGIN travels with its first statement. Kysely sends `begin` as
 * a round trip of its own; this driver wrapper holds it back and sends `begin;` in front of the
 * transaction's first statement, as one multi-statement query (the pool allows them, see
 * src/db/connect.ts), so every write transaction costs one round trip less (a reservation
 * create: begin+locks+reads, the inserts, commit). Nothing else changes: the statements run in
 * the same order on the same connection, and a transaction that sent no statement sends no
 * COMMIT or ROLLBACK either. Transactions with settings (isolation level, access mode) begin
 * the ordinary way.
 *
 * The other end likewise: a transaction's last statements may carry its COMMIT (src/db/batch.ts,
 * `runStepsThenCommit`; the query is listed in {@link COMMITTING}); once that query succeeded,
 * Kysely's own COMMIT is not sent again. Should it fail, the server stopped at the failing
 * statement, before the COMMIT, and the ROLLBACK that follows undoes the transaction as ever.
 */
import { CompiledQuery, type DatabaseConnection, type Driver, MysqlDialect, type QueryResult, type TransactionSettings } from 'kysely';
import { COMMITTING, mysqlQueryResult } from './dialect.js';

class LazyBeginConnection implements DatabaseConnection {
  pendingBegin = false;
  /** The transaction's COMMIT went with its last statements: nothing left to send. */
  committed = false;
  constructor(readonly inner: DatabaseConnection) {}

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const result = await this.send<R>(query);
    if (COMMITTING.has(query)) this.committed = true;
    return result;
  }

  private async send<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    if (!this.pendingBegin) return this.inner.executeQuery<R>(query);
    this.pendingBegin = false;
    const { rows } = await this.inner.executeQuery(CompiledQuery.raw(`begin;\n${query.sql}`, [...query.parameters]));
    // One answer per statement: BEGIN's, then the query's own (one, or one per statement of a batch).
    const own = (rows as unknown[]).slice(1);
    if (own.length === 1) return mysqlQueryResult(own[0]) as QueryResult<R>;
    return { rows: own as R[] };
  }

  async *streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    await this.flushBegin();
    yield* this.inner.streamQuery<R>(query, chunkSize);
  }

  /**
   * Whether the transaction needs no COMMIT or ROLLBACK of its own: it sent nothing, or its
   * COMMIT went with its last statements. Either way the connection is then outside any.
   */
  ended(): boolean {
    const ended = this.pendingBegin || this.committed;
    this.pendingBegin = false;
    this.committed = false;
    return ended;
  }

  async flushBegin(): Promise<void> {
    if (!this.pendingBegin) return;
    this.pendingBegin = false;
    await this.inner.executeQuery(CompiledQuery.raw('begin'));
  }
}

class LazyBeginDriver implements Driver {
  constructor(private readonly inner: Driver) {}
  init(): Promise<void> {
    return this.inner.init();
  }
  async acquireConnection(): Promise<DatabaseConnection> {
    return new LazyBeginConnection(await this.inner.acquireConnection());
  }
  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const c = connection as LazyBeginConnection;
    if (settings.isolationLevel || settings.accessMode) return this.inner.beginTransaction(c.inner, settings);
    c.pendingBegin = true;
  }
  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const c = connection as LazyBeginConnection;
    if (!c.ended()) return this.inner.commitTransaction(c.inner);
  }
  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    // After a COMMIT that went with the last statements, a callback that failed later
    // (runStepsThenCommit must be its last await) has nothing left to undo: what it wrote is kept.
    const c = connection as LazyBeginConnection;
    if (!c.ended()) return this.inner.rollbackTransaction(c.inner);
  }
  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection((connection as LazyBeginConnection).inner);
  }
  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}

/** Kysely's MySQL dialect whose transactions send BEGIN with their first statement. */
export class LazyBeginMysqlDialect extends MysqlDialect {
  override createDriver(): Driver {
    return new LazyBeginDriver(super.createDriver());
  }
}
