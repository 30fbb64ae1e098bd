/**
 * Tokens that cost Keystone nothing (docs/operations.md "Keystone"), against the real
 * Keystone (test/support/keystone.ts), counting the validation calls this process makes:
 *
 * - a token longer than any Keystone issues (MAX_TOKEN_LENGTH) is a 401 at once, without
 *   a call (before: three calls and about 4 s, then 503);
 * - a token Keystone rejected is refused from a short negative cache (keyed by a hash of
 *   the token, bounded) for REJECTED_CACHE_TIME_MS, then asked about again;
 * - valid tokens are unaffected.
 */
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { AuthError } from '../../../src/auth/context.js';
import { KeystoneAuthenticator } from '../../../src/auth/keystone.js';
import { InvalidTokenError, MAX_TOKEN_LENGTH, REJECTED_CACHE_TIME_MS } from '../../../src/drivers/keystone/tokens.js';
import { countHttpRequests } from '../../support/http-spy.js';
import * as ks from '../../support/keystone.js';

const SILENT = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

let authUrl: string;
let adminPassword: string;

beforeAll(async () => {
  ({ authUrl, adminPassword } = await ks.ensureKeystone());
}, 900_000);

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

function authenticator(): KeystoneAuthenticator {
  return new KeystoneAuthenticator(
    {
      auth_url: authUrl,
      username: 'admin',
      password: adminPassword,
      user_domain_name: 'Default',
      project_name: 'admin',
      project_domain_name: 'Default',
    },
    SILENT,
  );
}

async function status(auth: KeystoneAuthenticator, token: string): Promise<number> {
  try {
    await auth.authenticate({ 'x-auth-token': token }, 'req-test');
    return 200;
  } catch (err) {
    if (err instanceof AuthError) return err.status;
    throw err;
  }
}

describe('tokens longer than any Keystone issues', () => {
  it('answer 401 at once without asking Keystone', async () => {
    const auth = authenticator();
    await auth.validator.session.getToken(); // the service's own login is not what is counted
    const validations = countHttpRequests('GET', '/v3/auth/tokens');
    for (const length of [MAX_TOKEN_LENGTH + 1, 8 * 1024, 16 * 1024, 64 * 1024]) {
      const started = Date.now();
      expect(await status(auth, 'g'.repeat(length))).toBe(401);
      expect(Date.now() - started).toBeLessThan(50);
    }
    expect(validations.count()).toBe(0);
    expect(auth.validator.keystoneCalls).toBe(0);
    await expect(auth.validator.validate('x'.repeat(MAX_TOKEN_LENGTH + 1))).rejects.toThrow(/longer than any Keystone issues/);
  });

  it('still sends a real token of ordinary length', async () => {
    const auth = authenticator();
    const { token } = await ks.issueToken({ username: 'admin', password: adminPassword });
    expect(token.length).toBeLessThan(MAX_TOKEN_LENGTH);
    expect(await status(auth, token)).toBe(200);
    expect(auth.validator.keystoneCalls).toBe(1);
  });
});

describe('tokens Keystone rejected', () => {
  it('are refused from the negative cache: a repeated bad token costs one Keystone call', async () => {
    const auth = authenticator();
    await auth.validator.session.getToken();
    const validations = countHttpRequests('GET', '/v3/auth/tokens');
    const bad = `gAAAAA${'b'.repeat(180)}`;
    for (let i = 0; i < 20; i++) expect(await status(auth, bad)).toBe(401);
    expect(validations.count()).toBe(1);
    // Concurrent repeats of another bad token share one call too.
    const other = `gAAAAA${'c'.repeat(180)}`;
    const answers = await Promise.all(Array.from({ length: 10 }, () => status(auth, other)));
    expect(answers).toEqual(Array(10).fill(401));
    expect(validations.count()).toBe(2);
  });

  it('asks Keystone again once the negative cache time has passed', async () => {
    const auth = authenticator();
    await auth.validator.session.getToken();
    const bad = `gAAAAA${'d'.repeat(180)}`;
    const t0 = Date.now();
    vi.useFakeTimers({ toFake: ['Date', 'performance'], now: t0 });
    await expect(auth.validator.validate(bad)).rejects.toBeInstanceOf(InvalidTokenError);
    await expect(auth.validator.validate(bad)).rejects.toThrow(/rejected by Keystone moments ago/);
    expect(auth.validator.keystoneCalls).toBe(1);
    vi.setSystemTime(t0 + REJECTED_CACHE_TIME_MS + 1000);
    await expect(auth.validator.validate(bad)).rejects.toBeInstanceOf(InvalidTokenError);
    expect(auth.validator.keystoneCalls).toBe(2);
  });

  it('does not refuse a valid token that differs from a rejected one', async () => {
    const auth = authenticator();
    const { token } = await ks.issueToken({ username: 'admin', password: adminPassword });
    expect(await status(auth, `${token}x`)).toBe(401);
    expect(await status(auth, token)).toBe(200);
  });
});
