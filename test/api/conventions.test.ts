/**
 * docs/api.md#conventions and docs/api.md#service-endpoints: trailing slashes, request
 * ids, the one error shape, JSON bodies, query parsing, `GET /`, healthcheck.
 */
import { Kysely, SqliteDialect } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/schema.js';
import {
  as,
  Clock,
  call,
  createFlavor,
  createWindow,
  expectError,
  expectOk,
  expectUnchanged,
  grant,
  postRaw,
  REQUEST_ID,
  seedReservation,
  uniq,
} from '../support/api-helpers.js';
import { ADMIN, buildTestApp, MEMBER, READER, type TestApp } from '../support/app.js';
import { DIALECTS } from '../support/db.js';

const clock = new Clock(Date.parse('2030-01-01T00:00:30Z'));

describe.each(DIALECTS)('conventions on %s', (dialect) => {
  let t: TestApp;
  let flavorId: string;
  let windowId: string;
  let reservationId: string;

  beforeAll(async () => {
    t = await buildTestApp(dialect, { now: clock.now });
    flavorId = (await createFlavor(t, { category: 'conv' })).id;
    windowId = (await createWindow(t, '2030-06-01T00:00', '2030-06-02T00:00', [], 'conventions')).id;
    reservationId = await seedReservation(t, {
      flavor_id: flavorId,
      project_id: MEMBER['x-project-id'],
      start: '2030-02-01T00:00',
      end: '2030-02-01T01:00',
    });
  });
  afterAll(async () => t?.close());

  describe('trailing slash', () => {
    const getPaths = () => [
      '/v1/flavors',
      `/v1/flavors/${flavorId}`,
      `/v1/flavors/${flavorId}/freeslots`,
      '/v1/flavorprojects',
      '/v1/maintenancewindows',
      `/v1/maintenancewindows/${windowId}`,
      '/v1/reservations',
      `/v1/reservations/${reservationId}`,
      '/v1/limits',
    ];

    it('answers every GET path with and without the slash, without redirecting', async () => {
      for (const path of getPaths()) {
        for (const url of [path, `${path}/`]) {
          const res = await call(t, 'GET', url, ADMIN);
          expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
          expect(res.headers.location).toBeUndefined();
          expect(res.headers['content-type']).toMatch(/^application\/json/);
        }
      }
    });

    it('accepts writes with and without the slash', async () => {
      for (const url of ['/v1/flavors', '/v1/flavors/']) {
        const f = expectOk(await call(t, 'POST', url, ADMIN, { name: uniq('slash'), vcpu: 1, memory_mb: 1, disk_gb: 1 }), 202);
        expectOk(
          await call(t, 'PATCH', url === '/v1/flavors' ? `/v1/flavors/${f.id}` : `/v1/flavors/${f.id}/`, ADMIN, { description: 'x' }),
        );
        const g = expectOk(
          await call(t, 'POST', url.replace('flavors', 'flavorprojects'), ADMIN, { flavor_id: f.id, project_id: uniq('p') }),
        );
        expect(
          (await call(t, 'DELETE', url === '/v1/flavors' ? `/v1/flavorprojects/${g.id}` : `/v1/flavorprojects/${g.id}/`, ADMIN)).statusCode,
        ).toBe(204);
        expect((await call(t, 'DELETE', url === '/v1/flavors' ? `/v1/flavors/${f.id}` : `/v1/flavors/${f.id}/`, ADMIN)).statusCode).toBe(
          204,
        );
      }
      for (const url of ['/v1/maintenancewindows', '/v1/maintenancewindows/']) {
        const w = expectOk(
          await call(t, 'POST', url, ADMIN, { start: '2031-01-01T00:00:00+00:00', end: '2031-01-02T00:00:00+00:00' }),
          201,
        );
        expectOk(
          await call(t, 'PATCH', `${url}${url.endsWith('/') ? '' : '/'}${w.id}${url.endsWith('/') ? '/' : ''}`, ADMIN, { note: 'n' }),
        );
        expect((await call(t, 'DELETE', `/v1/maintenancewindows/${w.id}${url.endsWith('/') ? '/' : ''}`, ADMIN)).statusCode).toBe(204);
      }
      for (const url of ['/v1/reservations', '/v1/reservations/']) {
        const r = expectOk(
          await call(t, 'POST', url, MEMBER, { flavor_id: flavorId, start: '2030-03-01T00:00:00+00:00', end: '2030-03-01T01:00:00+00:00' }),
        );
        const del = await call(t, 'DELETE', `/v1/reservations/${r.id}${url.endsWith('/') ? '/' : ''}`, MEMBER);
        expect(del.statusCode, del.body).toBe(204);
      }
    });
  });

  describe('request id', () => {
    it('is req-<uuid4> on successes, errors and public endpoints, new for each request', async () => {
      const responses = [
        await call(t, 'GET', '/v1/flavors/', MEMBER),
        await call(t, 'GET', '/v1/flavors/', MEMBER),
        await call(t, 'GET', '/v1/nothing-here', MEMBER),
        await call(t, 'GET', '/v1/flavors/'),
        await call(t, 'POST', '/v1/flavors/', MEMBER, { name: 'x' }),
        await call(t, 'POST', '/v1/flavors/', ADMIN, { name: 'x' }),
        await postRaw(t, 'POST', '/v1/flavors/', ADMIN, '{not json'),
        await call(t, 'GET', `/v1/reservations/${reservationId}`, as('someone-else')),
        await call(t, 'GET', '/'),
        await call(t, 'GET', '/healthcheck'),
      ];
      const ids = responses.map((r) => r.headers['x-openstack-request-id']);
      for (const id of ids) expect(id).toMatch(REQUEST_ID);
      expect(new Set(ids).size).toBe(ids.length);
    });
  });

  describe('errors', () => {
    it('an unknown path is a 404 in the error shape', async () => {
      expectError(await call(t, 'GET', '/v1/nothing-here', MEMBER), 404);
      expectError(await call(t, 'GET', '/v2/flavors/', MEMBER), 404);
      expectError(await call(t, 'DELETE', '/v1/flavors/', ADMIN), 404);
      const r = await call(t, 'GET', '/v1/nothing-here', MEMBER);
      expect(typeof r.json().error_message).toBe('string');
    });

    it('a malformed JSON body is a 400 on every write, never a 500', async () => {
      const writes: [string, string][] = [
        ['POST', '/v1/flavors/'],
        ['POST', '/v1/flavorprojects/'],
        ['POST', '/v1/maintenancewindows/'],
        ['POST', '/v1/reservations/'],
        ['PATCH', `/v1/flavors/${flavorId}/`],
        ['PATCH', `/v1/maintenancewindows/${windowId}/`],
        ['PATCH', `/v1/reservations/${reservationId}/`],
      ];
      await expectUnchanged(t, async () => {
        for (const [method, url] of writes) {
          for (const body of ['{not json', '{"name": "x",}', '{"a": 1']) {
            const res = await postRaw(t, method as 'POST', url, ADMIN, body);
            expectError(res, 400);
          }
        }
      });
    });

    it('a body that is not a JSON object is a 400', async () => {
      const writes: [string, string][] = [
        ['POST', '/v1/flavors/'],
        ['POST', '/v1/flavorprojects/'],
        ['POST', '/v1/maintenancewindows/'],
        ['POST', '/v1/reservations/'],
        ['PATCH', `/v1/flavors/${flavorId}/`],
        ['PATCH', `/v1/maintenancewindows/${windowId}/`],
        ['PATCH', `/v1/reservations/${reservationId}/`],
      ];
      await expectUnchanged(t, async () => {
        for (const [method, url] of writes) {
          for (const body of ['[]', '[{"name": "x"}]', '"a string"', '42', 'true', 'null']) {
            expectError(await postRaw(t, method as 'POST', url, ADMIN, body), 400);
          }
        }
      });
    });

    it('{} and no body on a create are 400 No input data provided', async () => {
      await expectUnchanged(t, async () => {
        for (const url of ['/v1/flavors/', '/v1/flavorprojects/', '/v1/maintenancewindows/', '/v1/reservations/']) {
          expectError(await call(t, 'POST', url, ADMIN, {}), 400, 'No input data provided');
          expectError(await call(t, 'POST', url, ADMIN), 400, 'No input data provided');
          expectError(await postRaw(t, 'POST', url, ADMIN, ''), 400, 'No input data provided');
        }
      });
    });

    it('an unexpected failure is a 500 Unexpected API Error. that leaks nothing', async () => {
      const limits = t.svc.limits;
      t.svc.limits = {
        getLimits: async () => {
          throw new Error('secret db password in /srv/warre/app.js:12');
        },
      };
      try {
        for (const res of [
          await call(t, 'GET', '/v1/limits', MEMBER),
          await call(t, 'POST', '/v1/reservations/', MEMBER, {
            flavor_id: flavorId,
            start: '2030-03-01T00:00:00Z',
            end: '2030-03-01T01:00:00Z',
          }),
        ]) {
          expectError(res, 500, 'Unexpected API Error.');
          expect(res.body).not.toMatch(/secret|app\.js/);
          expect(res.headers['x-openstack-request-id']).toMatch(REQUEST_ID);
        }
      } finally {
        t.svc.limits = limits;
      }
    });

    it('odd paths and query strings are 4xx in the error shape, with the request id (docs/api.md#difference-no-crash)', async () => {
      const cases: [string, number][] = [
        ['/v1/flavors/%zz', 400],
        ['/v1/flavors/%E0%A4%A', 400],
        [`/v1/flavors/${'x'.repeat(600)}/`, 414],
        ['/v1/flavors/%00/', 404],
        ['/v1/flavors/?category=%00', 400],
        ['/v1/flavors/?availability_zone=a%00b', 400],
        ['/v1/reservations/?flavor_id=%00', 400],
        ['/v1/flavorprojects/?project_id=%00', 400],
        [`/v1/reservations/?flavor_id=${'x'.repeat(256)}`, 400],
        ['/v1/limits?project_id=a%20b', 400],
        ['/v1/flavors/?page=0', 400],
        ['/v1/flavors/?page=x', 400],
      ];
      for (const [url, status] of cases) {
        const res = await call(t, 'GET', url, ADMIN);
        expectError(res, status);
        expect(res.headers['x-openstack-request-id'], url).toMatch(REQUEST_ID);
      }
      expect(expectOk(await call(t, 'GET', '/v1/flavors/?category=%E2%9C%93', ADMIN)).total).toBe(0);
    });

    it('a NUL character or a prototype key in a body is a field error, never a 500 (docs/api.md#difference-no-crash)', async () => {
      await expectUnchanged(t, async () => {
        const base = { name: 'x', vcpu: 1, memory_mb: 1, disk_gb: 1 };
        expectError(await call(t, 'POST', '/v1/flavors/', ADMIN, { ...base, name: 'a\u0000b' }), 422, { name: ['Not a valid string.'] });
        expectError(await call(t, 'POST', '/v1/flavorprojects/', ADMIN, { flavor_id: flavorId, project_id: 'p\u0000' }), 422, {
          project_id: ['Not a valid string.'],
        });
        expectError(
          await call(t, 'POST', '/v1/maintenancewindows/', ADMIN, {
            start: '2031-01-01T00:00:00Z',
            end: '2031-01-02T00:00:00Z',
            note: '\u0000',
          }),
          422,
          { note: ['Not a valid string.'] },
        );
        expectError(
          await call(t, 'POST', '/v1/maintenancewindows/', ADMIN, {
            start: '2031-01-01T00:00:00Z',
            end: '2031-01-02T00:00:00Z',
            flavor_ids: ['\u0000'],
          }),
          422,
        );
        for (const key of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
          const json = `{"name":"x","vcpu":1,"memory_mb":1,"disk_gb":1,"${key}":{"a":1}}`;
          expectError(await postRaw(t, 'POST', '/v1/flavors/', ADMIN, json), 422, { [key]: ['Unknown field.'] });
          expectError(await postRaw(t, 'PATCH', `/v1/flavors/${flavorId}/`, ADMIN, `{"${key}":1}`), 400, { [key]: ['Unknown field.'] });
          expectError(
            await postRaw(t, 'PATCH', `/v1/reservations/${reservationId}/`, MEMBER, `{"end":"2030-02-01T02:00:00Z","${key}":1}`),
            400,
            { [key]: ['Unknown field.'] },
          );
        }
      });
    });

    it('an oversized body is a 413 in the error shape', async () => {
      const res = await postRaw(t, 'POST', '/v1/flavors/', ADMIN, JSON.stringify({ name: 'x', description: 'y'.repeat(2 * 1024 * 1024) }));
      expectError(res, 413);
    });

    it('a body without a content type is still read as JSON', async () => {
      const res = await t.app.inject({ method: 'POST', url: '/v1/flavorprojects/', headers: ADMIN, payload: '{}' });
      expectError(res, 400, 'No input data provided');
    });
  });

  describe('bodies', () => {
    it('DELETE answers 204 with an empty body', async () => {
      const f = await createFlavor(t);
      const g = await grant(t, f.id, uniq('p'));
      for (const url of [`/v1/flavorprojects/${g.id}/`, `/v1/flavors/${f.id}/`]) {
        const res = await call(t, 'DELETE', url, ADMIN);
        expect(res.statusCode).toBe(204);
        expect(res.body).toBe('');
      }
    });
  });

  describe('query strings', () => {
    it('booleans accept true/false/1/0 in any case', async () => {
      const inactive = await createFlavor(t, { active: false, category: 'bools' });
      for (const v of ['true', 'True', 'TRUE', '1']) {
        const list = expectOk(await call(t, 'GET', `/v1/flavors/?all_projects=${v}&category=bools`, ADMIN));
        expect(list.results.map((f: { id: string }) => f.id)).toEqual([inactive.id]);
        const inactiveOnly = expectOk(await call(t, 'GET', `/v1/flavors/?all_projects=1&category=bools&active=${v}`, ADMIN));
        expect(inactiveOnly.total).toBe(0);
      }
      for (const v of ['false', 'False', 'FALSE', '0']) {
        const list = expectOk(await call(t, 'GET', `/v1/flavors/?all_projects=${v}&category=bools`, ADMIN));
        expect(list.total).toBe(0);
        const inactiveOnly = expectOk(await call(t, 'GET', `/v1/flavors/?all_projects=1&category=bools&active=${v}`, ADMIN));
        expect(inactiveOnly.results.map((f: { id: string }) => f.id)).toEqual([inactive.id]);
      }
    });

    it('any other boolean value is a 400', async () => {
      for (const v of ['yes', 'no', 'tru', '2', '', 'null']) {
        if (v === '') continue; // an empty value is "not given"
        expectError(await call(t, 'GET', `/v1/flavors/?all_projects=${v}`, ADMIN), 400);
        expectError(await call(t, 'GET', `/v1/flavors/?active=${v}`, MEMBER), 400);
        expectError(await call(t, 'GET', `/v1/reservations/?all_projects=${v}`, READER), 400);
      }
    });

    it('unknown query parameters are ignored', async () => {
      const plain = expectOk(await call(t, 'GET', '/v1/flavors/?category=conv', MEMBER));
      const extra = expectOk(await call(t, 'GET', '/v1/flavors/?category=conv&foo=bar&sort=desc&marker=x', MEMBER));
      expect(extra).toEqual(plain);
      expectOk(await call(t, 'GET', '/v1/limits?foo=1', MEMBER));
      expectOk(await call(t, 'GET', '/v1/maintenancewindows/?flavor_id=x&bogus', MEMBER));
    });

    it('a parameter given twice takes its first value', async () => {
      const a = await createFlavor(t, { category: uniq('dupa') });
      await createFlavor(t, { category: uniq('dupb') });
      const list = expectOk(await call(t, 'GET', `/v1/flavors/?category=${a.category}&category=other`, MEMBER));
      expect(list.results.map((f: { id: string }) => f.id)).toEqual([a.id]);
      const first = expectOk(await call(t, 'GET', '/v1/limits?project_id=proj-x&project_id=proj-y', READER));
      const onlyX = expectOk(await call(t, 'GET', '/v1/limits?project_id=proj-x', READER));
      expect(first).toEqual(onlyX);
    });
  });

  describe('service endpoints', () => {
    it('GET / is the version document, without identity', async () => {
      const res = await call(t, 'GET', '/');
      const body = expectOk(res);
      expect(body.versions).toHaveLength(1);
      expect(body.versions[0]).toMatchObject({ id: 'v1', status: 'CURRENT' });
      expect(Array.isArray(body.versions[0].links)).toBe(true);
    });

    it('GET /healthcheck is text OK, ?detail is JSON, both without identity', async () => {
      const res = await call(t, 'GET', '/healthcheck');
      expect(res.statusCode).toBe(200);
      expect(res.body).toBe('OK');
      expect(res.headers['content-type']).toMatch(/^text\/plain/);
      const detail = expectOk(await call(t, 'GET', '/healthcheck?detail'));
      expect(detail.database).toMatchObject({ ok: true, dialect });
    });

    it('GET /healthcheck is 503 when the database is unreachable', async () => {
      const db = t.svc.db;
      const down = new Kysely<Database>({
        dialect: new SqliteDialect({
          database: async () => {
            throw new Error('connection refused');
          },
        }),
      });
      t.svc.db = { ...db, kysely: down };
      try {
        const res = await call(t, 'GET', '/healthcheck');
        expect(res.statusCode).toBe(503);
        expect(res.headers['x-openstack-request-id']).toMatch(REQUEST_ID);
        const detail = await call(t, 'GET', '/healthcheck?detail');
        expect(detail.statusCode).toBe(503);
        expect(detail.json().database).toMatchObject({ ok: false });
      } finally {
        t.svc.db = db;
        await down.destroy();
      }
      expect((await call(t, 'GET', '/healthcheck')).statusCode).toBe(200);
    });

    it('every other path needs X-Project-Id under noauth (401)', async () => {
      for (const url of ['/v1/flavors/', '/v1/reservations/', '/v1/limits', '/v1/maintenancewindows/', '/v1/nothing']) {
        expectError(await call(t, 'GET', url), 401);
        expectError(await call(t, 'GET', url, { 'x-user-id': 'u', 'x-roles': 'admin' }), 401);
      }
      await expectUnchanged(t, async () => {
        expectError(await call(t, 'POST', '/v1/flavors/', { 'x-roles': 'admin' }, { name: 'n', vcpu: 1, memory_mb: 1, disk_gb: 1 }), 401);
      });
    });
  });
});
