/**
 * Every difference between SQLite, MySQL/MariaDB and PostgreSQL that Warre's SQL meets, in one
 * small adapter per dialect (in the manner of Kysely's own `DialectAdapter`). Repositories,
 * migrations and transactions ask the adapter; nothing else in the tree asks which dialect it
 * runs on (ARCHITECTURE.md, "db/").
 *
 * What differs:
 * - value encoding (datetimes as text, booleans as 0/1, JSON as text): {@link Codec};
 * - epoch arithmetic computed by the database ({@link DialectAdapter.epochSeconds});
 * - "insert if absent" (`INSERT IGNORE` or `ON CONFLICT DO NOTHING`);
 * - row locks (`FOR UPDATE`, `FOR UPDATE SKIP LOCKED`), meaningless on SQLite, where a write
 *   transaction holds the whole database ({@link DialectAdapter.writeTransaction});
 * - planner hints (MariaDB's `FORCE INDEX`, SQLite's unary `+`);
 * - the column types and table options of the DDL.
 */
import {
  type AnyColumn,
  type ColumnDataType,
  CompiledQuery,
  type InsertQueryBuilder,
  type InsertResult,
  type Kysely,
  type QueryResult,
  type RawBuilder,
  type SelectQueryBuilder,
  sql,
  type Transaction,
} from 'kysely';
import { type Codec, codecFor, type DialectName } from './codec.js';
import type { Database } from './schema.js';

export type { DialectName } from './codec.js';

export interface DialectAdapter {
  readonly name: DialectName;
  /** Domain values → this dialect's column values. */
  readonly codec: Codec;
  /** Whether `SELECT … FOR UPDATE` exists (not on SQLite, where writers are serialised whole). */
  readonly rowLocks: boolean;
  /**
   * Runs `fn` in one serialised read-check-write transaction (docs/api.md#no-overbooking):
   * SQLite `BEGIN IMMEDIATE` (the database write lock, taken up front, serialises writers across
   * processes); PostgreSQL READ COMMITTED; MySQL READ COMMITTED as set on every connection
   * (src/db/connect.ts), which saves a round trip per transaction.
   */
  writeTransaction<T>(kysely: Kysely<Database>, fn: (trx: Kysely<Database>) => Promise<T>): Promise<T>;
  /**
   * Runs the statements in order on one connection (a transaction's), each seeing what the ones
   * before it did — a lock taken by one holds for the next — and answers one result per
   * statement. MySQL sends them in one round trip (a multi-statement query); the others one by
   * one (PostgreSQL's extended protocol takes one statement per message; SQLite has no round trip).
   */
  batch(kysely: Kysely<Database>, queries: readonly CompiledQuery[]): Promise<QueryResult<unknown>[]>;
  /**
   * {@link batch} for a write transaction's last statements: MySQL sends the transaction's COMMIT
   * with them, in the same round trip (src/db/lazy-begin.ts then sends no COMMIT of its own);
   * the others run them and leave the COMMIT to {@link writeTransaction}, as ever.
   */
  batchThenCommit(kysely: Kysely<Database>, queries: readonly CompiledQuery[]): Promise<QueryResult<unknown>[]>;
  /** A datetime column as whole epoch seconds, computed by the database. */
  epochSeconds(column: string): RawBuilder<number>;
  /**
   * An aggregate: the integer values of every row of the group as one text, in decimal, comma
   * separated (`a,b,c,a,b,c,…`; a NULL is 0) — where the database writes such a text faster than
   * it hands over the rows: SQLite, where better-sqlite3 makes a JavaScript value of every column
   * of every row (availability's occupancy: 8 instead of 10 ms). Null on MySQL and PostgreSQL:
   * MariaDB's GROUP_CONCAT costs more than its rows (BENCHMARKS.md, issue 7).
   */
  integersAsText: ((values: readonly RawBuilder<number>[]) => RawBuilder<string>) | null;
  /** Lock the selected rows until the transaction ends; unchanged on SQLite. */
  lockRows<DB, TB extends keyof DB, O>(q: SelectQueryBuilder<DB, TB, O>): SelectQueryBuilder<DB, TB, O>;
  /**
   * Lock the selected rows of `table`, skipping rows another transaction holds (a work queue's
   * claim: several workers never wait on, nor take, the same row); unchanged on SQLite.
   */
  claimRows<TB extends keyof Database & string, O>(q: SelectQueryBuilder<Database, TB, O>, table: TB): SelectQueryBuilder<Database, TB, O>;
  /** Insert the row unless one with the same key exists; true when it was inserted. */
  insertIfAbsent<TB extends keyof Database & string>(
    q: InsertQueryBuilder<Database, TB, InsertResult>,
    key: readonly AnyColumn<Database, TB>[],
  ): Promise<boolean>;
  /**
   * A column reference the planner must not pick an index for. Only SQLite needs telling: without
   * statistics its planner may prefer a worse index (see repositories/occupancy.ts).
   */
  notIndexed(column: string): RawBuilder<unknown>;
  /** `table` for a FROM clause, telling MariaDB to walk `index` (Kysely has no index hints). */
  tableUsingIndex(table: string, index: string): RawBuilder<unknown>;
  /** Whether a table of that name exists in the current database/schema. */
  tableExists(kysely: Kysely<Database>, name: string): Promise<boolean>;
  /** DDL spellings: Kysely's datetime type, and the raw types of the Python schema (0001-base-schema). */
  readonly ddl: {
    datetime: ColumnDataType;
    timestampSql: string;
    booleanSql: string;
    quote(name: string): string;
    /** Appended to CREATE TABLE (MariaDB: InnoDB and utf8mb4, as the Python service's tables). */
    tableOptions: string;
    /**
     * An auto-increment integer primary key: its column type, and whether Kysely's
     * `autoIncrement()` is to be added (SQLite `integer … autoincrement`, MySQL `bigint …
     * auto_increment`; PostgreSQL has the `bigserial` type instead).
     */
    serialKey: { type: ColumnDataType; autoIncrement: boolean };
    /** Index names belong to their table (MySQL: `DROP INDEX name ON table`), not to the schema. */
    indexNamesPerTable: boolean;
  };
}

