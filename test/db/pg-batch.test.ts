/**
 * PostgreSQL batches (src/db/dialect.ts, `inlinePgParameters`): the statements go as one
 * simple-protocol query with their parameters written in as literals. The literals must mean
 * exactly what the parameters meant — any text (quotes, backslashes, `$1`, `--`, Unicode),
 * numbers of either sign, booleans, NULL — and a kind not written that way runs one by one.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runSteps, step } from '../../src/db/batch.js';
import type { Db } from '../../src/db/connect.js';
import { inlinePgParameters } from '../../src/db/dialect.js';
import { safeToRepeat } from '../../src/db/resilience.js';
import { migratedDatabase } from '../support/db.js';

describe('inlinePgParameters', () => {
  it('writes each placeholder outside quotes as its literal', () => {
    expect(
      inlinePgParameters(`select "a$1" from "t" where x = $1 and y in ($2, $10) and z = '$1' and n = $3 and b = $4 and c is $5`, [
        "it's",
        -5,
        1.5,
        true,
        null,
        6,
        7,
        8,
        9,
        10n,
      ]),
    ).toBe(`select "a$1" from "t" where x = 'it''s' and y in ((-5), 10) and z = '$1' and n = 1.5 and b = TRUE and c is NULL`);
  });

  it("writes a backslash in an E'' literal, doubled", () => {
    expect(inlinePgParameters('select $1', ['a\\b'])).toBe(`select  E'a\\\\b'`);
  });

  it('refuses kinds it does not write (the batch then runs one by one)', () => {
    for (const v of [new Date(0), Buffer.from('x'), [1], Number.NaN, Number.POSITIVE_INFINITY, 'nul\0', {}]) {
      expect(inlinePgParameters('select $1', [v])).toBeNull();
    }
    expect(inlinePgParameters('select $2', ['only one'])).toBeNull();
    expect(inlinePgParameters(`select 'unterminated`, [])).toBeNull();
  });
});

describe('batches on postgres', () => {
  let db: Db;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ db, close } = await migratedDatabase('postgres'));
  });
  afterAll(async () => close?.());

  // Two statements: the batch path. Each value goes in as a parameter of the first and is read
  // back by the second; the one-statement path (parameters sent apart) must agree.
  const roundTrip = async (id: string, text: string | null, flag: boolean, count: number) => {
    const [, rows] = await runSteps(db, [
      step(
        db.kysely.insertInto('warre_reservation_history').values({
          reservation_id: id,
          project_id: 'p',
          event: 'created',
          time: db.codec.dt(Date.UTC(2027, 0, 1)),
          detail: text,
          user_id: flag ? 'yes' : 'no',
          request_id: String(count),
        }),
        () => undefined,
      ),
      step(
        db.kysely
          .selectFrom('warre_reservation_history')
          .select(['detail', 'user_id', 'request_id'])
          .where('reservation_id', '=', id)
          .where('id', '>', count < 0 ? count : -count - 1),
        (r) => r,
      ),
    ]);
    return rows;
  };

  it('reads back every text, boolean and number exactly as sent', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.option(fc.string({ unit: 'binary', maxLength: 40 }).filter((s) => !s.includes('\0'))),
        fc.boolean(),
        fc.integer({ min: -1_000_000, max: 1_000_000 }),
        async (text, flag, count) => {
          const id = `pg-batch-${n++}`;
          const rows = await roundTrip(id, text, flag, count);
          const expected =
            text === null ? null : text.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
          expect(rows).toEqual([{ detail: expected, user_id: flag ? 'yes' : 'no', request_id: String(count) }]);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('sends a batch as one query, and one by one when a parameter cannot be written in', async () => {
    const spy = vi.spyOn(db.kysely, 'executeQuery');
    try {
      const select = (v: unknown) =>
        step(
          db.kysely.selectNoFrom((eb) => eb.val(v).as('v')),
          (r) => r,
        );
      await runSteps(db, [select('a'), select(2)]);
      expect(spy).toHaveBeenCalledTimes(1);
      spy.mockClear();
      await runSteps(db, [select('a'), select(new Date(0))]);
      expect(spy).toHaveBeenCalledTimes(2);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('safeToRepeat (src/db/resilience.ts) on batches', () => {
  it('holds a batch safe only when every statement is', () => {
    expect(safeToRepeat('select 1;\nselect count(*) from "reservation"')).toBe(true);
    expect(safeToRepeat('select 1;\ninsert into "t" values (1)')).toBe(false);
    expect(safeToRepeat('insert into "t" values (1);\nselect 1')).toBe(false);
    // A transaction's BEGIN in front (MySQL): nothing after it is kept unless committed.
    expect(safeToRepeat('begin;\ninsert into "t" values (1)')).toBe(true);
  });

  it('is not fooled by a written-in value that holds a new statement', () => {
    const text = inlinePgParameters('select $1;\ninsert into "t" values ($2)', ["x';\nselect '", 'y']);
    expect(text).not.toBeNull();
    expect(safeToRepeat(text!)).toBe(false);
  });
});
