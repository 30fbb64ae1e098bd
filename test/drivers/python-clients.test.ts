/**
 * Warre's Blazar and Nova clients next to the real python-blazarclient 3.5 and
 * python-novaclient 18.1 (Debian packages, driven as the Python Warre drives them):
 * the same calls go to the same recording fakes, and the requests must match —
 * method, path and query, headers, JSON body with its key order — and so must the
 * Blazar error texts that end up in a reservation's `status_reason`.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';

import { BlazarLeaseBackend, formatLeaseDate } from '../../src/drivers/blazar/client.js';
import { LeaseError, leaseName } from '../../src/drivers/lease-backend.js';
import { listServers } from '../../src/drivers/nova.js';
import { exampleLeaseRequest, FakeBlazar, futureMinute } from '../support/fake-blazar.js';
import { FakeNova } from '../support/fake-nova.js';
import type { RecordedRequest } from '../support/fake-openstack-http.js';
import { FakeSession } from '../support/fake-session.js';
import { ensureDebianPython, runScript } from '../support/python/oslo.js';

const TOKEN = 'token-1';

const fake = new FakeBlazar();
const nova = new FakeNova();

beforeAll(async () => {
  await ensureDebianPython('import blazarclient, novaclient, keystoneauth1', ['python3-blazarclient', 'python3-novaclient']);
  await fake.start();
  await nova.start();
}, 300_000);

afterAll(async () => {
  await fake.stop();
  await nova.stop();
});

beforeEach(() => {
  fake.reset();
  fake.leases.clear();
});

const future = futureMinute;
const request = exampleLeaseRequest();

/** What the Python Warre passes to lease.create for that reservation (docs/interop.md#blazar-requests). */
const pythonCreate = {
  op: 'create',
  name: leaseName(request.reservationId),
  start: formatLeaseDate(request.start),
  end: formatLeaseDate(request.end),
  reservations: [
    {
      resource_type: 'virtual:instance',
      amount: 2,
      vcpus: 4,
      memory_mb: 16384,
      disk_gb: 30,
      ephemeral_gb: 0,
      affinity: null,
      resource_properties: '["=", "$gpu", "a100"]',
      extra_specs: { 'resources:VGPU': '1', 'trait:CUSTOM_A100': 'required' },
    },
  ],
};

type PyResult = { ok?: unknown; error?: string; code?: number };

async function python(ops: Record<string, unknown>[]): Promise<PyResult[]> {
  const out = await runScript('blazar_calls.py', ['--endpoint', fake.url, '--token', TOKEN, '--ops', JSON.stringify(ops)]);
  return out
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as PyResult);
}

/** What a request says on the wire, minus what differs by HTTP library only. */
function wire(r: RecordedRequest) {
  const h = r.headers;
  return {
    method: r.method,
    path: r.path,
    headers: {
      'x-auth-token': h['x-auth-token'],
      accept: h['accept'],
      'user-agent': h['user-agent'],
      'content-type': h['content-type'],
      'openstack-api-version': h['openstack-api-version'],
      'x-openstack-nova-api-version': h['x-openstack-nova-api-version'],
      // Python's json.dumps spaces differ from JSON.stringify's; each length must match its body.
      'content-length matches': h['content-length'] === String(Buffer.byteLength(r.bodyText)),
    },
    // Parsed and re-serialised: same values, same key order.
    body: r.bodyText === '' ? '' : JSON.stringify(JSON.parse(r.bodyText)),
  };
}

async function ours<T>(p: Promise<T>): Promise<{ ok?: T; error?: string; code?: number | null }> {
  try {
    return { ok: await p };
  } catch (e) {
    if (e instanceof LeaseError) return { error: e.message, code: e.status };
    throw e;
  }
}

