/**
 * Warre opens an existing Python Warre database as it is (docs/api.md). A MariaDB
 * database made by the Python Warre (Alembic revision a1b2c3d4e5f6, built by
 * replaying its migrations in test/fixtures/python-warre-a1b2c3d4e5f6.mysql.sql)
 * is adopted by the real `warre-manage db upgrade` without changing a row or
 * a column; older revisions and foreign databases are refused untouched; a
 * fresh database on every dialect has the Python layout; and SQLAlchemy (the
 * Python service's data layer) reads what Warre wrote.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { type Connection, createConnection } from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabaseTarget } from '../../src/config/database-url.js';
import { ensureBuilt, ROOT, type RunResult, runWarre, warreEnv } from '../cli/process.js';
import { createTestDatabase, DIALECTS, type Dialect, MYSQL, PG, type TestDatabase } from '../support/db.js';
import { ensureDebianPython } from '../support/python/oslo.js';
import { type AppOnDb, appOn } from './app-on.js';

const FIXTURE = path.join(ROOT, 'test/fixtures/python-warre-a1b2c3d4e5f6.mysql.sql');
const READER = path.join(ROOT, 'test/fixtures/read_with_sqlalchemy.py');
const HEAD = 'a1b2c3d4e5f6';
const PYTHON_TABLES = ['flavor', 'flavor_project', 'reservation', 'maintenance_window', 'maintenance_window_flavor'] as const;
const WARRE_TABLES = [
  'warre_migration',
  'warre_project_lock',
  'warre_lease_job',
  'warre_sent_message',
  'warre_task_lock',
  'warre_reservation_history',
];
const PK: Record<string, string> = {
  flavor: 'id',
  flavor_project: 'id',
  reservation: 'id',
  maintenance_window: 'id',
  maintenance_window_flavor: 'maintenance_window_id, flavor_id',
  alembic_version: 'version_num',
};
const ADMIN = { 'x-user-id': 'admin-user', 'x-project-id': 'admin-project', 'x-roles': 'admin' };

type TypeClass = `varchar(${number})` | 'integer' | 'boolean' | 'datetime' | 'json';
/** The Python layout at a1b2c3d4e5f6: [column, nullable, type], in column order (creation, then ADD COLUMN order). */
const PYTHON_LAYOUT: Record<string, [string, boolean, TypeClass][]> = {
  flavor: [
    ['id', false, 'varchar(64)'],
    ['name', false, 'varchar(64)'],
    ['description', true, 'varchar(255)'],
    ['vcpu', false, 'integer'],
    ['memory_mb', false, 'integer'],
    ['disk_gb', false, 'integer'],
    ['active', true, 'boolean'],
    ['properties', true, 'varchar(255)'],
    ['max_length_hours', false, 'integer'],
    ['slots', false, 'integer'],
    ['is_public', true, 'boolean'],
    ['extra_specs', true, 'json'],
    ['end', true, 'datetime'],
    ['start', true, 'datetime'],
    ['category', true, 'varchar(64)'],
    ['availability_zone', true, 'varchar(64)'],
    ['ephemeral_gb', false, 'integer'],
  ],
  flavor_project: [
    ['id', false, 'varchar(64)'],
    ['project_id', false, 'varchar(64)'],
    ['flavor_id', false, 'varchar(64)'],
  ],
  reservation: [
    ['id', false, 'varchar(64)'],
    ['user_id', false, 'varchar(64)'],
    ['project_id', false, 'varchar(64)'],
    ['flavor_id', false, 'varchar(64)'],
    ['lease_id', true, 'varchar(64)'],
    ['status', false, 'varchar(16)'],
    ['start', false, 'datetime'],
    ['end', false, 'datetime'],
    ['instance_count', false, 'integer'],
    ['status_reason', true, 'varchar(255)'],
    ['compute_flavor', true, 'varchar(64)'],
    ['created_at', false, 'datetime'],
  ],
  maintenance_window: [
    ['id', false, 'varchar(64)'],
    ['start', false, 'datetime'],
    ['end', false, 'datetime'],
    ['note', true, 'varchar(255)'],
  ],
  maintenance_window_flavor: [
    ['maintenance_window_id', false, 'varchar(64)'],
    ['flavor_id', false, 'varchar(64)'],
  ],
  alembic_version: [['version_num', false, 'varchar(32)']],
};

