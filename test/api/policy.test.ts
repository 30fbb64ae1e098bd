/**
 * docs/api.md#policy: every default rule exercised with the roles it names; denied
 * collection operations are 403 `Not authorised`, denied item operations 404
 * with the item's "doesn't exist" text, and nothing changes on a refusal.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  as,
  book,
  Clock,
  call,
  createFlavor,
  createWindow,
  expectError,
  expectOk,
  expectUnchanged,
  grant,
  type Headers,
  RecordingLeases,
  seedReservation,
  uniq,
} from '../support/api-helpers.js';
import { ADMIN, buildTestApp, type TestApp } from '../support/app.js';
import { DIALECTS } from '../support/db.js';

const clock = new Clock(Date.parse('2030-01-01T00:00:00Z'));

/** Each role of docs/api.md#policy, in its own project. */
const roles = () => ({
  admin: as(uniq('adm'), 'admin'),
  cloudAdmin: as(uniq('cadm'), 'cloud_admin'),
  helpdesk: as(uniq('help'), 'helpdesk'),
  reader: as(uniq('ro'), 'read_only'),
  member: as(uniq('mem'), 'member'),
  /** Rule names are not roles, and a role must match whole: none of these is a privileged role. */
  lookalike: as(uniq('look'), 'reader,writer,administrator,admin_required,readonly'),
});

