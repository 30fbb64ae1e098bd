/**
 * The operator commands as real processes (`warre manage …` and the
 * `warre-manage` entry point): output and exit codes, configuration errors,
 * and `warre api` refusing a database with pending migrations.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { ensureBuilt, freePort, processGroupMembers, runWarre, startWarre, warreEnv } from './process.js';

/** docs/api.md#policy: every rule and its default check. */
const DEFAULT_POLICY: Record<string, string> = {
  admin_required: 'role:admin or is_admin:1',
  reader: 'role:read_only or role:cloud_admin or role:helpdesk',
  writer: 'role:cloud_admin or role:helpdesk',
  owner: 'project_id:%(project_id)s',
  admin_or_owner: 'rule:admin_required or rule:owner',
  admin_or_owner_or_reader: 'rule:admin_or_owner or rule:reader',
  admin_or_owner_or_writer: 'rule:admin_or_owner or rule:writer',
  admin_or_reader: 'rule:admin_required or rule:reader',
  admin_or_writer: 'rule:admin_required or rule:writer',
  'warre:flavor:get': '',
  'warre:flavor:list': '',
  'warre:flavor:list:all': 'rule:admin_or_reader',
  'warre:flavor:create': 'rule:admin_or_writer',
  'warre:flavor:update': 'rule:admin_or_writer',
  'warre:flavor:delete': 'rule:admin_or_writer',
  'warre:flavorproject:get': 'rule:admin_or_reader',
  'warre:flavorproject:list': 'rule:admin_or_reader',
  'warre:flavorproject:create': 'rule:admin_or_writer',
  'warre:flavorproject:delete': 'rule:admin_or_writer',
  'warre:maintenancewindow:get': '',
  'warre:maintenancewindow:list': '',
  'warre:maintenancewindow:create': 'rule:admin_or_writer',
  'warre:maintenancewindow:update': 'rule:admin_or_writer',
  'warre:maintenancewindow:delete': 'rule:admin_or_writer',
  'warre:limits:list:all': 'rule:admin_or_reader',
  'warre:reservation:get': 'rule:admin_or_owner_or_reader',
  'warre:reservation:list': '',
  'warre:reservation:list:all': 'rule:admin_or_reader',
  'warre:reservation:create:bypass_maintenance': 'rule:admin_required',
  'warre:reservation:update': 'rule:admin_or_owner',
  'warre:reservation:delete': 'rule:admin_or_owner',
  'warre:reservation:history': 'rule:admin_or_owner_or_reader',
  'warre:history:list': 'rule:admin_required',
  'warre:reservation:calendar': '',
  'warre:availability:get': '',
  'warre:offer:list': '',
};

const MIGRATIONS = [
  '0001-base-schema',
  '0002-indexes',
  '0003-warre-tables',
  '0004-reservation-order-index',
  '0005-message-delivery',
  '0006-reservation-history',
  '0007-project-usage-index',
];