// ------------------------------------------------------------ MariaDB --

let dbCounter = 0;

async function admin(database?: string): Promise<Connection> {
  return createConnection({ ...MYSQL, ...(database ? { database } : {}), multipleStatements: true, dateStrings: true, charset: 'utf8mb4' });
}

/** A new MariaDB database in the character set old OpenStack deployments use (utf8 = utf8mb3). */
async function newMysqlDatabase(): Promise<{ name: string; url: string; target: DatabaseTarget; drop(): Promise<void> }> {
  const name = `warre_adopt_${process.pid}_${Date.now() % 100000}_${dbCounter++}`;
  const c = await admin();
  await c.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb3 COLLATE utf8mb3_general_ci`);
  await c.end();
  return {
    name,
    url: `mysql+pymysql://root@${MYSQL.host}:${MYSQL.port}/${name}?charset=utf8`,
    target: {
      dialect: 'mysql',
      host: MYSQL.host,
      port: MYSQL.port,
      user: MYSQL.user,
      password: MYSQL.password,
      database: name,
      params: { charset: 'utf8' },
    },
    drop: async () => {
      const c2 = await admin();
      await c2.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await c2.end();
    },
  };
}

/** The fixture's blocks, cut at its "-- @revision <rev>" lines. */
function fixtureBlocks(): { revision: string; sql: string }[] {
  const text = fs.readFileSync(FIXTURE, 'utf8');
  const parts = text.split(/^-- @revision (\w+).*$/m);
  const blocks: { revision: string; sql: string }[] = [];
  for (let i = 1; i < parts.length; i += 2) blocks.push({ revision: parts[i]!, sql: parts[i + 1]! });
  return blocks;
}

/** Replay the Python history up to and including `revision`. */
async function applyFixture(database: string, revision = HEAD): Promise<void> {
  const blocks = fixtureBlocks();
  const last = blocks.findIndex((b) => b.revision === revision);
  expect(last, `revision ${revision} in the fixture`).toBeGreaterThanOrEqual(0);
  const c = await admin(database);
  try {
    for (const b of blocks.slice(0, last + 1)) await c.query(b.sql);
  } finally {
    await c.end();
  }
}

async function tablesOf(database: string): Promise<string[]> {
  const c = await admin(database);
  const [rows] = await c.query('SHOW TABLES');
  await c.end();
  return (rows as Record<string, string>[]).map((r) => Object.values(r)[0]!).sort();
}

/** Every row of every Python table (and alembic_version), as exact strings. */
async function dumpRows(database: string): Promise<Record<string, string[]>> {
  const c = await admin(database);
  const out: Record<string, string[]> = {};
  try {
    for (const t of [...PYTHON_TABLES, 'alembic_version']) {
      const [rows] = await c.query(`SELECT * FROM \`${t}\` ORDER BY ${PK[t]}`);
      out[t] = (rows as Record<string, unknown>[]).map((r) => JSON.stringify(Object.entries(r)));
    }
  } finally {
    await c.end();
  }
  return out;
}

async function showCreate(database: string, table: string): Promise<string[]> {
  const c = await admin(database);
  const [rows] = await c.query(`SHOW CREATE TABLE \`${table}\``);
  await c.end();
  return String((rows as Record<string, string>[])[0]!['Create Table'])
    .split('\n')
    .map((l) => l.trim().replace(/,$/, ''));
}

const upgradeCli = (url: string): Promise<RunResult> =>
  runWarre(['manage', 'db', 'upgrade'], warreEnv({ WARRE_DATABASE__CONNECTION: url }));

// ---------------------------------------------------------------- app --

