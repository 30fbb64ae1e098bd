import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BusDecodeError,
  decodeBody,
  encodeBody,
  notificationMessage,
  parseNotification,
  parseRpcMessage,
  rpcCastMessage,
} from '../../../src/drivers/bus/envelope.js';
import { pyIsoformat, pyJsonDumps, pyStrDatetime, pyStrtime } from '../../../src/drivers/bus/python-json.js';
import { requestContextDict, rpcContext, sanitizeNotificationContext } from '../../../src/drivers/bus/request-context.js';
import { ceilometerEvent } from '../../../src/notification/ceilometer-events.js';
import { type ReservationForPayload, renderReservationPayload } from '../../../src/notification/reservation-payload.js';
import { ALICE_CONTEXT } from '../../support/contexts.js';
import { ensureOsloMessaging, runScript } from '../../support/python/oslo.js';

const reservation: ReservationForPayload = {
  id: '3c2b1a09-8f7e-4d6c-b5a4-9382716f5e4d',
  flavor: {
    id: '9d1c3e0a-5b7f-4c2d-8e6a-1f2b3c4d5e6f',
    name: 't3.medium',
    vcpu: 4,
    memory_mb: 16384,
    disk_gb: 30,
    ephemeral_gb: 0,
    active: true,
    category: 'GPU',
    availability_zone: 'melbourne-qh2',
    start: null,
    end: new Date('2027-06-30T00:00:00Z'),
  },
  user_id: 'a3f5c8d2e1b04f6a9c7d8e9f0a1b2c3d',
  project_id: '9e8d7c6b5a4f43e2b1c0d9e8f7a6b5c4',
  lease_id: '6b5b1e4c-2f1a-4d8e-9a0e-0d6f1f7c9b11',
  start: new Date('2026-12-01T00:00:00Z'),
  end: new Date('2026-12-03T00:00:00Z'),
  instance_count: 2,
};

const userContext = ALICE_CONTEXT;

describe('pyJsonDumps', () => {
  it('uses Python separators and escapes like ensure_ascii', () => {
    expect(pyJsonDumps({ a: [1, 'x', null, true], 'b"': { c: 'Zürich ☃ 😀\u007f\n\t\u0001/' }, e: {}, f: [] })).toBe(
      '{"a": [1, "x", null, true], "b\\"": {"c": "Z\\u00fcrich \\u2603 \\ud83d\\ude00\\u007f\\n\\t\\u0001/"}, "e": {}, "f": []}',
    );
    expect(pyJsonDumps(1e-7)).toBe('1e-07');
    expect(pyJsonDumps({ skip: undefined, keep: 0 })).toBe('{"keep": 0}');
    expect(() => pyJsonDumps(new Date())).toThrow(/render dates first/);
  });

  it('matches Python json.dumps byte for byte on random JSON values', async () => {
    await ensureOsloMessaging();
    const values = fc.sample(fc.jsonValue({ stringUnit: 'binary', maxDepth: 4 }), { numRuns: 300, seed: 20261125 });
    values.push('\ud800 lone surrogate', { '1': 'int-like key first', b: -0, c: 5e-324, d: 1.7976931348623157e308 }, [
      0.0001,
      0.00001,
      1e16,
      1.5e16,
      123.456,
      1e21,
      2 ** 60,
      -1e-7,
    ]);
    const python = JSON.parse(await runScript('json_dumps.py', [], { stdin: JSON.stringify(values) })) as string[];
    for (const [i, v] of values.entries()) expect(pyJsonDumps(v), JSON.stringify(v)).toBe(python[i]);
  });
});

describe('datetimes', () => {
  const t = Date.UTC(2026, 10, 25, 12, 33, 22) * 1000 + 986006;
  it('str(datetime): fraction only when non-zero', () => {
    expect(pyStrDatetime(t)).toBe('2026-11-25 12:33:22.986006');
    expect(pyStrDatetime(new Date('2026-11-25T12:33:22Z'))).toBe('2026-11-25 12:33:22');
    expect(pyStrDatetime(Date.UTC(2026, 0, 1) * 1000 + 5)).toBe('2026-01-01 00:00:00.000005');
  });
  it('messagingv2 strtime always has 6 digits; messaging isoformat only when non-zero', () => {
    expect(pyStrtime(new Date('2026-12-01T00:00:00Z'))).toBe('2026-12-01T00:00:00.000000');
    expect(pyIsoformat(new Date('2026-12-01T00:00:00Z'))).toBe('2026-12-01T00:00:00');
    expect(pyIsoformat(new Date('2026-12-01T00:00:00.120Z'))).toBe('2026-12-01T00:00:00.120000');
    expect(pyStrtime(t)).toBe('2026-11-25T12:33:22.986006');
  });
});

