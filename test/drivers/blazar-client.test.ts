import http from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { BlazarLeaseBackend, formatLeaseDate, parseBlazarDate } from '../../src/drivers/blazar/client.js';
import { LeaseError } from '../../src/drivers/lease-backend.js';
import { exampleLeaseRequest, FakeBlazar, futureMinute } from '../support/fake-blazar.js';
import { FakeSession } from '../support/fake-session.js';

const HOUR = 3_600_000;

const future = futureMinute;
const request = exampleLeaseRequest;

/** Header names as sent, lower-cased. */
function headerNames(raw: string[]): string[] {
  return raw.filter((_, i) => i % 2 === 0).map((h) => h.toLowerCase());
}

async function leaseError(p: Promise<unknown>): Promise<LeaseError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(LeaseError);
  return e as LeaseError;
}

describe('BlazarLeaseBackend', () => {
  const fake = new FakeBlazar();
  let session: FakeSession;
  let blazar: BlazarLeaseBackend;

  beforeAll(async () => {
    await fake.start();
  });
  afterAll(async () => {
    await fake.stop();
  });
  afterEach(() => {
    fake.reset();
    fake.leases.clear();
  });
  const setup = (opts: ConstructorParameters<typeof BlazarLeaseBackend>[0] = {}): void => {
    session = new FakeSession({ reservation: fake.url });
    blazar = new BlazarLeaseBackend(opts);
  };

  it('creates a lease with exactly the request python-blazarclient sends', async () => {
    setup({ interface: 'internal', region: 'RegionOne' });
    const req = request();
    const lease = await blazar.createLease(session, req);

    expect(fake.requests).toHaveLength(1);
    const sent = fake.requests[0]!;
    expect(sent.method).toBe('POST');
    expect(sent.path).toBe('/v1/leases');
    expect(sent.headers['x-auth-token']).toBe('token-1');
    expect(sent.headers['accept']).toBe('application/json');
    expect(sent.headers['user-agent']).toBe('python-blazarclient');
    expect(sent.headers['content-type']).toBe('application/json');
    expect(sent.headers['content-length']).toBe(String(Buffer.byteLength(sent.bodyText)));
    expect(headerNames(sent.rawHeaders)).not.toContain('openstack-api-version');

    const body = sent.body as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['name', 'start_date', 'end_date', 'reservations', 'events', 'before_end_date']);
    expect(body['name']).toBe('Reservation 3c2b1a09-8f7e-4d6c-b5a4-9382716f5e4d');
    expect(body['start_date']).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/);
    expect(body['start_date']).toBe(req.start.toISOString().slice(0, 16).replace('T', ' '));
    expect(body['end_date']).toBe(req.end.toISOString().slice(0, 16).replace('T', ' '));
    expect(body['events']).toEqual([]);
    expect(body['before_end_date']).toBeNull();
    expect('before_end_date' in body).toBe(true);
    const reservations = body['reservations'] as Record<string, unknown>[];
    expect(reservations).toHaveLength(1);
    expect(Object.keys(reservations[0]!)).toEqual([
      'resource_type',
      'amount',
      'vcpus',
      'memory_mb',
      'disk_gb',
      'ephemeral_gb',
      'affinity',
      'resource_properties',
      'extra_specs',
    ]);
    expect(reservations[0]).toEqual({
      resource_type: 'virtual:instance',
      amount: 2,
      vcpus: 4,
      memory_mb: 16384,
      disk_gb: 30,
      ephemeral_gb: 0,
      affinity: null,
      resource_properties: '["=", "$gpu", "a100"]',
      extra_specs: { 'resources:VGPU': '1', 'trait:CUSTOM_A100': 'required' },
    });

    expect(session.endpointLookups).toEqual([{ serviceType: 'reservation', interface: 'internal', region: 'RegionOne' }]);

    const stored = [...fake.leases.values()][0]!;
    expect(lease.id).toBe(stored.id);
    expect(lease.name).toBe('Reservation 3c2b1a09-8f7e-4d6c-b5a4-9382716f5e4d');
    expect(lease.computeFlavor).toBe(stored.reservationId);
    expect(lease.start.toISOString()).toBe(new Date(Math.floor(req.start.getTime() / 60_000) * 60_000).toISOString());
    expect(lease.end.toISOString()).toBe(req.end.toISOString());
    expect(lease.status).toBe('PENDING');
  });

  it('sends "" for no properties and null for no extra_specs; default interface public', async () => {
    setup();
    await blazar.createLease(session, request({ resourceProperties: null, extraSpecs: null }));
    const r = ((fake.requests[0]!.body as Record<string, unknown>)['reservations'] as Record<string, unknown>[])[0]!;
    expect(r['resource_properties']).toBe('');
    expect(r['extra_specs']).toBeNull();
    expect(session.endpointLookups[0]).toEqual({ serviceType: 'reservation', interface: 'public', region: null });
  });

  it('updates the end with GET then PUT {end_date}', async () => {
    setup();
    const lease = await blazar.createLease(session, request());
    fake.reset();
    const newEnd = future(96, 30);
    await blazar.updateLeaseEnd(session, lease.id, newEnd);

    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`GET /v1/leases/${lease.id}`, `PUT /v1/leases/${lease.id}`]);
    const [get, put] = fake.requests;
    expect(get!.bodyText).toBe('');
    expect(headerNames(get!.rawHeaders)).not.toContain('content-type');
    expect(headerNames(get!.rawHeaders)).not.toContain('content-length');
    expect(put!.headers['content-type']).toBe('application/json');
    expect(put!.body).toEqual({ end_date: formatLeaseDate(newEnd) });
    expect(Object.keys(put!.body as object)).toEqual(['end_date']);
    expect(fake.leases.get(lease.id)!.end.toISOString()).toBe(new Date(Math.floor(newEnd.getTime() / 60_000) * 60_000).toISOString());
  });

  it('deletes with Content-Length: 0 and no body; a 404 counts as deleted', async () => {
    setup();
    const lease = await blazar.createLease(session, request());
    fake.reset();
    await blazar.deleteLease(session, lease.id);
    const del = fake.requests[0]!;
    expect(del.method).toBe('DELETE');
    expect(del.path).toBe(`/v1/leases/${lease.id}`);
    expect(del.headers['content-length']).toBe('0');
    expect(del.headers['content-type']).toBeUndefined();
    expect(del.bodyText).toBe('');
    expect(fake.leases.has(lease.id)).toBe(false);

    await expect(blazar.deleteLease(session, lease.id)).resolves.toBeUndefined();
    expect(fake.requests).toHaveLength(2);
  });

  it("reports an unknown lease on update as a permanent 404 with Blazar's message", async () => {
    setup();
    const e = await leaseError(blazar.updateLeaseEnd(session, '00000000-0000-0000-0000-000000000000', future(5)));
    expect(e.status).toBe(404);
    expect(e.transient).toBe(false);
    expect(e.message).toBe("ERROR: Object with {'lease_id': '00000000-0000-0000-0000-000000000000'} not found");
  });

  it('treats "Not enough hosts available" (a 500) as permanent', async () => {
    setup();
    fake.capacity = 1;
    const e = await leaseError(blazar.createLease(session, request({ amount: 2 })));
    expect(e.status).toBe(500);
    expect(e.transient).toBe(false);
    expect(e.message).toBe('ERROR: Not enough hosts available');
  });

  it("treats 400s as permanent with Blazar's message", async () => {
    setup();
    const e = await leaseError(blazar.createLease(session, request({ start: new Date(Date.now() - 2 * HOUR) })));
    expect(e.status).toBe(400);
    expect(e.transient).toBe(false);
    expect(e.message).toBe('ERROR: Start date must be later than current date');

    const e2 = await leaseError(blazar.createLease(session, request({ start: future(5), end: future(4) })));
    expect(e2.message).toBe('ERROR: End date must be later than start date.');
  });

  it('treats 502/503/504 as transient', async () => {
    setup();
    for (const status of [502, 503, 504]) {
      fake.failNext(1, status);
      const e = await leaseError(blazar.createLease(session, request()));
      expect(e.status).toBe(status);
      expect(e.transient).toBe(true);
    }
    fake.failFor(60_000, 503, 'Service Unavailable');
    const e = await leaseError(blazar.deleteLease(session, 'x'));
    expect(e.message).toBe('ERROR: Service Unavailable');
    expect(e.transient).toBe(true);
  });

  it('re-authenticates once after a 401', async () => {
    setup();
    fake.acceptToken = (t) => t !== 'token-1';
    const lease = await blazar.createLease(session, request());
    expect(lease.id).toBeTruthy();
    expect(session.invalidations).toBe(1);
    expect(fake.requests.map((r) => r.headers['x-auth-token'])).toEqual(['token-1', 'token-2']);
  });

  it('reports a 401 that a fresh token does not cure as transient', async () => {
    setup();
    fake.acceptToken = () => false;
    const e = await leaseError(blazar.createLease(session, request()));
    expect(e.status).toBe(401);
    expect(e.transient).toBe(true);
    expect(e.message).toContain('The request you have made requires authentication.');
    expect(fake.requests).toHaveLength(2);
  });

  it('reports a refused connection as transient', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    session = new FakeSession({ reservation: `http://127.0.0.1:${port}/v1` });
    blazar = new BlazarLeaseBackend();
    const e = await leaseError(blazar.createLease(session, request()));
    expect(e.status).toBeNull();
    expect(e.transient).toBe(true);
    expect(e.message).toMatch(new RegExp(`^Unable to establish connection to http://127\\.0\\.0\\.1:${port}/v1/leases: .*ECONNREFUSED`));
  });

  it('reports a timeout as transient', async () => {
    setup({ timeoutMs: 300 });
    fake.hang = true;
    const e = await leaseError(blazar.createLease(session, request()));
    expect(e.status).toBeNull();
    expect(e.transient).toBe(true);
    expect(e.message).toBe(`Request to ${fake.url}/leases timed out`);
  });

  it('uses the raw text of a non-JSON error (e.g. from a proxy)', async () => {
    const proxy = http.createServer((_req, res) => {
      res.writeHead(502, { 'Content-Type': 'text/html' });
      res.end('<html>Bad Gateway</html>');
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    try {
      session = new FakeSession({ reservation: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/v1` });
      const e = await leaseError(new BlazarLeaseBackend().createLease(session, request()));
      expect(e.message).toBe('ERROR: <html>Bad Gateway</html>');
      expect(e.transient).toBe(true);
    } finally {
      await new Promise<void>((r) => proxy.close(() => r()));
    }
  });

  it("lets a missing catalog entry through as the session's error", async () => {
    session = new FakeSession({});
    await expect(new BlazarLeaseBackend().createLease(session, request())).rejects.toThrow(
      'No public endpoint for service type reservation',
    );
  });

  it('finds a lease by its name in GET /v1/leases', async () => {
    setup();
    const a = await blazar.createLease(session, request({ reservationId: 'aaaa' }));
    const b = await blazar.createLease(session, request({ reservationId: 'bbbb' }));
    fake.reset();
    const found = await blazar.findLeaseByName(session, 'Reservation bbbb');
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /v1/leases']);
    expect(found?.id).toBe(b.id);
    expect(found?.id).not.toBe(a.id);
    expect(found?.computeFlavor).toBe(fake.leases.get(b.id)!.reservationId);
    expect(await blazar.findLeaseByName(session, 'Reservation cccc')).toBeNull();
  });

  it('a second create with the same name is a permanent 409', async () => {
    setup();
    await blazar.createLease(session, request());
    const e = await leaseError(blazar.createLease(session, request()));
    expect(e.status).toBe(409);
    expect(e.transient).toBe(false);
  });
});

describe('Blazar dates', () => {
  it('formats UTC minutes, dropping seconds', () => {
    expect(formatLeaseDate(new Date('2026-12-01T23:59:59.999Z'))).toBe('2026-12-01 23:59');
    expect(formatLeaseDate(new Date('2026-12-02T10:00:00+10:00'))).toBe('2026-12-02 00:00');
  });

  it('parses the response formats as UTC', () => {
    expect(parseBlazarDate('2027-01-01T00:00:00.000000').toISOString()).toBe('2027-01-01T00:00:00.000Z');
    expect(parseBlazarDate('2026-11-25 12:45:17.585635').toISOString()).toBe('2026-11-25T12:45:17.585Z');
    expect(parseBlazarDate('2026-11-25T12:45').toISOString()).toBe('2026-11-25T12:45:00.000Z');
    expect(parseBlazarDate('2026-11-25T12:45:00+10:00').toISOString()).toBe('2026-11-25T02:45:00.000Z');
    expect(() => parseBlazarDate('tomorrow')).toThrow(/Unexpected date/);
  });
});
