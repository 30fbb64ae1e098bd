/**
 * Checks API answers against the OpenAPI document (src/api/openapi.ts): the operation of
 * (method, path), the status among its documented responses, the request id header, the
 * content type, and a JSON body against the documented schema (ajv, JSON Schema 2020-12).
 * `buildTestApp` (test/support/app.ts) runs every `inject` answer through it, so the whole
 * conformance suite is also a check that the document describes what the API answers.
 */
import fs from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { buildOpenApiDocument } from '../../src/api/openapi.js';
import { Authorizer } from '../../src/api/request.js';

type Json = Record<string, any>;

export const OPENAPI_DOCUMENT: Json = buildOpenApiDocument();

const COMPONENTS_ID = 'warre-components';
const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
/** The document's `#/components/schemas/X` refs, pointed at a standalone schema holding them. */
const relink = (schema: unknown): Json =>
  JSON.parse(JSON.stringify(schema).replaceAll('"#/components/schemas/', `"${COMPONENTS_ID}#/$defs/`)) as Json;
ajv.addSchema({ $id: COMPONENTS_ID, $defs: relink(OPENAPI_DOCUMENT.components.schemas) });

interface Template {
  path: string;
  regex: RegExp;
  params: number;
}

/** Static paths first, so `/v1/reservations/calendar.ics` wins over `/v1/reservations/{id}/`. */
const TEMPLATES: Template[] = Object.keys(OPENAPI_DOCUMENT.paths)
  .map((path) => {
    const trimmed = path.length > 1 ? path.replace(/\/$/, '') : path;
    const source = trimmed
      .split(/\{\w+\}/)
      .map((s) => s.replace(/[.*+?^$()|[\]\\]/g, '\\$&'))
      .join('[^/]+');
    return { path, regex: new RegExp(`^${source}$`), params: (path.match(/\{/g) ?? []).length };
  })
  .sort((a, b) => a.params - b.params);

/** The documented path template of a request path (with or without trailing slash), or null. */
export function templateOf(url: string): string | null {
  let path = (url.split('?')[0] ?? '').replace(/\/{2,}/g, '/');
  if (path.length > 1) path = path.replace(/\/$/, '');
  return TEMPLATES.find((t) => t.regex.test(path))?.path ?? null;
}

const validators = new Map<string, ValidateFunction>();
function validator(key: string, schema: unknown): ValidateFunction {
  let v = validators.get(key);
  if (!v) {
    v = ajv.compile(relink(schema));
    validators.set(key, v);
  }
  return v;
}

/**
 * The policy rules asked while answering each `inject`, by the id the wrapper gives the request
 * in a header (Fastify's inject does not keep an AsyncLocalStorage context): each must be in the
 * operation's `x-policy`.
 */
const CHECK_HEADER = 'x-openapi-check';
const consulted = new Map<string, Set<string>>();
let nextCheck = 0;
const allowed = Authorizer.prototype.allowed;
Authorizer.prototype.allowed = function (this: Authorizer, req, rule, target) {
  const id = req.headers[CHECK_HEADER];
  if (typeof id === 'string') consulted.get(id)?.add(rule);
  return allowed.call(this, req, rule, target);
};

export interface Answer {
  statusCode: number;
  headers: Record<string, unknown>;
  body: string;
}

/**
 * What is wrong with this answer according to the document, or null when it matches.
 * Portal paths (/dashboard, docs/dashboard.md) are not part of the v1 API and are skipped.
 */
export function answerMismatch(method: string, url: string, res: Answer, rules: ReadonlySet<string> = new Set()): string | null {
  const path = url.split('?')[0] ?? '';
  if (path === '/dashboard' || path.startsWith('/dashboard/')) {
    return null;
  }
  const m = method.toLowerCase();
  const template = templateOf(url);
  const operation: Json | undefined = template ? OPENAPI_DOCUMENT.paths[template][m] : undefined;
  const where = `${method.toUpperCase()} ${template ?? path} → ${res.statusCode}`;
  if (!res.headers['x-openstack-request-id']) return `${where}: no X-Openstack-Request-Id header`;
  let content: Json | undefined;
  if (operation) {
    const response = operation.responses[String(res.statusCode)];
    if (!response) return `${where}: status not documented (documented: ${Object.keys(operation.responses).join(', ')})`;
    content = response.content;
    for (const [name, header] of Object.entries<Json>(response.headers ?? {})) {
      const h: Json = header.$ref ? OPENAPI_DOCUMENT.components.headers[String(header.$ref).split('/').pop()!] : header;
      const value = res.headers[name.toLowerCase()];
      if (value === undefined) {
        if (h.required) return `${where}: no ${name} header`;
        continue;
      }
      const check = validator(`header ${name}`, h.schema);
      if (!check(String(value))) return `${where}: header ${name}: ${JSON.stringify(value)} does not match ${JSON.stringify(h.schema)}`;
    }
    const undocumented = [...rules].filter((r) => !(operation['x-policy'] as string[]).includes(r));
    if (undocumented.length > 0) return `${where}: consulted policy rules not in its x-policy: ${undocumented.join(', ')}`;
  } else {
    // No operation (an unknown path or method): only an error in the one error shape is right.
    if (res.statusCode < 400) return `${where}: answered, but no such operation is documented`;
    content = { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } };
  }
  if (m === 'head') return null;
  if (!content) return res.body === '' ? null : `${where}: documented without a body, answered ${JSON.stringify(res.body.slice(0, 200))}`;
  const type = String(res.headers['content-type'] ?? '')
    .split(';')[0]!
    .trim();
  const media = Object.entries(content).find(([t]) => t.split(';')[0]!.trim() === type);
  if (!media) return `${where}: content type ${type || '(none)'} not documented (documented: ${Object.keys(content).join(', ')})`;
  if (type !== 'application/json') return null;
  let body: unknown;
  try {
    body = JSON.parse(res.body);
  } catch {
    return `${where}: not JSON: ${res.body.slice(0, 200)}`;
  }
  const validate = validator(`${m} ${template} ${res.statusCode} ${type}`, media[1].schema);
  if (validate(body)) return null;
  const errors = (validate.errors ?? []).slice(0, 5).map((e) => `${e.instancePath || '/'} ${e.message} ${JSON.stringify(e.params)}`);
  return `${where}: body does not match the documented schema: ${errors.join('; ')}; body: ${res.body.slice(0, 300)}`;
}

