/**
 * Deeply nested JSON (docs/operations.md, "Slow and malformed requests"): an object field nested deeper
 * than 32 levels is a 422 naming the field, at any depth that fits in the 1 MiB body limit;
 * nothing on the way (JSON parsing, validation, logging) may exhaust the stack.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_OBJECT_DEPTH, nestingDepth } from '../../src/api/validate.js';
import { ADMIN, buildTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp('sqlite');
});
afterAll(async () => {
  await t?.close();
});

/** `{"a":{"a":…{"a":1}…}}` with `depth` objects, as text (never built as a value here). */
const nestedObjects = (depth: number) => `${'{"a":'.repeat(depth - 1)}{"a":1}${'}'.repeat(depth - 1)}`;
/** `[[[…[1]…]]]` with `depth` arrays. */
const nestedArrays = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`;

const flavorBody = (extraSpecs: string) => `{"name":"deep","vcpu":1,"memory_mb":1,"disk_gb":1,"slots":1,"extra_specs":${extraSpecs}}`;

async function post(url: string, payload: string, method: 'POST' | 'PATCH' = 'POST') {
  return t.app.inject({ method, url, headers: { ...ADMIN, 'content-type': 'application/json' }, payload });
}

describe('deeply nested extra_specs', () => {
  it.each([100, 3_000, 5_000, 100_000])('refuses objects nested %i deep with 422 naming the field', async (depth) => {
    const payload = flavorBody(nestedObjects(depth));
    expect(payload.length).toBeLessThan(1024 * 1024);
    const res = await post('/v1/flavors/', payload);
    expect(res.statusCode).toBe(422);
    expect(res.headers['x-openstack-request-id']).toMatch(/^req-/);
    expect(res.json()).toEqual({ error_message: { extra_specs: [`Nested deeper than ${MAX_OBJECT_DEPTH} levels.`] } });
  });

  it.each([100, 3_000, 5_000, 100_000, 500_000])('refuses arrays nested %i deep inside the object with 422', async (depth) => {
    const res = await post('/v1/flavors/', flavorBody(`{"k":${nestedArrays(depth)}}`));
    expect(res.statusCode).toBe(422);
    expect(res.json().error_message.extra_specs).toEqual([`Nested deeper than ${MAX_OBJECT_DEPTH} levels.`]);
  });

  it('accepts the documented depth (32 levels) and refuses 33 (also on PATCH)', async () => {
    const ok = await post('/v1/flavors/', flavorBody(nestedObjects(MAX_OBJECT_DEPTH)));
    expect(ok.statusCode).toBe(202);
    const id = ok.json().id as string;
    const deeper = await post(`/v1/flavors/${id}/`, `{"extra_specs":${nestedObjects(MAX_OBJECT_DEPTH + 1)}}`, 'PATCH');
    expect(deeper.statusCode).toBe(400); // PATCH field errors are 400, as historically (docs/api.md#errors)
    expect(deeper.json()).toEqual({ error_message: { extra_specs: [`Nested deeper than ${MAX_OBJECT_DEPTH} levels.`] } });
    const read = await t.app.inject({ method: 'GET', url: `/v1/flavors/${id}/`, headers: ADMIN });
    expect(nestingDepth(read.json().extra_specs, 100)).toBe(MAX_OBJECT_DEPTH);
  });

  it('answers deeply nested whole bodies and unknown fields with 4xx, never 500', async () => {
    for (const depth of [3_000, 100_000]) {
      for (const [url, payload] of [
        ['/v1/flavors/', nestedObjects(depth)],
        ['/v1/flavors/', nestedArrays(depth)],
        ['/v1/reservations/', `{"flavor_id":${nestedArrays(depth)}}`],
        ['/v1/flavors/', `{"name":${nestedObjects(depth)}}`],
      ] as const) {
        const res = await post(url, payload);
        expect(res.statusCode, `${url} ${payload.slice(0, 20)}`).toBeGreaterThanOrEqual(400);
        expect(res.statusCode).toBeLessThan(500);
        expect(res.json()).toHaveProperty('error_message');
      }
    }
  });
});

describe('nestingDepth', () => {
  it('counts levels of objects and arrays without recursion', () => {
    expect(nestingDepth(1, 32)).toBe(0);
    expect(nestingDepth({}, 32)).toBe(1);
    expect(nestingDepth({ a: [{ b: 1 }] }, 32)).toBe(3);
    expect(nestingDepth(JSON.parse(nestedArrays(1_000_000)), 32)).toBe(33);
  });
});