describe.each(DIALECTS)('policy on %s', (dialect) => {
  let t: TestApp;
  const leases = new RecordingLeases();
  const R = roles();

  beforeAll(async () => {
    t = await buildTestApp(dialect, { now: clock.now, leases });
  });
  afterAll(async () => t?.close());

  const newFlavorBody = () => ({ name: uniq('pol'), vcpu: 1, memory_mb: 1, disk_gb: 1 });

  it('flavor create: admin and writers (cloud_admin, helpdesk); others 403', async () => {
    for (const h of [R.admin, R.cloudAdmin, R.helpdesk]) expectOk(await call(t, 'POST', '/v1/flavors/', h, newFlavorBody()), 202);
    await expectUnchanged(t, async () => {
      for (const h of [R.reader, R.member, R.lookalike])
        expectError(await call(t, 'POST', '/v1/flavors/', h, newFlavorBody()), 403, 'Not authorised');
    });
  });

  it("flavor update/delete: writers; others get 404 Flavor <id> doesn't exist", async () => {
    for (const h of [R.admin, R.cloudAdmin, R.helpdesk]) {
      const f = await createFlavor(t);
      expect(expectOk(await call(t, 'PATCH', `/v1/flavors/${f.id}/`, h, { description: 'by writer' })).description).toBe('by writer');
      expect((await call(t, 'DELETE', `/v1/flavors/${f.id}/`, h)).statusCode).toBe(204);
    }
    const pub = await createFlavor(t);
    const priv = await createFlavor(t, { is_public: false });
    await grant(t, priv.id, R.member['x-project-id']);
    await expectUnchanged(t, async () => {
      for (const h of [R.reader, R.member, R.lookalike]) {
        for (const f of [pub, priv]) {
          expectError(await call(t, 'PATCH', `/v1/flavors/${f.id}/`, h, { description: 'no' }), 404, `Flavor ${f.id} doesn't exist`);
          expectError(await call(t, 'DELETE', `/v1/flavors/${f.id}/`, h), 404, `Flavor ${f.id} doesn't exist`);
        }
      }
    });
  });

  it('flavor get/list: anyone; list:all for admin and readers only', async () => {
    const inactive = await createFlavor(t, { active: false, category: 'pol-all' });
    for (const h of [R.admin, R.reader, R.cloudAdmin, R.helpdesk]) {
      expect(expectOk(await call(t, 'GET', '/v1/flavors/?all_projects=true&category=pol-all', h)).total).toBe(1);
      expectOk(await call(t, 'GET', `/v1/flavors/${inactive.id}/`, h));
    }
    for (const h of [R.member, R.lookalike]) {
      expect(expectOk(await call(t, 'GET', '/v1/flavors/?all_projects=true&category=pol-all', h)).total).toBe(0);
    }
  });

  it('flavorproject list: admin and readers; members 403', async () => {
    for (const h of [R.admin, R.reader, R.cloudAdmin, R.helpdesk]) expectOk(await call(t, 'GET', '/v1/flavorprojects/', h));
    for (const h of [R.member, R.lookalike]) expectError(await call(t, 'GET', '/v1/flavorprojects/', h), 403, 'Not authorised');
  });

  it('flavorproject create/delete: writers; create 403, delete 404 for others', async () => {
    const f = await createFlavor(t, { is_public: false });
    for (const h of [R.admin, R.cloudAdmin, R.helpdesk]) {
      const g = expectOk(await call(t, 'POST', '/v1/flavorprojects/', h, { flavor_id: f.id, project_id: uniq('g') }));
      expect((await call(t, 'DELETE', `/v1/flavorprojects/${g.id}/`, h)).statusCode).toBe(204);
    }
    const g = await grant(t, f.id, uniq('kept'));
    await expectUnchanged(t, async () => {
      for (const h of [R.reader, R.member, R.lookalike]) {
        expectError(await call(t, 'POST', '/v1/flavorprojects/', h, { flavor_id: f.id, project_id: uniq('g') }), 403, 'Not authorised');
        expectError(await call(t, 'DELETE', `/v1/flavorprojects/${g.id}/`, h), 404, `FlavorProject ${g.id} doesn't exist`);
      }
    });
  });

  it('maintenance windows: anyone reads; writers write; create 403, update/delete 404 for others', async () => {
    const body = { start: '2031-01-01T00:00:00+00:00', end: '2031-01-02T00:00:00+00:00' };
    for (const h of [R.admin, R.cloudAdmin, R.helpdesk]) {
      const w = expectOk(await call(t, 'POST', '/v1/maintenancewindows/', h, body), 201);
      expectOk(await call(t, 'PATCH', `/v1/maintenancewindows/${w.id}/`, h, { note: 'n' }));
      expect((await call(t, 'DELETE', `/v1/maintenancewindows/${w.id}/`, h)).statusCode).toBe(204);
    }
    const w = await createWindow(t, '2031-02-01T00:00', '2031-02-02T00:00', []);
    for (const h of [R.reader, R.member, R.lookalike]) {
      expectOk(await call(t, 'GET', '/v1/maintenancewindows/', h));
      expectOk(await call(t, 'GET', `/v1/maintenancewindows/${w.id}/`, h));
    }
    await expectUnchanged(t, async () => {
      for (const h of [R.reader, R.member, R.lookalike]) {
        expectError(await call(t, 'POST', '/v1/maintenancewindows/', h, body), 403, 'Not authorised');
        expectError(
          await call(t, 'PATCH', `/v1/maintenancewindows/${w.id}/`, h, { note: 'x' }),
          404,
          `MaintenanceWindow ${w.id} doesn't exist`,
        );
        expectError(await call(t, 'DELETE', `/v1/maintenancewindows/${w.id}/`, h), 404, `MaintenanceWindow ${w.id} doesn't exist`);
      }
    });
  });

  it('limits of another project: admin and readers; members 403', async () => {
    for (const h of [R.admin, R.reader, R.cloudAdmin, R.helpdesk]) expectOk(await call(t, 'GET', '/v1/limits?project_id=someone', h));
    for (const h of [R.member, R.lookalike]) expectError(await call(t, 'GET', '/v1/limits?project_id=someone', h), 403, 'Not authorised');
  });

  describe('reservations', () => {
    let flavorId: string;
    const owner = as(uniq('owner'));
    const sameProjectOtherUser: Headers = { ...owner, 'x-user-id': 'someone-else' };

    beforeAll(async () => {
      flavorId = (await createFlavor(t, { slots: 100 })).id;
    });

    it('get: owner project, admin and readers; others 404', async () => {
      const id = await seedReservation(t, {
        flavor_id: flavorId,
        project_id: owner['x-project-id'],
        start: '2030-02-01T00:00',
        end: '2030-02-01T01:00',
      });
      for (const h of [owner, sameProjectOtherUser, R.admin, R.reader, R.cloudAdmin, R.helpdesk]) {
        expect(expectOk(await call(t, 'GET', `/v1/reservations/${id}/`, h)).id).toBe(id);
      }
      for (const h of [R.member, R.lookalike])
        expectError(await call(t, 'GET', `/v1/reservations/${id}/`, h), 404, `Reservation ${id} doesn't exist`);
    });

    it('update/delete: owner project and admin only; readers and writers get 404', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        ids.push(
          await seedReservation(t, {
            flavor_id: flavorId,
            project_id: owner['x-project-id'],
            start: '2030-01-05T00:00',
            end: '2030-01-05T01:00',
            status: 'ACTIVE',
            lease_id: uniq('lease'),
          }),
        );
      }
      const [a, b, c] = ids as [string, string, string];
      await expectUnchanged(t, async () => {
        for (const h of [R.reader, R.cloudAdmin, R.helpdesk, R.member, R.lookalike]) {
          expectError(
            await call(t, 'PATCH', `/v1/reservations/${a}/`, h, { end: '2030-01-05T02:00:00+00:00' }),
            404,
            `Reservation ${a} doesn't exist`,
          );
          expectError(await call(t, 'DELETE', `/v1/reservations/${a}/`, h), 404, `Reservation ${a} doesn't exist`);
        }
      });
      expect(leases.calls).toEqual([]);
      expect(
        expectOk(await call(t, 'PATCH', `/v1/reservations/${a}/`, sameProjectOtherUser, { end: '2030-01-05T02:00:00+00:00' })).end,
      ).toBe('2030-01-05T02:00:00+00:00');
      expect(expectOk(await call(t, 'PATCH', `/v1/reservations/${b}/`, R.admin, { end: '2030-01-05T02:00:00+00:00' })).end).toBe(
        '2030-01-05T02:00:00+00:00',
      );
      expect((await call(t, 'DELETE', `/v1/reservations/${b}/`, owner)).statusCode).toBe(204);
      expect((await call(t, 'DELETE', `/v1/reservations/${c}/`, R.admin)).statusCode).toBe(204);
    });

    it('list:all (all_projects / project_id): admin and readers; ignored for members', async () => {
      const p = uniq('listed');
      const id = await seedReservation(t, { flavor_id: flavorId, project_id: p, start: '2030-02-01T00:00', end: '2030-02-01T01:00' });
      for (const h of [R.admin, R.reader, R.cloudAdmin, R.helpdesk]) {
        const byProject = expectOk(await call(t, 'GET', `/v1/reservations/?project_id=${p}`, h));
        expect(byProject.results.map((r: { id: string }) => r.id)).toEqual([id]);
        const all = expectOk(await call(t, 'GET', `/v1/reservations/?all_projects=true&flavor_id=${flavorId}`, h));
        expect(all.results.map((r: { id: string }) => r.id)).toContain(id);
      }
      for (const h of [R.member, R.lookalike]) {
        expect(expectOk(await call(t, 'GET', `/v1/reservations/?project_id=${p}`, h)).total).toBe(0);
        expect(expectOk(await call(t, 'GET', '/v1/reservations/?all_projects=true', h)).total).toBe(0);
      }
    });

    it('create:bypass_maintenance is admin only', async () => {
      const f = await createFlavor(t);
      await createWindow(t, '2030-03-01T00:00', '2030-03-02T00:00', [f.id]);
      for (const h of [R.cloudAdmin, R.helpdesk, R.reader, R.member]) {
        expectError(await book(t, h, f.id, '2030-03-01T10:00', '2030-03-01T11:00'), 400, 'Reservation conflicts with a maintenance window');
      }
      expectOk(await book(t, R.admin, f.id, '2030-03-01T10:00', '2030-03-01T11:00'));
    });
  });

  it('roles come from the comma-separated X-Roles and match case-insensitively (oslo.policy)', async () => {
    expectOk(await call(t, 'POST', '/v1/flavors/', as(uniq('x'), 'member,admin'), newFlavorBody()), 202);
    expectOk(await call(t, 'POST', '/v1/flavors/', as(uniq('x'), ' member , admin '), newFlavorBody()), 202);
    expectOk(await call(t, 'POST', '/v1/flavors/', as(uniq('x'), 'ADMIN'), newFlavorBody()), 202);
    expectOk(await call(t, 'POST', '/v1/flavors/', as(uniq('x'), 'Cloud_Admin'), newFlavorBody()), 202);
    expectError(await call(t, 'POST', '/v1/flavors/', as(uniq('x'), 'member'), newFlavorBody()), 403, 'Not authorised');
    expectError(await call(t, 'POST', '/v1/flavors/', { 'x-project-id': uniq('x') }, newFlavorBody()), 403, 'Not authorised');
    expectOk(await call(t, 'GET', '/v1/flavorprojects/', ADMIN));
  });
});

