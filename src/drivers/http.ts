/**
 * One HTTP(S) exchange, as the Python clients (python-requests) make it: the
 * transport of every OpenStack call here (Keystone, Blazar, Nova, Taynac), with
 * keystoneauth's `cafile` / `insecure` session options and its error names
 * (`ConnectFailure`, `ConnectTimeout`, `SSLError`).
 *
 * Written on node:http/https rather than fetch because fetch cannot send the
 * `Content-Length: 0` python-requests puts on a body-less DELETE, adds browser
 * headers (`sec-fetch-mode`, `accept-language`) the Python clients never send,
 * and takes no per-request CA bundle without the undici package.
 */
import http from 'node:http';
import https from 'node:https';

import { readPemFile } from './pem.js';

/** keystoneauth session TLS options: `cafile` (a PEM bundle that replaces the system CAs), `insecure`, `certfile` + `keyfile`. */
export interface TlsOptions {
  /** PEM text of the trusted CAs; unset: the system CAs. */
  ca?: string;
  /** false with `insecure = true`. */
  rejectUnauthorized: boolean;
  /** A client certificate and its key (PEM text). */
  cert?: string;
  key?: string;
}

/**
 * TLS options from a section's `cafile` / `insecure`. The bundle is read once,
 * at start-up, so a missing or unreadable file stops the service with its name.
 */
export function tlsOptions(
  o: { cafile?: string | null; insecure?: boolean | null; certfile?: string | null; keyfile?: string | null },
  section: string,
): TlsOptions {
  const tls: TlsOptions = { rejectUnauthorized: o.insecure !== true };
  if (o.cafile) tls.ca = readPemFile(o.cafile, `[${section}] cafile`, 'CERTIFICATE');
  if (o.certfile) {
    tls.cert = readPemFile(o.certfile, `[${section}] certfile`, 'CERTIFICATE');
    // keystoneauth: the key may sit in the certificate file.
    tls.key = readPemFile(o.keyfile || o.certfile, `[${section}] ${o.keyfile ? 'keyfile' : 'certfile (no keyfile)'}`, 'PRIVATE KEY');
  } else if (o.keyfile) {
    throw new Error(`[${section}] keyfile is set without certfile`);
  }
  return tls;
}

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** The service could not be reached (keystoneauth `ConnectFailure`). */
export class ConnectFailure extends Error {
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    super(`Unable to establish connection to ${url}: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'ConnectFailure';
  }
}

/** The server's certificate was refused (keystoneauth `SSLError`): retrying cannot help. */
export class SSLError extends ConnectFailure {
  constructor(url: string, cause: unknown) {
    super(url, cause);
    this.message = `SSL exception connecting to ${url}: ${cause instanceof Error ? cause.message : String(cause)}`;
    this.name = 'SSLError';
  }
}

/** Node's certificate-verification and handshake error codes. */
function isTlsError(e: unknown): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|SELF_SIGNED_|DEPTH_ZERO_)/.test(code);
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
  /** For https URLs; default: system CAs, verified. */
  tls?: TlsOptions;
  /** false: a new connection for this request, closed after it (no pooled socket is reused). */
  keepAlive?: boolean;
}

/**
 * One HTTP exchange; resolves with any status (callers classify), rejects only with
 * {@link ConnectFailure} (or its {@link SSLError}) or {@link ConnectTimeout}. As python-requests does, a
 * body-less request other than GET/HEAD carries `Content-Length: 0`.
 */
export function rawRequest(url: string, req: RawRequest): Promise<HttpResponse> {
  const headers: Record<string, string> = { ...req.headers };
  if (req.body !== undefined) headers['Content-Length'] = String(Buffer.byteLength(req.body));
  else if (req.method !== 'GET' && req.method !== 'HEAD') headers['Content-Length'] = '0';
  const secure = url.startsWith('https:');
  const options: https.RequestOptions = { method: req.method, headers };
  if (req.keepAlive === false) {
    options.agent = false;
    headers.Connection = 'close';
  }
  if (secure && req.tls) {
    options.rejectUnauthorized = req.tls.rejectUnauthorized;
    if (req.tls.ca !== undefined) options.ca = req.tls.ca;
    if (req.tls.cert !== undefined) options.cert = req.tls.cert;
    if (req.tls.key !== undefined) options.key = req.tls.key;
  }

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
      request = (secure ? https : http).request(url, options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          finish(null, { status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', (e) => finish(new ConnectFailure(url, e)));
      });
    } catch (e) {
      // An invalid URL throws synchronously.
      reject(new ConnectFailure(url, e));
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    request.on('error', (e) => finish(isTlsError(e) ? new SSLError(url, e) : new ConnectFailure(url, e)));
    request.end(req.body);
  });
}
