/**
 * The Keystone options' defaults are what the drivers apply, whether they get a loaded
 * configuration or are built without one (one constant each in src/config/options.ts,
 * which the sample file shows too: test/config/sample.test.ts). token_cache_time -1 and 0
 * both switch the token cache off, as docs/keystone.md and the sample say; checked against
 * the real Keystone of test/support/keystone.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keystoneAuthOptions } from '../../../src/cli/runtime.js';
import { loadConfig } from '../../../src/config/load.js';
import { KEYSTONE_TIMEOUT_S, LIMITS_CACHE_TIME_S, TOKEN_CACHE_TIME_S } from '../../../src/config/options.js';
import { KeystoneSession } from '../../../src/drivers/keystone/session.js';
import { TokenValidator } from '../../../src/drivers/keystone/tokens.js';
import { UnifiedLimitsProvider } from '../../../src/quota/unified-limits.js';
import * as ks from '../../support/keystone.js';

const SILENT = { debug() {}, info() {}, warn() {}, error() {} };
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'warre-ks-defaults-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A configuration with the three Keystone sections and `extra` lines in each. */
function configWith(extra: string) {
  const file = path.join(tmp, `warre-${Math.random().toString(36).slice(2)}.conf`);
  const section = (name: string) => `[${name}]\nauth_url = http://127.0.0.1:1/v3\nuser_id = u\npassword = p\n${extra}\n`;
  fs.writeFileSync(file, ['keystone_authtoken', 'service_auth', 'oslo_limit'].map(section).join('\n'));
  return loadConfig({ argv: ['--config-file', file], env: {}, cwd: tmp });
}

describe('Keystone option defaults, as the drivers apply them', () => {
  it('every Keystone session waits KEYSTONE_TIMEOUT_S unless told otherwise', () => {
    const config = configWith('');
    expect(new KeystoneSession({ auth_url: 'http://127.0.0.1:1/v3', user_id: 'u', password: 'p' }).timeoutMs).toBe(
      KEYSTONE_TIMEOUT_S * 1000,
    );
    expect(new KeystoneSession(keystoneAuthOptions(config.service_auth, 'service_auth')).timeoutMs).toBe(KEYSTONE_TIMEOUT_S * 1000);
    expect(new UnifiedLimitsProvider(keystoneAuthOptions(config.oslo_limit, 'oslo_limit'), SILENT).session.timeoutMs).toBe(
      KEYSTONE_TIMEOUT_S * 1000,
    );
    expect(new TokenValidator(keystoneAuthOptions(config.keystone_authtoken, 'keystone_authtoken')).session.timeoutMs).toBe(
      KEYSTONE_TIMEOUT_S * 1000,
    );
    expect(config.keystone_authtoken.token_cache_time).toBe(TOKEN_CACHE_TIME_S);
    expect(config.oslo_limit.cache_time).toBe(LIMITS_CACHE_TIME_S);
  });

  it('a configured wait is the one used', () => {
    const config = configWith('timeout = 7\nhttp_connect_timeout = 9');
    expect(new KeystoneSession(keystoneAuthOptions(config.service_auth, 'service_auth')).timeoutMs).toBe(7000);
    expect(new UnifiedLimitsProvider(keystoneAuthOptions(config.oslo_limit, 'oslo_limit'), SILENT).session.timeoutMs).toBe(7000);
    expect(new TokenValidator(keystoneAuthOptions(config.keystone_authtoken, 'keystone_authtoken')).session.timeoutMs).toBe(9000);
  });
});

describe('token_cache_time against Keystone', () => {
  let authUrl: string;
  let token: string;

  beforeAll(async () => {
    const k = await ks.ensureKeystone();
    authUrl = k.authUrl;
    token = await ks.adminToken();
  }, 900_000);

  const validator = (cacheTime?: number) =>
    new TokenValidator({
      auth_url: authUrl,
      username: 'admin',
      password: ks.ADMIN_PASSWORD,
      user_domain_name: 'Default',
      project_name: 'admin',
      project_domain_name: 'Default',
      ...(cacheTime === undefined ? {} : { token_cache_time: cacheTime }),
    });

  it.each([-1, 0])('%i: every validation asks Keystone', async (cacheTime) => {
    const v = validator(cacheTime);
    await v.validate(token);
    await v.validate(token);
    await v.validate(token);
    expect(v.keystoneCalls).toBe(3);
  });

  it('the default: one call, then the cache', async () => {
    const v = validator();
    await v.validate(token);
    await v.validate(token);
    expect(v.keystoneCalls).toBe(1);
  });
});
