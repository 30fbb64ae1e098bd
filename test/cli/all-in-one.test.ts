/**
 * `warre all` (what `npm start` runs) from an empty directory with no
 * configuration file: it prints where it listens and keeps its data, serves
 * the API, creates leases with the simulator (PENDING_CREATE → ALLOCATED →
 * ACTIVE), keeps everything across a restart, and stops on SIGTERM.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_FILE } from '../../src/config/load.js';
import { openDatabase } from '../../src/db/connect.js';
import {
  emptyConfigFile,
  ensureBuilt,
  freePort,
  httpRequest,
  processGroupMembers,
  startWarre,
  type WarreProcess,
  warreEnv,
} from './process.js';

const ADMIN = { 'x-user-id': 'admin-user', 'x-project-id': 'admin-project', 'x-roles': 'admin' };
const MEMBER = { 'x-user-id': 'aio-user', 'x-project-id': 'aio-project', 'x-roles': 'member' };
const MINUTE = 60_000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00');

/**
 * No configuration file at all, as `npm start` on a fresh checkout. Where this machine has an
 * /etc/warre/warre.conf, an empty file stands in for it and the all-in-one choices are set explicitly.
 */
function allInOneEnv(port: number): NodeJS.ProcessEnv {
  if (!fs.existsSync(DEFAULT_CONFIG_FILE)) return warreEnv({ WARRE_CONFIG_FILE: undefined, WARRE_API__PORT: String(port) });
  return warreEnv({
    WARRE_CONFIG_FILE: emptyConfigFile(),
    WARRE_API__PORT: String(port),
    WARRE_DEFAULT__AUTH_STRATEGY: 'noauth',
    WARRE_WARRE__LEASE_BACKEND: 'simulator',
    WARRE_WARRE__USER_NOTIFIER: 'logging',
  });
}

async function poll<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('warre all (all-in-one)', () => {
  let cwd: string;
  let port: number;
  let proc: WarreProcess | undefined;
  let dataPath: string;
  const ids: { flavor?: string; later?: string; now?: string } = {};

  beforeAll(async () => {
    ensureBuilt();
    cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'warre-all-'));
    port = await freePort();
    proc = startWarre(['all'], allInOneEnv(port), { cwd });
    await proc.waitFor(/Data: +\S+/, { timeoutMs: 60_000 });
  });

  afterAll(async () => {
    if (proc) {
      const pgid = proc.pid;
      await proc.stop(10_000);
      expect(processGroupMembers(pgid)).toEqual([]);
    }
    fs.rmSync(cwd, { recursive: true, force: true });
  });

  it('prints a banner with the API address and the SQLite file it created in the working directory', () => {
    const out = proc!.stdout();
    expect(out).toMatch(/Warre is running \(all-in-one: API \+ worker \+ lease simulator \+ periodic tasks\)/);
    expect(out).toContain(`API:      http://127.0.0.1:${port}/v1/   (auth_strategy = noauth)`);
    expect(out).toContain(`Portal:   http://127.0.0.1:${port}/dashboard/`);
    if (!fs.existsSync(DEFAULT_CONFIG_FILE)) expect(out).toContain('Config:   built-in all-in-one defaults (no config file)');
    dataPath = /Data: +(\S+)/.exec(out)![1]!;
    expect(dataPath).toBe(path.join(fs.realpathSync(cwd), '.warre', 'warre.db'));
    expect(fs.statSync(dataPath).isFile()).toBe(true);
  });

  it('GET /healthcheck answers OK', async () => {
    const r = await httpRequest(port, 'GET', '/healthcheck');
    expect(r.status).toBe(200);
    expect(r.body).toBe('OK');
  });

  it('a reservation starting next minute gets its lease: PENDING_CREATE → ALLOCATED with a lease id', async () => {
    const f = await httpRequest(port, 'POST', '/v1/flavors/', ADMIN, {
      name: 'aio.small',
      vcpu: 1,
      memory_mb: 1024,
      disk_gb: 10,
      slots: 2,
    });
    expect(f.status, f.body).toBe(202);
    ids.flavor = f.json().id;
    const start = Math.floor(Date.now() / MINUTE) * MINUTE + 2 * MINUTE;
    const r = await httpRequest(port, 'POST', '/v1/reservations/', MEMBER, {
      flavor_id: ids.flavor,
      start: iso(start),
      end: iso(start + 60 * MINUTE),
    });
    expect(r.status, r.body).toBe(200);
    expect(r.json().status).toBe('PENDING_CREATE');
    ids.later = r.json().id;
    const allocated = await poll(
      'ALLOCATED',
      async () => {
        const g = (await httpRequest(port, 'GET', `/v1/reservations/${ids.later}/`, MEMBER)).json();
        return g.status === 'PENDING_CREATE' ? undefined : g;
      },
      30_000,
    );
    expect(allocated.status).toBe('ALLOCATED');
    expect(allocated.lease_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(allocated.compute_flavor).toEqual(expect.any(String));
  });

  it('a reservation starting in the current minute goes on to ACTIVE when the simulated lease starts', async () => {
    // Stay clear of a minute boundary, so "the current minute" is the same for the test and the service.
    if (Date.now() % MINUTE > 50_000) await new Promise((r) => setTimeout(r, MINUTE - (Date.now() % MINUTE) + 500));
    const start = Math.floor(Date.now() / MINUTE) * MINUTE;
    const r = await httpRequest(port, 'POST', '/v1/reservations/', MEMBER, {
      flavor_id: ids.flavor,
      start: iso(start),
      end: iso(start + 30 * MINUTE),
    });
    expect(r.status, r.body).toBe(200);
    ids.now = r.json().id;
    // The simulator delivers a due start after its settle time (10 s), like Blazar's event loop.
    const active = await poll(
      'ACTIVE',
      async () => {
        const g = (await httpRequest(port, 'GET', `/v1/reservations/${ids.now}`, MEMBER)).json();
        return g.status === 'ACTIVE' || g.status === 'ERROR' ? g : undefined;
      },
      60_000,
    );
    expect(active.status, JSON.stringify(active)).toBe('ACTIVE');
    expect(active.lease_id).toMatch(/^[0-9a-f-]{36}$/);
  }, 120_000);

  it('SIGTERM stops it (exit 0, no process left); the data is in the file; a restart serves it again', async () => {
    const pgid = proc!.pid;
    const info = await proc!.stop(15_000);
    expect(info).toEqual({ code: 0, signal: null });
    expect(processGroupMembers(pgid)).toEqual([]);

    const db = openDatabase({ dialect: 'sqlite', filename: dataPath });
    try {
      const rows = await db.kysely.selectFrom('reservation').select(['id', 'status', 'lease_id']).orderBy('id').execute();
      expect(rows.map((x) => x.id).sort()).toEqual([ids.later, ids.now].sort());
      expect(rows.every((x) => x.lease_id !== null)).toBe(true);
    } finally {
      await db.close();
    }

    proc = startWarre(['all'], allInOneEnv(port), { cwd });
    await proc.waitFor(/Data: +\S+/, { timeoutMs: 60_000 });
    const list = await httpRequest(port, 'GET', '/v1/reservations/', MEMBER);
    expect(list.status).toBe(200);
    expect(Object.fromEntries((list.json().results as any[]).map((x) => [x.id, x.status]))).toEqual({
      [ids.later!]: 'ALLOCATED',
      [ids.now!]: 'ACTIVE',
    });
  }, 120_000);
});