async function countOne(kysely: Kysely<Database>, query: RawBuilder<{ n: number }>): Promise<boolean> {
  const r = await query.execute(kysely);
  return Number(r.rows[0]?.n) > 0;
}

/** One statement after the other: the batch of the dialects without multi-statement queries. */
async function oneByOne(kysely: Kysely<Database>, queries: readonly CompiledQuery[]): Promise<QueryResult<unknown>[]> {
  const results: QueryResult<unknown>[] = [];
  for (const q of queries) results.push(await kysely.executeQuery(q));
  return results;
}

/**
 * MySQL: the statements joined into one multi-statement query (the pool allows them, see
 * src/db/connect.ts); mysql2 answers a list with one entry per statement: the rows of a SELECT,
 * or the OK packet of a write. The server runs them in order and stops at the first error,
 * which is raised as the whole query's.
 */
async function multiStatement(kysely: Kysely<Database>, queries: readonly CompiledQuery[]): Promise<QueryResult<unknown>[]> {
  if (queries.length <= 1) return oneByOne(kysely, queries);
  const text = queries.map((q) => q.sql).join(';\n');
  const parameters = queries.flatMap((q) => q.parameters);
  const { rows } = await kysely.executeQuery(CompiledQuery.raw(text, parameters as unknown[]));
  return (rows as unknown[]).map(mysqlQueryResult);
}

/**
 * PostgreSQL: the statements as one simple-protocol query, a round trip for all of them (a
 * create's reads under its locks, then its two inserts: 9 round trips become 4 with BEGIN and
 * COMMIT). The simple protocol takes no parameters, so each one is written into its statement
 * as a literal ({@link inlinePgParameters}); a batch holding a value of another kind runs one by
 * one instead. The server runs the statements in order and stops at the first error, raised as
 * the whole query's; node-postgres answers one result per statement (src/db/resilience.ts hands
 * them to Kysely as the rows of one answer).
 */
async function pgMultiStatement(kysely: Kysely<Database>, queries: readonly CompiledQuery[]): Promise<QueryResult<unknown>[]> {
  if (queries.length <= 1) return oneByOne(kysely, queries);
  const texts: string[] = [];
  for (const q of queries) {
    const text = inlinePgParameters(q.sql, q.parameters);
    if (text === null) return oneByOne(kysely, queries);
    texts.push(text);
  }
  const { rows } = await kysely.executeQuery(CompiledQuery.raw(texts.join(';\n'), []));
  if (rows.length !== queries.length) throw new Error(`batch of ${queries.length} statements answered ${rows.length} results`);
  return (rows as PgStatementResult[]).map((r) => ({
    rows: r.rows ?? [],
    ...(PG_WRITES.has(r.command) ? { numAffectedRows: BigInt(r.rowCount ?? 0) } : {}),
  }));
}

/** One statement's answer in a multi-statement PostgreSQL answer (src/db/resilience.ts). */
export interface PgStatementResult {
  command: string;
  rowCount: number | null;
  rows: unknown[] | undefined;
}