/** Throws when the answer does not match the document (see answerMismatch). */
export function assertDocumented(method: string, url: string, res: Answer, rules?: ReadonlySet<string>): void {
  const mismatch = answerMismatch(method, url, res, rules);
  if (mismatch) throw new Error(`Answer not as the OpenAPI document says: ${mismatch}`);
}

interface Injectable {
  inject: (...args: any[]) => any;
  close: (...args: any[]) => any;
}

/**
 * Make every `app.inject(options)` answer go through `assertDocumented`: a mismatch rejects the
 * call, so the test that made it fails, naming the operation, the status and what differs.
 * The chained and callback forms of `inject` are left unchecked. With
 * `WARRE_OPENAPI_STATS=<file>`, closing the app appends how many answers were checked.
 */
export function checkEveryAnswer(app: Injectable): void {
  const inject = app.inject.bind(app);
  const close = app.close.bind(app);
  const counts = { checked: 0, unchecked: 0 };
  const seen = new Set<string>();
  app.inject = (...args: any[]) => {
    const [opts] = args;
    if (args.length !== 1 || (typeof opts !== 'object' && typeof opts !== 'string') || opts === null) {
      counts.unchecked++;
      return inject(...args);
    }
    const method = typeof opts === 'string' ? 'GET' : String(opts.method ?? 'GET');
    const url = typeof opts === 'string' ? opts : String(opts.url ?? opts.path ?? '/');
    const id = String(++nextCheck);
    const rules = new Set<string>();
    consulted.set(id, rules);
    const request = typeof opts === 'string' ? { method: 'GET', url: opts } : opts;
    return Promise.resolve(inject({ ...request, headers: { ...request.headers, [CHECK_HEADER]: id } })).then((res: Answer) => {
      consulted.delete(id);
      counts.checked++;
      seen.add(`${method.toUpperCase()} ${templateOf(url) ?? '-'} ${res.statusCode}`);
      assertDocumented(method, url, res, rules);
      return res;
    });
  };
  app.close = (...args: any[]) => {
    const file = process.env.WARRE_OPENAPI_STATS;
    if (file) fs.appendFileSync(file, `${JSON.stringify({ ...counts, seen: [...seen] })}\n`);
    return close(...args);
  };
}
