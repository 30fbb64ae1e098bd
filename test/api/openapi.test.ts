/**
 * The OpenAPI document (src/api/openapi.ts): served at /v1/openapi.json without identity, a
 * valid OpenAPI 3.1 document (@seriousme/openapi-schema-validator), every schema a valid JSON
 * Schema 2020-12, one operation per route and no other, the policy rules of each operation
 * those of src/policy/defaults.ts and of the route code, the query parameters those the routes
 * parse. That every answer of the conformance suite matches the document is checked for each
 * answer by test/support/app.ts (test/support/openapi-check.ts); the last tests here show that
 * check refusing wrong answers.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildOpenApiDocument, documentedOperations, OPENAPI_PATH } from '../../src/api/openapi.js';
import { type RouteDeps, registerRoutes } from '../../src/api/routes/index.js';
import { FLAVOR_FIELDS, IMMUTABLE } from '../../src/api/routes/v1/flavors.js';
import { CREATE_FIELDS as RESERVATION_FIELDS } from '../../src/api/routes/v1/reservations.js';
import { POLICY_DEFAULTS } from '../../src/policy/defaults.js';
import { call, createFlavor, createWindow, expectError, expectOk, REQUEST_ID, seedReservation } from '../support/api-helpers.js';
import { ADMIN, buildTestApp, MEMBER, type TestApp } from '../support/app.js';
import { answerMismatch, OPENAPI_DOCUMENT, templateOf } from '../support/openapi-check.js';

type Json = Record<string, any>;
const doc: Json = buildOpenApiDocument();
const METHODS = ['get', 'head', 'post', 'patch', 'delete'];
const operations = () =>
  Object.entries(doc.paths as Json).flatMap(([p, item]) =>
    Object.entries(item as Json).map(([method, op]) => ({ path: p, method, op: op as Json })),
  );

/**
 * Policy operations registered with no route, kept so that operators' policy files written for
 * the Python service still name them (the grant list and delete are the routes of grants).
 */
const POLICY_WITHOUT_ROUTE = ['GET /v1/flavorprojects/{flavorproject_id}/', 'HEAD /v1/flavorprojects/{flavorproject_id}/'];

