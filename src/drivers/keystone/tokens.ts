/**
 * User token validation as keystonemiddleware's auth_token does it
 * (docs/interop.md#keystone-tokens, docs/interop.md#keystone-token-cache): `GET /v3/auth/tokens` with the service's own token,
 * an in-process cache for `token_cache_time`. Beyond keystonemiddleware
 * (docs/keystone.md, docs/operations.md): a token longer than any Keystone issues
 * ({@link MAX_TOKEN_LENGTH}) is refused without asking Keystone, and a token Keystone
 * rejected is refused from a short negative cache ({@link REJECTED_CACHE_TIME_MS}).
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { type Logger, SILENT_LOGGER } from '../../domain/logger.js';
import { tokenCache } from '../../metrics/registry.js';
import { type AuthTokenOptions, TOKEN_CACHE_TIME_S } from './options.js';
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

/**
 * Longest token sent to Keystone (characters; docs/operations.md). Keystone issues Fernet
 * tokens of about 180 to 250 characters (a federated one grows by about 23 per group) and
 * JWS tokens of a few hundred; PKI tokens, which ran to several KiB, were removed (Ocata).
 * Keystone under uwsgi (as devstack runs it) reads at most 4 KiB of request headers, so a
 * longer token could not be validated there anyway.
 */
export const MAX_TOKEN_LENGTH = 4096;
/** How long a token Keystone rejected (404) is refused without asking again. */
export const REJECTED_CACHE_TIME_MS = 10_000;
const REJECTED_MAX_ENTRIES = 10_000;

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
  /** Hashes of tokens Keystone rejected → until when they are refused without asking (ms since epoch). */
  private readonly rejected = new LRUCache<string, number>({ max: REJECTED_MAX_ENTRIES });
  private readonly inflight = new Map<string, Promise<ValidatedToken>>();
  private readonly logger: Logger;

  constructor(options: AuthTokenOptions, logger: Logger = SILENT_LOGGER) {
    this.logger = logger;
    this.cacheTimeMs = (options.token_cache_time ?? TOKEN_CACHE_TIME_S) * 1000;
    // keystonemiddleware names the request timeout http_connect_timeout; the session calls it timeout.
    this.session = new KeystoneSession(
      { ...options, timeout: options.http_connect_timeout },
      { connectRetries: options.http_request_max_retries ?? 3, logger, section: 'keystone_authtoken' },
    );
  }

  /**
   * Validate a user token. Throws {@link InvalidTokenError} when Keystone
   * rejects it, {@link KeystoneUnavailableError} when Keystone cannot answer.
   */
  async validate(userToken: string): Promise<ValidatedToken> {
    const token = userToken.trim();
    if (!token) throw new InvalidTokenError();
    if (token.length > MAX_TOKEN_LENGTH)
      throw new InvalidTokenError(`Token is longer than any Keystone issues (${MAX_TOKEN_LENGTH} characters at most)`);
    const key = createHash('sha256').update(token).digest('hex'); // the token itself is never kept
    const rejectedUntil = this.rejected.get(key);
    if (rejectedUntil !== undefined) {
      if (Date.now() < rejectedUntil) {
        tokenCache.inc({ result: 'rejected' });
        throw new InvalidTokenError('Token was rejected by Keystone moments ago');
      }
      this.rejected.delete(key);
    }
    const cached = this.cache.get(key);
    if (cached) {
      const now = Date.now();
      if (now >= cached.data.expiresAt.getTime()) {
        this.cache.delete(key);
        tokenCache.inc({ result: 'hit' });
        throw new InvalidTokenError('Token has expired');
      }
      if (now < cached.until) {
        tokenCache.inc({ result: 'hit' });
        return cached.data;
      }
      this.cache.delete(key);
    }
    tokenCache.inc({ result: 'miss' });
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
    this.rejected.clear();
  }

  private async fetch(key: string, token: string): Promise<ValidatedToken> {
    this.keystoneCalls++;
    let res: Awaited<ReturnType<typeof this.session.request>>;
    try {
      // Headers as keystonemiddleware sends them (docs/interop.md#keystone-tokens); one re-auth + retry on 401 is in request().
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
        throw new KeystoneUnavailableError(
          `Identity server rejected authorization necessary to fetch token data: ${err.message}`,
          'status',
        );
      }
      throw err;
    }
    if (res.status === 404) {
      this.logger.info({ reason: errorMessage(res.body) }, 'Authorization failed for token');
      this.rejected.set(key, Date.now() + REJECTED_CACHE_TIME_MS);
      throw new InvalidTokenError();
    }
    const body = (res.body as { token?: TokenBody } | null)?.token;
    if (res.status !== 200 || !body?.user || !body.expires_at) {
      // keystonemiddleware: any other answer is a service error (503).
      throw new KeystoneUnavailableError(
        `Failed to fetch token data from identity server: ${res.status} ${errorMessage(res.body)}`,
        'status',
      );
    }
    const data = toValidatedToken(body);
    const now = Date.now();
    const expires = data.expiresAt.getTime();
    if (!(expires > now)) {
      this.rejected.set(key, Date.now() + REJECTED_CACHE_TIME_MS);
      throw new InvalidTokenError('Token has expired');
    }
    // token_cache_time -1 or 0: no cache, every request asks Keystone (docs/keystone.md).
    if (this.cacheTimeMs > 0) this.cache.set(key, { data, until: Math.min(expires, now + this.cacheTimeMs) });
    return data;
  }
}