async function get(a: AppOnDb, url: string, headers: Record<string, string> = ADMIN): Promise<any> {
  const res = await a.app.inject({ method: 'GET', url, headers });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

async function post(a: AppOnDb, url: string, body: unknown, status: number, headers: Record<string, string> = ADMIN): Promise<any> {
  const res = await a.app.inject({ method: 'POST', url, headers, payload: body as object });
  expect(res.statusCode, res.body).toBe(status);
  return res.json();
}

/** A naive database datetime as the API shows it. */
const apiTime = (v: unknown) => (v === null ? null : `${String(v).replace(' ', 'T').slice(0, 19)}+00:00`);

// -------------------------------------------------------------- Python --

interface PythonView {
  reflected: Record<string, string[]>;
  rows: Record<string, Record<string, any>[]>;
}

async function readWithSqlAlchemy(url: string): Promise<PythonView> {
  const { stdout } = await promisify(execFile)('/usr/bin/python3', [READER, url], { maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(stdout) as PythonView;
}

/** What the Python service reads is what Warre's API shows, row for row. */
async function expectPythonSeesWhatWarreShows(a: AppOnDb, url: string): Promise<void> {
  const py = await readWithSqlAlchemy(url);
  for (const t of [...PYTHON_TABLES, 'alembic_version']) {
    expect(py.reflected[t], `reflected columns of ${t}`).toEqual(PYTHON_LAYOUT[t]!.map(([c]) => c));
  }
  const pyTime = (v: string | null) => (v === null ? null : `${v.slice(0, 19)}+00:00`);

  const flavors = (await get(a, '/v1/flavors/?all_projects=true')).results as any[];
  expect(py.rows.flavor!.map((r) => r.id).sort()).toEqual(flavors.map((f) => f.id).sort());
  for (const f of flavors) {
    const r = py.rows.flavor!.find((x) => x.id === f.id)!;
    expect({
      ...f,
      active: r.active ?? false, // NULL: the Python model treats it as not active
      is_public: r.is_public ?? false,
      extra_specs: r.extra_specs ?? {},
      start: pyTime(r.start),
      end: pyTime(r.end),
    }).toEqual({
      ...f,
      ...Object.fromEntries(
        [
          'name',
          'description',
          'vcpu',
          'memory_mb',
          'disk_gb',
          'ephemeral_gb',
          'properties',
          'max_length_hours',
          'slots',
          'category',
          'availability_zone',
        ].map((k) => [k, r[k]]),
      ),
    });
  }

  const reservations = (await get(a, '/v1/reservations/?all_projects=true')).results as any[];
  expect(py.rows.reservation!.map((r) => r.id).sort()).toEqual(reservations.map((r) => r.id).sort());
  for (const res of reservations) {
    const r = py.rows.reservation!.find((x) => x.id === res.id)!;
    expect({
      id: r.id,
      user_id: r.user_id,
      project_id: r.project_id,
      flavor: r.flavor_id,
      lease_id: r.lease_id,
      status: r.status,
      status_reason: r.status_reason,
      compute_flavor: r.compute_flavor,
      instance_count: r.instance_count,
      start: pyTime(r.start),
      end: pyTime(r.end),
      created_at: pyTime(r.created_at),
    }).toEqual({ ...res, flavor: res.flavor.id });
  }

  const windows = (await get(a, '/v1/maintenancewindows/')).results as any[];
  expect(py.rows.maintenance_window!.map((w) => ({ id: w.id, start: pyTime(w.start), end: pyTime(w.end), note: w.note }))).toEqual(
    windows.map((w) => ({ id: w.id, start: w.start, end: w.end, note: w.note })).sort((x, y) => x.id.localeCompare(y.id)),
  );
  expect(py.rows.maintenance_window_flavor!.map((x) => `${x.maintenance_window_id}/${x.flavor_id}`).sort()).toEqual(
    windows.flatMap((w) => w.flavors.map((f: { id: string }) => `${w.id}/${f.id}`)).sort(),
  );

  const grants = (await get(a, '/v1/flavorprojects/')).results as any[];
  expect(py.rows.flavor_project!.map((g) => ({ id: g.id, project_id: g.project_id, flavor: g.flavor_id }))).toEqual(
    grants.map((g) => ({ id: g.id, project_id: g.project_id, flavor: g.flavor })).sort((x, y) => x.id.localeCompare(y.id)),
  );
}

/** Write one of everything through the API, so the Python reader sees Warre's own writes. */
async function writeThroughApi(a: AppOnDb, opts: { fourByteText: boolean }): Promise<void> {
  // A lone surrogate is stored as U+FFFD (Python's sqlite3 cannot decode anything else); 4-byte UTF-8 only where the columns are utf8mb4.
  const odd = `Geschrieben von Warre — ✓ \ud800${opts.fourByteText ? ' 😀' : ''}`;
  const pub = await post(
    a,
    '/v1/flavors/',
    {
      name: 'warre.written',
      description: odd,
      vcpu: 8,
      memory_mb: 16384,
      disk_gb: 40,
      ephemeral_gb: 10,
      properties: '["=", "$x", "y"]',
      slots: 3,
      extra_specs: { 'hw:mem_page_size': 'large', nested: { a: [1, 2] }, odd },
      start: '2027-01-01T00:00:00+00:00',
      end: '2035-01-01T00:00:00+00:00',
      category: 'Warre',
      availability_zone: 'az-1',
      max_length_hours: 720,
    },
    202,
  );
  const priv = await post(
    a,
    '/v1/flavors/',
    { name: 'warre.private', vcpu: 1, memory_mb: 512, disk_gb: 1, is_public: false, active: false },
    202,
  );
  await post(a, '/v1/flavorprojects/', { flavor_id: priv.id, project_id: 'project-written' }, 200);
  await post(
    a,
    '/v1/maintenancewindows/',
    { start: '2034-01-01T00:00:00Z', end: '2034-01-02T00:00:00Z', note: 'written', flavor_ids: [pub.id, priv.id] },
    201,
  );
  await post(
    a,
    '/v1/reservations/',
    { flavor_id: pub.id, start: '2030-11-05T10:00:45+10:00', end: '2030-11-06T10:00:00+10:00', instance_count: 2 },
    200,
    {
      'x-user-id': 'writer',
      'x-project-id': 'project-written',
      'x-roles': 'member',
    },
  );
}

// --------------------------------------------------------------- tests --

beforeAll(async () => {
  await ensureBuilt();
  await ensureDebianPython('import sqlalchemy, pymysql, psycopg2', ['python3-sqlalchemy', 'python3-pymysql', 'python3-psycopg2']);
}, 300_000);

describe('adopting a Python Warre database at Alembic a1b2c3d4e5f6 (MariaDB)', () => {
  let db: Awaited<ReturnType<typeof newMysqlDatabase>>;
  let rowsBefore: Record<string, string[]>;
  let createBefore: Record<string, string[]>;
  let createAfterFirst: Record<string, string[]>;
  let first: RunResult;

  beforeAll(async () => {
    db = await newMysqlDatabase();
    await applyFixture(db.name);
    rowsBefore = await dumpRows(db.name);
    createBefore = {};
    for (const t of PYTHON_TABLES) createBefore[t] = await showCreate(db.name, t);
    first = await upgradeCli(db.url);
    createAfterFirst = {};
    for (const t of PYTHON_TABLES) createAfterFirst[t] = await showCreate(db.name, t);
  });
  afterAll(async () => db?.drop());

  it('the fixture holds what the Python history would (sanity)', () => {
    expect(rowsBefore.alembic_version).toEqual([JSON.stringify([['version_num', HEAD]])]);
    expect(rowsBefore.flavor).toHaveLength(6);
    expect(rowsBefore.reservation).toHaveLength(7);
    // Rows older than a column got what the ALTER gave them.
    expect(
      rowsBefore.reservation!.filter((r) => r.includes('"instance_count",0') && r.includes('"created_at","1970-01-01 00:00:00"')),
    ).toHaveLength(2);
  });

  it('`warre-manage db upgrade` adopts it: exit 0, every row and column value unchanged', async () => {
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/upgraded \(\d+ migration\(s\)\)/);
    expect(await dumpRows(db.name)).toEqual(rowsBefore);
  });

  it('column definitions, keys and constraints of the Python tables are unchanged; only indexes are added', () => {
    for (const t of PYTHON_TABLES) {
      const before = createBefore[t]!;
      const after = createAfterFirst[t]!;
      const isKey = (l: string) => l.startsWith('KEY ');
      // Columns, PRIMARY/UNIQUE keys, foreign-key constraints, CHECKs and table options: identical, in order.
      expect(
        after.filter((l) => !isKey(l)),
        t,
      ).toEqual(before.filter((l) => !isKey(l)));
      const added = after.filter((l) => isKey(l) && !before.includes(l));
      for (const l of added) expect(l, t).toMatch(/^KEY `warre_ix_/);
      // A plain index MariaDB made for a foreign key may give way to a Warre index that starts with the same column.
      for (const l of before.filter((x) => isKey(x) && !after.includes(x))) {
        const col = /^KEY `(\w+)` \(`(\w+)`\)$/.exec(l);
        expect(col, `${t}: ${l} was dropped`).not.toBeNull();
        expect(
          before.some((x) => x.includes(`FOREIGN KEY (\`${col![2]}\`)`)),
          `${t}: ${l} backs a foreign key`,
        ).toBe(true);
        expect(
          added.some((x) => x.includes(`(\`${col![2]}\``)),
          `${t}: ${l} replaced by a Warre index on ${col![2]}`,
        ).toBe(true);
      }
    }
  });

  it("alembic_version stays at a1b2c3d4e5f6 and Warre's own tables exist", async () => {
    expect(await tablesOf(db.name)).toEqual(['alembic_version', ...PYTHON_TABLES, ...WARRE_TABLES].sort());
    const c = await admin(db.name);
    const [rows] = await c.query('SELECT version_num FROM alembic_version');
    await c.end();
    expect(rows).toEqual([{ version_num: HEAD }]);
  });

  it('`db version` shows the Alembic revision and every Warre migration applied', async () => {
    const v = await runWarre(['manage', 'db', 'version'], warreEnv({ WARRE_DATABASE__CONNECTION: db.url }));
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/^alembic version: a1b2c3d4e5f6$/m);
    expect(v.stdout).toMatch(
      /^applied: +0001-base-schema, 0002-indexes, 0003-warre-tables, 0004-reservation-order-index, 0005-message-delivery, 0006-reservation-history, 0007-project-usage-index$/m,
    );
    expect(v.stdout).toMatch(/^pending: +\(none\)$/m);
  });

  it('a second upgrade is a no-op', async () => {
    const again = await upgradeCli(db.url);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/is up to date/);
    expect(again.stdout).not.toMatch(/applying/);
    expect(await dumpRows(db.name)).toEqual(rowsBefore);
    for (const t of PYTHON_TABLES) expect(await showCreate(db.name, t)).toEqual(createAfterFirst[t]);
  });

  it('the API reads the adopted data as the Python service wrote it', async () => {
    const a = await appOn(db.target);
    try {
      const flavors = await get(a, '/v1/flavors/?all_projects=true');
      expect(flavors.total).toBe(6);
      const byName = Object.fromEntries((flavors.results as any[]).map((f) => [f.name, f]));
      expect(byName['gpu.a100.xlarge']).toEqual({
        id: '3f1c2b6e-6a0b-4f0c-9a53-1d2f7c1e9a01',
        name: 'gpu.a100.xlarge',
        description: 'One A100 GPU, 32 cores',
        vcpu: 32,
        memory_mb: 131072,
        disk_gb: 100,
        ephemeral_gb: 0,
        active: true,
        properties: '["=", "$gpu_model", "a100"]',
        max_length_hours: 504,
        slots: 4,
        is_public: true,
        extra_specs: { 'resources:VGPU': '1', 'trait:CUSTOM_A100': 'required', 'hw:cpu_policy': 'dedicated' },
        start: null,
        end: null,
        category: 'GPU',
        availability_zone: 'melbourne-qh2',
      });
      expect(byName['secure.large']).toMatchObject({
        description: 'Secure enclave nodes — für Forschung',
        is_public: false,
        extra_specs: {},
        start: '2024-01-01T00:00:00+00:00',
        end: '2031-12-31T00:00:00+00:00',
      });
      expect(byName['legacy.nulls']).toMatchObject({ active: false, is_public: false, extra_specs: {} });
      expect(byName['bm.hpc.2xlarge']).toMatchObject({
        ephemeral_gb: 1600,
        start: '2025-07-01T00:00:00+00:00',
        end: '2032-06-30T00:00:00+00:00',
      });

      // Every reservation, whatever its status or age, exactly as stored.
      const c = await admin(db.name);
      const [raw] = await c.query('SELECT * FROM reservation ORDER BY id');
      await c.end();
      const reservations = await get(a, '/v1/reservations/?all_projects=true');
      expect(reservations.total).toBe(7);
      expect(new Set((reservations.results as any[]).map((r) => r.status))).toEqual(
        new Set(['PENDING_CREATE', 'ALLOCATED', 'ACTIVE', 'COMPLETE', 'ERROR']),
      );
      expect((reservations.results as any[]).map((r) => ({ ...r, flavor: r.flavor.id })).sort((x, y) => x.id.localeCompare(y.id))).toEqual(
        (raw as any[]).map((r) => ({
          id: r.id,
          created_at: apiTime(r.created_at),
          user_id: r.user_id,
          project_id: r.project_id,
          flavor: r.flavor_id,
          lease_id: r.lease_id,
          compute_flavor: r.compute_flavor,
          status: r.status,
          status_reason: r.status_reason,
          start: apiTime(r.start),
          end: apiTime(r.end),
          instance_count: r.instance_count,
        })),
      );
      const old = (reservations.results as any[]).find((r) => r.id === '7a2d0f3e-1b4c-4d5e-8f60-0a1b2c3d4e01');
      expect(old).toMatchObject({
        created_at: '1970-01-01T00:00:00+00:00',
        instance_count: 0,
        compute_flavor: 'e7d6c5b4-a392-4817-a06f-5e4d3c2b1a09',
      });

      const windows = await get(a, '/v1/maintenancewindows/');
      expect(windows.results).toEqual([
        {
          id: '9c8b7a69-5847-4362-a514-f3e2d1c0b901',
          start: '2030-08-01T00:00:00+00:00',
          end: '2030-08-03T00:00:00+00:00',
          note: 'Datacentre power work',
          flavors: [
            { id: '3f1c2b6e-6a0b-4f0c-9a53-1d2f7c1e9a05', name: 'bm.hpc.2xlarge' },
            { id: '3f1c2b6e-6a0b-4f0c-9a53-1d2f7c1e9a01', name: 'gpu.a100.xlarge' },
          ],
        },
        {
          id: '9c8b7a69-5847-4362-a514-f3e2d1c0b902',
          start: '2030-09-10T22:00:00+00:00',
          end: '2030-09-11T02:00:00+00:00',
          note: null,
          flavors: [],
        },
      ]);
      const grants = await get(a, '/v1/flavorprojects/?project_id=0b1e1c0f7c6d4e2aa1f3c5d7e9b1a3c5');
      expect((grants.results as any[]).map((g) => g.id).sort()).toEqual([
        '5d9f3a1e-2c4b-4e6d-8a0f-1b2c3d4e5f01',
        '5d9f3a1e-2c4b-4e6d-8a0f-1b2c3d4e5f03',
      ]);

      // A member's view: active flavors, public or granted (NULL active/is_public count as false).
      const member = { 'x-user-id': 'u', 'x-project-id': '0b1e1c0f7c6d4e2aa1f3c5d7e9b1a3c5', 'x-roles': 'member' };
      const mine = await get(a, '/v1/flavors/', member);
      expect((mine.results as any[]).map((f) => f.name).sort()).toEqual([
        'bm.hpc.2xlarge',
        'empty.specs',
        'gpu.a100.xlarge',
        'secure.large',
      ]);
      // Usage counts the adopted effective reservations: 2 × 24 h (PENDING_CREATE) + 3 × 168 h (ALLOCATED).
      expect((await get(a, '/v1/limits', member)).absolute).toMatchObject({ totalReservationsUsed: 2, totalHoursUsed: 48 + 504 });
      // Capacity sees the adopted maintenance window.
      expect(await get(a, '/v1/flavors/3f1c2b6e-6a0b-4f0c-9a53-1d2f7c1e9a01/freeslots/?start=2030-07-30&end=2030-08-05')).toEqual([
        { start: '2030-07-30T00:00:00+00:00', end: '2030-07-31T23:59:00+00:00' },
        { start: '2030-08-03T00:01:00+00:00', end: '2030-08-05T00:00:00+00:00' },
      ]);
    } finally {
      await a.close();
    }
  });

  it('Warre writes to the adopted database and SQLAlchemy (Python) reads every row back as Warre shows it', async () => {
    const a = await appOn(db.target);
    try {
      await writeThroughApi(a, { fourByteText: false });
      await expectPythonSeesWhatWarreShows(a, db.url);
    } finally {
      await a.close();
    }
  });

  // The Python era's utf8 (utf8mb3) columns cannot hold 4-byte UTF-8 (emoji): MariaDB refuses
  // the write (1366) or the comparison (1267); the API must answer 400, not 500.
  it('4-byte UTF-8 text on the utf8mb3 tables is a 4xx, not a 500', async () => {
    const a = await appOn(db.target);
    try {
      for (const [method, url, payload] of [
        ['POST', '/v1/flavors/', { name: 'emoji 😀', vcpu: 1, memory_mb: 1, disk_gb: 1 }],
        ['GET', `/v1/reservations/?all_projects=true&project_id=${encodeURIComponent('😀')}`, undefined],
      ] as const) {
        const res = await a.app.inject({ method, url, headers: ADMIN, ...(payload ? { payload } : {}) });
        expect(res.statusCode, `${method} ${url}: ${res.body}`).toBeLessThan(500);
      }
    } finally {
      await a.close();
    }
  });
});

