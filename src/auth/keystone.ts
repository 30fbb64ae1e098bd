/**
 * `auth_strategy = keystone`: the `X-Auth-Token` of a request is validated
 * against Keystone the way keystonemiddleware's auth_token does it
 * (docs/interop.md#keystone-tokens) and turned into a {@link RequestContext}.
 */

import type { Logger } from '../domain/logger.js';
import type { AuthTokenOptions } from '../drivers/keystone/options.js';
import { opt } from '../drivers/keystone/options.js';
import { KeystoneUnavailableError } from '../drivers/keystone/session.js';
import { InvalidTokenError, TokenValidator } from '../drivers/keystone/tokens.js';
import type { Authenticator, RequestContext } from './context.js';
import { AuthError, emptyContext } from './context.js';

export const UNAUTHENTICATED_MESSAGE = 'The request you have made requires authentication.';
export const KEYSTONE_UNAVAILABLE_MESSAGE = 'The Keystone service is temporarily unavailable.';

type Headers = Record<string, string | string[] | undefined>;

/** A header value by case-insensitive name (first value of a repeated header). */
function header(headers: Headers, name: string): string | null {
  let value = headers[name];
  if (value === undefined) {
    const wanted = name.toLowerCase();
    const key = Object.keys(headers).find((k) => k.toLowerCase() === wanted);
    value = key === undefined ? undefined : headers[key];
  }
  const first = Array.isArray(value) ? value[0] : value;
  return first?.trim() ? first.trim() : null;
}

export class KeystoneAuthenticator implements Authenticator {
  readonly strategy = 'keystone' as const;
  readonly validator: TokenValidator;
  private readonly delayAuthDecision: boolean;
  private readonly wwwAuthenticateUri: string;

  constructor(
    options: AuthTokenOptions,
    private readonly logger: Logger,
  ) {
    this.validator = new TokenValidator(options, logger);
    this.delayAuthDecision = options.delay_auth_decision ?? false;
    this.wwwAuthenticateUri = opt(options.www_authenticate_uri) ?? options.auth_url;
  }

  async authenticate(headers: Headers, requestId: string): Promise<RequestContext> {
    // keystonemiddleware also takes the token from X-Storage-Token.
    const token = header(headers, 'x-auth-token') ?? header(headers, 'x-storage-token');
    if (!token) return this.reject(requestId, new AuthError(401, UNAUTHENTICATED_MESSAGE));
    try {
      const t = await this.validator.validate(token);
      return {
        userId: t.userId,
        userName: t.userName,
        userDomainId: t.userDomainId,
        userDomainName: t.userDomainName,
        projectId: t.projectId,
        projectName: t.projectName,
        projectDomainId: t.projectDomainId,
        projectDomainName: t.projectDomainName,
        domainId: t.domainId,
        domainName: t.domainName,
        roles: t.roles,
        isAdminProject: t.isAdminProject,
        systemScope: t.systemScope,
        requestId,
        authToken: token,
      };
    } catch (err) {
      if (err instanceof InvalidTokenError) {
        this.logger.warn({ request_id: requestId, reason: err.message }, 'Authorization failed for token');
        return this.reject(requestId, new AuthError(401, UNAUTHENTICATED_MESSAGE));
      }
      if (err instanceof KeystoneUnavailableError) {
        this.logger.error({ request_id: requestId, error: err.message }, 'Unable to validate token');
        return this.reject(requestId, new AuthError(503, KEYSTONE_UNAVAILABLE_MESSAGE));
      }
      throw err;
    }
  }

  wwwAuthenticate(): string {
    return `Keystone uri="${this.wwwAuthenticateUri}"`;
  }

  /** With `delay_auth_decision` the request goes on anonymously (no user, no roles). */
  private reject(requestId: string, error: AuthError): RequestContext {
    if (this.delayAuthDecision) return emptyContext(requestId);
    throw error;
  }
}
