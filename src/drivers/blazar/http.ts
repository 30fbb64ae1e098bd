/**
 * The HTTP call every OpenStack driver here makes (Blazar, Nova, Taynac): token and
 * catalog URL from a {@link ServiceSession}, one re-authentication after a 401, a
 * timeout, and errors named like keystoneauth's (`ConnectFailure`, `ConnectTimeout`).
 *
 * Written on node:http rather than fetch because fetch cannot send the
 * `Content-Length: 0` python-requests puts on a body-less DELETE, and adds browser
 * headers (`sec-fetch-mode`, `accept-language`) the Python clients never send.
 */
import http from 'node:http';
import https from 'node:https';

import { joinUrl, type ServiceSession } from '../session.js';

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** The service could not be reached (keystoneauth `ConnectFailure`). */
export class ConnectFailure extends Error {
  constructor(readonly url: string, cause: unknown) {
    super(`Unable to establish connection to ${url}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'ConnectFailure';
  }
}

/** No complete answer within the timeout (keystoneauth `ConnectTimeout`). */
export class ConnectTimeout extends Error {
  constructor(readonly url: string) {
    super(`Request to ${url} timed out`);
    this.name = 'ConnectTimeout';
  }
}

export interface RawRequest {
  method: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
}

/**
 * One HTTP exchange; resolves with any status (callers classify), rejects only with
 * {@link ConnectFailure} or {@link ConnectTimeout}. As python-requests does, a
 * body-less request other than GET/HEAD carries `Content-Length: 0`.
 */
export function rawRequest(url: string, req: RawRequest): Promise<HttpResponse> {
  const headers: Record<string, string> = { ...req.headers };
  if (req.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(req.body));
  else if (req.method !== 'GET' && req.method !== 'HEAD') headers['Content-Length'] = '0';
  const mod = url.startsWith('https:') ? https : http;

  return new Promise<HttpResponse>((resolve, reject) => {
    let settled = false;
    const signal = AbortSignal.timeout(req.timeoutMs);
    const finish = (err: Error | null, res?: HttpResponse): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(res!);
    };
    const onAbort = (): void => {
      finish(new ConnectTimeout(url));
      request.destroy();
    };
    let request: http.ClientRequest;
    try {
      request = mod.request(url, { method: req.method, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => finish(null, { status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (e) => finish(new ConnectFailure(url, e)));
      });
    } catch (e) {
      // An invalid URL throws synchronously.
      reject(new ConnectFailure(url, e));
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    request.on('error', (e) => finish(new ConnectFailure(url, e)));
    request.end(req.body);
  });
}

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
    return rawRequest(url, { method: req.method, headers, body, timeoutMs: req.timeoutMs });
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
