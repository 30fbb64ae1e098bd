/**
 * The flavor cache (docs/operations.md#flavor-cache): what this process changes is seen at once,
 * what changes elsewhere within `[api] flavor_cache_seconds`, and nothing is ever refused because
 * the snapshot is older than the database.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertFlavorProject } from '../../src/db/repositories/flavor-projects.js';
import * as repo from '../../src/db/repositories/flavors.js';
import { deleteFlavor, insertFlavor, updateFlavor } from '../../src/db/repositories/flavors.js';
import type { Flavor } from '../../src/domain/types.js';
import { listFlavors } from '../../src/services/flavors.js';
import { as, book, call, createFlavor, expectOk, grant, newProject, uniq } from '../support/api-helpers.js';
import { ADMIN, buildTestApp, type TestApp } from '../support/app.js';
import { DIALECTS } from '../support/db.js';

/** A flavor written straight to the database: as another API process, warre-manage or SQL would. */
function elsewhere(fields: Partial<Flavor> = {}): Flavor {
  return {
    id: randomUUID(),
    name: uniq('elsewhere'),
    description: null,
    vcpu: 1,
    memory_mb: 512,
    disk_gb: 1,
    ephemeral_gb: 0,
    active: true,
    properties: null,
    max_length_hours: 24,
    slots: 1,
    is_public: true,
    extra_specs: {},
    start: null,
    end: null,
    category: null,
    availability_zone: null,
    ...fields,
  };
}

const names = (body: { results: { name: string }[] }) => body.results.map((r) => r.name);