describe('databases Warre refuses to adopt (nothing is changed)', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanups) await c();
  });

  async function expectRefusedUntouched(db: Awaited<ReturnType<typeof newMysqlDatabase>>, message: RegExp[]): Promise<void> {
    const tables = await tablesOf(db.name);
    const rows = await dumpRowsPresent(db.name, tables);
    const res = await upgradeCli(db.url);
    expect(res.code, res.stdout).not.toBe(0);
    for (const m of message) expect(res.stderr).toMatch(m);
    expect(res.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
    expect(await tablesOf(db.name)).toEqual(tables);
    expect(await dumpRowsPresent(db.name, tables)).toEqual(rows);
  }

  it.each(['6821e37ce4e2', '35ef7858714d', '2de2c31ac6e2'])(
    'an older Alembic revision (%s): the message names both revisions',
    async (rev) => {
      const db = await newMysqlDatabase();
      cleanups.push(db.drop);
      await applyFixture(db.name, rev);
      await expectRefusedUntouched(db, [new RegExp(`revision ${rev}\\b`), /a1b2c3d4e5f6/, /warre-manage db upgrade/]);
    },
  );

  it('a "flavor" table without alembic_version', async () => {
    const db = await newMysqlDatabase();
    cleanups.push(db.drop);
    await applyFixture(db.name);
    const c = await admin(db.name);
    await c.query('DROP TABLE alembic_version');
    await c.end();
    await expectRefusedUntouched(db, [/"flavor" table but no alembic_version/]);
  });

  it('an alembic_version table with no revision in it, beside the Python tables', async () => {
    const db = await newMysqlDatabase();
    cleanups.push(db.drop);
    await applyFixture(db.name);
    const c = await admin(db.name);
    await c.query('DELETE FROM alembic_version');
    await c.end();
    await expectRefusedUntouched(db, [/alembic_version/]);
  });
});

