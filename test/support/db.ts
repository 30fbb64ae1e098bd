/**
 * A fresh database per test file on each dialect: a temporary SQLite file,
 * and `warre_test_<pid>_<n>` on the machine's MariaDB and PostgreSQL,
 * dropped afterwards so two runs never share state.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createConnection } from 'mysql2/promise';
import pg from 'pg';
import type { DatabaseTarget } from '../../src/config/database-url.js';
import { type Db, openDatabase } from '../../src/db/connect.js';
import { upgrade } from '../../src/db/migrate.js';

export type Dialect = 'sqlite' | 'mysql' | 'postgres';
export const DIALECTS: Dialect[] = ['sqlite', 'mysql', 'postgres'];

export const MYSQL = { host: process.env.WARRE_TEST_MYSQL_HOST ?? '127.0.0.1', port: 3306, user: 'root', password: '' };
export const PG = { host: process.env.WARRE_TEST_PG_HOST ?? '127.0.0.1', port: 5432, user: 'postgres', password: '' };

let counter = 0;

export interface TestDatabase {
  target: DatabaseTarget;
  /** SQLAlchemy-style URL of the same database (for spawning warre processes). */
  url: string;
  open(poolSize?: number): Db;
  drop(): Promise<void>;
}

/** Create an empty database (no tables). */
export async function createTestDatabase(dialect: Dialect): Promise<TestDatabase> {
  const name = `warre_test_${process.pid}_${Date.now() % 100000}_${counter++}`;
  switch (dialect) {
    case 'sqlite': {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warre-test-'));
      const filename = path.join(dir, `${name}.db`);
      const target: DatabaseTarget = { dialect: 'sqlite', filename };
      return {
        target,
        url: `sqlite:///${filename}`,
        open: () => openDatabase(target),
        drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
      };
    }
    case 'mysql': {
      const c = await createConnection(MYSQL);
      await c.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
      await c.end();
      const target = {
        dialect: 'mysql',
        host: MYSQL.host,
        port: MYSQL.port,
        user: MYSQL.user,
        password: MYSQL.password,
        database: name,
        params: {},
      } as DatabaseTarget;
      return {
        target,
        url: `mysql+pymysql://root@${MYSQL.host}:${MYSQL.port}/${name}?charset=utf8`,
        open: (poolSize = 10) => openDatabase(target, { poolSize }),
        drop: async () => {
          const c2 = await createConnection(MYSQL);
          await c2.query(`DROP DATABASE IF EXISTS \`${name}\``);
          await c2.end();
        },
      };
    }
    case 'postgres': {
      const c = new pg.Client({ ...PG, database: 'postgres' });
      await c.connect();
      await c.query(`CREATE DATABASE ${name}`);
      await c.end();
      const target = {
        dialect: 'postgres',
        host: PG.host,
        port: PG.port,
        user: PG.user,
        password: PG.password,
        database: name,
        params: {},
      } as DatabaseTarget;
      return {
        target,
        url: `postgresql://postgres@${PG.host}:${PG.port}/${name}`,
        open: (poolSize = 10) => openDatabase(target, { poolSize }),
        drop: async () => {
          const c2 = new pg.Client({ ...PG, database: 'postgres' });
          await c2.connect();
          await c2.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
          await c2.end();
        },
      };
    }
  }
}

/** A migrated database, opened. */
export async function migratedDatabase(
  dialect: Dialect,
  poolSize?: number,
): Promise<{ db: Db; testDb: TestDatabase; close(): Promise<void> }> {
  const testDb = await createTestDatabase(dialect);
  const db = testDb.open(poolSize);
  await upgrade(db);
  return {
    db,
    testDb,
    close: async () => {
      await db.close();
      await testDb.drop();
    },
  };
}