const PG_WRITES = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE']);

/**
 * `sql` with each `$n` outside quotes replaced by parameter n as a PostgreSQL literal, or null
 * when a parameter is of a kind not written here (a Date, a Buffer, an array…). Strings are
 * written as node-postgres's `escapeLiteral` writes them — quotes doubled, and backslashes
 * doubled in an E'' literal — so they mean the same whatever `standard_conforming_strings` says.
 * Hand-written: node-postgres formats literals but does not substitute placeholders, and
 * pulling it in here would load it in every process whatever its database.
 */
export function inlinePgParameters(sql: string, parameters: readonly unknown[]): string | null {
  const literals: string[] = [];
  for (const p of parameters) {
    const literal = pgLiteral(p);
    if (literal === null) return null;
    literals.push(literal);
  }
  let out = '';
  let i = 0;
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === "'" || c === '"') {
      // A quoted literal or identifier, copied as is (a doubled quote stays inside it).
      let j = i + 1;
      for (;;) {
        if (j >= sql.length) return null;
        if (sql[j] === c) {
          if (sql[j + 1] === c) j += 2;
          else break;
        } else j++;
      }
      out += sql.slice(i, j + 1);
      i = j + 1;
    } else if (c === '$' && /[0-9]/.test(sql[i + 1] ?? '')) {
      let j = i + 1;
      while (j < sql.length && /[0-9]/.test(sql[j]!)) j++;
      const literal = literals[Number(sql.slice(i + 1, j)) - 1];
      if (literal === undefined) return null;
      out += literal;
      i = j;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

function pgLiteral(v: unknown): string | null {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  // Negative numbers in parentheses: after a minus sign, "--5" would start a comment.
  if (typeof v === 'bigint') return v < 0n ? `(${v})` : String(v);
  if (typeof v === 'number') return Number.isFinite(v) ? (v < 0 || Object.is(v, -0) ? `(${v})` : String(v)) : null;
  if (typeof v !== 'string' || v.includes('\0')) return null;
  const quoted = `'${v.replaceAll("'", "''")}'`;
  return v.includes('\\') ? ` E${quoted.replaceAll('\\', '\\\\')}` : quoted;
}

/** MySQL multi-statement queries whose last statement is the transaction's COMMIT (src/db/lazy-begin.ts). */
export const COMMITTING = new WeakSet<CompiledQuery>();

/**
 * MySQL: the statements and the COMMIT in one multi-statement query, marked for the driver
 * (src/db/lazy-begin.ts) so that Kysely's COMMIT is not sent again. The server stops at the first
 * failing statement: then nothing was committed, and the transaction rolls back as ever.
 */
async function multiStatementThenCommit(kysely: Kysely<Database>, queries: readonly CompiledQuery[]): Promise<QueryResult<unknown>[]> {
  const text = [...queries.map((q) => q.sql), 'commit'].join(';\n');
  const query = CompiledQuery.raw(text, queries.flatMap((q) => q.parameters) as unknown[]);
  COMMITTING.add(query);
  const { rows } = await kysely.executeQuery(query);
  // One answer per statement, the COMMIT's last (a lone statement and its COMMIT: two).
  return (rows as unknown[]).slice(0, queries.length).map(mysqlQueryResult);
}

/** One statement's answer within a mysql2 multi-statement answer, as Kysely's result. */
export function mysqlQueryResult(r: unknown): QueryResult<unknown> {
  if (Array.isArray(r)) return { rows: r };
  const ok = r as { affectedRows?: number; changedRows?: number; insertId?: number | string };
  return {
    rows: [],
    numAffectedRows: BigInt(ok.affectedRows ?? 0),
    ...(ok.changedRows !== undefined ? { numChangedRows: BigInt(ok.changedRows) } : {}),
    ...(ok.insertId !== undefined && ok.insertId !== null && String(ok.insertId) !== '0' ? { insertId: BigInt(ok.insertId) } : {}),
  };
}

const sqlite: DialectAdapter = {
  name: 'sqlite',
  codec: codecFor('sqlite'),
  rowLocks: false,
  writeTransaction: (kysely, fn) =>
    kysely.connection().execute(async (conn) => {
      await sql`begin immediate`.execute(conn);
      try {
        const result = await fn(conn);
        await sql`commit`.execute(conn);
        return result;
      } catch (err) {
        await sql`rollback`.execute(conn).catch(() => {});
        throw err;
      }
    }),
  batch: oneByOne,
  batchThenCommit: oneByOne,
  epochSeconds: (column) => sql<number>`unixepoch(${sql.ref(column)})`,
  integersAsText: (values) =>
    sql<string>`group_concat(${sql.join(
      values.map((v) => sql`ifnull(${v}, 0)`),
      sql` || ',' || `,
    )}, ',')`,
  lockRows: (q) => q,
  claimRows: (q) => q,
  async insertIfAbsent(q, key) {
    const r = await q.onConflict((oc) => oc.columns(key).doNothing()).executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) > 0;
  },
  notIndexed: (column) => sql`+${sql.ref(column)}`,
  tableUsingIndex: (table) => sql.table(table),
  tableExists: (kysely, name) => countOne(kysely, sql`select count(*) as n from sqlite_master where type = 'table' and name = ${name}`),
  ddl: {
    datetime: 'datetime',
    timestampSql: 'DATETIME',
    booleanSql: 'BOOLEAN',
    quote: (n) => `"${n}"`,
    tableOptions: '',
    serialKey: { type: 'integer', autoIncrement: true },
    indexNamesPerTable: false,
  },
};