/** Rows of whichever tables exist (for "nothing changed" on any database). */
async function dumpRowsPresent(database: string, tables: string[]): Promise<Record<string, string[]>> {
  const c = await admin(database);
  const out: Record<string, string[]> = {};
  try {
    for (const t of tables) {
      const [rows] = await c.query(`SELECT * FROM \`${t}\``);
      out[t] = (rows as Record<string, unknown>[]).map((r) => JSON.stringify(Object.entries(r))).sort();
    }
  } finally {
    await c.end();
  }
  return out;
}

// ------------------------------------------------------- fresh create --

/** [column, nullable, type class] of a table, in column order, from the database's own catalogue. */
async function layoutOf(dialect: Dialect, testDb: TestDatabase, table: string): Promise<[string, boolean, string][]> {
  switch (dialect) {
    case 'sqlite': {
      const db = testDb.open();
      try {
        const r = await sql<{
          name: string;
          type: string;
          notnull: number;
        }>`select name, type, "notnull" from pragma_table_info(${table}) order by cid`.execute(db.kysely);
        return r.rows.map((c) => [c.name, c.notnull === 0, c.type.toLowerCase().replace(/^bool$/, 'boolean')]);
      } finally {
        await db.close();
      }
    }
    case 'mysql': {
      const target = testDb.target as Extract<DatabaseTarget, { dialect: 'mysql' }>;
      const c = await admin(target.database);
      const [rows] = await c.query(
        'SELECT COLUMN_NAME n, IS_NULLABLE nullable, DATA_TYPE t, COLUMN_TYPE ct FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
        [table],
      );
      await c.end();
      const cls = (t: string, ct: string) =>
        ct === 'tinyint(1)' ? 'boolean' : t === 'int' ? 'integer' : t === 'longtext' || t === 'json' ? 'json' : ct;
      return (rows as any[]).map((r) => [r.n, r.nullable === 'YES', cls(r.t, r.ct)]);
    }
    case 'postgres': {
      const target = testDb.target as Extract<DatabaseTarget, { dialect: 'postgres' }>;
      const c = new pg.Client({ ...PG, database: target.database });
      await c.connect();
      const r = await c.query(
        'SELECT column_name n, is_nullable nullable, data_type t, character_maximum_length len FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position',
        [table],
      );
      await c.end();
      const cls = (t: string, len: number | null) =>
        t === 'character varying' ? `varchar(${len})` : t === 'timestamp without time zone' ? 'datetime' : t;
      return r.rows.map((x) => [x.n, x.nullable === 'YES', cls(x.t, x.len)]);
    }
  }
}