describe('reservation payload (docs/api.md#notification-payload, docs/interop.md#notifications)', () => {
  it('messagingv2', () => {
    expect(pyJsonDumps(renderReservationPayload(reservation, 'messagingv2'))).toBe(
      '{"id": "3c2b1a09-8f7e-4d6c-b5a4-9382716f5e4d", "flavor": {"id": "9d1c3e0a-5b7f-4c2d-8e6a-1f2b3c4d5e6f", ' +
        '"name": "t3.medium", "vcpu": 4, "memory_mb": 16384, "disk_gb": 30, "ephemeral_gb": 0, "active": true, ' +
        '"category": "GPU", "availability_zone": "melbourne-qh2", "start": null, "end": "2027-06-30T00:00:00.000000"}, ' +
        '"user_id": "a3f5c8d2e1b04f6a9c7d8e9f0a1b2c3d", "project_id": "9e8d7c6b5a4f43e2b1c0d9e8f7a6b5c4", ' +
        '"lease_id": "6b5b1e4c-2f1a-4d8e-9a0e-0d6f1f7c9b11", "start": "2026-12-01T00:00:00.000000", ' +
        '"end": "2026-12-03T00:00:00.000000", "instance_count": 2}',
    );
  });
  it('messaging (v1)', () => {
    const p = renderReservationPayload(reservation, 'messaging');
    expect(p.start).toBe('2026-12-01T00:00:00');
    expect((p.flavor as Record<string, unknown>).end).toBe('2027-06-30T00:00:00');
    expect(Object.keys(p)).toEqual(['id', 'flavor', 'user_id', 'project_id', 'lease_id', 'start', 'end', 'instance_count']);
    expect(Object.keys(p.flavor as object)).toHaveLength(11);
  });
});

describe('contexts', () => {
  it('the consumer context {client_timeout: null} sanitises to nothing', () => {
    expect(sanitizeNotificationContext({ client_timeout: null })).toEqual({});
    expect(sanitizeNotificationContext(null)).toEqual({});
    expect(sanitizeNotificationContext({ user_id: 'u', auth_token: 't', roles: [], service_roles: ['x'] })).toEqual({
      user_id: 'u',
      roles: [],
      service_roles: ['x'],
    });
  });

  it('a request context keeps the to_dict keys but never the token (example 2 shape)', () => {
    const c = sanitizeNotificationContext({ ...userContext, isAdminProject: false });
    expect(Object.keys(c)).toEqual([
      'user',
      'project_id',
      'system_scope',
      'project',
      'domain',
      'user_domain',
      'project_domain',
      'is_admin',
      'read_only',
      'show_deleted',
      'auth_token',
      'request_id',
      'global_request_id',
      'resource_uuid',
      'roles',
      'user_identity',
      'is_admin_project',
    ]);
    expect(c.auth_token).toBeNull();
    expect(c.is_admin_project).toBe(true);
    expect(c.user_identity).toBe('a3f5c8d2e1b04f6a9c7d8e9f0a1b2c3d 9e8d7c6b5a4f43e2b1c0d9e8f7a6b5c4 - default default');
  });

  it('RPC contexts are not sanitised', () => {
    expect(rpcContext(userContext).auth_token).toBe('gAAAAABexampletoken');
    expect(requestContextDict(userContext, { isAdmin: true }).is_admin).toBe(true);
  });
});

