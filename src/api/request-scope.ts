/**
 * The request a line is logged for. Every API request runs in a scope that knows its id, so a
 * line logged while it is handled — by a route, a service, the authenticator, a driver — carries
 * `request_id` (the one name, as oslo.log; docs/operations.md#logs), whichever logger wrote it.
 * The process logger (src/cli/logging.ts) adds it through {@link requestLogFields}.
 */
import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
import type { FastifyInstance, FastifyRequest } from 'fastify';

/** The key of the request id in every log line. */
export const REQUEST_ID_LOG_KEY = 'request_id';

interface Scope {
  readonly requestId: string;
  /** Set once the answer is sent: work the request started and that outlives it is no longer its. */
  done: boolean;
}

const storage = new AsyncLocalStorage<Scope>();
const scopes = new WeakMap<FastifyRequest, { scope: Scope; resource: AsyncResource }>();

/** The id of the request being handled, if any. */
export function currentRequestId(): string | undefined {
  const scope = storage.getStore();
  return scope && !scope.done ? scope.requestId : undefined;
}

/** The fields the process logger adds to a line: the request id while a request is handled. */
export function requestLogFields(): Record<string, string> {
  const id = currentRequestId();
  return id === undefined ? {} : { [REQUEST_ID_LOG_KEY]: id };
}

/** Runs `fn` outside any request's scope (work a request only triggers, e.g. the worker's nudge). */
export function outsideRequestScope<T>(fn: () => T): T {
  return storage.exit(fn);
}

/**
 * Opens a request's scope before any other hook runs. Reading the body leaves it (the stream's
 * events come from elsewhere), so the hooks after parsing enter it again.
 */
export function registerRequestScope(app: FastifyInstance): void {
  app.addHook('onRequest', (req, _reply, done) => {
    const scope: Scope = { requestId: req.id, done: false };
    storage.run(scope, () => {
      scopes.set(req, { scope, resource: new AsyncResource('warre-request') });
      done();
    });
  });
  const reenter = (req: FastifyRequest, _reply: unknown, done: () => void) => {
    const s = scopes.get(req);
    if (s) s.resource.runInAsyncScope(done);
    else done();
  };
  app.addHook('preValidation', reenter);
  app.addHook('preHandler', reenter);
  const end = (req: FastifyRequest) => {
    const s = scopes.get(req);
    if (s) s.scope.done = true;
  };
  app.addHook('onResponse', async (req) => end(req));
  app.addHook('onRequestAbort', async (req) => end(req));
}
