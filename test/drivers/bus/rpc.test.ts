/** RPC casts API → worker (docs/interop.md#rpc-casts), both directions with the real oslo.messaging. */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BusConnection } from '../../../src/drivers/bus/connection.js';
import { encodeBody, PUBLISH_PROPERTIES, rpcCastMessage } from '../../../src/drivers/bus/envelope.js';
import { RpcClient, RpcServer } from '../../../src/drivers/bus/rpc.js';
import { ALICE_CONTEXT } from '../../support/contexts.js';
import { ensureOsloMessaging, runScript, ScriptProcess } from '../../support/python/oslo.js';
import { createVhost, recordingLogger, type TestVhost, waitFor } from '../../support/rabbit.js';

let vh: TestVhost;
let conn: BusConnection;

beforeAll(async () => {
  await ensureOsloMessaging();
  vh = await createVhost('rpc');
  conn = BusConnection.fromUrl(vh.transportUrl(), {}, { name: 'rpc-test' }).start();
  await conn.whenConnected(10_000);
});

afterAll(async () => {
  await conn?.close();
  await vh?.delete();
});

const ctx = ALICE_CONTEXT;

type Call = { method: string; args: Record<string, unknown>; context: Record<string, unknown> };

describe('RPC casts', () => {
  it('a Python oslo.messaging RPC server (Warre worker target) gets our create_lease cast', async () => {
    const py = new ScriptProcess('rpc_server.py', ['--url', vh.transportUrl(), '--server', 'py-worker', '--count', '1', '--timeout', '40']);
    try {
      await py.ready();
      const client = new RpcClient(conn);
      expect(await client.castCreateLease('3c2b1a09-8f7e-4d6c-b5a4-9382716f5e4d', ctx)).toBe(true);
      const [line] = await py.waitForLines((l) => l.method === 'create_lease');
      expect(line!.reservation_id).toBe('3c2b1a09-8f7e-4d6c-b5a4-9382716f5e4d');
      expect(line!.ctxt).toMatchObject({
        user: ctx.userId,
        project_id: ctx.projectId,
        auth_token: 'gAAAAABexampletoken',
        request_id: ctx.requestId,
        roles: ['member', 'reader'],
        user_identity: `${ctx.userId} ${ctx.projectId} - default default`,
        is_admin_project: true,
        client_timeout: null,
      });
      await client.close();
      expect(await py.wait()).toBe(0);
    } finally {
      py.kill();
    }
  });

  it('our RpcServer gets casts from Python, from us (topic, server, fanout) and drops duplicates and garbage', async () => {
    const calls: Call[] = [];
    const logger = recordingLogger();
    const server = new RpcServer(conn, {
      server: 'ts-worker',
      logger,
      handler: async (method, args, context) => {
        calls.push({ method, args, context });
        if (args.reservation_id === 'boom') throw new Error('handler failure is only logged');
      },
    });
    await server.start();

    await runScript('oslo_publish_fixed.py', [], {
      stdin: JSON.stringify({
        url: vh.transportUrl(),
        kind: 'cast',
        method: 'create_lease',
        args: { reservation_id: 'from-python' },
        version: '1.0',
        context: { kind: 'request', values: { user_id: 'u-py', project_id: 'p-py', auth_token: 'tok-py', request_id: 'req-py' } },
        message_id: randomUUID(),
        unique_id: randomUUID().replace(/-/g, ''),
        timestamp: '2026-11-25T12:00:00',
      }),
    });
    await waitFor(() => calls.length === 1, 'the Python cast');
    expect(calls[0]).toMatchObject({
      method: 'create_lease',
      args: { reservation_id: 'from-python' },
      context: { user: 'u-py', project_id: 'p-py', auth_token: 'tok-py', request_id: 'req-py' },
    });

    const client = new RpcClient(conn);
    expect(await client.castCreateLease('boom', ctx)).toBe(true);
    expect(await client.cast(ctx, 'create_lease', { reservation_id: 'direct' }, { server: 'ts-worker' })).toBe(true);
    expect(await client.cast(null, 'create_lease', { reservation_id: 'everyone' }, { fanout: true })).toBe(true);
    await waitFor(() => calls.length === 4, 'three more casts');
    expect(calls.map((c) => c.args.reservation_id).sort()).toEqual(['boom', 'direct', 'everyone', 'from-python']);
    expect(calls.find((c) => c.args.reservation_id === 'everyone')!.context).toEqual({});
    expect(logger.lines.some((l) => l.level === 'error' && l.msg.includes('handler failure is only logged'))).toBe(true);

    const ch = await vh.channel();
    const dup = encodeBody(rpcCastMessage({ method: 'create_lease', args: { reservation_id: 'dup' }, version: '1.0' }), true);
    ch.publish('warre', 'warre-worker', dup, PUBLISH_PROPERTIES);
    ch.publish('warre', 'warre-worker', dup, PUBLISH_PROPERTIES);
    ch.publish('warre', 'warre-worker', Buffer.from('{"oslo.version": "2.0", "oslo.message": "{}"}'), PUBLISH_PROPERTIES);
    ch.publish(
      'warre',
      'warre-worker',
      encodeBody(rpcCastMessage({ method: 'create_lease', args: { reservation_id: 'last' } }), true),
      PUBLISH_PROPERTIES,
    );
    await waitFor(() => calls.some((c) => c.args.reservation_id === 'last'), 'the last cast');
    expect(calls.filter((c) => c.args.reservation_id === 'dup')).toHaveLength(1);
    expect(logger.lines.some((l) => l.msg.startsWith('Duplicate RPC message'))).toBe(true);
    expect(logger.lines.some((l) => l.msg.includes('RPC message without a "method"'))).toBe(true);
    await client.close();
    await server.stop();
  });
});