describe('the OpenAPI document', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp('sqlite');
  });
  afterAll(async () => t?.close());

  it('is served at /v1/openapi.json, with and without the slash, without identity, built once', async () => {
    for (const url of [OPENAPI_PATH, `${OPENAPI_PATH}/`]) {
      const res = await call(t, 'GET', url);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
      expect(res.headers['x-openstack-request-id']).toMatch(REQUEST_ID);
      expect(res.json()).toEqual(JSON.parse(JSON.stringify(doc)));
    }
    const head = await t.app.inject({ method: 'HEAD', url: OPENAPI_PATH });
    expect(head.statusCode).toBe(200);
    expect((await call(t, 'GET', OPENAPI_PATH)).body).toBe((await call(t, 'GET', OPENAPI_PATH, MEMBER)).body);
  });

  it('names [api] public_url as its server when set, else the host serving it', () => {
    expect(doc.servers).toEqual([{ url: '/' }]);
    expect(buildOpenApiDocument({ publicUrl: 'https://cloud.example/reservation/' }).servers).toEqual([
      { url: 'https://cloud.example/reservation' },
    ]);
  });

  it('is a valid OpenAPI 3.1 document (@seriousme/openapi-schema-validator)', async () => {
    const validator = new Validator();
    const result = await validator.validate(JSON.parse(JSON.stringify(doc)) as Json);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('holds only valid JSON Schemas 2020-12 (strict ajv)', () => {
    const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, validateFormats: false });
    ajv.addSchema({
      $id: 'c',
      $defs: JSON.parse(JSON.stringify(doc.components.schemas).replaceAll('"#/components/schemas/', '"c#/$defs/')),
    });
    const schemas: unknown[] = [];
    for (const { op } of operations()) {
      for (const p of op.parameters ?? []) schemas.push(p.schema);
      for (const media of Object.values(op.requestBody?.content ?? {})) schemas.push((media as Json).schema);
      for (const r of Object.values(op.responses as Json))
        for (const media of Object.values((r as Json).content ?? {})) schemas.push((media as Json).schema);
    }
    expect(schemas.length).toBeGreaterThan(100);
    for (const s of schemas) {
      expect(() => ajv.compile(JSON.parse(JSON.stringify(s).replaceAll('"#/components/schemas/', '"c#/$defs/')))).not.toThrow();
    }
  });

  it('describes every route the API registers, and no other', async () => {
    const app = Fastify();
    const routes: string[] = [];
    app.addHook('onRoute', (r) => {
      for (const m of [r.method].flat()) routes.push(`${m.toLowerCase()} ${r.url}`);
    });
    const deps = {
      svc: {},
      authz: {},
      publicUrl: null,
      health: async () => ({ database: { ok: true, dialect: 'sqlite' } }),
    } as unknown as RouteDeps;
    await registerRoutes(app, deps);
    await app.ready();
    // Fastify's /v1/flavors/:id ↔ the document's /v1/flavors/{flavor_id}/ (both served, docs/api.md#conventions).
    const asFastify = (p: string) => (p.length > 1 ? p.replace(/\/$/, '') : p).replace(/\{\w+\}/g, ':id');
    const documented = documentedOperations(doc).map((o) => `${o.method} ${asFastify(o.path)}`);
    expect([...new Set(routes)].sort()).toEqual([...new Set(documented)].sort());
    await app.close();
  });

  it('gives every operation an id, a summary, responses with the request id header, and the error shape for errors', () => {
    const ids = new Set<string>();
    for (const { path: p, method, op } of operations()) {
      expect(METHODS).toContain(method);
      expect(ids.has(op.operationId), op.operationId).toBe(false);
      ids.add(op.operationId);
      expect(op.summary.length).toBeGreaterThan(0);
      for (const [status, r] of Object.entries(op.responses as Json)) {
        expect(r.headers['X-Openstack-Request-Id'], `${method} ${p} ${status}`).toEqual({ $ref: '#/components/headers/RequestId' });
        // The health check's 503 is its answer (text or report), not an error.
        if (Number(status) >= 400 && method !== 'head' && p !== '/healthcheck') {
          expect(Object.keys(r.content)).toEqual(['application/json']);
          expect(r.content['application/json'].schema.$ref).toMatch(/^#\/components\/schemas\/(Error|ValidationError)$/);
        }
      }
      if (op.security === undefined) {
        // Every authenticated operation can answer 401, 500 and 503.
        for (const s of ['401', '500', '503']) expect(op.responses[s], `${method} ${p} ${s}`).toBeDefined();
      }
    }
  });

  it('derives request bodies from the schemas the routes validate with', () => {
    const create = doc.paths['/v1/flavors/'].post.requestBody.content['application/json'].schema;
    expect(Object.keys(create.properties)).toEqual(Object.keys(FLAVOR_FIELDS));
    expect(create.required).toEqual(
      Object.entries(FLAVOR_FIELDS)
        .filter(([, s]) => s.required)
        .map(([n]) => n),
    );
    expect(create.additionalProperties).toBe(false);
    const update = doc.paths['/v1/flavors/{flavor_id}/'].patch.requestBody.content['application/json'].schema;
    expect(update.required).toBeUndefined();
    for (const f of IMMUTABLE) expect(update.properties[f]).toBeUndefined();
    const reservation = doc.paths['/v1/reservations/'].post.requestBody.content['application/json'].schema;
    expect(reservation.properties.instance_count).toMatchObject({
      type: 'integer',
      minimum: 1,
      maximum: RESERVATION_FIELDS.instance_count!.type.kind === 'int' ? RESERVATION_FIELDS.instance_count!.type.max : -1,
    });
  });

  describe('policy', () => {
    const names = new Set<string>(POLICY_DEFAULTS.map((d) => d.name));

    it("names in each operation's x-policy only rules of src/policy/defaults.ts", () => {
      for (const { path: p, method, op } of operations()) {
        expect(Array.isArray(op['x-policy']), `${method} ${p}`).toBe(true);
        for (const rule of op['x-policy']) expect(names.has(rule), `${method} ${p}: ${rule}`).toBe(true);
        if (op.security === undefined && !['/v1/reservations/', '/v1/limits/'].includes(p)) {
          // Only the create of a reservation and a project's own limits consult no rule always.
          expect(op['x-policy'].length, `${method} ${p}`).toBeGreaterThan(0);
        }
      }
    });

    it('documents every operation src/policy/defaults.ts lists', () => {
      const documented = new Set(documentedOperations(doc).map((o) => `${o.method.toUpperCase()} ${o.path}`));
      const missing = POLICY_DEFAULTS.flatMap((d) => d.operations.map((o) => `${o.method} ${o.path}`)).filter((o) => !documented.has(o));
      expect([...new Set(missing)].sort()).toEqual(POLICY_WITHOUT_ROUTE);
    });
  });

  it('documents exactly the query parameters the routes parse', () => {
    const routeDir = path.resolve(import.meta.dirname, '../../src/api/routes');
    const files: Record<string, string[]> = {
      'root.ts': ['/healthcheck'],
      'v1/flavors.ts': ['/v1/flavors/'],
      'v1/flavorprojects.ts': ['/v1/flavorprojects/'],
      'v1/maintenancewindows.ts': ['/v1/maintenancewindows/'],
      'v1/reservations.ts': ['/v1/reservations/'],
      'v1/calendar.ts': ['/v1/reservations/calendar.ics', '/v1/reservations/{reservation_id}/calendar.ics'],
      'v1/limits.ts': ['/v1/limits/'],
      'v1/availability.ts': ['/v1/availability/', '/v1/offers/'],
    };
    for (const [file, starts] of Object.entries(files)) {
      const source = fs.readFileSync(path.join(routeDir, file), 'utf8');
      const parsed = new Set([
        ...[...source.matchAll(/(?:query(?:Bool|String|Date|Int|Ids)|requiredInt)\(\s*(?:q|req|query\(req\))\s*,\s*'(\w+)'/g)].map(
          (m) => m[1]!,
        ),
        ...(source.includes('pageRequest(') ? ['limit', 'page'] : []),
        ...(source.includes("'detail'") ? ['detail'] : []),
      ]);
      const ops = operations().filter(
        (o) => o.method !== 'head' && starts.some((s) => (s.endsWith('/') ? o.path.startsWith(s) : o.path === s)),
      );
      const documented = new Set(
        ops.flatMap((o) => (o.op.parameters ?? []).filter((p: Json) => p.in === 'query').map((p: Json) => p.name as string)),
      );
      expect([...documented].sort(), file).toEqual([...parsed].sort());
    }
  });

  it('answers what it documents where the other conformance tests do not look (HEAD, bodies on DELETE, long paths)', async () => {
    const flavor = await createFlavor(t);
    const window = await createWindow(t, '2031-01-01T00:00', '2031-01-02T00:00', [flavor.id]);
    const reservation = await seedReservation(t, {
      flavor_id: flavor.id,
      project_id: ADMIN['x-project-id'],
      start: '2030-02-01T00:00',
      end: '2030-02-01T01:00',
    });
    const ids: Record<string, string> = { flavor_id: flavor.id, window_id: window.id, reservation_id: reservation };
    const heads = documentedOperations(doc).filter((o) => o.method === 'head');
    expect(heads.length).toBe(documentedOperations(doc).filter((o) => o.method === 'get').length);
    for (const { path: p } of heads) {
      const url = p.replace(/\{(\w+)\}/g, (_, name: string) => ids[name]!) + (p === '/v1/offers/' ? '?instance_count=1&hours=1' : '');
      const res = await t.app.inject({ method: 'HEAD', url, headers: ADMIN });
      expect(res.statusCode, url).toBe(200);
      expect(res.body).toBe('');
    }
    const missing = '00000000-0000-4000-8000-000000000000';
    const json = { ...ADMIN, 'content-type': 'application/json' };
    expectError(await t.app.inject({ method: 'DELETE', url: `/v1/flavors/${missing}/`, headers: json, payload: '{bad' }), 400);
    expectError(
      await t.app.inject({ method: 'DELETE', url: `/v1/flavors/${missing}/`, headers: json, payload: 'x'.repeat(2 * 1024 * 1024) }),
      413,
    );
    expectError(await call(t, 'PATCH', `/v1/reservations/${'x'.repeat(600)}/`, ADMIN, { end: '2030-02-01T02:00:00Z' }), 414);
    expectError(await call(t, 'GET', `/v1/flavors/${flavor.id}/`), 401);
  });

  describe('the answer check of the conformance suite', () => {
    const RID = 'req-00000000-0000-4000-8000-000000000000';
    it('sees the policy rules a request consults: one missing from x-policy fails the call', async () => {
      const op = OPENAPI_DOCUMENT.paths['/v1/flavors/'].get;
      const rules = op['x-policy'];
      expectOk(await call(t, 'GET', '/v1/flavors/?all_projects=1', ADMIN));
      op['x-policy'] = rules.filter((r: string) => r !== 'warre:flavor:list:all');
      try {
        await expect(call(t, 'GET', '/v1/flavors/?all_projects=1', ADMIN)).rejects.toThrow(
          /consulted policy rules not in its x-policy: warre:flavor:list:all/,
        );
      } finally {
        op['x-policy'] = rules;
      }
    });

    const ok = (
      body: unknown,
      status = 200,
      headers: Json = { 'content-type': 'application/json; charset=utf-8', 'x-openstack-request-id': RID },
    ) => ({
      statusCode: status,
      headers,
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

    it('maps request paths to the documented templates, with or without the slash', () => {
      expect(templateOf('/v1/flavors')).toBe('/v1/flavors/');
      expect(templateOf('/v1/flavors/?all_projects=1')).toBe('/v1/flavors/');
      expect(templateOf('/v1/flavors/abc/freeslots')).toBe('/v1/flavors/{flavor_id}/freeslots/');
      expect(templateOf('/v1/reservations/calendar.ics')).toBe('/v1/reservations/calendar.ics');
      expect(templateOf('/v1/reservations/abc/calendar.ics')).toBe('/v1/reservations/{reservation_id}/calendar.ics');
      expect(templateOf('/v1/nothing')).toBeNull();
      expect(OPENAPI_DOCUMENT.paths['/v1/flavors/'].get).toBeDefined();
    });

    it('accepts a right answer and refuses wrong ones, naming the operation and status', () => {
      expect(
        answerMismatch(
          'GET',
          '/v1/limits',
          ok({ absolute: { maxHours: 1, maxReservations: 1, totalHoursUsed: 0, totalReservationsUsed: 0 } }),
        ),
      ).toBeNull();
      expect(answerMismatch('GET', '/v1/limits', ok({ absolute: { maxHours: 1 } }))).toMatch(
        /^GET \/v1\/limits\/ → 200: body does not match/,
      );
      expect(answerMismatch('GET', '/v1/flavors/', ok({ results: [{ id: 'x' }], total: 1 }))).toMatch(/body does not match/);
      expect(answerMismatch('GET', '/v1/flavors/', ok({ results: [], total: 0, extra: 1 }))).toMatch(/must NOT have additional properties/);
      expect(answerMismatch('GET', '/v1/flavors/', ok({ error_message: 'x' }, 418))).toMatch(/status not documented/);
      expect(answerMismatch('GET', '/v1/flavors/', ok({ error_message: 'x' }, 400))).toBeNull();
      expect(answerMismatch('GET', '/v1/flavors/', ok({ message: 'x' }, 400))).toMatch(/→ 400: body does not match/);
      expect(answerMismatch('GET', '/v1/flavors/', ok({ results: [], total: 0 }, 200, { 'content-type': 'application/json' }))).toMatch(
        /X-Openstack-Request-Id/,
      );
      expect(answerMismatch('GET', '/v1/flavors/', ok('x', 200, { 'content-type': 'text/plain', 'x-openstack-request-id': RID }))).toMatch(
        /content type text\/plain/,
      );
      expect(answerMismatch('DELETE', '/v1/flavors/x', ok('', 204, { 'x-openstack-request-id': RID }))).toBeNull();
      expect(answerMismatch('DELETE', '/v1/flavors/x', ok({}, 204))).toMatch(/documented without a body/);
      expect(answerMismatch('GET', '/v1/nothing', ok({ error_message: 'x' }, 404))).toBeNull();
      expect(answerMismatch('GET', '/v1/nothing', ok({}, 200))).toMatch(/no such operation/);
      expect(answerMismatch('PUT', '/v1/flavors/', ok({ error_message: 'x' }, 404))).toBeNull();
      expect(
        answerMismatch(
          'GET',
          '/v1/flavors/',
          ok({ results: [], total: 0 }, 200, { 'content-type': 'application/json', 'x-openstack-request-id': 'forged' }),
        ),
      ).toMatch(/header X-Openstack-Request-Id/);
      const ics = { 'content-type': 'text/calendar; charset=utf-8', 'x-openstack-request-id': RID };
      expect(
        answerMismatch(
          'GET',
          '/v1/reservations/calendar.ics',
          ok('BEGIN:VCALENDAR', 200, { ...ics, 'content-disposition': 'attachment; filename="r.ics"' }),
        ),
      ).toBeNull();
      expect(answerMismatch('GET', '/v1/reservations/calendar.ics', ok('BEGIN:VCALENDAR', 200, ics))).toMatch(
        /no Content-Disposition header/,
      );
      const limits = ok({ absolute: { maxHours: 1, maxReservations: 1, totalHoursUsed: 0, totalReservationsUsed: 0 } });
      expect(answerMismatch('GET', '/v1/limits/', limits, new Set(['warre:limits:list:all']))).toBeNull();
      expect(answerMismatch('GET', '/v1/limits/', limits, new Set(['warre:flavor:create']))).toMatch(
        /policy rules not in its x-policy: warre:flavor:create/,
      );
    });

    it('is applied to every inject of the conformance suite: a wrong answer fails the call', async () => {
      expectOk(await call(t, 'GET', '/v1/limits/', MEMBER));
      const limits = t.svc.limits;
      t.svc.limits = { getLimits: async () => ({ hours: 'lots', reservation: 1 }) } as unknown as typeof limits;
      try {
        await expect(call(t, 'GET', '/v1/limits/', MEMBER)).rejects.toThrow(
          /^Answer not as the OpenAPI document says: GET \/v1\/limits\/ → 200: .*maxHours/,
        );
      } finally {
        t.svc.limits = limits;
      }
    });
  });
});
