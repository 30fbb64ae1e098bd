/**
 * `[DEFAULT] log_dir` and `log_file` as oslo.log reads them (docs/operations.md#logs): log_dir
 * alone writes `<log_dir>/<program>.log`, log_dir + log_file `<log_dir>/<log_file>`; the
 * programs are the built entry points (`warre api` and `warre-api` both write warre-api.log,
 * every `[api] workers` process into the same file; `warre all` writes warre.log). A log file
 * that cannot be written stops the program at start-up, naming the option.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { logFilePath } from '../../src/cli/logging.js';
import { ensureBuilt, freePort, httpRequest, runWarre, startWarre, waitHealthy, warreEnv } from './process.js';

const ADMIN = { 'x-user-id': 'admin-user', 'x-project-id': 'admin-project', 'x-roles': 'admin' };

describe('logFilePath (oslo.log rules)', () => {
  it('log_file alone: as it is', () => {
    expect(logFilePath({ log_file: '/var/log/warre/api.log', log_dir: null }, 'warre-api')).toBe('/var/log/warre/api.log');
    expect(logFilePath({ log_file: 'api.log', log_dir: null }, 'warre-api')).toBe('api.log');
  });

  it('log_dir alone: <log_dir>/<program>.log', () => {
    expect(logFilePath({ log_file: null, log_dir: '/var/log/warre' }, 'warre-api')).toBe('/var/log/warre/warre-api.log');
    expect(logFilePath({ log_file: null, log_dir: '/var/log/warre' }, 'warre-worker')).toBe('/var/log/warre/warre-worker.log');
    expect(logFilePath({ log_file: '', log_dir: '/var/log/warre' }, 'warre')).toBe('/var/log/warre/warre.log');
  });

  it('both: log_file in log_dir; an absolute log_file wins (os.path.join)', () => {
    expect(logFilePath({ log_file: 'all.log', log_dir: '/var/log/warre' }, 'warre')).toBe('/var/log/warre/all.log');
    expect(logFilePath({ log_file: '/srv/log/w.log', log_dir: '/var/log/warre' }, 'warre')).toBe('/srv/log/w.log');
  });

  it('neither: standard output', () => {
    expect(logFilePath({ log_file: null, log_dir: null }, 'warre-api')).toBeNull();
  });
});

/** The JSON lines of a log file (none when it does not exist yet). */
function lines(file: string): Record<string, unknown>[] {
  if (!fs.existsSync(file)) return [];
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function until(what: string, ok: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('the programs write where log_dir and log_file say', () => {
  let dir: string;
  let logDir: string;
  let base: Record<string, string>;

  beforeAll(async () => {
    ensureBuilt();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warre-logdir-'));
    logDir = path.join(dir, 'log', 'warre'); // does not exist yet: created, as the packages' postinst would have
    base = {
      WARRE_DATABASE__CONNECTION: `sqlite:///${path.join(dir, 'warre.db')}`,
      WARRE_DEFAULT__AUTH_STRATEGY: 'noauth',
      WARRE_WARRE__LEASE_BACKEND: 'simulator',
      WARRE_WARRE__USER_NOTIFIER: 'logging',
      WARRE_API__HOST: '127.0.0.1',
    };
    const upgraded = await runWarre(['manage', 'db', 'upgrade'], warreEnv(base));
    expect(upgraded.code, upgraded.stderr).toBe(0);
  }, 120_000);

  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('warre api with log_dir only: <log_dir>/warre-api.log, from every [api] workers process; nothing on stdout', async () => {
    const port = await freePort();
    const p = startWarre(
      ['api'],
      warreEnv({ ...base, WARRE_API__PORT: String(port), WARRE_API__WORKERS: '2', WARRE_DEFAULT__LOG_DIR: logDir }),
    );
    try {
      await waitHealthy(port);
      const file = path.join(logDir, 'warre-api.log');
      await until('both API processes listening', () => lines(file).filter((l) => l.msg === 'warre-api listening').length === 2);
      const r = await httpRequest(port, 'GET', '/v1/flavors/', ADMIN);
      expect(r.status).toBe(200);
      const id = r.headers['x-openstack-request-id'];
      await until('the request line', () => lines(file).some((l) => l.msg === 'request' && l.request_id === id));
      const logged = lines(file);
      expect(new Set(logged.filter((l) => l.msg === 'warre-api listening').map((l) => l.pid)).size).toBe(2);
      expect(logged.every((l) => l.name === 'warre-api')).toBe(true);
      expect(p.stdout()).not.toMatch(/"msg"/);
    } finally {
      await p.stop();
    }
    expect(fs.readdirSync(logDir)).toEqual(['warre-api.log']);
  }, 120_000);

  it('warre-api (the other spelling) appends to the same file', async () => {
    const file = path.join(logDir, 'warre-api.log');
    const before = lines(file).filter((l) => l.msg === 'warre-api listening').length;
    const port = await freePort();
    const p = startWarre(
      [],
      warreEnv({ ...base, WARRE_API__PORT: String(port), WARRE_API__WORKERS: '1', WARRE_DEFAULT__LOG_DIR: logDir }),
      {
        script: 'warre-api.js',
      },
    );
    try {
      await waitHealthy(port);
      await until('warre-api listening', () => lines(file).filter((l) => l.msg === 'warre-api listening').length === before + 1);
    } finally {
      await p.stop();
    }
  }, 120_000);

  it('warre all with log_dir and log_file: <log_dir>/<log_file>; the banner stays on stdout', async () => {
    const port = await freePort();
    const p = startWarre(
      ['all'],
      warreEnv({ ...base, WARRE_API__PORT: String(port), WARRE_DEFAULT__LOG_DIR: logDir, WARRE_DEFAULT__LOG_FILE: 'all-in-one.log' }),
    );
    try {
      await p.waitFor(/Data: +\S+/);
      const file = path.join(logDir, 'all-in-one.log');
      await until('the start line', () => lines(file).some((l) => l.msg === 'warre all-in-one started'));
      expect(lines(file).every((l) => l.name === 'warre')).toBe(true);
      expect(p.stdout()).toContain('Warre is running');
      expect(p.stdout()).not.toMatch(/"msg"/);
    } finally {
      await p.stop();
    }
    expect(fs.existsSync(path.join(logDir, 'warre.log'))).toBe(false);
  }, 120_000);

  it('warre all with log_dir only: <log_dir>/warre.log, with the text of the user messages production would send', async () => {
    const port = await freePort();
    const p = startWarre(['all'], warreEnv({ ...base, WARRE_API__PORT: String(port), WARRE_DEFAULT__LOG_DIR: logDir }));
    try {
      await p.waitFor(/Data: +\S+/);
      const file = path.join(logDir, 'warre.log');
      await until('the start line', () => lines(file).some((l) => l.msg === 'warre all-in-one started'));
      const f = await httpRequest(port, 'POST', '/v1/flavors/', ADMIN, { name: 'log.gpu', vcpu: 1, memory_mb: 512, disk_gb: 1, slots: 1 });
      expect(f.status, f.body).toBe(202);
      const start = Math.ceil(Date.now() / 60_000) * 60_000 + 3_600_000;
      const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, '+00:00');
      const r = await httpRequest(port, 'POST', '/v1/reservations/', ADMIN, {
        flavor_id: f.json().id,
        start: iso(start),
        end: iso(start + 3_600_000),
      });
      expect(r.status, r.body).toBe(200);
      const id = r.json().id as string;
      const created = () => lines(file).find((l) => l.msg === 'User message (logging notifier, not sent)' && l.reservation_id === id);
      await until('the create message', () => created() !== undefined);
      const body = String(created()!.body);
      expect(body).toContain('your reservation on the Nectar Research Cloud is confirmed');
      expect(body).toContain(`<td>${id}</td>`);
      expect(body).toContain('<td>log.gpu</td>');
    } finally {
      await p.stop();
    }
  }, 120_000);

  it('a log_dir that cannot be created stops the program at start-up, naming the option', async () => {
    const notADir = path.join(dir, 'a-file');
    fs.writeFileSync(notADir, '');
    const r = await runWarre(['api'], warreEnv({ ...base, WARRE_API__PORT: '0', WARRE_DEFAULT__LOG_DIR: path.join(notADir, 'log') }), {
      timeoutMs: 30_000,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`Cannot write the log file ${path.join(notADir, 'log', 'warre-api.log')} ([DEFAULT] log_dir/log_file)`);
  }, 60_000);
});
