/**
 * Builds the Fastify application of the v1 API: request ids, JSON parsing
 * with clear errors, identity, one error shape, routes.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, LogController } from 'fastify';
import { sql } from 'kysely';
import type { Logger as PinoLogger } from 'pino';
import type { Authenticator } from '../auth/context.js';
import { BadRequest } from '../domain/errors.js';
import { LOOPBACK_NETWORKS, metricsAccess } from '../metrics/access.js';
import { processMetrics } from '../metrics/cluster.js';
import { httpRequestDuration, httpRequests, UNMATCHED_ROUTE } from '../metrics/registry.js';
import type { PolicyEnforcer } from '../policy/enforcer.js';
import type { Services } from '../services/dependencies.js';
import { clientErrorHandler } from './client-errors.js';
import { type DashboardOptions, dashboardRoutes, isPublicDashboardPath } from './dashboard.js';
import { errorHandler, notFoundHandler } from './errors.js';
import { OPENAPI_PATH } from './openapi.js';
import { Authorizer } from './request.js';
import { outsideRequestScope, registerRequestScope } from './request-scope.js';
import { type HealthReport, registerRoutes } from './routes/index.js';
import { METRICS_PATH } from './routes/metrics.js';

export interface AppOptions {
  svc: Services;
  authenticator: Authenticator;
  policy: PolicyEnforcer;
  logger: PinoLogger;
  /** `[api] public_url`: base for `next` links and the version document behind a proxy. */
  publicUrl?: string | null;
  /** Extra health probes (e.g. the message broker). */
  brokerHealth?: () => Promise<{ ok: boolean; error?: string }>;
  /** The web portal at /dashboard/ (docs/dashboard.md); absent: not served. */
  dashboard?: DashboardOptions;
  /** Bounded waits (docs/operations.md); absent fields take {@link TIMEOUT_DEFAULTS}. */
  timeouts?: Partial<AppTimeouts>;
  /** `GET /metrics` (docs/metrics.md); absent fields: loopback only, this process's (or its cluster's) registry. */
  metrics?: { allowedNetworks?: readonly string[]; processMetrics?: () => Promise<string> };
}

export interface AppTimeouts {
  /** `[api] request_timeout`: receiving a whole request (0: no limit). */
  requestMs: number;
  /** `[api] headers_timeout`: receiving the request headers. */
  headersMs: number;
  /** How long `/healthcheck` waits for the database's `select 1`. */
  healthMs: number;
}

export const TIMEOUT_DEFAULTS: AppTimeouts = { requestMs: 30_000, headersMs: 10_000, healthMs: 2_000 };

export const BODY_LIMIT = 1024 * 1024;

/** Paths served without identity (as the Python service's auth middleware skips them). */
const PUBLIC_PATHS = new Set(['/', '/healthcheck', '/healthcheck/', OPENAPI_PATH, `${OPENAPI_PATH}/`, METRICS_PATH, `${METRICS_PATH}/`]);

const FRAMEWORK_ERRORS: Record<string, string> = {
  FST_ERR_BAD_URL: 'The request path is not a valid URL',
  FST_ERR_MAX_PARAM_LENGTH: 'The request path is too long',
};

/** First value of each query parameter (some clients repeat them, docs/api.md#python-client). */
function parseQuery(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(s)) if (!(k in out)) out[k] = v;
  return out;
}