describe.each(DIALECTS)('flavor cache on %s', (dialect) => {
  let cached: TestApp; // an hour: whatever changes elsewhere is not seen in this test's time
  let quick: TestApp; // 50 ms
  let uncached: TestApp; // 0: every request reads the database
  beforeAll(async () => {
    [cached, quick, uncached] = await Promise.all([
      buildTestApp(dialect, { flavorCacheSeconds: 3600 }),
      buildTestApp(dialect, { flavorCacheSeconds: 0.05 }),
      buildTestApp(dialect, { flavorCacheSeconds: 0 }),
    ]);
  });
  afterAll(async () => Promise.all([cached?.close(), quick?.close(), uncached?.close()]));

  it('serves the list from memory: a flavor added elsewhere is not listed until the snapshot ages', async () => {
    const before = names(expectOk(await call(cached, 'GET', '/v1/flavors/', ADMIN)));
    const f = elsewhere();
    await insertFlavor(cached.db, f);
    expect(names(expectOk(await call(cached, 'GET', '/v1/flavors/', ADMIN)))).toEqual(before);
    // …while the database itself, and an uncached process, have it.
    await insertFlavor(uncached.db, f);
    expect(names(expectOk(await call(uncached, 'GET', '/v1/flavors/', ADMIN)))).toContain(f.name);
  });

  it('a change elsewhere is seen once the snapshot is older than flavor_cache_seconds', async () => {
    const first = names(expectOk(await call(quick, 'GET', '/v1/flavors/', ADMIN)));
    const f = elsewhere();
    await insertFlavor(quick.db, f);
    await new Promise((r) => setTimeout(r, 120));
    const later = names(expectOk(await call(quick, 'GET', '/v1/flavors/', ADMIN)));
    expect(later).toContain(f.name);
    expect(later.length).toBe(first.length + 1);
    await updateFlavor(quick.db, { ...f, name: `${f.name}-renamed` });
    await new Promise((r) => setTimeout(r, 120));
    expect(names(expectOk(await call(quick, 'GET', '/v1/flavors/', ADMIN)))).toContain(`${f.name}-renamed`);
    await deleteFlavor(quick.db, f.id);
    await new Promise((r) => setTimeout(r, 120));
    expect(names(expectOk(await call(quick, 'GET', '/v1/flavors/', ADMIN)))).not.toContain(`${f.name}-renamed`);
  });

  it("this process's own writes are seen by its next request (create, update, delete, grant, revoke)", async () => {
    const p = newProject();
    expectOk(await call(cached, 'GET', '/v1/flavors/', as(p.id)));
    const created = await createFlavor(cached, { name: uniq('own'), is_public: false });
    const visible = async () => names(expectOk(await call(cached, 'GET', '/v1/flavors/', as(p.id))));
    expect(await visible()).not.toContain(created.name);
    const g = await grant(cached, created.id, p.id);
    expect(await visible()).toContain(created.name);
    expectOk(await call(cached, 'PATCH', `/v1/flavors/${created.id}/`, ADMIN, { name: `${created.name}-x` }));
    expect(await visible()).toContain(`${created.name}-x`);
    expect((await call(cached, 'DELETE', `/v1/flavorprojects/${g.id}/`, ADMIN)).statusCode).toBe(204);
    expect(await visible()).not.toContain(`${created.name}-x`);
    expect((await call(cached, 'DELETE', `/v1/flavors/${created.id}/`, ADMIN)).statusCode).toBe(204);
    expect(names(expectOk(await call(cached, 'GET', '/v1/flavors/?limit=1000', ADMIN)))).not.toContain(`${created.name}-x`);
  });

  it('never refuses what the database has: a flavor or grant made elsewhere is found by id at once', async () => {
    expectOk(await call(cached, 'GET', '/v1/flavors/', ADMIN));
    const f = elsewhere({ is_public: false });
    await insertFlavor(cached.db, f);
    const p = newProject();
    // Not granted yet: 404, from the database.
    expect((await call(cached, 'GET', `/v1/flavors/${f.id}/`, as(p.id))).statusCode).toBe(404);
    await insertFlavorProject(cached.db, { id: randomUUID(), flavor_id: f.id, project_id: p.id });
    expect(expectOk(await call(cached, 'GET', `/v1/flavors/${f.id}/`, as(p.id))).name).toBe(f.name);
    // And a reservation on it is decided by the database, not the snapshot.
    const day = new Date(Date.now() + 2 * 86_400_000).toISOString().slice(0, 10);
    expect((await book(cached, as(p.id), f.id, `${day}T10:00`, `${day}T12:00`)).statusCode).toBe(200);
    // The list names its flavor though the snapshot lacks it (read from the database).
    const list = expectOk(await call(cached, 'GET', '/v1/reservations/', as(p.id)));
    expect(list.results.map((r: { flavor: { name: string } }) => r.flavor.name)).toEqual([f.name]);
  });

  it('filters by text (category, availability zone) go to the database, whose collation decides', async () => {
    expectOk(await call(cached, 'GET', '/v1/flavors/', ADMIN));
    const category = uniq('cat');
    const f = elsewhere({ category });
    await insertFlavor(cached.db, f);
    expect(names(expectOk(await call(cached, 'GET', `/v1/flavors/?category=${category}`, ADMIN)))).toEqual([f.name]);
  });

  it('pages and totals from memory are those of the database, in its order (mixed case names included)', async () => {
    const p = newProject();
    for (const name of ['b-page', 'B-page', 'a-Page', 'A-page', 'c-page']) {
      const f = await createFlavor(cached, { name, memory_mb: 1024, is_public: false });
      if (name !== 'c-page') await grant(cached, f.id, p.id);
    }
    await createFlavor(cached, { name: 'inactive-page', active: false });
    const filters = [
      { visibleToProject: null, active: null },
      { visibleToProject: null, active: false },
      { visibleToProject: null, active: true },
      { visibleToProject: p.id, active: null },
      { visibleToProject: 'nobody', active: null },
    ];
    for (const f of filters) {
      for (const page of [
        { limit: 1000, offset: 0 },
        { limit: 2, offset: 0 },
        { limit: 2, offset: 2 },
        { limit: 3, offset: 1000 },
      ]) {
        const filter = { ...f, category: null, availabilityZone: null };
        const fromMemory = await listFlavors(cached.svc, filter, page);
        const fromDb = await repo.listFlavors(cached.db, filter, page);
        expect({ ids: fromMemory.rows.map((r) => r.id), total: fromMemory.total }).toEqual({
          ids: fromDb.rows.map((r) => r.id),
          total: fromDb.total,
        });
        expect(fromMemory.rows).toEqual(fromDb.rows);
      }
    }
  });
});
