/**
 * The one error shape (docs/api.md#errors): `{"error_message": …}`. Every error the
 * app can raise ends here; a 500 never shows internals.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AuthError } from '../auth/context.js';
import { WarreError } from '../domain/errors.js';
import { LimitsConfigurationError, LimitsUnavailableError, UnknownProjectError } from '../quota/limits.js';

export const DATABASE_UNAVAILABLE_MESSAGE = 'The database is unavailable, please try again later';

/** The database layer's DatabaseUnavailableError (src/db/resilience.ts), known by name: api/ does not import db/. */
function isDatabaseUnavailable(err: unknown): boolean {
  return err instanceof Error && err.name === 'DatabaseUnavailableError';
}

export function errorHandler(this: unknown, err: FastifyError | Error, req: FastifyRequest, reply: FastifyReply): void {
  if (err instanceof WarreError) {
    void reply.status(err.status).send({ error_message: err.body });
    return;
  }
  if (err instanceof AuthError) {
    void reply.status(err.status).send({ error_message: err.message });
    return;
  }
  if (err instanceof UnknownProjectError) {
    void reply.status(400).send({ error_message: err.message });
    return;
  }
  if (isDatabaseUnavailable(err)) {
    // Logged once per outage by the database layer (src/db/resilience.ts), not per request.
    req.log.debug({ error: err.message }, 'database unavailable');
    void reply.status(503).send({ error_message: DATABASE_UNAVAILABLE_MESSAGE });
    return;
  }
  if (err instanceof LimitsConfigurationError) {
    // An operator's fix, named in the answer (no secret in it) and in the log (docs/keystone.md#limits-errors).
    req.log.error({ error: err.message }, 'quota limits cannot be read');
    void reply.status(500).send({ error_message: err.message });
    return;
  }
  if (err instanceof LimitsUnavailableError) {
    req.log.error({ err }, 'quota limits unavailable');
    void reply.status(503).send({ error_message: 'Quota limits are temporarily unavailable, please try again later' });
    return;
  }
  const fe = err as FastifyError;
  switch (fe.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      void reply.status(413).send({ error_message: 'Request body is too large (the limit is 1 MiB)' });
      return;
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      void reply.status(415).send({ error_message: 'Unsupported content type: send application/json' });
      return;
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      void reply.status(400).send({ error_message: 'No input data provided' });
      return;
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      void reply.status(400).send({ error_message: 'Request body does not match its Content-Length' });
      return;
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    void reply.status(fe.statusCode).send({ error_message: fe.message });
    return;
  }
  const code = (err as { errno?: number }).errno;
  if (code === 1366 || code === 1267) {
    // MySQL/MariaDB: a character the column's charset cannot hold (e.g. an emoji on a utf8mb3 database).
    void reply.status(400).send({ error_message: 'The request contains characters the database cannot store' });
    return;
  }
  req.log.error({ err }, 'unexpected error');
  void reply.status(500).send({ error_message: 'Unexpected API Error.' });
}

export function notFoundHandler(req: FastifyRequest, reply: FastifyReply): void {
  void reply.status(404).send({ error_message: `The resource could not be found: ${req.method} ${req.url.split('?')[0]}` });
}