describe.each(DIALECTS)('a fresh database on %s', (dialect) => {
  let testDb: TestDatabase;
  let upgraded: RunResult;

  beforeAll(async () => {
    testDb = await createTestDatabase(dialect);
    upgraded = await upgradeCli(testDb.url);
  });
  afterAll(async () => testDb?.drop());

  it('`db upgrade` creates the Python tables with the Python layout, stamped a1b2c3d4e5f6', async () => {
    expect(upgraded.code, upgraded.stderr).toBe(0);
    for (const t of [...PYTHON_TABLES, 'alembic_version']) expect(await layoutOf(dialect, testDb, t), t).toEqual(PYTHON_LAYOUT[t]);
    const db = testDb.open();
    try {
      expect(await db.kysely.selectFrom('alembic_version').selectAll().execute()).toEqual([{ version_num: HEAD }]);
    } finally {
      await db.close();
    }
  });

  it('SQLAlchemy (Python) reads back every row Warre wrote, as Warre shows it', async () => {
    const a = await appOn(testDb.target);
    try {
      await writeThroughApi(a, { fourByteText: true });
      // Warre's fresh MariaDB tables are utf8mb4; a Python client reading emoji needs a utf8mb4 connection too.
      await expectPythonSeesWhatWarreShows(a, testDb.url.replace('charset=utf8', 'charset=utf8mb4'));
    } finally {
      await a.close();
    }
  });
});

