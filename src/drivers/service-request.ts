/**
 * The call every OpenStack service driver here makes (Blazar, Nova, Taynac): token
 * and catalog URL from a {@link ServiceSession}, the session's TLS options, one
 * re-authentication after a 401, a timeout, and keystoneauth's error names.
 */
import { type HttpResponse, rawRequest } from './http.js';
import { joinUrl, type ServiceSession } from './service-session.js';

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

/**
 * A request to a catalog service as keystoneauth's session makes it: token in
 * `X-Auth-Token`; on a 401 the token is invalidated and the request sent once more
 * with a fresh one. The caller interprets the status.
 */
export async function serviceRequest(session: ServiceSession, req: ServiceRequest): Promise<HttpResponse> {
  const base = await session.getEndpoint(req.serviceType, { interface: req.interface ?? null, region: req.region ?? null });
  const url = joinUrl(base, req.path);
  const body = req.json === undefined ? undefined : JSON.stringify(req.json);
  const send = async (): Promise<HttpResponse> => {
    const headers: Record<string, string> = { 'X-Auth-Token': await session.getToken(), ...req.headers };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    return rawRequest(url, { method: req.method, headers, body, timeoutMs: req.timeoutMs, ...(session.tls ? { tls: session.tls } : {}) });
  };
  const res = await send();
  if (res.status !== 401) return res;
  session.invalidate();
  return send();
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
