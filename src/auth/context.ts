/**
 * The request context: who is calling. Built by an {@link Authenticator}
 * (noauth headers, or a validated Keystone token) and read by policy and routes.
 */
export interface RequestContext {
  userId: string | null;
  userName: string | null;
  userDomainId: string | null;
  userDomainName: string | null;
  projectId: string | null;
  projectName: string | null;
  projectDomainId: string | null;
  projectDomainName: string | null;
  domainId: string | null;
  domainName: string | null;
  roles: string[];
  isAdminProject: boolean;
  systemScope: string | null;
  requestId: string;
  /** The caller's token, when there is one (Keystone mode); never logged. */
  authToken: string | null;
}

/** Credentials as oslo.context's `to_policy_values()` gives them (no `is_admin` key). */
export function policyValues(ctx: RequestContext): Record<string, unknown> {
  return {
    user_id: ctx.userId,
    user_domain_id: ctx.userDomainId,
    system_scope: ctx.systemScope,
    domain_id: ctx.domainId,
    project_id: ctx.projectId,
    project_domain_id: ctx.projectDomainId,
    roles: ctx.roles,
    is_admin_project: ctx.isAdminProject,
    service_user_id: null,
    service_user_domain_id: null,
    service_project_id: null,
    service_project_domain_id: null,
    service_roles: [],
  };
}

export function emptyContext(requestId: string): RequestContext {
  return {
    userId: null,
    userName: null,
    userDomainId: null,
    userDomainName: null,
    projectId: null,
    projectName: null,
    projectDomainId: null,
    projectDomainName: null,
    domainId: null,
    domainName: null,
    roles: [],
    isAdminProject: true,
    systemScope: null,
    requestId,
    authToken: null,
  };
}

/** Failure to establish identity. status 401 (bad/missing credentials) or 503 (identity service down). */
export class AuthError extends Error {
  constructor(
    readonly status: 401 | 503,
    message: string,
  ) {
    super(message);
    this.name = 'AuthError';
  }
}

/** Turns request headers into a context, or throws {@link AuthError}. */
export interface Authenticator {
  readonly strategy: 'noauth' | 'keystone';
  authenticate(headers: Record<string, string | string[] | undefined>, requestId: string): Promise<RequestContext>;
  /** Value for `WWW-Authenticate` on a 401, if any. */
  wwwAuthenticate(): string | null;
  close?(): Promise<void>;
}
