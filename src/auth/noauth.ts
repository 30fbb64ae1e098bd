/**
 * `auth_strategy = noauth`: identity from `X-User-Id`, `X-Project-Id`,
 * `X-Roles` (comma-separated). For the all-in-one default and tests only.
 * [beyond] a request without a project is refused (docs/api.md#difference-noauth).
 */
import { AuthError, type Authenticator, emptyContext, type RequestContext } from './context.js';

function header(h: Record<string, string | string[] | undefined>, name: string): string | null {
  const v = h[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s === undefined || s.trim() === '' ? null : s.trim();
}

export class NoAuthAuthenticator implements Authenticator {
  readonly strategy = 'noauth' as const;

  async authenticate(headers: Record<string, string | string[] | undefined>, requestId: string): Promise<RequestContext> {
    const projectId = header(headers, 'x-project-id') ?? header(headers, 'x-tenant-id');
    if (!projectId)
      throw new AuthError(401, 'The request you have made requires authentication: send X-Project-Id (auth_strategy = noauth).');
    if (projectId.length > 64) throw new AuthError(401, 'X-Project-Id is longer than 64 characters.');
    const userId = header(headers, 'x-user-id');
    if (userId && userId.length > 64) throw new AuthError(401, 'X-User-Id is longer than 64 characters.');
    const roles = (header(headers, 'x-roles') ?? '')
      .split(',')
      .map((r) => r.trim())
      .filter((r) => r !== '');
    return {
      ...emptyContext(requestId),
      userId: userId ?? projectId,
      userName: header(headers, 'x-user-name'),
      projectId,
      projectName: header(headers, 'x-project-name'),
      roles,
    };
  }

  wwwAuthenticate(): string | null {
    return null;
  }
}
