/**
 * The few identity calls Warre makes besides authentication: the worker's
 * bot role grant (docs/interop.md#role-grants), user look-up for e-mails
 * (docs/interop.md#keystone-users), and the
 * bot's own project-scoped session.
 */
import type { TlsOptions } from '../http.js';
import type { KeystoneAuthOptions } from './options.js';
import { errorMessage, KeystoneSession } from './session.js';

export interface KeystoneUser {
  id: string;
  name: string;
  /** Extra attributes: absent on most users. */
  email: string | null;
  full_name: string | null;
}

const seg = encodeURIComponent;

/** Grant a role to a user on a project (`PUT`, idempotent, 204). */
export async function grantProjectRole(session: KeystoneSession, projectId: string, userId: string, roleId: string): Promise<void> {
  const res = await session.request('PUT', `projects/${seg(projectId)}/users/${seg(userId)}/roles/${seg(roleId)}`);
  if (res.status !== 204 && res.status !== 200) {
    throw new Error(`Granting role ${roleId} to user ${userId} on project ${projectId} failed: ${res.status} ${errorMessage(res.body)}`);
  }
}

/** A user with its optional `email` / `full_name`, or null when Keystone does not know the id. */
export async function getUser(session: KeystoneSession, userId: string): Promise<KeystoneUser | null> {
  const res = await session.request('GET', `users/${seg(userId)}`);
  if (res.status === 404) return null;
  const user = (res.body as { user?: Record<string, unknown> } | null)?.user;
  if (res.status !== 200 || !user) throw new Error(`Looking up user ${userId} failed: ${res.status} ${errorMessage(res.body)}`);
  return {
    id: String(user.id),
    name: String(user.name),
    email: typeof user.email === 'string' ? user.email : null,
    full_name: typeof user.full_name === 'string' ? user.full_name : null,
  };
}

/** The worker's bot, logged in by user id and scoped to one project by id (ids only, as keystoneauth sends them). */
export function botSession(
  opts: {
    auth_url: string;
    bot_user_id: string;
    bot_password: string;
    projectId: string;
    tls?: TlsOptions;
    /** Log in again (fresh catalog) once the token is this old. */
    maxTokenAgeMs?: number;
  } & Pick<KeystoneAuthOptions, 'timeout' | 'region_name' | 'interface'>,
): KeystoneSession {
  return new KeystoneSession(
    {
      auth_url: opts.auth_url,
      user_id: opts.bot_user_id,
      password: opts.bot_password,
      project_id: opts.projectId,
      timeout: opts.timeout,
      region_name: opts.region_name ?? null,
      interface: opts.interface,
    },
    {
      ...(opts.tls ? { tls: opts.tls } : {}),
      ...(opts.maxTokenAgeMs !== undefined ? { maxTokenAgeMs: opts.maxTokenAgeMs } : {}),
    },
  );
}