let tmp: string;
beforeAll(() => {
  ensureBuilt();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'warre-cli-'));
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('db upgrade / db version', () => {
  let testDb: TestDatabase;
  beforeAll(async () => {
    testDb = await createTestDatabase('sqlite');
  });
  afterAll(async () => testDb?.drop());
  const env = () => warreEnv({ WARRE_DATABASE__CONNECTION: testDb.url });

  it('db version on an empty database: nothing applied, everything pending', async () => {
    const r = await runWarre(['manage', 'db', 'version'], env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`database:        ${testDb.url}`);
    expect(r.stdout).toMatch(/^alembic version: \(none\)$/m);
    expect(r.stdout).toMatch(/^applied: +\(none\)$/m);
    expect(r.stdout).toMatch(new RegExp(`^pending: +${MIGRATIONS.join(', ')}$`, 'm'));
  });

  it('db upgrade applies every migration, names each, exits 0; db version then shows them applied', async () => {
    const r = await runWarre(['manage', 'db', 'upgrade'], env());
    expect(r.code, r.stderr).toBe(0);
    for (const m of MIGRATIONS) expect(r.stdout).toMatch(new RegExp(`^applying ${m}: `, 'm'));
    expect(r.stdout).toMatch(new RegExp(`upgraded \\(${MIGRATIONS.length} migration\\(s\\)\\)\\.$`, 'm'));
    const v = await runWarre(['manage', 'db', 'version'], env());
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/^alembic version: a1b2c3d4e5f6$/m);
    expect(v.stdout).toMatch(new RegExp(`^applied: +${MIGRATIONS.join(', ')}$`, 'm'));
    expect(v.stdout).toMatch(/^pending: +\(none\)$/m);
  });

  it('the warre-manage entry point is the same command; `db sync` is an alias; a second upgrade is a no-op', async () => {
    for (const args of [
      ['db', 'upgrade'],
      ['db', 'sync'],
    ]) {
      const r = await runWarre(args, env(), { script: 'warre-manage.js' });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/is up to date\.$/m);
      expect(r.stdout).not.toMatch(/applying/);
    }
  });

  it('a database URL with a password is shown masked', async () => {
    const pgDb = await createTestDatabase('postgres');
    try {
      // Local PostgreSQL trusts 127.0.0.1, so any password connects.
      const url = pgDb.url.replace('postgresql://postgres@', 'postgresql://postgres:pw-s3cret@');
      const r = await runWarre(['manage', 'db', 'version'], warreEnv({ WARRE_DATABASE__CONNECTION: url }));
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('database:        postgresql://postgres:***@');
      expect(`${r.stdout}${r.stderr}`).not.toContain('pw-s3cret');
    } finally {
      await pgDb.drop();
    }
  });

  it('an unreachable database: exit 1, a one-line error, no stack trace, no password', async () => {
    const r = await runWarre(
      ['manage', 'db', 'version'],
      warreEnv({ WARRE_DATABASE__CONNECTION: 'mysql+pymysql://warre:s3cr3t-pw@127.0.0.1:1/warre' }),
    );
    // Nothing listens on port 1: a one-line error, no stack trace, no password.
    expect(r.code).toBe(1);
    expect(`${r.stdout}${r.stderr}`).not.toContain('s3cr3t-pw');
    expect(r.stderr).toMatch(/^warre manage: .*ECONNREFUSED/m);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('policy defaults / config sample', () => {
  it('policy defaults prints every rule of docs/api.md#policy, commented, as valid YAML once uncommented', async () => {
    const r = await runWarre(['manage', 'policy', 'defaults'], warreEnv({}));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    const lines = r.stdout.split('\n');
    expect(
      lines.filter((l) => l.startsWith('"')),
      'no rule is active in a sample',
    ).toEqual([]);
    const rules = parseYaml(
      lines
        .filter((l) => l.startsWith('#"'))
        .map((l) => l.slice(1))
        .join('\n'),
    );
    expect(rules).toEqual(DEFAULT_POLICY);
  });

  it('config sample prints every section with commented defaults; uncommented it loads as a configuration', async () => {
    const r = await runWarre(['manage', 'config', 'sample'], warreEnv({}));
    expect(r.code, r.stderr).toBe(0);
    for (const section of [
      'DEFAULT',
      'api',
      'database',
      'oslo_policy',
      'warre',
      'worker',
      'keystone_authtoken',
      'service_auth',
      'oslo_limit',
      'quota',
      'oslo_messaging_notifications',
      'oslo_messaging_rabbit',
      'smtp',
    ]) {
      expect(r.stdout).toMatch(new RegExp(`^\\[${section}\\]$`, 'm'));
    }
    expect(r.stdout).toMatch(/^#connection = sqlite:\/\/\/\.warre\/warre\.db$/m);
    expect(r.stdout).toMatch(/^#port = 8787$/m);
    expect(
      r.stdout.split('\n').filter((l) => /^[a-z_]+ *=/.test(l)),
      'every option is commented out',
    ).toEqual([]);
    // Uncomment every option that has a value and use the file: it must load without a configuration error.
    const uncommented = r.stdout
      .split('\n')
      .filter((l) => !/^#[A-Za-z_]\w* = <None>$/.test(l))
      .map((l) => l.replace(/^#([A-Za-z_]\w* = )/, '$1'))
      .join('\n');
    const dir = fs.mkdtempSync(path.join(tmp, 'sample-'));
    fs.writeFileSync(path.join(dir, 'warre.conf'), uncommented);
    const v = await runWarre(
      ['--config-file', path.join(dir, 'warre.conf'), 'manage', 'db', 'version'],
      warreEnv({ WARRE_CONFIG_FILE: undefined }),
      { cwd: dir },
    );
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout).toMatch(/^database: +sqlite:\/\/\/\.warre\/warre\.db$/m);
  });
});

describe('usage and configuration errors', () => {
  it('an unknown manage command: exit 2 with the usage', async () => {
    for (const args of [['manage', 'frobnicate'], ['manage', 'db', 'downgrade'], ['manage']]) {
      const r = await runWarre(args, warreEnv({}));
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/usage: warre-manage \[--config-file FILE\] \[--config-dir DIR\] <command>/);
      expect(r.stderr).toMatch(/db upgrade/);
      if (args.length > 1) expect(r.stderr).toContain(`unknown command "${args.slice(1).join(' ')}"`);
    }
  });

  it('an unknown warre command: exit 2 with the usage', async () => {
    const r = await runWarre(['serve'], warreEnv({}));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command "serve"');
    expect(r.stderr).toMatch(/usage: warre \[--config-file FILE\] \[--config-dir DIR\] <all\|api\|worker\|notification\|manage>/);
    const none = await runWarre([], warreEnv({}));
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/usage: warre/);
  });

  it.each([
    ['oracle://scott:tiger@db/orcl', /unknown dialect "oracle"/],
    ['not a url', /unsupported URL/],
    ['mysql+pymysql://warre:hunter2@db:port/warre', /bad port/],
    ['postgresql://warre@db:5432/', /no database name/],
    ['sqlite://relative/path.db', /three slashes/],
  ])('bad [database] connection %s: exit 2 naming the option and the accepted forms', async (url, why) => {
    for (const args of [['manage', 'db', 'upgrade'], ['api']]) {
      const r = await runWarre(args, warreEnv({ WARRE_DATABASE__CONNECTION: url }));
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/^warre: configuration error: \[database\] connection: /);
      expect(r.stderr).toMatch(why);
      for (const form of ['sqlite:///', 'mysql+pymysql://', 'postgresql://']) expect(r.stderr).toContain(form);
      expect(r.stderr).not.toMatch(/hunter2|tiger/);
    }
  });

  it('a --config-file that does not exist: exit 2 naming it', async () => {
    const r = await runWarre(
      ['--config-file', '/nonexistent/warre.conf', 'manage', 'db', 'version'],
      warreEnv({ WARRE_CONFIG_FILE: undefined }),
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('/nonexistent/warre.conf');
    expect(r.stderr).toMatch(/does not exist/);
  });

  it('a bad option value from the environment: exit 2 naming the option and the variable', async () => {
    const r = await runWarre(['manage', 'db', 'version'], warreEnv({ WARRE_API__PORT: 'eighty' }));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\[api\] port/);
    expect(r.stderr).toContain('WARRE_API__PORT');
  });
});

describe('warre api on a database with pending migrations', () => {
  let testDb: TestDatabase;
  beforeAll(async () => {
    testDb = await createTestDatabase('sqlite');
  });
  afterAll(async () => testDb?.drop());
  const env = async (workers: number) =>
    warreEnv({
      WARRE_DATABASE__CONNECTION: testDb.url,
      WARRE_API__PORT: String(await freePort()),
      WARRE_API__WORKERS: String(workers),
      WARRE_DEFAULT__AUTH_STRATEGY: 'noauth',
      WARRE_WARRE__LEASE_BACKEND: 'simulator',
    });

  it('refuses to start (one process): exit 1 telling to run `warre-manage db upgrade`, and migrates nothing', async () => {
    const r = await runWarre(['api'], await env(1), { timeoutMs: 30_000 });
    expect(r.signal).toBeNull();
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /not up to date: pending migrations 0001-base-schema, 0002-indexes, 0003-warre-tables, 0004-reservation-order-index, 0005-message-delivery, 0006-reservation-history, 0007-project-usage-index/,
    );
    expect(r.stderr).toContain('Run "warre-manage db upgrade" first');
    const v = await runWarre(['manage', 'db', 'version'], warreEnv({ WARRE_DATABASE__CONNECTION: testDb.url }));
    expect(v.stdout).toMatch(/^applied: +\(none\)$/m);
  });

  // Regression: the primary must check the schema before forking (it used to restart workers forever).
  it('refuses to start (several workers): the primary exits too', async () => {
    const p = startWarre(['api'], await env(2));
    try {
      await p.waitFor(/Run "warre-manage db upgrade" first/, { timeoutMs: 30_000 });
      const exited = await Promise.race([p.exited, new Promise<null>((r) => setTimeout(() => r(null), 8_000))]);
      expect(exited, 'the primary is still running').not.toBeNull();
      expect(exited!.code).not.toBe(0);
    } finally {
      const pgid = p.pid;
      await p.stop(5_000);
      expect(processGroupMembers(pgid)).toEqual([]);
    }
  });
});
