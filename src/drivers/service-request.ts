/**
 * The call every OpenStack service driver here makes (Blazar, Nova, Taynac): token
 * and catalog URL from a {@link ServiceSession}, the session's TLS options, one
 * re-authentication after a 401, a timeout, and keystoneauth's error names.
 *
 * Beyond keystoneauth (docs/keystone.md#catalog): a catalog that lacks the endpoint, or an
 * endpoint that refuses connections or answers 404, makes the session log in again
 * to read a fresh catalog. The request is sent once more only when the fresh catalog
 * gives another URL and the first attempt cannot have been acted on (the connection
 * was refused, or the old URL answered 404), so a request is never made twice.
 */
import { ConnectFailure, ConnectTimeout, type HttpResponse, rawRequest, SSLError } from './http.js';
import { EndpointNotFoundError, joinUrl, type ServiceSession } from './service-session.js';

export interface ServiceRequest {
  serviceType: string;
  interface?: string | null;
  region?: string | null;
  method: string;
  /** Relative to the catalog URL. */
  path: string;
  /** Sent besides `X-Auth-Token` (and `Content-Type` when `json` is given). */
  headers: Record<string, string>;
  /** Serialised as the JSON body. */
  json?: unknown;
  timeoutMs: number;
}

/** Connection errors raised before anything was sent: the server cannot have acted on the request. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

function notSent(err: ConnectFailure): boolean {
  const code = (err.cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && NOT_SENT.has(code);
}

/**
 * A request to a catalog service as keystoneauth's session makes it: token in
 * `X-Auth-Token`; on a 401 the token is invalidated and the request sent once more
 * with a fresh one. The caller interprets the status. A stale catalog is re-read as
 * described at the top of this file.
 */
export async function serviceRequest(session: ServiceSession, req: ServiceRequest): Promise<HttpResponse> {
  const where = { interface: req.interface ?? null, region: req.region ?? null };
  let base: string;
  try {
    base = await session.getEndpoint(req.serviceType, where);
  } catch (err) {
    if (!(err instanceof EndpointNotFoundError)) throw err;
    // Registered after this session logged in? Read a fresh catalog once.
    session.invalidate();
    base = await session.getEndpoint(req.serviceType, where);
  }
  const body = req.json === undefined ? undefined : JSON.stringify(req.json);
  const sendOnce = async (url: string): Promise<HttpResponse> => {
    const headers: Record<string, string> = { 'X-Auth-Token': await session.getToken(), ...req.headers };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    return rawRequest(url, { method: req.method, headers, body, timeoutMs: req.timeoutMs, ...(session.tls ? { tls: session.tls } : {}) });
  };
  const send = async (endpoint: string): Promise<HttpResponse> => {
    const url = joinUrl(endpoint, req.path);
    const res = await sendOnce(url);
    if (res.status !== 401) return res;
    session.invalidate();
    return sendOnce(url);
  };
  /** A fresh catalog's URL for the service when it differs from `base`; null otherwise. */
  const moved = async (): Promise<string | null> => {
    session.invalidate();
    const fresh = await session.getEndpoint(req.serviceType, where).catch(() => null);
    return fresh !== null && fresh !== base ? fresh : null;
  };

  let res: HttpResponse;
  try {
    res = await send(base);
  } catch (err) {
    if (err instanceof ConnectFailure && !(err instanceof SSLError) && notSent(err)) {
      const other = await moved();
      if (other) return send(other);
    } else if (err instanceof ConnectFailure || err instanceof ConnectTimeout) {
      // It may have reached the server: not sent again, but the next request reads a fresh catalog.
      session.invalidate();
    }
    throw err;
  }
  if (res.status === 404) {
    const other = await moved();
    if (other) return send(other);
  }
  return res;
}

/** The body as JSON, or null when it is empty or not JSON. */
export function parseJson(text: string): unknown {
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}
