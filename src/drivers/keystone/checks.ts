/**
 * What Warre's Keystone identities can do, checked at start-up (docs/keystone.md#start-up-checks):
 * the credentials of each section, the rights each call needs under Keystone's default
 * policy (docs/keystone.md#roles), the bot's ids and password, and the catalog entries the
 * process will call. Each problem is a {@link Finding} naming the option or role to fix and
 * what fails until it is fixed; nothing here changes anything in Keystone.
 */

import type { TlsOptions } from '../http.js';
import { EndpointNotFoundError } from '../service-session.js';
import { opt } from './options.js';
import { errorMessage, KeystoneAuthError, KeystoneSession, KeystoneUnavailableError, type TokenBody } from './session.js';

export interface Finding {
  level: 'error' | 'warn';
  /** The configuration section the finding is about (`keystone_authtoken`, `service_auth`, `oslo_limit`, `warre`). */
  section: string;
  message: string;
  /** True when it may pass by itself later (Keystone unreachable, credentials fixed in Keystone): checked again. */
  recheck: boolean;
}

/** Who a session logs in as, for messages: the user name or id, and the scope. No secret. */
export function describeIdentity(session: KeystoneSession): string {
  const o = session.options;
  const user = opt(o.username) ?? opt(o.user_id) ?? '(no user)';
  const project = opt(o.project_name) ?? opt(o.project_id);
  const scope = project ? `project ${project}` : opt(o.system_scope) ? `system ${opt(o.system_scope)}` : 'no scope';
  return `user ${user} (${scope}) at ${session.identityUrl}`;
}

/**
 * Log in. A refusal (wrong user, password, domain or scope) is an error finding and an
 * unreachable Keystone a warning, both checked again later; `consequence` says what fails meanwhile.
 */
export async function login(
  session: KeystoneSession,
  section: string,
  consequence: string,
  who = `the credentials of ${describeIdentity(session)}`,
): Promise<{ access: TokenBody; finding?: undefined } | { access?: undefined; finding: Finding }> {
  try {
    return { access: await session.getAccess() };
  } catch (err) {
    if (err instanceof KeystoneAuthError) {
      return {
        finding: {
          level: 'error',
          section,
          recheck: true,
          message: `[${section}] Keystone refused ${who}: ${err.message}. ${consequence} until they are fixed.`,
        },
      };
    }
    if (err instanceof KeystoneUnavailableError) {
      return {
        finding: {
          level: 'warn',
          section,
          recheck: true,
          message: `[${section}] cannot be checked yet: ${err.message}`,
        },
      };
    }
    throw err;
  }
}

function roleNames(access: TokenBody): string[] {
  return (access.roles ?? []).map((r) => r.name.toLowerCase());
}

const isSystem = (access: TokenBody): boolean => Object.values(access.system ?? {}).some(Boolean);

/**
 * `[keystone_authtoken]`: its user logs in, and may validate other users' tokens —
 * `identity:validate_token` is `admin`, `service`, or `reader` on the system.
 */
export async function checkTokenValidation(session: KeystoneSession, section = 'keystone_authtoken'): Promise<Finding[]> {
  const consequence = 'Every request with a token is answered 503 "The Keystone service is temporarily unavailable."';
  const { access, finding } = await login(session, section, consequence);
  if (finding) return [finding];
  const roles = roleNames(access);
  if (roles.includes('admin') || roles.includes('service') || (roles.includes('reader') && isSystem(access))) return [];
  return [
    {
      level: 'error',
      section,
      recheck: false,
      message:
        `[${section}] ${describeIdentity(session)} has the roles [${roles.join(', ')}]: validating users' tokens ` +
        "(identity:validate_token) needs the service or admin role (or reader on the system) under Keystone's default policy. " +
        `${consequence} until it has one.`,
    },
  ];
}

/** A catalog entry the process will call, and what fails without it. */
export interface EndpointNeed {
  serviceType: string;
  interface: string | null;
  region: string | null;
  consequence: string;
}

/** The worker's bot (`[warre] bot_*`). */
export interface BotCheck {
  userId: string;
  password: string;
  roleId: string;
  authUrl: string;
  tls: TlsOptions;
}

/**
 * `[service_auth]`: its user logs in; the catalog has the endpoints the process calls;
 * with `grants` (the worker), it may grant the bot role — `identity:create_grant` is `admin`
 * under Keystone's default policy, which the token's roles (implied roles included) show
 * without granting anything; the bot user and role exist, and the bot's password is accepted.
 */
export async function checkServiceUser(
  session: KeystoneSession,
  o: { endpoints: EndpointNeed[]; grants?: boolean; bot?: BotCheck | null },
): Promise<Finding[]> {
  const section = 'service_auth';
  const consequence = o.grants
    ? 'Every lease fails (the bot role cannot be granted) and users cannot be looked up'
    : 'Leases cannot be extended or deleted in Blazar and users cannot be looked up';
  const { access, finding } = await login(session, section, consequence);
  if (finding) return [finding];
  const findings: Finding[] = [];
  const add = (level: Finding['level'], message: string, where = section) =>
    void findings.push({ level, section: where, message, recheck: false });

  for (const need of o.endpoints) {
    try {
      await session.getEndpoint(need.serviceType, { interface: need.interface, region: need.region });
    } catch (err) {
      if (!(err instanceof EndpointNotFoundError)) throw err;
      add('warn', `[${section}] ${err.message} of ${describeIdentity(session)}: ${need.consequence} until it is registered.`);
    }
  }

  if (o.grants) {
    const roles = roleNames(access);
    if (!roles.includes('admin')) {
      add(
        'error',
        `[${section}] ${describeIdentity(session)} has the roles [${roles.join(', ')}]: granting the bot role on a project ` +
          "(identity:create_grant) needs the admin role under Keystone's default policy. Every lease fails until it has it " +
          "(or until Keystone's policy allows it otherwise).",
      );
    }
  }

  if (o.bot) {
    const bot = o.bot;
    const user = await readable(session, `users/${encodeURIComponent(bot.userId)}`);
    if (user === 'missing') add('error', `[warre] bot_user_id ${bot.userId} is not a Keystone user: every lease fails.`, 'warre');
    if (user === 'forbidden') {
      add(
        'warn',
        `[${section}] ${describeIdentity(session)} may not read users (identity:get_user needs admin, or reader on the system): ` +
          "user messages cannot be addressed to the reservation's owner.",
      );
    }
    const role = await readable(session, `roles/${encodeURIComponent(bot.roleId)}`);
    if (role === 'missing') add('error', `[warre] bot_role_id ${bot.roleId} is not a Keystone role: every lease fails.`, 'warre');

    const botLogin = new KeystoneSession({ auth_url: bot.authUrl, user_id: bot.userId, password: bot.password }, { tls: bot.tls });
    const botResult = await login(botLogin, 'warre', 'Every lease fails', `bot_user_id ${bot.userId} with bot_password`);
    if (botResult.finding) findings.push(botResult.finding);
  }
  return findings;
}

/** `GET` an identity resource: found, missing (404), forbidden (403). */
async function readable(session: KeystoneSession, path: string): Promise<'found' | 'missing' | 'forbidden'> {
  try {
    const res = await session.request('GET', path);
    if (res.status === 404) return 'missing';
    if (res.status === 200) return 'found';
    throw new Error(`GET ${path} answered ${res.status} ${errorMessage(res.body)}`);
  } catch (err) {
    if (err instanceof KeystoneAuthError && err.status === 403) return 'forbidden';
    throw err;
  }
}
