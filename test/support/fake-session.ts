/**
 * A {@link ServiceSession} for driver tests: fixed catalog, tokens `token-1`,
 * `token-2`, … (a new one after each invalidate()).
 */
import { EndpointNotFoundError, type ServiceSession } from '../../src/drivers/service-session.js';

export class FakeSession implements ServiceSession {
  /** Every getEndpoint call, to check the interface and region the drivers ask for. */
  readonly endpointLookups: { serviceType: string; interface: string | null; region: string | null }[] = [];
  invalidations = 0;

  constructor(private readonly endpoints: Record<string, string>) {}

  get token(): string {
    return `token-${this.invalidations + 1}`;
  }

  async getToken(): Promise<string> {
    return this.token;
  }

  async getEndpoint(serviceType: string, opts: { interface?: string | null; region?: string | null } = {}): Promise<string> {
    const iface = opts.interface ?? 'public';
    const region = opts.region ?? null;
    this.endpointLookups.push({ serviceType, interface: iface, region });
    const url = this.endpoints[serviceType];
    if (!url) throw new EndpointNotFoundError(serviceType, iface, region);
    return url;
  }

  invalidate(): void {
    this.invalidations += 1;
  }
}