describe.each(DIALECTS)('policy file overrides on %s', (dialect) => {
  let t: TestApp;
  let dir: string;
  const member = as(uniq('pf'));

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warre-policy-'));
    const file = path.join(dir, 'policy.yaml');
    fs.writeFileSync(
      file,
      [
        '"warre:flavor:list": "rule:admin_required"',
        '"warre:reservation:get": "rule:admin_required"',
        '"warre:flavor:create": "role:flavor_manager"',
        '',
      ].join('\n'),
    );
    t = await buildTestApp(dialect, { now: clock.now, policyFile: file });
  });
  afterAll(async () => {
    await t?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('overridden rules apply; the others keep their defaults', async () => {
    expectError(await call(t, 'GET', '/v1/flavors/', member), 403, 'Not authorised');
    expectOk(await call(t, 'GET', '/v1/flavors/', ADMIN));
    // Only the new role may create flavors now, not even admin.
    expectError(await call(t, 'POST', '/v1/flavors/', ADMIN, { name: 'x', vcpu: 1, memory_mb: 1, disk_gb: 1 }), 403, 'Not authorised');
    const f = expectOk(
      await call(t, 'POST', '/v1/flavors/', as(uniq('fm'), 'flavor_manager'), { name: 'x', vcpu: 1, memory_mb: 1, disk_gb: 1 }),
      202,
    );
    const id = await seedReservation(t, {
      flavor_id: f.id,
      project_id: member['x-project-id'],
      start: '2030-02-01T00:00',
      end: '2030-02-01T01:00',
    });
    expectError(await call(t, 'GET', `/v1/reservations/${id}/`, member), 404, `Reservation ${id} doesn't exist`);
    expectOk(await call(t, 'GET', `/v1/reservations/${id}/`, ADMIN));
    // Defaults still hold elsewhere: the member lists its own reservations; flavorprojects stay reader-only.
    expect(expectOk(await call(t, 'GET', '/v1/reservations/', member)).total).toBe(1);
    expectError(await call(t, 'GET', '/v1/flavorprojects/', member), 403, 'Not authorised');
  });
});
