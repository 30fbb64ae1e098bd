/**
 * The Keystone start-up checks of a process (docs/keystone.md#start-up-checks), run in the
 * background so that a slow Keystone never delays the start: each section's check logs what
 * is wrong (error or warning, naming the option or role to fix); one that may pass by itself
 * later (credentials refused, Keystone unreachable) is run again 30 s later, then at doubling
 * intervals up to 10 minutes, until it passes, which is logged too. Nothing stops the
 * process: requests keep answering 503 (or 500 for a limits set-up problem) with the reason
 * logged, and work again without a restart once Keystone or its set-up is fixed.
 */

import type { WarreConfig } from '../config/load.js';
import type { Logger } from '../domain/logger.js';
import { checkServiceUser, checkTokenValidation, type EndpointNeed, type Finding } from '../drivers/keystone/checks.js';
import type { KeystoneSession } from '../drivers/keystone/session.js';

export interface KeystoneCheck {
  section: string;
  run: () => Promise<Finding[]>;
}

export interface RunningChecks {
  /** Settles when every check has run once (rechecks go on in the background). */
  firstRound: Promise<void>;
  stop(): void;
}

export interface CheckTiming {
  /** First delay before a check runs again (default 30 s). */
  recheckMs?: number;
  /** Longest delay between runs (default 10 minutes). */
  maxRecheckMs?: number;
}

const RECHECK_MS = 30_000;
const MAX_RECHECK_MS = 600_000;

export function startKeystoneChecks(checks: KeystoneCheck[], log: Logger, timing: CheckTiming = {}): RunningChecks {
  const base = timing.recheckMs ?? RECHECK_MS;
  const max = timing.maxRecheckMs ?? MAX_RECHECK_MS;
  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();

  const run = async (check: KeystoneCheck, attempt: number): Promise<void> => {
    if (stopped) return;
    let findings: Finding[];
    try {
      findings = await check.run();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      findings = [{ level: 'warn', section: check.section, recheck: true, message: `[${check.section}] could not be checked: ${message}` }];
    }
    if (stopped) return;
    const again = findings.some((f) => f.recheck);
    const delay = Math.min(max, base * 2 ** attempt);
    for (const f of findings) {
      const message = f.recheck ? `${f.message} (checking again in ${Math.round(delay / 1000)} s)` : f.message;
      if (f.level === 'error') log.error({ section: f.section }, message);
      else log.warn({ section: f.section }, message);
    }
    if (again) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        void run(check, attempt + 1);
      }, delay);
      timer.unref();
      timers.add(timer);
      return;
    }
    if (attempt > 0) log.info({ section: check.section }, `[${check.section}] Keystone can be used now (credentials accepted)`);
    if (findings.length === 0) log.info({ section: check.section }, `[${check.section}] checked in Keystone: no problem found`);
  };

  return {
    firstRound: Promise.all(checks.map((c) => run(c, 0))).then(() => undefined),
    stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
}

/** `[keystone_authtoken]`: the token validator's own identity. */
export function tokenValidationCheck(session: KeystoneSession): KeystoneCheck {
  return { section: 'keystone_authtoken', run: () => checkTokenValidation(session) };
}

/**
 * `[service_auth]` as this process uses it: the endpoints it calls and, in the worker
 * (`grants`), the bot role grant and the bot's identity (`[warre] bot_*`).
 */
export function serviceUserCheck(
  config: WarreConfig,
  session: KeystoneSession,
  uses: { blazar: boolean; nova?: boolean; grants?: boolean },
): KeystoneCheck {
  const endpoints: EndpointNeed[] = [];
  if (uses.blazar) {
    endpoints.push({
      serviceType: 'reservation',
      interface: config.blazar.interface,
      region: config.blazar.region_name,
      consequence: uses.grants ? 'every lease fails' : 'leases cannot be extended or deleted',
    });
  }
  if (uses.nova) {
    endpoints.push({ serviceType: 'compute', interface: 'public', region: null, consequence: 'no in_use notification is sent' });
  }
  if (config.warre.user_notifier === 'taynac') {
    endpoints.push({ serviceType: 'message', interface: 'public', region: null, consequence: 'no user message is sent' });
  }
  const w = config.warre;
  const run = async (): Promise<Finding[]> => {
    const findings: Finding[] = [];
    if (uses.grants && (!w.bot_user_id || !w.bot_password || !w.bot_role_id)) {
      findings.push({
        level: 'error',
        section: 'warre',
        recheck: false,
        message: '[warre] bot_user_id, bot_password and bot_role_id must all be set: every lease fails until they are.',
      });
    }
    const bot =
      uses.grants && w.bot_user_id && w.bot_password && w.bot_role_id
        ? {
            userId: w.bot_user_id,
            password: w.bot_password,
            roleId: w.bot_role_id,
            authUrl: w.bot_auth_url ?? session.options.auth_url,
            tls: session.tls,
          }
        : null;
    return [...findings, ...(await checkServiceUser(session, { endpoints, grants: uses.grants ?? false, bot }))];
  };
  return { section: 'service_auth', run };
}