it('a fresh MariaDB database has the same columns, keys and foreign keys as one the Python history made', async () => {
  const testDb = await createTestDatabase('mysql');
  const python = await newMysqlDatabase();
  try {
    const up = await upgradeCli(testDb.url);
    expect(up.code, up.stderr).toBe(0);
    await applyFixture(python.name);
    const fresh = (testDb.target as Extract<DatabaseTarget, { dialect: 'mysql' }>).database;
    const catalogue = async (database: string) => {
      const c = await admin(database);
      const [cols] = await c.query(
        'SELECT TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, IS_NULLABLE, COLUMN_TYPE, COLUMN_DEFAULT FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (?) ORDER BY TABLE_NAME, ORDINAL_POSITION',
        [[...PYTHON_TABLES, 'alembic_version']],
      );
      const [keys] = await c.query(
        'SELECT TABLE_NAME, CONSTRAINT_NAME, COLUMN_NAME, ORDINAL_POSITION, REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (?) ORDER BY TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION',
        [[...PYTHON_TABLES, 'alembic_version']],
      );
      const [rules] = await c.query(
        'SELECT TABLE_NAME, CONSTRAINT_NAME, DELETE_RULE, UPDATE_RULE FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() ORDER BY TABLE_NAME, CONSTRAINT_NAME',
      );
      const [checks] = await c.query(
        'SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() ORDER BY TABLE_NAME, CONSTRAINT_NAME',
      );
      await c.end();
      return { cols, keys, rules, checks };
    };
    expect(await catalogue(fresh)).toEqual(await catalogue(python.name));
  } finally {
    await python.drop();
    await testDb.drop();
  }
});
