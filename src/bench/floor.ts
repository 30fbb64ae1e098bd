/**
 * `node dist/bench/floor.js` (after `npm run build`): what this machine allows at best on
 * MariaDB for two of the issue-11 lines, measured without Warre — a bare `node:http` server
 * that does only the database work of the line, with mysql2 as Warre does, on the benchmark's
 * seeded database:
 *
 * - **creates**: the two round trips of a create (BEGIN + project lock + usage + flavor lock +
 *   grant + occupancy; reservation and history inserts + COMMIT, durable as InnoDB's default),
 *   200 sequential POSTs from another process on one keep-alive connection — no framework,
 *   validation, policy, logging, metrics or JSON view;
 * - **admin list**: the 1,000-row page and the count as one batch, the rows decoded as arrays,
 *   answered with as many bytes as Warre's page (837 KiB) written once in advance, loaded by
 *   `wrk -t2 -c32`, two server processes as `[api] workers = 2`.
 *
 * Anything Warre does on top costs time, so a goal above these numbers cannot be met on this
 * machine (BENCHMARKS.md, "Issue 11, second pass": the machine's floor). Hand-written: the point is to run
 * nothing but the database work.
 */

import { execFile } from 'node:child_process';
import cluster from 'node:cluster';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2';
import { openDatabase } from '../db/connect.js';
import { upgrade } from '../db/migrate.js';
import { DAY, HOUR } from '../domain/time.js';
import { createBenchDatabase, MYSQL } from './databases.js';
import { Client } from './http.js';
import { seed } from './seed.js';
import { parseWrk } from './wrk.js';

const CREATES = 200;
const ROUNDS = 3;
const ADMIN_SECONDS = 10;
const ADMIN_PAGE_BYTES = 837 * 1024;
const EFFECTIVE = "('PENDING_CREATE', 'ALLOCATED', 'ACTIVE')";

type Env = { FLOOR_DB: string; FLOOR_MODE: 'creates' | 'admin' };

/** The server side: one process of the bare server (a cluster worker). */
function serve(env: Env): void {
  const pool = mysql.createPool({ ...MYSQL, database: env.FLOOR_DB, multipleStatements: true, connectionLimit: 16 });
  const query = (sql: string, params: unknown[] = []) =>
    new Promise<unknown>((resolve, reject) => pool.query({ sql, rowsAsArray: true }, params, (e, r) => (e ? reject(e) : resolve(r))));
  const page = Buffer.alloc(ADMIN_PAGE_BYTES, 0x20);
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answer = env.FLOOR_MODE === 'admin' ? admin() : create(JSON.parse(Buffer.concat(chunks).toString('utf8')) as CreateBody);
      answer.then(
        (body) => res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length }).end(body),
        (err: Error) => res.writeHead(500).end(err.message),
      );
    });
  });
  async function admin(): Promise<Buffer> {
    await query(
      'select * from reservation force index (warre_ix_reservation_created) order by created_at, id limit 1000 offset 0; select count(*) from reservation',
    );
    return page;
  }
  async function create(b: CreateBody): Promise<Buffer> {
    const conn = await new Promise<mysql.PoolConnection>((resolve, reject) => pool.getConnection((e, c) => (e ? reject(e) : resolve(c))));
    const q = (sql: string, params: unknown[]) =>
      new Promise<unknown>((resolve, reject) => conn.query({ sql, rowsAsArray: true }, params, (e, r) => (e ? reject(e) : resolve(r))));
    try {
      const start = new Date(b.start);
      const end = new Date(b.end);
      await q(
        `begin;
         select project_id from warre_project_lock where project_id = ? for update;
         select count(*), sum(instance_count * ceil((to_seconds(end) - to_seconds(start)) / 3600.0)) from reservation where project_id = ? and status in ${EFFECTIVE};
         select * from flavor where id = ? for update;
         select id from flavor_project where flavor_id = ? and project_id = ? limit 1;
         select to_seconds(start), to_seconds(end), instance_count from reservation where flavor_id = ? and start <= ? and end >= ? and status in ${EFFECTIVE}`,
        [b.project, b.project, b.flavor, b.flavor, b.project, b.flavor, end, start],
      );
      const id = randomUUID();
      const now = new Date();
      await q(
        `insert into reservation (id, created_at, user_id, project_id, flavor_id, status, start, end, instance_count) values (?, ?, ?, ?, ?, 'PENDING_CREATE', ?, ?, 1);
         insert into warre_reservation_history (reservation_id, project_id, event, time, user_id, status_after, detail) values (?, ?, 'created', ?, 'floor', 'PENDING_CREATE', ?);
         commit`,
        [id, now, 'floor', b.project, b.flavor, start, end, id, b.project, now, JSON.stringify(b)],
      );
      return Buffer.from(JSON.stringify({ id, ...b, status: 'PENDING_CREATE' }));
    } catch (err) {
      conn.query('rollback', () => {});
      throw err;
    } finally {
      conn.release();
    }
  }
  server.listen(0, '127.0.0.1');
  // Cluster workers share the primary's port: the address is the same for every worker.
  server.on('listening', () => process.send?.({ port: (server.address() as AddressInfo).port }));
}

