/** The portal's options from the configuration (docs/dashboard.md). */
import type { DashboardOptions } from '../api/dashboard.js';
import type { WarreConfig } from '../config/load.js';
import { tlsOptions } from '../drivers/http.js';

export function dashboardOptions(config: WarreConfig): DashboardOptions {
  const strategy = config.DEFAULT.auth_strategy === 'keystone' ? 'keystone' : 'noauth';
  if (strategy === 'noauth') return { enabled: config.dashboard.enabled, authStrategy: strategy };
  const ka = config.keystone_authtoken;
  // Warre's own way to Keystone (auth_url) first: www_authenticate_uri is the address
  // announced to clients, which need not be reachable from the server.
  const url = [ka.auth_url, ka.www_authenticate_uri].find((u): u is string => typeof u === 'string' && u !== '') ?? null;
  return {
    enabled: config.dashboard.enabled,
    authStrategy: strategy,
    keystone: url ? { authUrl: url, tls: tlsOptions(ka, 'keystone_authtoken'), timeoutMs: ka.http_connect_timeout * 1000 } : null,
  };
}

/** The portal's address for the start-up banner, or null when it is not served. */
export function dashboardUrl(config: WarreConfig, apiUrl: string): string | null {
  if (!config.dashboard.enabled) return null;
  return `${apiUrl}/dashboard/`;
}
