/**
 * A fake Nova compute API for `GET /v2.1/servers/detail` (docs/interop.md#nova): filters by
 * `tenant_id` and `flavor` (only with `all_tenants`), needs microversion 2.87 headers.
 * Its catalog URL is `<root>/v2.1`.
 */
import { FakeOpenStackService, type FakeResponse, type RecordedRequest } from './fake-openstack-http.js';

export interface FakeServer {
  id: string;
  name: string;
  tenant_id: string;
  /** The flavor the server was built with (Nova ≥ 2.47 shows the flavor embedded, with original_name). */
  flavorId: string;
}

export class FakeNova extends FakeOpenStackService {
  servers: FakeServer[] = [];

  get url(): string {
    return `${this.rootUrl}/v2.1`;
  }

  protected errorBody(status: number, message: string): unknown {
    const kind = status === 403 ? 'forbidden' : status === 404 ? 'itemNotFound' : status === 400 ? 'badRequest' : 'computeFault';
    return { [kind]: { code: status, message } };
  }

  protected handle(req: RecordedRequest): FakeResponse {
    const url = new URL(req.path, 'http://x');
    if (url.pathname !== '/v2.1/servers/detail') return { status: 404, body: this.errorBody(404, 'The resource could not be found.') };
    if (req.method !== 'GET') return { status: 405, body: this.errorBody(405, 'The method specified is not allowed for this resource.') };
    if (req.headers['x-openstack-nova-api-version'] !== '2.87' && req.headers['openstack-api-version'] !== 'compute 2.87') {
      return { status: 406, body: this.errorBody(406, 'Version 2.87 was not requested') };
    }
    const q = url.searchParams;
    let servers = this.servers;
    // As Nova: without all_tenants only the caller's project is listed; here that is none.
    if (q.get('all_tenants') === null) servers = [];
    const tenant = q.get('tenant_id');
    const flavor = q.get('flavor');
    if (tenant) servers = servers.filter((s) => s.tenant_id === tenant);
    if (flavor) servers = servers.filter((s) => s.flavorId === flavor);
    return {
      status: 200,
      body: {
        servers: servers.map((s) => ({
          id: s.id,
          name: s.name,
          tenant_id: s.tenant_id,
          status: 'ACTIVE',
          flavor: { original_name: `reservation:${s.flavorId}`, vcpus: 1, ram: 1024, disk: 10, ephemeral: 0, swap: 0, extra_specs: {} },
        })),
      },
    };
  }
}