interface CreateBody {
  project: string;
  flavor: string;
  start: number;
  end: number;
}

async function startServers(env: Env, count: number): Promise<{ url: string; stop(): void }> {
  const workers = Array.from({ length: count }, () => cluster.fork(env));
  const port = await new Promise<number>((resolve) => workers[0]!.once('message', (m: { port: number }) => resolve(m.port)));
  await Promise.all(workers.slice(1).map((w) => new Promise((r) => w.once('message', r))));
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () => {
      for (const w of workers) w.kill();
    },
  };
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warre-floor-'));
  const bdb = await createBenchDatabase('mysql', dir);
  try {
    const db = openDatabase(bdb.target);
    await upgrade(db);
    const s = await seed(db, Date.now(), {});
    await db.close();
    if (bdb.target.dialect !== 'mysql') throw new Error('the floor runs on MariaDB');
    const database = bdb.target.database;
    const out: string[] = [
      `# The machine's floor (${bdb.version}, load average ${os
        .loadavg()
        .map((n) => n.toFixed(2))
        .join(', ')})`,
      '',
    ];

    const creates = await startServers({ FLOOR_DB: database, FLOOR_MODE: 'creates' }, 1);
    try {
      for (let round = 0; round < ROUNDS; round++) {
        // An empty project per round, as the bench's create runs (src/bench/scenarios.ts).
        const project = randomUUID().replace(/-/g, '');
        const seedDb = await mysqlConnection(database);
        await new Promise((r) => seedDb.query('insert into warre_project_lock (project_id) values (?)', [project], r));
        seedDb.end();
        const client = new Client(creates.url);
        const t0 = performance.now();
        let failed = 0;
        for (let i = 0; i < CREATES; i++) {
          const n = s.tenSlotFlavors.length;
          const start = s.createBase + (100 + round * Math.ceil(CREATES / n) + Math.floor(i / n)) * DAY + (i % n) * HOUR;
          const r = await client.request('POST', '/', {}, { project, flavor: s.tenSlotFlavors[i % n], start, end: start + 20 * HOUR });
          if (r.status !== 200) failed++;
        }
        client.close();
        out.push(
          `- ${CREATES} sequential creates, round ${round + 1}: ${(CREATES / ((performance.now() - t0) / 1000)).toFixed(0)}/s (${failed} failed)`,
        );
      }
    } finally {
      creates.stop();
    }

    const admin = await startServers({ FLOOR_DB: database, FLOOR_MODE: 'admin' }, 2);
    try {
      const run = promisify(execFile);
      for (let round = 0; round < 2; round++) {
        const { stdout } = await run('wrk', ['-t2', '-c32', `-d${ADMIN_SECONDS}s`, '--latency', `${admin.url}/`]);
        const r = parseWrk(stdout);
        out.push(
          `- admin 1,000-row page + count, 837 KiB answers, round ${round + 1}: ${r.reqPerSec.toFixed(0)} req/s (non-2xx ${r.non2xx})`,
        );
      }
    } finally {
      admin.stop();
    }
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    await bdb.drop();
  }
}

function mysqlConnection(database: string): Promise<mysql.Connection> {
  const c = mysql.createConnection({ ...MYSQL, database });
  return new Promise((resolve, reject) => c.connect((e) => (e ? reject(e) : resolve(c))));
}

if (cluster.isPrimary) {
  main().catch((err: unknown) => {
    process.stderr.write(`floor: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  });
} else {
  serve(process.env as unknown as Env);
}
