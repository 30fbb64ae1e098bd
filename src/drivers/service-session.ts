/**
 * An authenticated identity that can call other OpenStack services: Warre's
 * `[service_auth]` user, or the worker's per-project bot. Implemented by the
 * Keystone session (src/drivers/keystone/session.ts); drivers for Blazar, Nova
 * and Taynac depend only on this interface.
 */
import type { TlsOptions } from './http.js';

export interface ServiceSession {
  /** keystoneauth `cafile` / `insecure` of the identity, applied to every service it calls. */
  readonly tls?: TlsOptions;
  /** A valid token (renewed before it expires). */
  getToken(): Promise<string>;
  /**
   * The catalog URL for a service type (keystoneauth rules: type, then
   * interface, then region). Throws {@link EndpointNotFoundError}.
   */
  getEndpoint(serviceType: string, opts?: { interface?: string | null; region?: string | null }): Promise<string>;
  /**
   * Forget the cached token and its catalog (after a 401 from a service, or when the
   * catalog looks stale): the next call logs in again.
   */
  invalidate(): void;
}

export class EndpointNotFoundError extends Error {
  constructor(serviceType: string, iface: string, region: string | null) {
    super(`No ${iface} endpoint for service type ${serviceType}${region ? ` in region ${region}` : ''} in the catalog`);
    this.name = 'EndpointNotFoundError';
  }
}

/** Join a catalog base URL and a path with exactly one slash, as keystoneauth does. */
export function joinUrl(base: string, path: string): string {
  return base.replace(/\/+$/, '') + '/' + path.replace(/^\/+/, '');
}