describe('building and parsing messages', () => {
  it('notification key order, upper-case priority, no _context_ keys for an empty context', () => {
    const inner = notificationMessage(
      {
        publisherId: null,
        eventType: 'warre.reservation.start',
        priority: 'info',
        payload: { when: new Date('2026-12-01T00:00:00Z') },
        messageId: '06c2d056-668c-41e5-8944-e0a3ee3ba2d8',
        uniqueId: 'd73cd888f5094b9da08b545b64979f9c',
        timestamp: Date.UTC(2026, 10, 25, 12, 33, 22) * 1000 + 986006,
        context: sanitizeNotificationContext({ client_timeout: null }),
      },
      'strtime',
    );
    expect(encodeBody(inner, true).toString()).toBe(
      '{"oslo.version": "2.0", "oslo.message": "{\\"message_id\\": \\"06c2d056-668c-41e5-8944-e0a3ee3ba2d8\\", ' +
        '\\"publisher_id\\": null, \\"event_type\\": \\"warre.reservation.start\\", \\"priority\\": \\"INFO\\", ' +
        '\\"payload\\": {\\"when\\": \\"2026-12-01T00:00:00.000000\\"}, \\"timestamp\\": \\"2026-11-25 12:33:22.986006\\", ' +
        '\\"_unique_id\\": \\"d73cd888f5094b9da08b545b64979f9c\\"}"}',
    );
    const parsed = parseNotification(encodeBody(inner, true));
    expect(parsed).toMatchObject({
      messageId: '06c2d056-668c-41e5-8944-e0a3ee3ba2d8',
      eventType: 'warre.reservation.start',
      priority: 'info',
      enveloped: true,
      context: {},
      metadata: { message_id: '06c2d056-668c-41e5-8944-e0a3ee3ba2d8', timestamp: '2026-11-25 12:33:22.986006' },
    });
    expect(parseNotification(encodeBody(inner, false)).enveloped).toBe(false);
  });

  it('generated ids: uuid4 message id, 32-hex unique id', () => {
    const inner = notificationMessage({ publisherId: 'x', eventType: 'e', priority: 'SAMPLE', payload: [] }, 'strtime');
    expect(inner.message_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(inner._unique_id).toMatch(/^[0-9a-f]{32}$/);
    expect(inner.timestamp).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?$/);
  });

  it('RPC cast (docs/interop.md#rpc-casts) round trip', () => {
    const inner = rpcCastMessage({
      method: 'create_lease',
      args: { reservation_id: reservation.id },
      version: '1.0',
      context: rpcContext(userContext),
      uniqueId: 'ada12a4f47d84d9499f1b300d5d7724b',
    });
    expect(Object.keys(inner).slice(0, 5)).toEqual(['method', 'args', 'version', '_unique_id', '_context_user']);
    const parsed = parseRpcMessage(encodeBody(inner, true));
    expect(parsed).toMatchObject({
      method: 'create_lease',
      args: { reservation_id: reservation.id },
      version: '1.0',
      uniqueId: 'ada12a4f47d84d9499f1b300d5d7724b',
      msgId: null,
    });
    expect(parsed.context.auth_token).toBe('gAAAAABexampletoken');
  });

  it('undecodable bodies are clear errors, with the message id when it can be seen', () => {
    expect(() => decodeBody(Buffer.from('not json'))).toThrow(BusDecodeError);
    expect(() => decodeBody(Buffer.from('[1, 2]'))).toThrow(/not a JSON object/);
    expect(() => decodeBody(Buffer.from([0xff, 0xfe]))).toThrow(/not UTF-8 JSON/);
    expect(() => decodeBody(Buffer.from('{"oslo.version": "3.0", "oslo.message": "{}"}'))).toThrow(/envelope version 3.0/);
    try {
      decodeBody(Buffer.from('{"oslo.version": "2.0", "oslo.message": "{\\"message_id\\": \\"0123abcd-aaaa\\", broken'));
      expect.fail('should throw');
    } catch (err) {
      expect(err).toBeInstanceOf(BusDecodeError);
      expect((err as BusDecodeError).messageId).toBe('0123abcd-aaaa');
    }
  });
});

describe('ceilometerEvent (a captured Ceilometer event, docs/interop.md#lease-events)', () => {
  const hop2 = {
    message_id: 'cd66429c-7cd6-44ba-ac23-2d89188664e3',
    publisher_id: 'telemetry.publisher.ceilo-host',
    event_type: 'event',
    priority: 'SAMPLE',
    payload: [
      {
        message_id: 'eac5c82e-d775-4d6a-a6c1-aa4641228709',
        event_type: 'lease.event.start_lease',
        generated: '2026-11-25T12:46:10.866919',
        traits: [
          ['service', 1, 'blazar.lease'],
          ['request_id', 1, 'req-b569ef99-24dd-440a-9597-fe3e9d34b8d6'],
          ['project_id', 1, 'fe0f6c00e6644455883594d0480ecba1'],
          ['user_id', 1, 'b6b498a5ad884004a72408d1cef60f64'],
          ['tenant_id', 1, 'fe0f6c00e6644455883594d0480ecba1'],
          ['lease_id', 1, 'd7d01207-5df7-4c67-8100-3ca4541429be'],
          ['start_date', 1, '2026-11-25T12:46:00.000000'],
          ['end_date', 1, '2026-11-25T12:49:00.000000'],
        ],
        raw: {},
        message_signature: 'cdbed59631fe22d80bf26e6c434fe29429747800c716fa0bb901f02e8a55885d',
      },
    ],
    timestamp: '2026-11-25 12:46:10.870631',
    _unique_id: '1c8e12b62425409995f18b3c9c8ce926',
  };

  it('reads the real event type and traits by name', () => {
    const n = parseNotification(encodeBody(hop2, true));
    expect(n.priority).toBe('sample');
    expect(n.context).toEqual({});
    const ev = ceilometerEvent(n)!;
    expect(ev.eventType).toBe('lease.event.start_lease');
    expect(ev.messageId).toBe('eac5c82e-d775-4d6a-a6c1-aa4641228709');
    expect(ev.traits.lease_id).toBe('d7d01207-5df7-4c67-8100-3ca4541429be');
    expect(ev.traits.service).toBe('blazar.lease');
  });

  it('null for payloads that are not events', () => {
    expect(ceilometerEvent({ payload: {} })).toBeNull();
    expect(ceilometerEvent({ payload: [] })).toBeNull();
    expect(ceilometerEvent({ payload: [{ traits: 'x' }] })).toBeNull();
  });
});
