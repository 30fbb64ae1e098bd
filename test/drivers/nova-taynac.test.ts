import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { listServers, NovaError } from '../../src/drivers/nova.js';
import { sendMessage, TaynacError } from '../../src/drivers/taynac.js';
import { FakeNova } from '../support/fake-nova.js';
import { FakeSession } from '../support/fake-session.js';
import { FakeTaynac } from '../support/fake-taynac.js';

const PROJECT = '9e8d7c6b5a4f43e2b1c0d9e8f7a6b5c4';
const FLAVOR = '0f9b6a5e-6c3f-4d2b-8f51-3c7e1f3a2d44';

describe('Nova listServers', () => {
  const nova = new FakeNova();
  beforeAll(async () => {
    await nova.start();
  });
  afterAll(async () => {
    await nova.stop();
  });
  afterEach(() => {
    nova.reset();
    nova.servers = [];
  });

  it("sends exactly novaclient's request and returns the servers", async () => {
    nova.servers = [
      { id: 's1', name: 'mine', tenant_id: PROJECT, flavorId: FLAVOR },
      { id: 's2', name: 'other flavor', tenant_id: PROJECT, flavorId: 'f2' },
      { id: 's3', name: 'other project', tenant_id: 'p2', flavorId: FLAVOR },
    ];
    const session = new FakeSession({ compute: nova.url });
    const servers = await listServers(session, { projectId: PROJECT, flavorId: FLAVOR });

    expect(nova.requests).toHaveLength(1);
    const r = nova.requests[0]!;
    expect(r.method).toBe('GET');
    expect(r.path).toBe(`/v2.1/servers/detail?all_tenants=True&flavor=${FLAVOR}&tenant_id=${PROJECT}`);
    expect(r.headers['x-auth-token']).toBe('token-1');
    expect(r.headers['x-openstack-nova-api-version']).toBe('2.87');
    expect(r.headers['openstack-api-version']).toBe('compute 2.87');
    expect(r.headers['accept']).toBe('application/json');
    expect(r.headers['user-agent']).toBe('python-novaclient');
    expect(r.headers['content-type']).toBeUndefined();
    expect(r.bodyText).toBe('');
    expect(servers.map((s) => (s as { id: string }).id)).toEqual(['s1']);
    expect(session.endpointLookups).toEqual([{ serviceType: 'compute', interface: 'public', region: null }]);
  });

  it('returns an empty list when the project has no such servers', async () => {
    const servers = await listServers(new FakeSession({ compute: nova.url }), { projectId: PROJECT, flavorId: FLAVOR });
    expect(servers).toEqual([]);
  });

  it('throws on an error answer', async () => {
    nova.failNext(1, 403, 'Policy does not allow os_compute_api:servers:detail:get_all_tenants to be performed.');
    const e = await listServers(new FakeSession({ compute: nova.url }), { projectId: PROJECT, flavorId: FLAVOR }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(NovaError);
    expect((e as NovaError).status).toBe(403);
    expect((e as NovaError).message).toContain('get_all_tenants');
  });
});

describe('Taynac sendMessage', () => {
  const taynac = new FakeTaynac();
  beforeAll(async () => {
    await taynac.start();
  });
  afterAll(async () => {
    await taynac.stop();
  });
  afterEach(() => {
    taynac.reset();
    taynac.forbidden = false;
  });

  it('posts the message as python-taynacclient does and returns the backend id', async () => {
    const session = new FakeSession({ message: taynac.url });
    const res = await sendMessage(session, {
      subject: 'Nectar Reservation System Notification',
      body: '<p>hi</p>',
      recipient: 'alice@example.edu',
    });

    expect(res).toEqual({ backendId: '1895' });
    expect(taynac.requests).toHaveLength(1);
    const r = taynac.requests[0]!;
    expect(r.method).toBe('POST');
    expect(r.path).toBe('/v1/message/');
    expect(r.headers['x-auth-token']).toBe('token-1');
    expect(r.headers['content-type']).toBe('application/json');
    expect(r.headers['accept']).toBe('*/*');
    expect(r.headers['user-agent']).toMatch(/^python-taynacclient/);
    expect(Object.keys(r.body as object)).toEqual(['subject', 'body', 'recipient', 'cc']);
    expect(r.body).toEqual({
      subject: 'Nectar Reservation System Notification',
      body: '<p>hi</p>',
      recipient: 'alice@example.edu',
      cc: [],
    });
    expect(taynac.messages.map((m) => m.recipient)).toEqual(['alice@example.edu']);
    expect(session.endpointLookups).toEqual([{ serviceType: 'message', interface: 'public', region: null }]);
  });

  it('joins a catalog URL without a trailing slash with exactly one slash', async () => {
    await sendMessage(new FakeSession({ message: taynac.rootUrl }), { subject: 's', body: 'b', recipient: 'bob@example.org' });
    expect(taynac.requests[0]!.path).toBe('/v1/message/');
  });

  it("reports Taynac's validation errors", async () => {
    const e = await sendMessage(new FakeSession({ message: taynac.url }), { subject: 's', body: 'b', recipient: 'not-an-address' }).catch(
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(TaynacError);
    expect((e as TaynacError).status).toBe(422);
    expect((e as TaynacError).message).toBe('Taynac answered 422: {"recipient":["Not a valid email address."]}');
    expect(taynac.messages).toHaveLength(0);
  });

  it('reports a policy refusal', async () => {
    taynac.forbidden = true;
    const e = await sendMessage(new FakeSession({ message: taynac.url }), { subject: 's', body: 'b', recipient: 'bob@example.org' }).catch(
      (x: unknown) => x,
    );
    expect((e as TaynacError).status).toBe(403);
    expect((e as TaynacError).message).toBe('Taynac answered 403: Not authorised');
  });
});
