/** docs/api.md#flavors: create, validation, visibility, filters, order, get, update, delete. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  as,
  Clock,
  call,
  createFlavor,
  createWindow,
  expectError,
  expectOk,
  expectUnchanged,
  FLAVOR_FIELDS,
  grant,
  newProject,
  seedReservation,
  uniq,
} from '../support/api-helpers.js';
import { ADMIN, buildTestApp, READER, type TestApp, WRITER } from '../support/app.js';
import { DIALECTS } from '../support/db.js';

const clock = new Clock(Date.parse('2030-01-01T00:00:00Z'));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe.each(DIALECTS)('flavors on %s', (dialect) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp(dialect, { now: clock.now });
  });
  afterAll(async () => t?.close());

  const ids = (body: { results: { id: string }[] }) => body.results.map((r) => r.id);

  describe('create', () => {
    it('answers 202 with every field and the defaults', async () => {
      const res = await call(t, 'POST', '/v1/flavors/', ADMIN, { name: 'm1.defaults', vcpu: 4, memory_mb: 8192, disk_gb: 30 });
      const f = expectOk(res, 202);
      expect(Object.keys(f).sort()).toEqual(FLAVOR_FIELDS);
      expect(f.id).toMatch(UUID);
      expect(f).toEqual({
        id: f.id,
        name: 'm1.defaults',
        description: null,
        vcpu: 4,
        memory_mb: 8192,
        disk_gb: 30,
        ephemeral_gb: 0,
        active: true,
        properties: null,
        max_length_hours: 504,
        slots: 1,
        is_public: true,
        extra_specs: {},
        start: null,
        end: null,
        category: null,
        availability_zone: null,
      });
      expect(expectOk(await call(t, 'GET', `/v1/flavors/${f.id}/`, ADMIN))).toEqual(f);
    });

    it('stores every field given, with start/end normalised', async () => {
      const body = {
        name: 'gpu.large',
        description: 'A100 node',
        vcpu: 32,
        memory_mb: 262144,
        disk_gb: 500,
        ephemeral_gb: 1000,
        active: false,
        properties: '["=", "$gpu", "a100"]',
        max_length_hours: 72,
        slots: 4,
        is_public: false,
        extra_specs: { 'resources:VGPU': '1', nested: { a: [1, 2, { b: null }] } },
        start: '2030-02-01T10:30:45+10:00',
        end: '2030-06-30T23:59:59Z',
        category: 'GPU',
        availability_zone: 'melbourne-qh2',
      };
      const f = expectOk(await call(t, 'POST', '/v1/flavors/', WRITER, body), 202);
      expect(f).toEqual({ ...body, id: f.id, start: '2030-02-01T00:30:00+00:00', end: '2030-06-30T23:59:00+00:00' });
      expect(expectOk(await call(t, 'GET', `/v1/flavors/${f.id}/`, ADMIN))).toEqual(f);
    });

    it('accepts integers and booleans in their usual string forms', async () => {
      const f = expectOk(
        await call(t, 'POST', '/v1/flavors/', ADMIN, {
          name: uniq('s'),
          vcpu: '2',
          memory_mb: 1024,
          disk_gb: 0,
          active: 'true',
          is_public: 'False',
          extra_specs: null,
        }),
        202,
      );
      expect(f).toMatchObject({ vcpu: 2, disk_gb: 0, active: true, is_public: false });
    });

    it('422 names each bad field with the historical messages, and stores nothing', async () => {
      const base = { name: 'ok', vcpu: 1, memory_mb: 1, disk_gb: 1 };
      const cases: [Record<string, unknown>, Record<string, string[]>][] = [
        [
          { name: 'only-name' },
          {
            vcpu: ['Missing data for required field.'],
            memory_mb: ['Missing data for required field.'],
            disk_gb: ['Missing data for required field.'],
          },
        ],
        [{ vcpu: 1, memory_mb: 1, disk_gb: 1 }, { name: ['Missing data for required field.'] }],
        [{ ...base, vcpu: 'four' }, { vcpu: ['Not a valid integer.'] }],
        [{ ...base, memory_mb: true }, { memory_mb: ['Not a valid integer.'] }],
        [{ ...base, slots: [1] }, { slots: ['Not a valid integer.'] }],
        [{ ...base, name: 5 }, { name: ['Not a valid string.'] }],
        [{ ...base, category: { a: 1 } }, { category: ['Not a valid string.'] }],
        [{ ...base, active: 'maybe' }, { active: ['Not a valid boolean.'] }],
        [{ ...base, is_public: 7 }, { is_public: ['Not a valid boolean.'] }],
        [{ ...base, start: 'tomorrow' }, { start: ['Not a valid datetime.'] }],
        [{ ...base, end: '2030-01-01T00:00:00' }, { end: ['Not a valid datetime.'] }],
        [{ ...base, name: 'x'.repeat(65) }, { name: ['Longer than maximum length 64.'] }],
        [{ ...base, description: 'x'.repeat(256) }, { description: ['Longer than maximum length 255.'] }],
        [{ ...base, properties: 'x'.repeat(256) }, { properties: ['Longer than maximum length 255.'] }],
        [{ ...base, category: 'x'.repeat(65) }, { category: ['Longer than maximum length 64.'] }],
        [{ ...base, availability_zone: 'x'.repeat(65) }, { availability_zone: ['Longer than maximum length 64.'] }],
        [{ ...base, colour: 'red' }, { colour: ['Unknown field.'] }],
        [
          { ...base, flavor_id: 'x', vcpu: 'x' },
          { flavor_id: ['Unknown field.'], vcpu: ['Not a valid integer.'] },
        ],
      ];
      await expectUnchanged(t, async () => {
        for (const [body, errors] of cases) {
          expectError(await call(t, 'POST', '/v1/flavors/', ADMIN, body), 422, errors);
        }
      });
    });

    it('422 for integers out of the column range and other odd shapes, never a 500', async () => {
      const base = { name: 'ok', vcpu: 1, memory_mb: 1, disk_gb: 1 };
      const bad: Record<string, unknown>[] = [
        { ...base, vcpu: 2147483648 },
        { ...base, memory_mb: 1e20 },
        { ...base, disk_gb: -2147483649 },
        { ...base, slots: '99999999999999999999' },
        { ...base, max_length_hours: 1.5 },
        { ...base, ephemeral_gb: null },
        { ...base, extra_specs: ['a'] },
        { ...base, extra_specs: 'a=b' },
        { ...base, name: null },
        { ...base, start: 20300101 },
        { ...base, end: '2030-02-30T00:00:00+00:00' },
        { ...base, start: '99999-01-01T00:00:00+00:00' },
      ];
      await expectUnchanged(t, async () => {
        for (const body of bad) {
          const res = await call(t, 'POST', '/v1/flavors/', ADMIN, body);
          expectError(res, 422);
          const field = Object.keys(body).find((k) => !(k in base) || body[k] !== (base as Record<string, unknown>)[k])!;
          expect(Object.keys(res.json().error_message), JSON.stringify(body)).toEqual([field]);
        }
      });
    });
  });

  describe('list', () => {
    it('shows members active flavors that are public or granted to them', async () => {
      const cat = uniq('vis');
      const p = newProject();
      const pub = await createFlavor(t, { category: cat, name: `${cat}-1` });
      await createFlavor(t, { category: cat, name: `${cat}-2`, active: false });
      const privGranted = await createFlavor(t, { category: cat, name: `${cat}-3`, is_public: false });
      const privOther = await createFlavor(t, { category: cat, name: `${cat}-4`, is_public: false });
      const inactiveGranted = await createFlavor(t, { category: cat, name: `${cat}-5`, is_public: false, active: false });
      await grant(t, privGranted.id, p.id);
      await grant(t, inactiveGranted.id, p.id);
      await grant(t, privOther.id, uniq('elsewhere'));

      const mine = expectOk(await call(t, 'GET', `/v1/flavors/?category=${cat}`, p.headers));
      expect(ids(mine)).toEqual([pub.id, privGranted.id]);
      expect(mine.total).toBe(2);
      // A member asking for all_projects gets 200 and its normal view (python-warreclient relies on it).
      expect(expectOk(await call(t, 'GET', `/v1/flavors/?all_projects=True&category=${cat}`, p.headers))).toEqual(mine);
      // A stranger sees the public one only; the admin without all_projects has the member view too.
      expect(ids(expectOk(await call(t, 'GET', `/v1/flavors/?category=${cat}`, as(uniq('stranger')))))).toEqual([pub.id]);
      expect(ids(expectOk(await call(t, 'GET', `/v1/flavors/?category=${cat}`, ADMIN)))).toEqual([pub.id]);
      // all_projects with list:all: every flavor.
      for (const h of [ADMIN, READER]) {
        const all = expectOk(await call(t, 'GET', `/v1/flavors/?all_projects=true&category=${cat}`, h));
        expect(all.total).toBe(5);
        expect(all.results).toHaveLength(5);
        for (const f of all.results) expect(Object.keys(f).sort()).toEqual(FLAVOR_FIELDS);
      }
    });

    it('counts a public flavor with several grants once (docs/api.md#difference-flavor-count)', async () => {
      const cat = uniq('grants');
      const p = newProject();
      const pub = await createFlavor(t, { category: cat, name: `${cat}-a` });
      const other = await createFlavor(t, { category: cat, name: `${cat}-b` });
      for (const project of [p.id, uniq('g1'), uniq('g2'), uniq('g3')]) await grant(t, pub.id, project);
      for (const h of [p.headers, as(uniq('nogrant'))]) {
        const body = expectOk(await call(t, 'GET', `/v1/flavors/?category=${cat}`, h));
        expect(ids(body)).toEqual([pub.id, other.id]);
        expect(body.total).toBe(2);
        const page1 = expectOk(await call(t, 'GET', `/v1/flavors/?category=${cat}&limit=1`, h));
        expect(ids(page1)).toEqual([pub.id]);
        const page2 = expectOk(await call(t, 'GET', `/v1/flavors/?category=${cat}&limit=1&page=2`, h));
        expect(ids(page2)).toEqual([other.id]);
      }
      expect(expectOk(await call(t, 'GET', `/v1/flavors/?category=${cat}&all_projects=1`, ADMIN)).total).toBe(2);
    });

    it('filters by category, availability_zone and active', async () => {
      const cat = uniq('filt');
      const az = uniq('az');
      const a = await createFlavor(t, { category: cat, availability_zone: az, name: `${cat}-a` });
      const b = await createFlavor(t, { category: cat, availability_zone: uniq('az'), name: `${cat}-b` });
      const c = await createFlavor(t, { category: cat, availability_zone: az, name: `${cat}-c`, active: false });
      await createFlavor(t, { category: uniq('filt'), availability_zone: az });
      expect(ids(expectOk(await call(t, 'GET', `/v1/flavors/?category=${cat}`, ADMIN)))).toEqual([a.id, b.id]);
      expect(ids(expectOk(await call(t, 'GET', `/v1/flavors/?category=${cat}&availability_zone=${az}`, ADMIN)))).toEqual([a.id]);
      expect(ids(expectOk(await call(t, 'GET', `/v1/flavors/?all_projects=true&category=${cat}&availability_zone=${az}`, ADMIN)))).toEqual([
        a.id,
        c.id,
      ]);
      expect(ids(expectOk(await call(t, 'GET', `/v1/flavors/?all_projects=true&category=${cat}&active=false`, ADMIN)))).toEqual([c.id]);
      expect(ids(expectOk(await call(t, 'GET', `/v1/flavors/?all_projects=true&category=${cat}&active=true`, ADMIN)))).toEqual([
        a.id,
        b.id,
      ]);
      expect(expectOk(await call(t, 'GET', `/v1/flavors/?category=${cat}&active=false`, ADMIN)).total).toBe(0);
      expect(expectOk(await call(t, 'GET', `/v1/flavors/?category=${uniq('none')}`, ADMIN))).toEqual({ results: [], total: 0 });
      // An empty filter value is no filter.
      expect(expectOk(await call(t, 'GET', `/v1/flavors/?availability_zone=${az}&category=`, ADMIN)).total).toBeGreaterThanOrEqual(2);
    });

    it('sorts by name, then memory_mb', async () => {
      const cat = uniq('sort');
      const b = await createFlavor(t, { category: cat, name: `${cat}-b`, memory_mb: 1024 });
      const a2 = await createFlavor(t, { category: cat, name: `${cat}-a`, memory_mb: 4096 });
      const c = await createFlavor(t, { category: cat, name: `${cat}-c`, memory_mb: 512 });
      const a1 = await createFlavor(t, { category: cat, name: `${cat}-a`, memory_mb: 2048 });
      expect(ids(expectOk(await call(t, 'GET', `/v1/flavors/?category=${cat}`, as(uniq('s')))))).toEqual([a1.id, a2.id, b.id, c.id]);
    });
  });

  describe('get', () => {
    it('answers public, granted, and (for list:all) any flavor; 404 otherwise', async () => {
      const p = newProject();
      const pub = await createFlavor(t);
      const priv = await createFlavor(t, { is_public: false });
      const granted = await createFlavor(t, { is_public: false });
      await grant(t, granted.id, p.id);
      expect(expectOk(await call(t, 'GET', `/v1/flavors/${pub.id}/`, p.headers))).toEqual(pub);
      expect(expectOk(await call(t, 'GET', `/v1/flavors/${granted.id}`, p.headers))).toEqual(granted);
      expectError(await call(t, 'GET', `/v1/flavors/${priv.id}/`, p.headers), 404, `Flavor ${priv.id} doesn't exist`);
      for (const h of [ADMIN, READER, WRITER]) expect(expectOk(await call(t, 'GET', `/v1/flavors/${priv.id}/`, h)).id).toBe(priv.id);
    });

    it('an unknown id, or a name (as python-warreclient first tries), is a 404', async () => {
      const f = await createFlavor(t, { name: 'm3.findme' });
      const unknown = randomUUID();
      expectError(await call(t, 'GET', `/v1/flavors/${unknown}/`, ADMIN), 404, `Flavor ${unknown} doesn't exist`);
      for (const h of [ADMIN, as(uniq('p'))]) {
        expectError(await call(t, 'GET', '/v1/flavors/m3.findme/', h), 404, "Flavor m3.findme doesn't exist");
      }
      expectError(await call(t, 'GET', `/v1/flavors/${'x'.repeat(300)}/`, ADMIN), 404);
      expect(f.name).toBe('m3.findme');
    });
  });

  describe('update', () => {
    it('changes only the fields given, normalising start and end', async () => {
      const f = await createFlavor(t, { description: 'before', category: 'c1', slots: 2 });
      const res = expectOk(
        await call(t, 'PATCH', `/v1/flavors/${f.id}/`, ADMIN, {
          description: 'after',
          start: '2030-03-01T08:15:59+02:00',
          end: '2030-04-01T00:00:30Z',
          slots: '5',
          extra_specs: { k: 'v' },
        }),
      );
      const expected = {
        ...f,
        description: 'after',
        start: '2030-03-01T06:15:00+00:00',
        end: '2030-04-01T00:00:00+00:00',
        slots: 5,
        extra_specs: { k: 'v' },
      };
      expect(res).toEqual(expected);
      expect(expectOk(await call(t, 'GET', `/v1/flavors/${f.id}/`, ADMIN))).toEqual(expected);
      const cleared = expectOk(
        await call(t, 'PATCH', `/v1/flavors/${f.id}`, WRITER, { start: null, category: null, active: false, is_public: false }),
      );
      expect(cleared).toEqual({ ...expected, start: null, category: null, active: false, is_public: false });
    });

    it('refuses id, vcpu, memory_mb, disk_gb and properties with a 400', async () => {
      const f = await createFlavor(t, { properties: 'p' });
      await expectUnchanged(t, async () => {
        for (const field of ['id', 'vcpu', 'memory_mb', 'disk_gb', 'properties']) {
          const res = await call(t, 'PATCH', `/v1/flavors/${f.id}/`, ADMIN, {
            [field]: field === 'id' || field === 'properties' ? 'x' : 8,
            description: 'no',
          });
          expectError(res, 400);
          expect(Object.keys(res.json().error_message)).toEqual([field]);
        }
      });
    });

    it('wrong types are a 400 with the field messages; an unknown flavor a 404', async () => {
      const f = await createFlavor(t);
      await expectUnchanged(t, async () => {
        expectError(await call(t, 'PATCH', `/v1/flavors/${f.id}/`, ADMIN, { slots: 'many' }), 400, { slots: ['Not a valid integer.'] });
        expectError(await call(t, 'PATCH', `/v1/flavors/${f.id}/`, ADMIN, { name: 'x'.repeat(65) }), 400, {
          name: ['Longer than maximum length 64.'],
        });
        expectError(await call(t, 'PATCH', `/v1/flavors/${f.id}/`, ADMIN, { start: '2030-01-01' }), 400, {
          start: ['Not a valid datetime.'],
        });
        expectError(await call(t, 'PATCH', `/v1/flavors/${f.id}/`, ADMIN, { bogus: 1 }), 400, { bogus: ['Unknown field.'] });
        const unknown = randomUUID();
        expectError(await call(t, 'PATCH', `/v1/flavors/${unknown}/`, ADMIN, { description: 'x' }), 404, `Flavor ${unknown} doesn't exist`);
        expectError(await call(t, 'PATCH', '/v1/flavors/not-a-uuid/', ADMIN, { description: 'x' }), 404, "Flavor not-a-uuid doesn't exist");
      });
    });
  });

  describe('delete', () => {
    it('a flavor any reservation refers to (in any state) is 409 in use', async () => {
      for (const status of ['PENDING_CREATE', 'ACTIVE', 'COMPLETE', 'ERROR'] as const) {
        const f = await createFlavor(t);
        await seedReservation(t, { flavor_id: f.id, project_id: uniq('p'), start: '2029-01-01T00:00', end: '2029-01-01T01:00', status });
        await expectUnchanged(t, async () => {
          expectError(await call(t, 'DELETE', `/v1/flavors/${f.id}/`, ADMIN), 409, `Flavor ${f.id} is in use`);
        });
      }
    });

    it('204 removes the flavor with its grants and window links', async () => {
      const f = await createFlavor(t, { is_public: false });
      const keep = await createFlavor(t);
      await grant(t, f.id, uniq('a'));
      await grant(t, f.id, uniq('b'));
      const w = await createWindow(t, '2030-05-01T00:00', '2030-05-02T00:00', [f.id, keep.id]);
      const res = await call(t, 'DELETE', `/v1/flavors/${f.id}/`, ADMIN);
      expect(res.statusCode, res.body).toBe(204);
      expect(res.body).toBe('');
      expectError(await call(t, 'GET', `/v1/flavors/${f.id}/`, ADMIN), 404);
      expect(await t.db.kysely.selectFrom('flavor_project').selectAll().where('flavor_id', '=', f.id).execute()).toEqual([]);
      expect(expectOk(await call(t, 'GET', `/v1/maintenancewindows/${w.id}/`, ADMIN)).flavors).toEqual([{ id: keep.id, name: keep.name }]);
      expectError(await call(t, 'DELETE', `/v1/flavors/${f.id}/`, ADMIN), 404, `Flavor ${f.id} doesn't exist`);
    });
  });
});
