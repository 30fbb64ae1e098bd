/**
 * User token validation as keystonemiddleware's auth_token does it
 * (interop.md §2.3–2.5): `GET /v3/auth/tokens` with the service's own token,
 * an in-process cache for `token_cache_time`, rejected tokens never cached.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { AuthTokenOptions, KeystoneLogger } from './options.js';
import { SILENT_KEYSTONE_LOGGER } from './options.js';
import type { TokenBody } from './session.js';
import { errorMessage, KeystoneAuthError, KeystoneSession, KeystoneUnavailableError } from './session.js';

/** What a valid token says about its bearer. */
export interface ValidatedToken {
  userId: string;
  userName: string;
  userDomainId: string | null;
  userDomainName: string | null;
  projectId: string | null;
  projectName: string | null;
  projectDomainId: string | null;
  projectDomainName: string | null;
  /** Set for domain-scoped tokens. */
  domainId: string | null;
  domainName: string | null;
  /** `all` for system-scoped tokens. */
  systemScope: string | null;
  roles: string[];
  /** Keystone's `is_admin_project`; true when absent (keystonemiddleware's default). */
  isAdminProject: boolean;
  expiresAt: Date;
}

/** Keystone does not recognise the token (invalid, expired or revoked). */
export class InvalidTokenError extends Error {
  constructor(message = 'Token authorization failed') {
    super(message);
    this.name = 'InvalidTokenError';
  }
}

interface CacheEntry {
  data: ValidatedToken;
  /** Served from the cache until then (ms since epoch). */
  until: number;
}

const CACHE_MAX_ENTRIES = 10_000;
const DEFAULT_CACHE_TIME_S = 300;

/** Map a v3 token body onto {@link ValidatedToken}. */
export function toValidatedToken(body: TokenBody): ValidatedToken {
  const systemKeys = body.system ? Object.keys(body.system).filter((k) => body.system?.[k]) : [];
  return {
    userId: body.user.id,
    userName: body.user.name,
    userDomainId: body.user.domain?.id ?? null,
    userDomainName: body.user.domain?.name ?? null,
    projectId: body.project?.id ?? null,
    projectName: body.project?.name ?? null,
    projectDomainId: body.project?.domain?.id ?? null,
    projectDomainName: body.project?.domain?.name ?? null,
    domainId: body.domain?.id ?? null,
    domainName: body.domain?.name ?? null,
    systemScope: systemKeys.length > 0 ? systemKeys.join(',') : null,
    roles: (body.roles ?? []).map((r) => r.name),
    isAdminProject: body.is_admin_project ?? true,
    expiresAt: new Date(body.expires_at),
  };
}

export class TokenValidator {
  /** The service's own identity (`[keystone_authtoken]` credentials). */
  readonly session: KeystoneSession;
  /** Validation calls made to Keystone (cache misses), for metrics and tests. */
  keystoneCalls = 0;
  private readonly cacheTimeMs: number;
  private readonly cache = new LRUCache<string, CacheEntry>({ max: CACHE_MAX_ENTRIES });
  private readonly inflight = new Map<string, Promise<ValidatedToken>>();
  private readonly logger: KeystoneLogger;

  constructor(options: AuthTokenOptions, logger: KeystoneLogger = SILENT_KEYSTONE_LOGGER) {
    this.logger = logger;
    this.cacheTimeMs = (options.token_cache_time ?? DEFAULT_CACHE_TIME_S) * 1000;
    this.session = new KeystoneSession(options, { connectRetries: options.http_request_max_retries ?? 3, logger, section: 'keystone_authtoken' });
  }

  /**
   * Validate a user token. Throws {@link InvalidTokenError} when Keystone
   * rejects it, {@link KeystoneUnavailableError} when Keystone cannot answer.
   */
  async validate(userToken: string): Promise<ValidatedToken> {
    const token = userToken.trim();
    if (!token) throw new InvalidTokenError();
    const key = createHash('sha256').update(token).digest('hex'); // the token itself is never kept
    const cached = this.cache.get(key);
    if (cached) {
      const now = Date.now();
      if (now >= cached.data.expiresAt.getTime()) {
        this.cache.delete(key);
        throw new InvalidTokenError('Token has expired');
      }
      if (now < cached.until) return cached.data;
      this.cache.delete(key);
    }
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.fetch(key, token).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  /** Drop every cached token. */
  clearCache(): void {
    this.cache.clear();
  }

  private async fetch(key: string, token: string): Promise<ValidatedToken> {
    this.keystoneCalls++;
    let res;
    try {
      // Headers as keystonemiddleware sends them (interop.md §2.3); one re-auth + retry on 401 is in request().
      res = await this.session.request('GET', 'auth/tokens?nocatalog', {
        headers: {
          'X-Subject-Token': token,
          'OpenStack-Identity-Access-Rules': '1',
          Accept: 'application/json',
          'User-Agent': 'python-keystoneclient',
        },
      });
    } catch (err) {
      if (err instanceof KeystoneAuthError) {
        // Our own credentials were refused: keystonemiddleware answers 503 then.
        throw new KeystoneUnavailableError(`Identity server rejected authorization necessary to fetch token data: ${err.message}`, 'status');
      }
      throw err;
    }
    if (res.status === 404) {
      this.logger.info({ reason: errorMessage(res.body) }, 'Authorization failed for token');
      throw new InvalidTokenError();
    }
    const body = (res.body as { token?: TokenBody } | null)?.token;
    if (res.status !== 200 || !body?.user || !body.expires_at) {
      // keystonemiddleware: any other answer is a service error (503).
      throw new KeystoneUnavailableError(`Failed to fetch token data from identity server: ${res.status} ${errorMessage(res.body)}`, 'status');
    }
    const data = toValidatedToken(body);
    const now = Date.now();
    const expires = data.expiresAt.getTime();
    if (!(expires > now)) throw new InvalidTokenError('Token has expired');
    this.cache.set(key, { data, until: Math.min(expires, now + this.cacheTimeMs) });
    return data;
  }
}
