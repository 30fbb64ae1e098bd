/**
 * Builds the lifecycle parts from configuration: messenger (user messages +
 * bus notifications), bot sessions, the lease worker, periodic tasks.
 */
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { WarreConfig } from '../config/load.js';
import type { Db } from '../db/connect.js';
import type { Notifier } from '../drivers/bus/notifier.js';
import { botSession, getUser, grantProjectRole } from '../drivers/keystone/identity.js';
import type { KeystoneSession } from '../drivers/keystone/session.js';
import type { LeaseBackend } from '../drivers/lease-backend.js';
import { listServers } from '../drivers/nova.js';
import type { ServiceSession } from '../drivers/service-session.js';
import type { Messenger } from '../notification/messenger.js';
import { createUserMessageSender } from '../notification/user/senders.js';
import { WarreMessenger } from '../notification/warre-messenger.js';
import { LeaseWorker } from '../worker/lease-worker.js';
import { PeriodicTasks } from '../worker/periodic.js';

/** Bot sessions kept (each holds a token and its catalog); older ones log in again when needed. */
const BOT_SESSIONS_KEPT = 500;

export function createMessenger(
  config: WarreConfig,
  log: Logger,
  session: KeystoneSession | null,
  notifier: Notifier | null,
): WarreMessenger {
  const users = createUserMessageSender(config.warre.user_notifier, {
    logger: log,
    templateDir: config.warre.template_dir ?? undefined,
    session,
    smtp: {
      host: config.smtp.host,
      port: config.smtp.port,
      secure: config.smtp.tls,
      starttls: config.smtp.starttls,
      user: config.smtp.username,
      password: config.smtp.password,
      from: config.smtp.from_address,
    },
  });
  const lookup = session ? (userId: string) => getUser(session, userId) : null;
  return new WarreMessenger(users, notifier, lookup, log);
}

/**
 * The bot identity for a project (docs/api.md#bot): grant `[warre] bot_role_id` to
 * the bot user on the project, then log in as the bot scoped to it. Sessions
 * are kept per project (the most recently used {@link BOT_SESSIONS_KEPT}) so
 * tokens are reused until they expire or `[service_auth] catalog_max_age` passes;
 * a stale catalog is also re-read when an endpoint is missing or has moved
 * (src/drivers/service-request.ts, docs/keystone.md#catalog).
 */
export function botSessions(
  config: WarreConfig,
  serviceSession: KeystoneSession | null,
): (projectId: string) => Promise<ServiceSession | null> {
  const { bot_user_id, bot_password, bot_role_id, bot_auth_url } = config.warre;
  if (!serviceSession || !bot_user_id || !bot_password || !bot_role_id) {
    return async () => {
      throw new Error('The bot identity is not configured: set [warre] bot_user_id, bot_password, bot_role_id and [service_auth]');
    };
  }
  const authUrl = bot_auth_url ?? serviceSession.options.auth_url;
  const sessions = new LRUCache<string, ServiceSession>({ max: BOT_SESSIONS_KEPT });
  return async (projectId) => {
    await grantProjectRole(serviceSession, projectId, bot_user_id, bot_role_id);
    let s = sessions.get(projectId);
    if (!s) {
      s = botSession({
        auth_url: authUrl,
        bot_user_id,
        bot_password,
        projectId,
        tls: serviceSession.tls,
        maxTokenAgeMs: config.service_auth.catalog_max_age * 1000,
      });
      sessions.set(projectId, s);
    }
    return s;
  };
}

export function createWorker(
  config: WarreConfig,
  log: Logger,
  db: Db,
  leases: LeaseBackend,
  messenger: Messenger,
  serviceSession: KeystoneSession | null,
): LeaseWorker {
  return new LeaseWorker({
    db,
    leases,
    botSession: leases.name === 'simulator' ? async () => null : botSessions(config, serviceSession),
    messenger,
    log,
    claimTtlMs: config.worker.claim_ttl * 1000,
    retryTimeoutMs: config.worker.lease_retry_timeout * 1000,
    concurrency: config.worker.lease_concurrency,
  });
}

export function createPeriodic(
  config: WarreConfig,
  log: Logger,
  db: Db,
  messenger: Messenger,
  serviceSession: ServiceSession | null,
): PeriodicTasks {
  return new PeriodicTasks({
    db,
    messenger,
    log,
    intervalMs: config.worker.periodic_task_interval * 1000,
    historyRetentionMs: config.warre.history_retention_days * 86_400_000,
    inUse: async (projectId, computeFlavor) => {
      if (!serviceSession) return false;
      try {
        return (await listServers(serviceSession, { projectId, flavorId: computeFlavor })).length > 0;
      } catch (err) {
        log.warn({ err, project: projectId, flavor: computeFlavor }, 'cannot list servers in Nova; in_use not sent');
        return false;
      }
    },
  });
}
