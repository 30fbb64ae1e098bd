/**
 * Nova, for the periodic `notify_exists`: does a reservation's project run servers
 * of its reserved flavor? One request, as python-novaclient 2.87 sends it
 * (docs/interop.md#nova); novaclient does not page in this mode and neither do we.
 */
import { parseJson, serviceRequest } from './service-request.js';
import type { ServiceSession } from './service-session.js';

export interface NovaOptions {
  /** Catalog interface of `compute` (default `public`). */
  interface?: string | null;
  region?: string | null;
  /** Default 30 s. */
  timeoutMs?: number;
}

/** Nova answered with an error status. */
export class NovaError extends Error {
  constructor(
    readonly status: number,
    detail: string,
  ) {
    super(`Nova answered ${status}: ${detail}`);
    this.name = 'NovaError';
  }
}

const HEADERS = {
  'X-OpenStack-Nova-API-Version': '2.87',
  'OpenStack-API-Version': 'compute 2.87',
  Accept: 'application/json',
  'User-Agent': 'python-novaclient',
} as const;

/**
 * `GET {compute}/servers/detail?all_tenants=True&flavor=…&tenant_id=…` — the servers of
 * one flavor in one project (first page only). Throws on any failure; the caller
 * treats a failure as "no servers".
 */
export async function listServers(
  session: ServiceSession,
  filter: { projectId: string; flavorId: string },
  opts: NovaOptions = {},
): Promise<unknown[]> {
  // novaclient: falsy options dropped, keys sorted, all_tenants as the literal True.
  const search: Record<string, string> = { all_tenants: 'True', flavor: filter.flavorId, tenant_id: filter.projectId };
  const query = new URLSearchParams(
    Object.keys(search)
      .filter((k) => search[k])
      .sort()
      .map((k) => [k, search[k]!]),
  ).toString();
  const res = await serviceRequest(session, {
    serviceType: 'compute',
    interface: opts.interface ?? 'public',
    region: opts.region ?? null,
    method: 'GET',
    path: `/servers/detail?${query}`,
    headers: { ...HEADERS },
    timeoutMs: opts.timeoutMs ?? 30_000,
  });
  const body = parseJson(res.text) as { servers?: unknown } | null;
  if (res.status >= 400) throw new NovaError(res.status, novaFault(body) ?? res.text);
  if (!body || !Array.isArray(body.servers)) throw new NovaError(res.status, 'response has no "servers" list');
  return body.servers;
}

/** Nova's fault body is `{"<kind>": {"code": …, "message": "…"}}`. */
function novaFault(body: unknown): string | null {
  if (!body || typeof body !== 'object') return null;
  for (const v of Object.values(body)) {
    if (v && typeof v === 'object' && typeof (v as { message?: unknown }).message === 'string') return (v as { message: string }).message;
  }
  return null;
}
