/**
 * Throw-away databases for the benchmark: an SQLite file in a temporary
 * directory, or `warre_bench_<pid>` on the local MariaDB (root) or
 * PostgreSQL (postgres) server, dropped afterwards.
 */
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { type DatabaseTarget, parseDatabaseUrl } from '../config/database-url.js';
import type { BenchDialect } from './args.js';

export interface BenchDatabase {
  dialect: BenchDialect;
  /** `[database] connection` for the API process. */
  url: string;
  target: DatabaseTarget;
  /** Server or library name and version, for the report. */
  version: string;
  drop(): Promise<void>;
}

export const MYSQL = { host: '127.0.0.1', port: 3306, user: 'root' } as const;
export const POSTGRES = { host: '127.0.0.1', port: 5432, user: 'postgres' } as const;

/** Creates an empty database of this kind; `dir` is a scratch directory (for SQLite). */
export async function createBenchDatabase(dialect: BenchDialect, dir: string): Promise<BenchDatabase> {
  const name = `warre_bench_${process.pid}`;
  switch (dialect) {
    case 'sqlite': {
      const file = path.join(dir, 'bench.db');
      const probe = new SqliteDatabase(':memory:');
      const v = (probe.prepare('select sqlite_version() as v').get() as { v: string }).v;
      probe.close();
      const url = `sqlite:///${file}`;
      return { dialect, url, target: parseDatabaseUrl(url, dir), version: `SQLite ${v} (better-sqlite3, WAL)`, drop: async () => {} };
    }
    case 'mysql': {
      const admin = await mysql.createConnection({ ...MYSQL }).catch((err: Error) => {
        throw new Error(`cannot reach MariaDB at ${MYSQL.host}:${MYSQL.port} as ${MYSQL.user}: ${err.message}`);
      });
      try {
        await admin.query(`DROP DATABASE IF EXISTS \`${name}\``);
        await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`);
        const [rows] = await admin.query('SELECT VERSION() AS v');
        const v = (rows as { v: string }[])[0]?.v ?? '?';
        const url = `mysql+pymysql://${MYSQL.user}@${MYSQL.host}:${MYSQL.port}/${name}`;
        return {
          dialect,
          url,
          target: parseDatabaseUrl(url, dir),
          version: `MariaDB/MySQL ${v}`,
          drop: async () => {
            const c = await mysql.createConnection({ ...MYSQL });
            await c.query(`DROP DATABASE IF EXISTS \`${name}\``).finally(() => c.end());
          },
        };
      } finally {
        await admin.end();
      }
    }
    case 'postgres': {
      const admin = new pg.Client({ ...POSTGRES, database: 'postgres' });
      await admin.connect().catch((err: Error) => {
        throw new Error(`cannot reach PostgreSQL at ${POSTGRES.host}:${POSTGRES.port} as ${POSTGRES.user}: ${err.message}`);
      });
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${name}`);
        await admin.query(`CREATE DATABASE ${name}`);
        const v = (await admin.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]?.v ?? '?';
        const url = `postgresql://${POSTGRES.user}@${POSTGRES.host}:${POSTGRES.port}/${name}`;
        return {
          dialect,
          url,
          target: parseDatabaseUrl(url, dir),
          version: `PostgreSQL ${v}`,
          drop: async () => {
            const c = new pg.Client({ ...POSTGRES, database: 'postgres' });
            await c.connect();
            await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).finally(() => c.end());
          },
        };
      } finally {
        await admin.end();
      }
    }
  }
}
