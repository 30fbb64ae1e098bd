/**
 * A Keystone session: password authentication as keystoneauth sends it
 * (docs/interop.md#keystone-service-token), catalog lookup
 * (docs/interop.md#keystone-catalog) and authenticated identity calls.
 *
 * Written by hand on the shared HTTP transport: there is no maintained Keystone
 * client for Node worth a dependency, and Warre needs only these few calls.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { type Logger, SILENT_LOGGER } from '../../domain/logger.js';
import { keystonePathTemplate, keystoneRequestDuration } from '../../metrics/registry.js';
import { ConnectTimeout, rawRequest, SSLError, type TlsOptions, tlsOptions } from '../http.js';
import type { ServiceSession } from '../service-session.js';
import { EndpointNotFoundError, joinUrl } from '../service-session.js';
import type { KeystoneAuthOptions } from './options.js';
import { KEYSTONE_TIMEOUT_S, opt } from './options.js';

/** Keystone could not be reached: connection failure, timeout, or a 5xx answer. */
export class KeystoneUnavailableError extends Error {
  constructor(
    message: string,
    /** What went wrong: `connect` failures are retried where configured; `tls` ones never are. */
    readonly kind: 'connect' | 'timeout' | 'status' | 'tls',
  ) {
    super(message);
    this.name = 'KeystoneUnavailableError';
  }
}

/** Keystone refused the credentials or the call (401/403; 400/404 on login). */
export class KeystoneAuthError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'KeystoneAuthError';
  }
}

interface NamedRef {
  id: string;
  name: string;
  domain?: { id: string; name: string };
}

export interface CatalogEndpoint {
  id: string;
  interface: string;
  region_id: string | null;
  region?: string | null;
  url: string;
}

export interface CatalogEntry {
  id: string;
  type: string;
  name?: string;
  endpoints: CatalogEndpoint[];
}

/** The `token` object of a Keystone v3 token response. */
export interface TokenBody {
  methods: string[];
  user: NamedRef & { domain: { id: string; name: string } };
  project?: NamedRef & { domain: { id: string; name: string } };
  domain?: { id: string; name: string };
  system?: Record<string, boolean>;
  roles?: { id: string; name: string }[];
  catalog?: CatalogEntry[];
  expires_at: string;
  issued_at?: string;
  audit_ids?: string[];
  is_admin_project?: boolean;
  is_domain?: boolean;
}

export interface KeystoneResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** Parsed JSON, or the raw text when not JSON, or null when empty. */
  // biome-ignore lint/suspicious/noExplicitAny: a JSON answer of any shape; each caller checks the fields it reads.
  body: any;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  /** An object is sent as JSON; a string as is; absent → no body and no Content-Type. */
  body?: unknown;
}

interface TokenState {
  token: string;
  body: TokenBody;
  expiresAt: number;
  /** Renew once `now` passes this. */
  renewAt: number;
}

/** The v3 base of an auth_url: `http://k:5000` and `http://k:5000/v3/` both give `http://k:5000/v3`. */
export function identityBase(authUrl: string): string {
  const base = authUrl.replace(/\/+$/, '');
  return /\/v3$/.test(base) ? base : `${base}/v3`;
}

/** The `auth` object keystoneauth's v3 password plugin sends (docs/interop.md#keystone-service-token). */
export function passwordAuthBody(o: KeystoneAuthOptions): { auth: Record<string, unknown> } {
  const userId = opt(o.user_id);
  const username = opt(o.username);
  if (!userId && !username) throw new Error('Keystone password auth needs username or user_id');
  const user: Record<string, unknown> = { password: o.password ?? '' };
  if (userId) {
    user.id = userId; // ids only: keystoneauth drops the user domain (captured)
  } else {
    user.name = username;
    const domain = domainRef(opt(o.user_domain_id), opt(o.user_domain_name));
    if (domain) user.domain = domain;
  }
  const auth: Record<string, unknown> = { identity: { methods: ['password'], password: { user } } };
  const scopes: Record<string, unknown>[] = [];
  const projectId = opt(o.project_id);
  const projectName = opt(o.project_name);
  if (projectId) scopes.push({ project: { id: projectId } });
  else if (projectName) {
    const project: Record<string, unknown> = { name: projectName };
    const domain = domainRef(opt(o.project_domain_id), opt(o.project_domain_name));
    if (domain) project.domain = domain;
    scopes.push({ project });
  }
  const system = opt(o.system_scope);
  if (system) scopes.push({ system: { [system]: true } });
  if (scopes.length > 1) {
    throw new Error('Authentication cannot be scoped to multiple targets: set only one of project, domain or system_scope');
  }
  if (scopes[0]) auth.scope = scopes[0];
  return { auth };
}

