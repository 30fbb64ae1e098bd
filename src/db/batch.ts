/**
 * Statements sent together: a use case that knows its next statements before it reads the
 * answers (a reservation create's locks and reads, then its writes) runs them as one batch —
 * one round trip on MySQL and PostgreSQL (src/db/dialect.ts, `batch`), one by one on SQLite, always
 * in order.
 * Repositories build the steps; the service decides on their answers, as it would have one by one.
 */
import type { Compilable, CompiledQuery, QueryResult } from 'kysely';
import type { Queryable } from './connect.js';

/** One statement and how to read its answer. */
export interface Step<T> {
  readonly query: CompiledQuery;
  read(result: QueryResult<unknown>): T;
}

export function step<R, T>(query: Compilable<R>, read: (rows: R[], result: QueryResult<unknown>) => T): Step<T> {
  return { query: query.compile(), read: (result) => read(result.rows as R[], result) };
}

/** A step's reading; undefined for a skipped (null) step. Distributes over `Step<T> | null`. */
type AnswerOf<X> = X extends Step<infer T> ? T : undefined;
type Answers<S extends readonly (Step<unknown> | null)[]> = { -readonly [K in keyof S]: AnswerOf<S[K]> };

/** Runs the steps in order (skipping nulls) and answers each one's reading, in the same positions. */
export async function runSteps<const S extends readonly (Step<unknown> | null)[]>(db: Queryable, steps: S): Promise<Answers<S>> {
  return run(db, steps, false);
}

/**
 * {@link runSteps} for the last statements of a write transaction (src/db/transaction.ts): on
 * MySQL the COMMIT goes with them, one round trip less (src/db/dialect.ts, `batchThenCommit`).
 * It must be the callback's last await: once it answered, what the transaction wrote is kept
 * even if the callback throws afterwards.
 */
export async function runStepsThenCommit<const S extends readonly (Step<unknown> | null)[]>(tx: Queryable, steps: S): Promise<Answers<S>> {
  return run(tx, steps, true);
}

async function run<const S extends readonly (Step<unknown> | null)[]>(db: Queryable, steps: S, thenCommit: boolean): Promise<Answers<S>> {
  const present = steps.filter((s): s is Step<unknown> => s !== null);
  const queries = present.map((s) => s.query);
  const results = await (thenCommit ? db.dialect.batchThenCommit(db.kysely, queries) : db.dialect.batch(db.kysely, queries));
  let i = 0;
  return steps.map((s) => (s === null ? undefined : s.read(results[i++]!))) as Answers<S>;
}
