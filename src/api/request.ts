/** Small helpers every route uses: query parsing, pagination, policy checks. */
import type { FastifyRequest } from 'fastify';
import type { RequestContext } from '../auth/context.js';
import { policyValues } from '../auth/context.js';
import { BadRequest, Forbidden, NotFound } from '../domain/errors.js';
import { isUuid } from '../domain/ids.js';
import { parseDateOrDateTime } from '../domain/time.js';
import type { PolicyEnforcer } from '../policy/enforcer.js';
import { isObject } from './validate.js';

export type Query = Record<string, string>;

export const API_LIMIT = 1000;

export function query(req: FastifyRequest): Query {
  return (req.query ?? {}) as Query;
}

/** Query booleans: true/false/1/0, any case (docs/api.md#conventions); anything else is a 400. */
export function queryBool(q: Query, name: string): boolean | null {
  const v = q[name];
  if (v === undefined) return null;
  const s = v.toLowerCase();
  if (s === 'true' || s === '1') return true;
  if (s === 'false' || s === '0') return false;
  throw new BadRequest(`Invalid value for query parameter ${name}: "${v.slice(0, 64)}" (expected true, false, 1 or 0)`);
}

/** A free-text filter; empty means no filter (as historically). */
export function queryString(q: Query, name: string): string | null {
  const v = q[name];
  if (v === undefined || v === '') return null;
  if (v.length > 255) throw new BadRequest(`Query parameter ${name} is too long (255 characters at most)`);
  if (v.includes('\u0000')) throw new BadRequest(`Query parameter ${name} contains a NUL character`);
  return v;
}

/** A date parameter: `YYYY-MM-DD` (midnight UTC) or an ISO 8601 datetime with offset; absent or empty → null. */
export function queryDate(q: Query, name: string): number | null {
  const v = q[name];
  if (v === undefined || v === '') return null;
  const ms = parseDateOrDateTime(v);
  if (ms === null) {
    throw new BadRequest(
      `Invalid value for query parameter ${name}: "${v.slice(0, 64)}" (expected YYYY-MM-DD or an ISO 8601 datetime with offset)`,
    );
  }
  return ms;
}

/** An integer parameter in [min, max] (digits only); absent → null; anything else, empty included, is a 400 naming it. */
export function queryInt(q: Query, name: string, min: number, max: number, expected = `an integer from ${min} to ${max}`): number | null {
  const v = q[name];
  if (v === undefined) return null;
  const n = /^\d{1,15}$/.test(v) ? Number(v) : NaN;
  if (!(n >= min && n <= max))
    throw new BadRequest(`Invalid value for query parameter ${name}: "${v.slice(0, 64)}" (expected ${expected})`);
  return n;
}

/**
 * Every value of a repeatable id parameter (`?flavor_id=a&flavor_id=b`): `query()` keeps only
 * the first value of each name, so this reads the query string again. Empty values are
 * skipped; a value that is not a UUID is a 400. No value → null (no filter).
 */
export function queryIds(req: FastifyRequest, name: string): string[] | null {
  const search = req.url.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '';
  const ids = new URLSearchParams(search).getAll(name).filter((v) => v !== '');
  if (ids.length === 0) return null;
  if (ids.length > 1000) throw new BadRequest(`Too many values for query parameter ${name} (1000 at most)`);
  for (const id of ids) {
    if (!isUuid(id)) throw new BadRequest(`Invalid value for query parameter ${name}: "${id.slice(0, 64)}" (expected an id)`);
  }
  return ids;
}

export interface PageRequest {
  limit: number;
  page: number;
  offset: number;
}

export function pageRequest(q: Query): PageRequest {
  let limit = API_LIMIT;
  if (q.limit !== undefined && q.limit !== '') {
    if (!/^\s*[-+]?\d+\s*$/.test(q.limit))
      throw new BadRequest(`Invalid value for query parameter limit: "${q.limit.slice(0, 64)}" (expected an integer)`);
    const n = Number(q.limit);
    limit = n === 0 ? API_LIMIT : Math.max(1, Math.min(n, API_LIMIT));
  }
  let page = 1;
  if (q.page !== undefined && q.page !== '') {
    if (!/^\s*\d+\s*$/.test(q.page) || Number(q.page) < 1 || Number(q.page) > 1e9) {
      throw new BadRequest(`Invalid value for query parameter page: "${q.page.slice(0, 64)}" (expected a positive integer)`);
    }
    page = Number(q.page);
  }
  return { limit, page, offset: (page - 1) * limit };
}

/**
 * The paginated answer. [beyond] `next` keeps the other query parameters.
 * `baseUrl` is `[api] public_url` when set, else the request's own origin.
 */
export function pageResponse<T>(req: FastifyRequest, publicUrl: string | null, p: PageRequest, total: number, results: T[]) {
  const body: { results: T[]; total: number; next?: string } = { results, total };
  if (p.offset + results.length < total && results.length > 0) {
    const path = req.url.split('?')[0] ?? '';
    const origin = publicUrl ? publicUrl.replace(/\/+$/, '') : `${req.protocol}://${req.headers.host ?? 'localhost'}`;
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query(req))) if (k !== 'page') params.append(k, v);
    params.append('page', String(p.page + 1));
    body.next = `${origin}${path}?${params.toString()}`;
  }
  return body;
}

/** The JSON body as an object; anything else (none, array, scalar, `{}`) is "No input data provided". */
export function requireBody(req: FastifyRequest): Record<string, unknown> {
  const b = req.body;
  if (b === undefined || b === null) throw new BadRequest('No input data provided');
  if (!isObject(b)) throw new BadRequest('The request body must be a JSON object');
  if (Object.keys(b).length === 0) throw new BadRequest('No input data provided');
  return b;
}

export function ctx(req: FastifyRequest): RequestContext {
  return req.warreContext!;
}

/**
 * The caller's project. A token without one (system- or domain-scoped, or
 * `delay_auth_decision`) cannot act for a project: 403 with a clear message.
 */
export function projectOf(req: FastifyRequest): string {
  const p = ctx(req).projectId;
  if (!p) throw new Forbidden('This request needs a project-scoped token (the token has no project)');
  return p;
}

export class Authorizer {
  constructor(private readonly enforcer: PolicyEnforcer) {}

  allowed(req: FastifyRequest, rule: string, target: Record<string, unknown> = {}): boolean {
    return this.enforcer.authorize(rule, target, policyValues(ctx(req)));
  }

  /** Collection operation: denied → 403 Not authorised. */
  collection(req: FastifyRequest, rule: string): void {
    if (!this.allowed(req, rule)) throw new Forbidden();
  }

  /** Item operation: denied → 404 with the item message, so foreign ids are not confirmed. */
  item(req: FastifyRequest, rule: string, notFoundMessage: string, target: Record<string, unknown> = {}): void {
    if (!this.allowed(req, rule, target)) throw new NotFound(notFoundMessage);
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    warreContext: RequestContext | null;
  }
}
