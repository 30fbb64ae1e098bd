/**
 * Keystone-related options, keyed exactly by their oslo.config / keystoneauth
 * INI names so a config section maps onto them one to one. Strings may be
 * null (unset); empty strings count as unset too.
 */

/** keystoneauth `password` plugin + session options (`[service_auth]`, `[keystone_authtoken]`, `[oslo_limit]`). */
export interface KeystoneAuthOptions {
  /** Identity endpoint, e.g. `http://keystone:5000/v3` (an unversioned URL gets `/v3` appended). */
  auth_url: string;
  username?: string | null;
  user_id?: string | null;
  password?: string | null;
  user_domain_name?: string | null;
  user_domain_id?: string | null;
  project_name?: string | null;
  project_id?: string | null;
  project_domain_name?: string | null;
  project_domain_id?: string | null;
  /** Domain scope (keystoneauth `domain_id` / `domain_name`). */
  domain_id?: string | null;
  domain_name?: string | null;
  /** Fallback for the user and project domain when neither id nor name is given. */
  default_domain_id?: string | null;
  default_domain_name?: string | null;
  /** `all` → a system-scoped token. */
  system_scope?: string | null;
  /** Region for catalog lookups (keystoneauth adapter `region_name`). */
  region_name?: string | null;
  /** Interface for catalog lookups (`public`, `internal`, `admin`; a trailing `URL` is ignored). */
  interface?: string | null;
  /** Per-request timeout in seconds (default 30). */
  timeout?: number | null;
  /** PEM bundle of the CAs trusted for HTTPS (replaces the system CAs). */
  cafile?: string | null;
  /** Do not verify HTTPS certificates. */
  insecure?: boolean | null;
  /** A client certificate (PEM) and its key, presented over HTTPS. */
  certfile?: string | null;
  keyfile?: string | null;
}

/** keystonemiddleware `[keystone_authtoken]`. */
export interface AuthTokenOptions extends KeystoneAuthOptions {
  /** URI announced in `WWW-Authenticate` on a 401 (default: auth_url). */
  www_authenticate_uri?: string | null;
  /** Seconds a validated token is served from the cache (default 300). */
  token_cache_time?: number | null;
  /** Accepted for configuration compatibility; Warre receives no service tokens (`X-Service-Token`). */
  service_token_roles?: string[] | null;
  /** When true, a missing/invalid token (or Keystone down) yields an anonymous context instead of a 401/503. */
  delay_auth_decision?: boolean | null;
  /** Retries of a validation call after a connection failure (default 3). */
  http_request_max_retries?: number | null;
  /** Accepted for configuration compatibility; Warre never needs the catalog of a user token, so it validates with `?nocatalog`. */
  include_service_catalog?: boolean | null;
}

/** oslo.limit `[oslo_limit]`. */
export interface OsloLimitOptions extends KeystoneAuthOptions {
  /** Warre's endpoint in the catalog; it supplies service_id and region_id. */
  endpoint_id?: string | null;
  /** Alternative to endpoint_id (newer oslo.limit): find the service by type and/or name... */
  endpoint_service_type?: string | null;
  endpoint_service_name?: string | null;
  /** ...its region (optional)... */
  endpoint_region_name?: string | null;
  /** ...and the interface of its endpoint (default `public`). */
  endpoint_interface?: string | null;
  /** Seconds limits of a project are cached (default 60; 0 disables the cache). */
  cache_time?: number | null;
}

/** The option as a string, or null when unset/empty. */
export function opt(value: string | null | undefined): string | null {
  return value === undefined || value === null || value === '' ? null : value;
}
