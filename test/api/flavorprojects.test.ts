/** docs/api.md#flavor-grants: access grants of private flavors. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { as, call, createFlavor, expectError, expectOk, expectUnchanged, grant, uniq } from '../support/api-helpers.js';
import { ADMIN, buildTestApp, MEMBER, READER, type TestApp, WRITER } from '../support/app.js';
import { DIALECTS } from '../support/db.js';

describe.each(DIALECTS)('flavorprojects on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect);
  });
  afterAll(async () => t?.close());

  it('create answers 200 with {id, project_id, flavor} where flavor is the flavor id', async () => {
    const f = await createFlavor(t, { is_public: false });
    const project = uniq('grantee');
    const g = expectOk(await call(t, 'POST', '/v1/flavorprojects/', WRITER, { flavor_id: f.id, project_id: project }));
    expect(Object.keys(g).sort()).toEqual(['flavor', 'id', 'project_id']);
    expect(g).toEqual({ id: g.id, project_id: project, flavor: f.id });
    // The grant makes the private flavor visible to that project.
    expect(expectOk(await call(t, 'GET', `/v1/flavors/${f.id}/`, as(project))).id).toBe(f.id);
  });

  it('lists grants for readers, filtered by project_id and flavor_id', async () => {
    const f1 = await createFlavor(t, { is_public: false });
    const f2 = await createFlavor(t, { is_public: false });
    const p1 = uniq('lp');
    const p2 = uniq('lp');
    const g11 = await grant(t, f1.id, p1);
    const g21 = await grant(t, f2.id, p1);
    const g12 = await grant(t, f1.id, p2);
    const byProject = expectOk(await call(t, 'GET', `/v1/flavorprojects/?project_id=${p1}`, READER));
    expect(byProject.total).toBe(2);
    expect(byProject.results.sort((a: { id: string }, b: { id: string }) => a.id.localeCompare(b.id))).toEqual(
      [g11, g21].sort((a, b) => a.id.localeCompare(b.id)),
    );
    const byFlavor = expectOk(await call(t, 'GET', `/v1/flavorprojects?flavor_id=${f1.id}`, ADMIN));
    expect(byFlavor.total).toBe(2);
    expect(byFlavor.results.map((g: { id: string }) => g.id).sort()).toEqual([g11.id, g12.id].sort());
    const both = expectOk(await call(t, 'GET', `/v1/flavorprojects/?flavor_id=${f1.id}&project_id=${p2}`, READER));
    expect(both).toEqual({ results: [g12], total: 1 });
    expect(expectOk(await call(t, 'GET', `/v1/flavorprojects/?project_id=${uniq('none')}`, READER))).toEqual({ results: [], total: 0 });
    const all = expectOk(await call(t, 'GET', '/v1/flavorprojects/', READER));
    expect(all.total).toBeGreaterThanOrEqual(3);
    for (const g of all.results) expect(Object.keys(g).sort()).toEqual(['flavor', 'id', 'project_id']);
  });

  it('an unknown flavor is 404 Flavor does not exist; the same pair again is 409 Already exists', async () => {
    const f = await createFlavor(t, { is_public: false });
    const project = uniq('dup');
    await grant(t, f.id, project);
    await expectUnchanged(t, async () => {
      expectError(
        await call(t, 'POST', '/v1/flavorprojects/', ADMIN, { flavor_id: randomUUID(), project_id: project }),
        404,
        'Flavor does not exist',
      );
      expectError(
        await call(t, 'POST', '/v1/flavorprojects/', ADMIN, { flavor_id: 'm1.small', project_id: project }),
        404,
        'Flavor does not exist',
      );
      expectError(await call(t, 'POST', '/v1/flavorprojects/', ADMIN, { flavor_id: f.id, project_id: project }), 409, 'Already exists');
    });
    // The same flavor for another project, and the same project for another flavor, are fine.
    await grant(t, f.id, uniq('dup2'));
    await grant(t, (await createFlavor(t)).id, project);
  });

  it('bad bodies are a 422 with field messages', async () => {
    const f = await createFlavor(t);
    await expectUnchanged(t, async () => {
      expectError(await call(t, 'POST', '/v1/flavorprojects/', ADMIN, { flavor_id: f.id }), 422, {
        project_id: ['Missing data for required field.'],
      });
      expectError(await call(t, 'POST', '/v1/flavorprojects/', ADMIN, { project_id: 'p' }), 422, {
        flavor_id: ['Missing data for required field.'],
      });
      expectError(await call(t, 'POST', '/v1/flavorprojects/', ADMIN, { flavor_id: f.id, project_id: 5 }), 422, {
        project_id: ['Not a valid string.'],
      });
      expectError(await call(t, 'POST', '/v1/flavorprojects/', ADMIN, { flavor_id: f.id, project_id: 'p', x: 1 }), 422, {
        x: ['Unknown field.'],
      });
      expectError(await call(t, 'POST', '/v1/flavorprojects/', ADMIN, { flavor_id: f.id, project_id: 'p'.repeat(65) }), 422);
      expectError(await call(t, 'POST', '/v1/flavorprojects/', ADMIN, { flavor_id: [f.id], project_id: 'p' }), 422);
    });
  });

  it('delete answers 204 and removes access; an unknown id is a 404', async () => {
    const f = await createFlavor(t, { is_public: false });
    const project = uniq('del');
    const g = await grant(t, f.id, project);
    const res = await call(t, 'DELETE', `/v1/flavorprojects/${g.id}/`, WRITER);
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expectError(await call(t, 'GET', `/v1/flavors/${f.id}/`, as(project)), 404);
    expectError(await call(t, 'DELETE', `/v1/flavorprojects/${g.id}/`, ADMIN), 404, `FlavorProject ${g.id} doesn't exist`);
    expectError(await call(t, 'DELETE', '/v1/flavorprojects/nope/', ADMIN), 404, "FlavorProject nope doesn't exist");
  });

  it('members: list and create 403, delete 404', async () => {
    const f = await createFlavor(t, { is_public: false });
    const g = await grant(t, f.id, MEMBER['x-project-id']);
    await expectUnchanged(t, async () => {
      expectError(await call(t, 'GET', '/v1/flavorprojects/', MEMBER), 403, 'Not authorised');
      expectError(await call(t, 'GET', `/v1/flavorprojects/?project_id=${MEMBER['x-project-id']}`, MEMBER), 403, 'Not authorised');
      expectError(await call(t, 'POST', '/v1/flavorprojects/', MEMBER, { flavor_id: f.id, project_id: uniq('x') }), 403, 'Not authorised');
      expectError(await call(t, 'DELETE', `/v1/flavorprojects/${g.id}/`, MEMBER), 404, `FlavorProject ${g.id} doesn't exist`);
      expectError(await call(t, 'DELETE', `/v1/flavorprojects/${g.id}/`, READER), 404, `FlavorProject ${g.id} doesn't exist`);
    });
  });
});
