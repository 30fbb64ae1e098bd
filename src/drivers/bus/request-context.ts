/** Request contexts in messages, as oslo.context's `to_dict()` writes them (docs/interop.md). */
import type { RequestContext } from '../../auth/context.js';

/** oslo.context's `RequestContext` attributes that the Warre context does not carry. */
export interface OsloContextExtras {
  isAdmin?: boolean;
  readOnly?: boolean;
  showDeleted?: boolean;
  globalRequestId?: string | null;
  resourceUuid?: string | null;
}

/** `RequestContext.to_dict()` of oslo.context 5, in its key order (what RPC casts carry). */
export function requestContextDict(ctx: RequestContext, extras: OsloContextExtras = {}): Record<string, unknown> {
  const userIdentity = [ctx.userId, ctx.projectId, ctx.domainId, ctx.userDomainId, ctx.projectDomainId].map((v) => v || '-').join(' ');
  return {
    user: ctx.userId,
    project_id: ctx.projectId,
    system_scope: ctx.systemScope,
    project: ctx.projectId,
    domain: ctx.domainId,
    user_domain: ctx.userDomainId,
    project_domain: ctx.projectDomainId,
    is_admin: extras.isAdmin ?? false,
    read_only: extras.readOnly ?? false,
    show_deleted: extras.showDeleted ?? false,
    auth_token: ctx.authToken,
    request_id: ctx.requestId,
    global_request_id: extras.globalRequestId ?? null,
    resource_uuid: extras.resourceUuid ?? null,
    roles: ctx.roles,
    user_identity: userIdentity,
    is_admin_project: ctx.isAdminProject,
  };
}

/** Context keys oslo.messaging keeps in notifications (`_sanitize_context`). */
export const NOTIFICATION_SAFE_CONTEXT_KEYS: readonly string[] = [
  'user_id',
  'project_id',
  'domain_id',
  'user_domain_id',
  'project_domain_id',
  'is_admin',
  'request_id',
  'roles',
  'user_name',
  'project_name',
  'domain_name',
  'user_domain_name',
  'project_domain_name',
  'service_user_id',
  'service_user_domain_id',
  'service_user_domain_name',
  'service_project_id',
  'service_project_name',
  'service_project_domain_id',
  'service_project_domain_name',
  'service_roles',
  'global_request_id',
  'system_scope',
  'user',
  'domain',
  'user_domain',
  'project_domain',
];

/** What a notification may be sent with: a Warre request context or a plain dict (oslo allows both). */
export type MessageContext = RequestContext | Record<string, unknown> | null | undefined;

export function isRequestContext(ctx: unknown): ctx is RequestContext {
  return (
    ctx !== null &&
    typeof ctx === 'object' &&
    typeof (ctx as RequestContext).requestId === 'string' &&
    Array.isArray((ctx as RequestContext).roles) &&
    'authToken' in ctx
  );
}

/**
 * The context as a notification carries it (docs/interop.md#notifications). A plain dict keeps only the safe keys
 * (`{"client_timeout": null}` → `{}`); a request context goes through oslo's
 * to_dict → filter → from_dict → to_dict, so it keeps every to_dict key but loses its token,
 * `read_only`/`show_deleted`/`resource_uuid` and `is_admin_project` (back to their defaults).
 */
export function sanitizeNotificationContext(ctx: MessageContext, extras: OsloContextExtras = {}): Record<string, unknown> {
  if (!ctx) return {};
  if (isRequestContext(ctx)) {
    return requestContextDict(
      { ...ctx, authToken: null, isAdminProject: true },
      { isAdmin: extras.isAdmin ?? false, globalRequestId: extras.globalRequestId ?? null },
    );
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(ctx)) if (NOTIFICATION_SAFE_CONTEXT_KEYS.includes(k)) out[k] = v;
  return out;
}

/** The context of an RPC cast: NOT sanitised (the caller's token travels, docs/interop.md#rpc-casts). */
export function rpcContext(ctx: MessageContext, extras: OsloContextExtras = {}): Record<string, unknown> {
  if (!ctx) return {};
  return isRequestContext(ctx) ? requestContextDict(ctx, extras) : { ...ctx };
}
