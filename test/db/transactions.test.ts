/**
 * Write transactions and batches on every dialect (src/db/transaction.ts, src/db/batch.ts,
 * src/db/lazy-begin.ts): what a transaction did is all kept or all undone, whether its BEGIN
 * went alone or with its first statement, and a batch answers each statement in its place —
 * also the last batch, which carries the COMMIT on MySQL (no second COMMIT is sent).
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSteps, runStepsThenCommit, step } from '../../src/db/batch.js';
import type { Db } from '../../src/db/connect.js';
import { writeTransaction } from '../../src/db/transaction.js';
import { DIALECTS, migratedDatabase } from '../support/db.js';

describe.each(DIALECTS)('transactions on %s', (dialect) => {
  let db: Db;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ db, close } = await migratedDatabase(dialect));
  });
  afterAll(async () => close?.());

  const lockRow = (id: string) =>
    db.kysely.selectFrom('warre_project_lock').select('project_id').where('project_id', '=', id).executeTakeFirst();

  it('keeps what a transaction whose first statement is a write did, once committed', async () => {
    await writeTransaction(db, async (tx) => {
      await tx.kysely
        .insertInto('warre_project_lock')
        .values({ project_id: `kept-${dialect}` })
        .execute();
    });
    expect(await lockRow(`kept-${dialect}`)).toBeDefined();
  });

  it('undoes everything when the transaction fails after its first statement (BEGIN took effect)', async () => {
    await expect(
      writeTransaction(db, async (tx) => {
        await tx.kysely
          .insertInto('warre_project_lock')
          .values({ project_id: `undone-${dialect}` })
          .execute();
        await runSteps(tx, [
          step(tx.kysely.insertInto('warre_project_lock').values({ project_id: `undone2-${dialect}` }), () => undefined),
        ]);
        throw new Error('refused');
      }),
    ).rejects.toThrow('refused');
    expect(await lockRow(`undone-${dialect}`)).toBeUndefined();
    expect(await lockRow(`undone2-${dialect}`)).toBeUndefined();
  });

  it('a transaction that sends nothing, or fails before sending anything, leaves the connection usable', async () => {
    expect(await writeTransaction(db, async () => 42)).toBe(42);
    await expect(
      writeTransaction(db, async () => {
        throw new Error('before any statement');
      }),
    ).rejects.toThrow('before any statement');
    expect(await writeTransaction(db, async (tx) => (await tx.kysely.selectFrom('flavor').select('id').execute()).length)).toBe(0);
  });

  it('a batch answers each statement in its place, reads and writes mixed, inside and outside a transaction', async () => {
    const batch = (q: typeof db) =>
      runSteps(q, [
        step(q.kysely.insertInto('warre_project_lock').values({ project_id: `batch-${dialect}-${q === db ? 'out' : 'in'}` }), (_, r) =>
          Number(r.numAffectedRows ?? 0n),
        ),
        null,
        step(
          q.kysely
            .selectFrom('warre_project_lock')
            .select('project_id')
            .where('project_id', 'like', `batch-${dialect}-%`)
            .orderBy('project_id'),
          (rows) => rows.map((r) => r.project_id),
        ),
        step(q.kysely.selectFrom('flavor').select('id'), (rows) => rows.length),
      ]);
    expect(await batch(db)).toEqual([1, undefined, [`batch-${dialect}-out`], 0]);
    expect(await writeTransaction(db, (tx) => batch(tx as typeof db))).toEqual([
      1,
      undefined,
      [`batch-${dialect}-in`, `batch-${dialect}-out`],
      0,
    ]);
  });

  it('keeps what a transaction ending with runStepsThenCommit wrote, and answers its statements in place', async () => {
    const answers = await writeTransaction(db, async (tx) => {
      const [locked] = await runSteps(tx, [step(tx.kysely.selectFrom('flavor').select('id'), (rows) => rows.length)]);
      return runStepsThenCommit(tx, [
        step(tx.kysely.insertInto('warre_project_lock').values({ project_id: `last-${dialect}` }), (_, r) =>
          Number(r.numAffectedRows ?? 0n),
        ),
        null,
        step(tx.kysely.selectFrom('warre_project_lock').select('project_id').where('project_id', '=', `last-${dialect}`), (rows) =>
          rows.map((r) => r.project_id),
        ),
      ]).then((a) => [locked, ...a]);
    });
    expect(answers).toEqual([0, 1, undefined, [`last-${dialect}`]]);
    expect(await lockRow(`last-${dialect}`)).toBeDefined();
    // Also as the transaction's only statements (BEGIN, the statement and COMMIT in one query on MySQL).
    await writeTransaction(db, (tx) =>
      runStepsThenCommit(tx, [step(tx.kysely.insertInto('warre_project_lock').values({ project_id: `only-${dialect}` }), () => undefined)]),
    );
    expect(await lockRow(`only-${dialect}`)).toBeDefined();
  });

  it('undoes everything when a statement of the committing batch fails (the COMMIT after it never ran)', async () => {
    await writeTransaction(db, (tx) =>
      tx.kysely
        .insertInto('warre_project_lock')
        .values({ project_id: `dup-${dialect}` })
        .execute(),
    );
    await expect(
      writeTransaction(db, async (tx) => {
        await tx.kysely
          .insertInto('warre_project_lock')
          .values({ project_id: `first-${dialect}` })
          .execute();
        await runStepsThenCommit(tx, [
          step(tx.kysely.insertInto('warre_project_lock').values({ project_id: `second-${dialect}` }), () => undefined),
          step(tx.kysely.insertInto('warre_project_lock').values({ project_id: `dup-${dialect}` }), () => undefined),
        ]);
      }),
    ).rejects.toThrow();
    expect(await lockRow(`first-${dialect}`)).toBeUndefined();
    expect(await lockRow(`second-${dialect}`)).toBeUndefined();
    // The connection is usable again, and outside any transaction.
    await writeTransaction(db, (tx) =>
      tx.kysely
        .insertInto('warre_project_lock')
        .values({ project_id: `after-${dialect}` })
        .execute(),
    );
    expect(await lockRow(`after-${dialect}`)).toBeDefined();
  });
});

describe('the COMMIT travels with the last statements on MySQL', () => {
  let db: Db;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ db, close } = await migratedDatabase('mysql', 1)); // one connection: its session counters are ours
  });
  afterAll(async () => close?.());

  const commits = async () => {
    const { rows } = await sql<{ Value: string }>`show session status like 'Com_commit'`.execute(db.kysely);
    return Number(rows[0]!.Value);
  };

  it('sends one COMMIT per transaction, in the same round trip as the last batch', async () => {
    const before = await commits();
    for (let i = 0; i < 3; i++) {
      await writeTransaction(db, async (tx) => {
        await runSteps(tx, [step(tx.kysely.selectFrom('flavor').select('id'), () => undefined)]);
        await runStepsThenCommit(tx, [
          step(tx.kysely.insertInto('warre_project_lock').values({ project_id: `counted-${i}` }), () => undefined),
        ]);
      });
    }
    expect((await commits()) - before).toBe(3);
    // And the session is outside any transaction afterwards: a write outside is kept at once.
    const { rows } = await sql<{ t: number }>`select @@in_transaction as t`.execute(db.kysely);
    expect(Number(rows[0]!.t)).toBe(0);
  });
});