function domainRef(id: string | null, name: string | null): { id: string } | { name: string } | null {
  if (id) return { id };
  if (name) return { name };
  return null;
}

/** `publicURL` → `public`, as keystoneauth normalises interfaces. */
function normaliseInterface(iface: string): string {
  return iface.endsWith('URL') ? iface.slice(0, -3) : iface;
}

/**
 * One HTTP exchange with Keystone, on a connection of its own: uwsgi-served
 * Keystone drops idle keep-alive sockets, which made reused connections fail
 * with "socket hang up" (docs/interop.md#http-connections).
 */
export async function keystoneFetch(
  method: string,
  url: string,
  opts: RequestOptions & { timeoutMs: number; tls?: TlsOptions },
): Promise<KeystoneResponse> {
  const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers };
  let body: string | undefined;
  if (typeof opts.body === 'string') body = opts.body;
  else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['Content-Type'] ??= 'application/json';
  }
  const where = `${method} ${url.replace(/\?.*$/, '')}`;
  let res: { status: number; headers: IncomingHttpHeaders; text: string };
  const timer = keystoneRequestDuration.startTimer({ method, path: keystonePathTemplate(url) });
  try {
    res = await rawRequest(url, {
      method,
      headers,
      body,
      timeoutMs: opts.timeoutMs,
      keepAlive: false,
      ...(opts.tls ? { tls: opts.tls } : {}),
    });
    timer({ status: String(res.status) });
  } catch (err) {
    timer({ status: 'error' });
    if (err instanceof ConnectTimeout)
      throw new KeystoneUnavailableError(`Keystone did not answer ${where} within ${opts.timeoutMs / 1000} s`, 'timeout');
    const cause = err instanceof Error ? ((err.cause as Error | undefined)?.message ?? err.message) : String(err);
    if (err instanceof SSLError) {
      throw new KeystoneUnavailableError(`Keystone's certificate was refused (${where}): ${cause}; check cafile / insecure`, 'tls');
    }
    throw new KeystoneUnavailableError(`Unable to reach Keystone (${where}): ${cause}`, 'connect');
  }
  const text = res.text;
  let parsed: unknown = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = text;
    }
  }
  if (res.status >= 500) {
    throw new KeystoneUnavailableError(`Keystone answered ${res.status} to ${where}: ${errorMessage(parsed)}`, 'status');
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/** Keystone's `{"error": {"message": …}}`, or the raw body. */
export function errorMessage(body: unknown): string {
  const message = (body as { error?: { message?: unknown } } | null)?.error?.message;
  if (typeof message === 'string') return message;
  return typeof body === 'string' ? body.slice(0, 200) : JSON.stringify(body ?? '').slice(0, 200);
}

export interface KeystoneSessionConfig {
  /** Section the options come from, named in errors (default `keystone`). */
  section?: string;
  /** TLS options to use instead of the options' own `cafile` / `insecure` (the bot uses `[service_auth]`'s). */
  tls?: TlsOptions;
  /** Retries after a connection failure (keystoneauth `connect_retries`; default 0). */
  connectRetries?: number;
  /**
   * Log in again once the token (and the catalog that came with it) is this old, even
   * if it is still valid (`[service_auth] catalog_max_age`; default: only before expiry).
   */
  maxTokenAgeMs?: number;
  logger?: Logger;
}

/** A password-authenticated Keystone identity (service user, bot, limits reader). */
export class KeystoneSession implements ServiceSession {
  readonly identityUrl: string;
  readonly tls: TlsOptions;
  /** How long each call to Keystone may take ([section] timeout, default KEYSTONE_TIMEOUT_S). */
  readonly timeoutMs: number;
  private readonly connectRetries: number;
  private readonly maxTokenAgeMs: number | null;
  private readonly logger: Logger;
  private state: TokenState | null = null;
  private inflight: Promise<TokenState> | null = null;

  constructor(
    readonly options: KeystoneAuthOptions,
    config: KeystoneSessionConfig = {},
  ) {
    if (!opt(options.auth_url)) throw new Error('Keystone auth_url is not set');
    passwordAuthBody(options); // fail early on incomplete options
    this.identityUrl = identityBase(options.auth_url);
    this.tls = config.tls ?? tlsOptions(options, config.section ?? 'keystone');
    this.timeoutMs = (options.timeout ?? KEYSTONE_TIMEOUT_S) * 1000;
    this.connectRetries = config.connectRetries ?? 0;
    this.maxTokenAgeMs = config.maxTokenAgeMs ?? null;
    this.logger = config.logger ?? SILENT_LOGGER;
  }

  /** A valid token, authenticating (once, shared by concurrent callers) when needed. */
  async getToken(): Promise<string> {
    return (await this.current()).token;
  }

  /** The token body (user, project, roles, catalog, expires_at). */
  async getAccess(): Promise<TokenBody> {
    return (await this.current()).body;
  }

  async getUserId(): Promise<string> {
    return (await this.current()).body.user.id;
  }

  async getProjectId(): Promise<string | null> {
    return (await this.current()).body.project?.id ?? null;
  }

  invalidate(): void {
    this.state = null;
  }

  async getEndpoint(serviceType: string, opts: { interface?: string | null; region?: string | null } = {}): Promise<string> {
    const iface = normaliseInterface(opts.interface ?? opt(this.options.interface) ?? 'public');
    const region = opts.region ?? opt(this.options.region_name);
    const { catalog } = await this.getAccess();
    for (const entry of catalog ?? []) {
      if (entry.type !== serviceType) continue;
      const endpoint = entry.endpoints.find((e) => e.interface === iface && (!region || e.region_id === region || e.region === region));
      if (endpoint) return endpoint.url;
    }
    throw new EndpointNotFoundError(serviceType, iface, region);
  }

  /** Absolute URL for a path relative to the identity v3 base (`projects/x` → `<auth_url v3>/projects/x`). */
  url(path: string): string {
    return /^https?:\/\//.test(path) ? path : joinUrl(this.identityUrl, path);
  }

  /**
   * An authenticated identity call (`X-Auth-Token` added). A 401 triggers one
   * re-authentication and retry; a second 401, or a 403, throws
   * {@link KeystoneAuthError}. Other statuses below 500 are returned.
   */
  async request(method: string, path: string, opts: RequestOptions = {}): Promise<KeystoneResponse> {
    let res = await this.send(method, path, opts, await this.getToken());
    if (res.status === 401) {
      this.invalidate();
      res = await this.send(method, path, opts, await this.getToken());
    }
    if (res.status === 401 || res.status === 403) {
      throw new KeystoneAuthError(res.status, `Keystone refused ${method} ${path}: ${errorMessage(res.body)}`);
    }
    return res;
  }

  private send(method: string, path: string, opts: RequestOptions, token: string): Promise<KeystoneResponse> {
    return this.fetchWithRetries(method, this.url(path), { ...opts, headers: { 'X-Auth-Token': token, ...opts.headers } });
  }

  private async fetchWithRetries(method: string, url: string, opts: RequestOptions): Promise<KeystoneResponse> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await keystoneFetch(method, url, { ...opts, timeoutMs: this.timeoutMs, tls: this.tls });
      } catch (err) {
        if (!(err instanceof KeystoneUnavailableError) || err.kind !== 'connect' || attempt >= this.connectRetries) throw err;
        const delay = Math.min(500 * 2 ** attempt, 10_000); // keystoneauth's connect-retry backoff
        this.logger.warn({ attempt: attempt + 1, delayMs: delay, error: err.message }, 'Keystone connection failed; retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private current(): Promise<TokenState> {
    const state = this.state;
    if (state && Date.now() < state.renewAt) return Promise.resolve(state);
    this.inflight ??= this.authenticate().finally(() => {
      this.inflight = null;
    });
    return this.inflight;
  }

  private async authenticate(): Promise<TokenState> {
    const res = await this.fetchWithRetries('POST', this.url('auth/tokens'), { body: passwordAuthBody(this.options) });
    const who = opt(this.options.user_id) ?? opt(this.options.username);
    if (res.status !== 201) {
      throw new KeystoneAuthError(res.status, `Keystone refused to authenticate ${who}: ${res.status} ${errorMessage(res.body)}`);
    }
    const token = res.headers['x-subject-token'];
    if (typeof token !== 'string')
      throw new KeystoneUnavailableError('Keystone answered a token request without X-Subject-Token', 'status');
    const body = (res.body as { token?: TokenBody } | null)?.token;
    if (!token || !body?.expires_at) throw new KeystoneUnavailableError('Keystone answered a token request without a token body', 'status');
    const expiresAt = Date.parse(body.expires_at);
    const issuedAt = body.issued_at ? Date.parse(body.issued_at) : Date.now();
    // Renew when less than 60 s, or 10% of a short lifetime, remain.
    const margin = Math.min(60_000, Math.max(0, expiresAt - issuedAt) / 10);
    let renewAt = expiresAt - margin;
    // A bounded catalog age (docs/keystone.md#catalog): endpoints moved in Keystone are seen this late at most.
    if (this.maxTokenAgeMs !== null) renewAt = Math.min(renewAt, Date.now() + this.maxTokenAgeMs);
    const state = { token, body, expiresAt, renewAt };
    this.state = state;
    return state;
  }
}
