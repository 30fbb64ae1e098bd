/**
 * `[worker] workers` runs several worker / notification processes under one
 * supervising primary; a fault every copy trips on ends the primary instead of
 * a restart loop.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { ensureBuilt, runWarre, startWarre, warreEnv } from './process.js';

describe('[worker] workers', () => {
  let testDb: TestDatabase;
  beforeAll(async () => {
    ensureBuilt();
    testDb = await createTestDatabase('sqlite');
    const r = await runWarre(['manage', 'db', 'upgrade'], warreEnv({ WARRE_DATABASE__CONNECTION: testDb.url }));
    expect(r.code, r.stderr).toBe(0);
  });
  afterAll(async () => testDb?.drop());

  it('starts that many worker processes under one primary', async () => {
    const p = startWarre(
      ['worker'],
      warreEnv({
        WARRE_DATABASE__CONNECTION: testDb.url,
        WARRE_WORKER__WORKERS: '2',
        WARRE_WARRE__LEASE_BACKEND: 'blazar',
        WARRE_WARRE__USER_NOTIFIER: 'logging',
      }),
    );
    try {
      await p.waitFor(/warre-worker started/, { count: 2, timeoutMs: 30_000 });
      expect(p.stdout()).toContain('starting 2 worker processes');
    } finally {
      await p.stop();
    }
  });

  it('gives up with exit 1 when every copy dies at start (here: taynac without [service_auth])', async () => {
    const r = await runWarre(
      ['worker'],
      warreEnv({
        WARRE_DATABASE__CONNECTION: testDb.url,
        WARRE_WORKER__WORKERS: '2',
        WARRE_WARRE__LEASE_BACKEND: 'blazar',
        WARRE_WARRE__USER_NOTIFIER: 'taynac',
      }),
      { timeoutMs: 60_000 },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('The taynac user notifier needs Keystone credentials ([service_auth])');
    expect(r.stdout + r.stderr).toMatch(/keep dying right after start; giving up/);
  });

  it('refuses in the primary, once, when migrations are pending', async () => {
    const fresh = await createTestDatabase('sqlite');
    try {
      const r = await runWarre(
        ['notification'],
        warreEnv({
          WARRE_DATABASE__CONNECTION: fresh.url,
          WARRE_WORKER__WORKERS: '3',
          WARRE_DEFAULT__TRANSPORT_URL: 'rabbit://guest:guest@127.0.0.1:5672/',
        }),
        {
          timeoutMs: 30_000,
        },
      );
      expect(r.code).toBe(1);
      expect(r.stderr.match(/Run "warre-manage db upgrade" first/g)?.length).toBe(1);
    } finally {
      await fresh.drop();
    }
  });
});