const mysql: DialectAdapter = {
  name: 'mysql',
  codec: codecFor('mysql'),
  rowLocks: true,
  writeTransaction: (kysely, fn) => kysely.transaction().execute((trx: Transaction<Database>) => fn(trx)),
  batch: multiStatement,
  batchThenCommit: multiStatementThenCommit,
  // TO_SECONDS counts from year 0 with the same day arithmetic as TIMESTAMPDIFF (equal over
  // 1000–9999, NULL for a zero date alike) and costs a third as much: 12,000 rows of
  // availability read 2 ms faster (BENCHMARKS.md, issue 7). 62167219200 = TO_SECONDS('1970-01-01').
  epochSeconds: (column) => sql<number>`(to_seconds(${sql.ref(column)}) - 62167219200)`,
  integersAsText: null,
  lockRows: (q) => q.forUpdate(),
  claimRows: (q) => q.forUpdate().skipLocked(),
  async insertIfAbsent(q) {
    const r = await q.ignore().executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) > 0;
  },
  notIndexed: (column) => sql.ref(column),
  tableUsingIndex: (table, index) => sql`${sql.table(table)} force index (${sql.id(index)})`,
  tableExists: (kysely, name) =>
    countOne(kysely, sql`select count(*) as n from information_schema.tables where table_schema = database() and table_name = ${name}`),
  ddl: {
    datetime: 'datetime',
    timestampSql: 'DATETIME',
    booleanSql: 'BOOL',
    quote: (n) => `\`${n}\``,
    tableOptions: ' ENGINE=InnoDB DEFAULT CHARSET=utf8mb4',
    serialKey: { type: 'bigint', autoIncrement: true },
    indexNamesPerTable: true,
  },
};

const postgres: DialectAdapter = {
  name: 'postgres',
  codec: codecFor('postgres'),
  rowLocks: true,
  writeTransaction: (kysely, fn) =>
    kysely
      .transaction()
      .setIsolationLevel('read committed')
      .execute((trx: Transaction<Database>) => fn(trx)),
  // date_part gives double precision, which node-postgres parses to a number; extract() gives
  // numeric (and a bigint cast int8), both sent back as text: 25% slower at 10,000 rows. Whole
  // seconds are exact in a double.
  batch: pgMultiStatement,
  batchThenCommit: pgMultiStatement,
  epochSeconds: (column) => sql<number>`date_part('epoch', ${sql.ref(column)})`,
  integersAsText: null,
  lockRows: (q) => q.forUpdate(),
  // FOR UPDATE OF: only the claimed table's rows, not those of the outer-joined job table.
  claimRows: (q, table) => q.forUpdate([table]).skipLocked(),
  async insertIfAbsent(q, key) {
    const r = await q.onConflict((oc) => oc.columns(key).doNothing()).executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) > 0;
  },
  notIndexed: (column) => sql.ref(column),
  tableUsingIndex: (table) => sql.table(table),
  tableExists: (kysely, name) =>
    countOne(
      kysely,
      sql`select count(*) as n from information_schema.tables where table_schema = current_schema() and table_name = ${name}`,
    ),
  ddl: {
    datetime: 'timestamp',
    timestampSql: 'TIMESTAMP WITHOUT TIME ZONE',
    booleanSql: 'BOOLEAN',
    quote: (n) => `"${n}"`,
    tableOptions: '',
    serialKey: { type: 'bigserial', autoIncrement: false },
    indexNamesPerTable: false,
  },
};

const ADAPTERS: Record<DialectName, DialectAdapter> = { sqlite, mysql, postgres };

export function dialectAdapter(name: DialectName): DialectAdapter {
  return ADAPTERS[name];
}
