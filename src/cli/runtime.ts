/**
 * Turns a loaded configuration into running parts: logger, database,
 * policy, identity, limits, lease back-end. Every entry point starts here.
 */

import path from 'node:path';
import type { Logger } from 'pino';
import type { Authenticator } from '../auth/context.js';
import { KeystoneAuthenticator } from '../auth/keystone.js';
import { NoAuthAuthenticator } from '../auth/noauth.js';
import { maskUrl } from '../config/database-url.js';
import type { WarreConfig } from '../config/load.js';
import { type Db, openDatabase } from '../db/connect.js';
import { dbVersion, upgrade } from '../db/migrate.js';
import { KeystoneSession } from '../drivers/keystone/session.js';
import { PolicyEnforcer } from '../policy/enforcer.js';
import { ConfigLimitsProvider } from '../quota/config-limits.js';
import type { LimitsProvider } from '../quota/limits.js';
import { UnifiedLimitsProvider } from '../quota/unified-limits.js';
import { logConfigNotes } from './config-notes.js';
import { processLogger } from './logging.js';

export function createLogger(config: WarreConfig, name: string): Logger {
  const log = baseLogger(config, name);
  logConfigNotes(config, log);
  return log;
}

function baseLogger(config: WarreConfig, name: string): Logger {
  const level = process.env.WARRE_LOG_LEVEL ?? (config.DEFAULT.debug ? 'debug' : 'info');
  return processLogger({ program: name, level, target: config.DEFAULT });
}

/** The configured database; `log` gets one line per outage and recovery (docs/operations.md). */
export function openConfiguredDatabase(config: WarreConfig, log?: Logger): Db {
  return openDatabase(config.databaseTarget, {
    poolSize: config.database.pool_size,
    connectTimeoutMs: Math.round(config.database.connect_timeout * 1000),
    acquireTimeoutMs: Math.round(config.database.pool_timeout * 1000),
    statementTimeoutMs: Math.round(config.database.statement_timeout * 1000),
    logger: log,
  });
}

/** All-in-one mode migrates by itself; production processes require `warre-manage db upgrade`. */
export async function ensureSchema(db: Db, config: WarreConfig, log: Logger, autoUpgrade: boolean): Promise<void> {
  if (autoUpgrade) {
    const ran = await upgrade(db, (m) => log.info(m));
    if (ran.length > 0) log.info({ migrations: ran }, 'database upgraded');
    return;
  }
  const v = await dbVersion(db);
  if (v.pending.length > 0) {
    throw new Error(
      `The database (${maskUrl(config.database.connection)}) is not up to date: pending migrations ${v.pending.join(', ')}. Run "warre-manage db upgrade" first.`,
    );
  }
}

/** Open, check that no migration is pending, close (a supervising primary's check). */
export async function checkSchema(config: WarreConfig, log: Logger): Promise<void> {
  const db = openConfiguredDatabase(config);
  try {
    await ensureSchema(db, config, log, false);
  } finally {
    await db.close();
  }
}

export function createPolicy(config: WarreConfig, log: Logger): PolicyEnforcer {
  const resolve = (p: string) => (path.isAbsolute(p) ? p : path.join(config.configDir, p));
  return new PolicyEnforcer({
    policyFile: config.oslo_policy.policy_file ? resolve(config.oslo_policy.policy_file) : null,
    policyDirs: config.oslo_policy.policy_dirs.map(resolve),
    logger: log,
  });
}

/** Options of a keystoneauth-style section, as the Keystone drivers take them: auth_url must be set. */
export function keystoneAuthOptions<S extends { auth_url: string | null }>(section: S, what: string): S & { auth_url: string } {
  const authUrl = section.auth_url;
  if (authUrl === null || authUrl === '') throw new Error(`[${what}] auth_url must be set`);
  return { ...section, auth_url: authUrl };
}

export function createAuthenticator(config: WarreConfig, log: Logger): Authenticator {
  if (config.DEFAULT.auth_strategy === 'noauth') {
    log.warn('auth_strategy = noauth: identity is taken from X-User-Id / X-Project-Id / X-Roles headers. Never expose this to users.');
    return new NoAuthAuthenticator();
  }
  return new KeystoneAuthenticator(keystoneAuthOptions(config.keystone_authtoken, 'keystone_authtoken'), log);
}

export function createLimits(config: WarreConfig, log: Logger): LimitsProvider {
  const ol = config.oslo_limit;
  if (config.DEFAULT.auth_strategy === 'keystone' && ol.auth_url !== null && ol.auth_url !== '') {
    return new UnifiedLimitsProvider(keystoneAuthOptions(ol, 'oslo_limit'), log);
  }
  if (config.DEFAULT.auth_strategy === 'keystone') {
    log.warn('[oslo_limit] auth_url is not set: quotas come from the [quota] section of the configuration file.');
  }
  return new ConfigLimitsProvider({ quota: config.quota, projectLimits: config.projectLimits });
}

/** `[service_auth]` session, or null when not configured (all-in-one). */
export function createServiceSession(config: WarreConfig, log: Logger): KeystoneSession | null {
  const sa = config.service_auth;
  if (sa.auth_url === null || sa.auth_url === '') return null;
  return new KeystoneSession(keystoneAuthOptions(sa, 'service_auth'), {
    logger: log,
    section: 'service_auth',
    maxTokenAgeMs: sa.catalog_max_age * 1000,
  });
}
