/**
 * The options the Keystone drivers take. They are not declared here: each is the type of a
 * section of the option registry (src/config/options.ts), so a section's values, as the
 * configuration loader produces them, are passed to a driver as they are.
 *
 * Two differences from the section types, both narrowing what a driver accepts:
 * - `auth_url` is a string: the CLI checks once at start-up that the section sets it;
 * - every other option may be left out (tests, tools, the bot): the driver then applies its
 *   own default. Strings may be null (unset); empty strings count as unset too.
 */
import type { ConfigValues } from '../../config/options.js';

/** The defaults a driver applies to an option left out: the registry's, the same constants. */
export { KEYSTONE_TIMEOUT_S, LIMITS_CACHE_TIME_S, TOKEN_CACHE_TIME_S } from '../../config/options.js';

/** A section's values with auth_url set; the other options optional. */
export type WithAuthUrl<S extends { auth_url: string | null }> = { auth_url: string } & Partial<Omit<S, 'auth_url'>>;

/**
 * keystoneauth `password` plugin + session options, as `[service_auth]` declares them
 * (`[keystone_authtoken]` and `[oslo_limit]` declare a subset of them).
 */
export type KeystoneAuthOptions = WithAuthUrl<ConfigValues['service_auth']>;

/** keystonemiddleware `[keystone_authtoken]`. */
export type AuthTokenOptions = WithAuthUrl<ConfigValues['keystone_authtoken']>;

/** oslo.limit `[oslo_limit]`. */
export type OsloLimitOptions = WithAuthUrl<ConfigValues['oslo_limit']>;

/** The option as a string, or null when unset/empty. */
export function opt(value: string | null | undefined): string | null {
  return value === undefined || value === null || value === '' ? null : value;
}