export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const { authenticator } = opts;
  // A nudge only triggers the worker's work: it is not the request's (its log lines carry no request id).
  // Everything else is read through to the caller's object (a test may swap its limits or database
  // after the app is built); only the nudge is wrapped.
  const svc: Services = Object.create(opts.svc, {
    nudgeWorker: { value: (id: string) => outsideRequestScope(() => opts.svc.nudgeWorker(id)) },
  }) as Services;
  const t: AppTimeouts = { ...TIMEOUT_DEFAULTS, ...opts.timeouts };
  const headersMs = t.requestMs > 0 ? Math.min(t.headersMs, t.requestMs) : t.headersMs;
  const app = Fastify({
    loggerInstance: opts.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'request_id' }),
    bodyLimit: BODY_LIMIT,
    genReqId: () => `req-${randomUUID()}`,
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, querystringParser: parseQuery, maxParamLength: 500 },
    trustProxy: true,
    // Slow clients (docs/operations.md): Node checks open connections every
    // connectionsCheckingInterval and answers 408 through clientErrorHandler.
    requestTimeout: t.requestMs,
    http: {
      requestTimeout: t.requestMs,
      headersTimeout: headersMs,
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(Math.min(headersMs, t.requestMs || headersMs) / 5))),
    },
    clientErrorHandler: clientErrorHandler(opts.logger as FastifyBaseLogger, { requestMs: t.requestMs, headersMs }),
    // Errors Fastify raises before routing (an undecodable path, a too-long id) skip the
    // hooks and the error handler: answer them in the one error shape, with the request id.
    frameworkErrors: (err, req, res) => {
      void (res as FastifyReply)
        .header('X-Openstack-Request-Id', req.id)
        .status(err.statusCode ?? 400)
        .send({ error_message: FRAMEWORK_ERRORS[err.code] ?? 'Unexpected API Error.' });
    },
  });

  app.decorateRequest('warreContext', null);
  // First of the hooks: every line logged while a request is handled carries its request_id (docs/operations.md#logs).
  registerRequestScope(app);

  // Any body is read as JSON text; an empty one is "no body". Malformed → 400.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    const text = (body as string).trim();
    if (text === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch (err) {
      done(new BadRequest(`Malformed JSON body: ${(err as Error).message}`), undefined);
    }
  });

  app.addHook('onRequest', async (req, reply) => {
    void reply.header('X-Openstack-Request-Id', req.id);
    const path = req.url.split('?')[0] ?? '';
    if (PUBLIC_PATHS.has(path) || isPublicDashboardPath(path)) return;
    req.warreContext = await authenticator.authenticate(req.headers, req.id);
  });

  app.addHook('onResponse', async (req, reply) => {
    // By route template (bounded), never by URL (docs/metrics.md#http).
    const route = req.routeOptions.url ?? UNMATCHED_ROUTE;
    httpRequests.inc({ route, method: req.method, status: String(reply.statusCode) });
    httpRequestDuration.observe({ route, method: req.method }, reply.elapsedTime / 1000);
    req.log.info(
      {
        method: req.method,
        url: req.url,
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
        project: req.warreContext?.projectId,
      },
      'request',
    );
  });

  app.setErrorHandler(function (err, req, reply) {
    if ((err as { status?: number }).status === 401) {
      const header = authenticator.wwwAuthenticate();
      if (header) void reply.header('WWW-Authenticate', header);
    }
    errorHandler.call(this, err as Error, req, reply);
  });
  app.setNotFoundHandler(notFoundHandler);

  const health = async (): Promise<HealthReport> => {
    const report: HealthReport = { database: { ok: true, dialect: svc.db.dialect.name } };
    try {
      // Its own short limit: a stalled database must not stall the health check.
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`No answer from the database within ${t.healthMs / 1000} s`)), t.healthMs);
      });
      try {
        await Promise.race([sql`select 1`.execute(svc.db.kysely), late]);
      } finally {
        clearTimeout(timer);
      }
    } catch (err) {
      report.database = { ok: false, dialect: svc.db.dialect.name, error: (err as Error).message };
    }
    report.broker = opts.brokerHealth ? await opts.brokerHealth() : null;
    return report;
  };

  const authz = new Authorizer(opts.policy);
  const metrics = {
    allowed: metricsAccess(opts.metrics?.allowedNetworks ?? LOOPBACK_NETWORKS),
    processMetrics: opts.metrics?.processMetrics ?? processMetrics,
  };
  await registerRoutes(app, { svc, authz, publicUrl: opts.publicUrl ?? null, health, metrics });
  if (opts.dashboard) await dashboardRoutes(app, opts.dashboard, authz);
  return app;
}