describe('Warre Blazar client = python-blazarclient 3.5 on the wire', () => {
  it('create, list, update end (get then put), delete: the same requests', async () => {
    const newEnd = formatLeaseDate(future(96));
    const py = await python([
      pythonCreate,
      { op: 'list' },
      { op: 'update_end', lease_id: '$last', end: newEnd },
      { op: 'delete', lease_id: '$last' },
    ]);
    expect(py.map((r) => r.error ?? 'ok')).toEqual(['ok', 'ok', 'ok', 'ok']);
    const fromPython = fake.requests.map(wire);
    expect(fromPython.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /v1/leases',
      'GET /v1/leases',
      'GET /v1/leases/' + (py[0]!.ok as { id: string }).id,
      'PUT /v1/leases/' + (py[0]!.ok as { id: string }).id,
      'DELETE /v1/leases/' + (py[0]!.ok as { id: string }).id,
    ]);

    fake.reset();
    fake.leases.clear();
    const blazar = new BlazarLeaseBackend({ interface: 'public' });
    const session = new FakeSession({ reservation: fake.url });
    const lease = await blazar.createLease(session, request);
    expect(await blazar.findLeaseByName(session, leaseName(request.reservationId))).toMatchObject({ id: lease.id });
    await blazar.updateLeaseEnd(session, lease.id, new Date(`${newEnd.replace(' ', 'T')}:00Z`));
    await blazar.deleteLease(session, lease.id);
    const fromWarre = fake.requests.map(wire).map((r) => ({ ...r, path: r.path.replace(lease.id, (py[0]!.ok as { id: string }).id) }));

    expect(fromWarre).toEqual(fromPython);
    // And what each made of Blazar's create answer: the lease id and the flavor id.
    const pyLease = py[0]!.ok as { id: string; reservations: { flavor_id: string }[] };
    expect(typeof pyLease.reservations[0]!.flavor_id).toBe('string');
    expect(lease.computeFlavor).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('the same error texts (what status_reason keeps): 500 no hosts, 400 bad dates, 409 duplicate name; 404 on delete', async () => {
    const blazar = new BlazarLeaseBackend();
    const session = new FakeSession({ reservation: fake.url });
    // python-blazarclient's exception keeps `code` 500 whatever the status (its class default),
    // so only the texts are compared; Warre keeps the real status to decide on retries.
    const cases: { name: string; status: number; python: Record<string, unknown>[]; warre: () => Promise<unknown>; before?: () => void }[] =
      [
        {
          name: 'no hosts',
          status: 500,
          before: () => fake.failNext(1, 500, 'Not enough hosts available'),
          python: [pythonCreate],
          warre: () => blazar.createLease(session, request),
        },
        {
          name: 'start in the past',
          status: 400,
          python: [{ ...pythonCreate, start: formatLeaseDate(future(-48)) }],
          warre: () => blazar.createLease(session, { ...request, start: future(-48) }),
        },
      ];
    for (const c of cases) {
      fake.reset();
      fake.leases.clear();
      c.before?.();
      const [py] = await python(c.python);
      fake.reset();
      fake.leases.clear();
      c.before?.();
      const w = await ours(c.warre());
      expect(py!.error, c.name).toBeDefined();
      expect(w.code, c.name).toBe(c.status);
      expect(w.error, c.name).toBe(py!.error);
    }

    // 404 on delete: Python raises; Warre sends the same request and counts it as done (docs/api.md#reservation-delete).
    fake.reset();
    const unknown = 'b0b5c2a4-0000-4000-8000-000000000000';
    const [gone] = await python([{ op: 'delete', lease_id: unknown }]);
    expect(gone!.error).toBe(`ERROR: Object with {'lease_id': '${unknown}'} not found`);
    const pythonDelete = fake.requests.map(wire);
    fake.reset();
    await expect(blazar.deleteLease(session, unknown)).resolves.toBeUndefined();
    expect(fake.requests.map(wire)).toEqual(pythonDelete);

    // A second create of the same reservation: 409 with the same words.
    fake.reset();
    fake.leases.clear();
    const [first, dup] = await python([pythonCreate, pythonCreate]);
    expect(first!.ok).toBeDefined();
    const w = await ours(blazar.createLease(session, request));
    expect(w).toEqual({ error: dup!.error, code: 409 });
  });
});

describe('Warre Nova call = python-novaclient 18.1 (microversion 2.87) on the wire', () => {
  it('servers.list(search_opts={all_tenants, tenant_id, flavor}): the same request, the same servers', async () => {
    const project = '9e8d7c6b5a4f43e2b1c0d9e8f7a6b5c4';
    const flavor = '0f9b6a5e-6c3f-4d2b-8f51-3c7e1f3a2d44';
    nova.servers = [
      { id: 's1', name: 'mine', tenant_id: project, flavorId: flavor },
      { id: 's2', name: 'other flavor', tenant_id: project, flavorId: 'f2' },
      { id: 's3', name: 'other project', tenant_id: 'p2', flavorId: flavor },
    ];
    nova.reset();
    const out = await runScript('nova_calls.py', ['--endpoint', nova.url, '--token', TOKEN, '--project', project, '--flavor', flavor]);
    expect(JSON.parse(out)).toEqual({ ok: ['s1'] });
    const fromPython = nova.requests.map(wire);
    nova.reset();
    const servers = await listServers(new FakeSession({ compute: nova.url }), { projectId: project, flavorId: flavor });
    expect(servers.map((s) => (s as { id: string }).id)).toEqual(['s1']);
    const fromWarre = nova.requests.map(wire);
    expect(fromWarre).toEqual(fromPython);
    // The microversion headers novaclient sends, on both.
    expect(nova.requests[0]!.headers['x-openstack-nova-api-version']).toBe('2.87');
    expect(nova.requests[0]!.headers['openstack-api-version']).toBe('compute 2.87');
  });
});
