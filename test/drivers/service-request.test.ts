/**
 * A stale service catalog (docs/keystone.md#catalog): src/drivers/service-request.ts re-reads
 * the catalog when it lacks the endpoint or the endpoint refuses connections or answers 404,
 * and sends the request again only when the fresh catalog moved the endpoint and the first
 * attempt cannot have been acted on. Driven through the Blazar client against fake Blazars;
 * the session is a stand-in whose catalog changes only when it logs in again.
 * (test/drivers/keystone/catalog.test.ts does the same with the real Keystone and the worker.)
 */
import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BlazarLeaseBackend } from '../../src/drivers/blazar/client.js';
import { LeaseError } from '../../src/drivers/lease-backend.js';
import { EndpointNotFoundError, type ServiceSession } from '../../src/drivers/service-session.js';
import { exampleLeaseRequest, FakeBlazar } from '../support/fake-blazar.js';

/** A session whose catalog is what Keystone said at its last login. */
class CatalogSession implements ServiceSession {
  logins = 1;
  catalog: Record<string, string>;

  /** `keystone`: what a fresh login would read (change it to move or register an endpoint). */
  constructor(
    public keystone: Record<string, string>,
    loggedInWith: Record<string, string> = keystone,
  ) {
    this.catalog = { ...loggedInWith };
  }

  async getToken(): Promise<string> {
    return `token-${this.logins}`;
  }

  async getEndpoint(serviceType: string, opts: { interface?: string | null; region?: string | null } = {}): Promise<string> {
    const url = this.catalog[serviceType];
    if (!url) throw new EndpointNotFoundError(serviceType, opts.interface ?? 'public', opts.region ?? null);
    return url;
  }

  invalidate(): void {
    this.logins += 1;
    this.catalog = { ...this.keystone };
  }
}

/** A URL on which nothing listens (connection refused). */
async function closedUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return `http://127.0.0.1:${port}/v1`;
}

const oldBlazar = new FakeBlazar();
const newBlazar = new FakeBlazar();
const blazar = new BlazarLeaseBackend({ timeoutMs: 1_000 });

beforeAll(async () => {
  await oldBlazar.start();
  await newBlazar.start();
});
afterAll(async () => {
  await oldBlazar.stop();
  await newBlazar.stop();
});
afterEach(() => {
  for (const b of [oldBlazar, newBlazar]) {
    b.reset();
    b.leases.clear();
  }
});

describe('a stale catalog', () => {
  it('an endpoint missing from the catalog is looked up in a fresh one (registered after the login)', async () => {
    const session = new CatalogSession({ reservation: newBlazar.url }, {});
    const lease = await blazar.createLease(session, exampleLeaseRequest());
    expect(session.logins).toBe(2);
    expect(newBlazar.leases.has(lease.id)).toBe(true);
    expect(newBlazar.requests[0]!.headers['x-auth-token']).toBe('token-2');
  });

  it('still missing after a fresh login: EndpointNotFoundError, one login more', async () => {
    const session = new CatalogSession({});
    await expect(blazar.createLease(session, exampleLeaseRequest())).rejects.toThrow(
      'No public endpoint for service type reservation in the catalog',
    );
    expect(session.logins).toBe(2);
  });

  it('a 404 from the old URL: the request goes once to the moved endpoint', async () => {
    const session = new CatalogSession({ reservation: newBlazar.url }, { reservation: oldBlazar.url });
    oldBlazar.failNext(1, 404, 'The resource could not be found.');
    const lease = await blazar.createLease(session, exampleLeaseRequest());
    expect(oldBlazar.requestsFor('POST')).toHaveLength(1);
    expect(newBlazar.requestsFor('POST')).toHaveLength(1);
    expect(newBlazar.leases.has(lease.id)).toBe(true);
    expect(oldBlazar.leases.size).toBe(0);
  });

  it('a refused connection at the old URL: the request goes to the moved endpoint', async () => {
    const session = new CatalogSession({ reservation: newBlazar.url }, { reservation: await closedUrl() });
    const lease = await blazar.createLease(session, exampleLeaseRequest());
    expect(newBlazar.requestsFor('POST')).toHaveLength(1);
    expect(newBlazar.leases.has(lease.id)).toBe(true);
    expect(session.logins).toBe(2);
  });

  it('a 404 where the endpoint has not moved is the answer: sent once (a deleted lease stays deleted)', async () => {
    const session = new CatalogSession({ reservation: oldBlazar.url });
    await blazar.deleteLease(session, 'no-such-lease');
    expect(oldBlazar.requestsFor('DELETE')).toHaveLength(1);
    expect(session.logins).toBe(2);
  });

  it('refused where the endpoint has not moved: a transient LeaseError, not sent twice', async () => {
    const url = await closedUrl();
    const session = new CatalogSession({ reservation: url });
    const err = await blazar.createLease(session, exampleLeaseRequest()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LeaseError);
    expect((err as LeaseError).transient).toBe(true);
    expect(session.logins).toBe(2);
  });

  it('a timeout is never sent again (Blazar may have made the lease), but the next call reads a fresh catalog', async () => {
    const session = new CatalogSession({ reservation: newBlazar.url }, { reservation: oldBlazar.url });
    oldBlazar.hang = true;
    const err = await blazar.createLease(session, exampleLeaseRequest()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LeaseError);
    expect((err as LeaseError).transient).toBe(true);
    expect(oldBlazar.requestsFor('POST')).toHaveLength(1);
    expect(newBlazar.requests).toHaveLength(0);
    expect(session.logins).toBe(2);
    // The worker's retry looks the lease up by name: at the moved endpoint now.
    expect(await blazar.findLeaseByName(session, 'Reservation x')).toBeNull();
    expect(newBlazar.requestsFor('GET')).toHaveLength(1);
  });
});
