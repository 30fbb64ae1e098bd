/**
 * Requests refused before routing (docs/operations.md "Slow and malformed requests"):
 * Node's HTTP parser rejects them, the API answers them in its one error shape
 * `{"error_message": …}` with an `X-Openstack-Request-Id`, and closes the connection.
 * Slow clients get 408 after `[api] request_timeout` / `headers_timeout` (short here).
 * Raw sockets, because no HTTP client sends such requests.
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.js';
import { NoAuthAuthenticator } from '../../src/auth/noauth.js';
import { PolicyEnforcer } from '../../src/policy/enforcer.js';
import { ConfigLimitsProvider } from '../../src/quota/config-limits.js';
import { migratedDatabase } from '../support/db.js';
import { type RawAnswer, rawRequest } from '../support/raw-http.js';

const REQUEST_MS = 1200;
const HEADERS_MS = 600;

let app: FastifyInstance;
let port: number;
let closeDb: () => Promise<void>;

beforeAll(async () => {
  const { db, close } = await migratedDatabase('sqlite');
  closeDb = close;
  const logger = pino({ level: process.env.WARRE_TEST_LOG ?? 'silent' });
  app = await buildApp({
    svc: {
      db,
      limits: new ConfigLimitsProvider({ quota: { default_reservation: 10, default_hours: 1000 }, projectLimits: new Map() }),
      leases: null,
      serviceSession: null,
      nudgeWorker: () => {},
      now: () => Date.now(),
      log: logger,
    },
    authenticator: new NoAuthAuthenticator(),
    policy: new PolicyEnforcer({ policyFile: null }),
    logger,
    timeouts: { requestMs: REQUEST_MS, headersMs: HEADERS_MS },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as AddressInfo).port;
});

afterAll(async () => {
  await app?.close();
  await closeDb?.();
});

const MEMBER_HEADERS = 'X-User-Id: u\r\nX-Project-Id: p\r\nX-Roles: member\r\n';

function expectApiError(res: RawAnswer, status: number, message: RegExp): void {
  expect(res.status, res.body).toBe(status);
  expect(res.headers['x-openstack-request-id']).toMatch(/^req-[0-9a-f-]{36}$/);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  const body = JSON.parse(res.body) as Record<string, unknown>;
  expect(Object.keys(body)).toEqual(['error_message']);
  expect(body.error_message).toMatch(message);
}

describe('errors answered before routing', () => {
  it('answers a request in the API shape when it is well formed (reference)', async () => {
    const res = await rawRequest(port, [`GET /v1/flavors/ HTTP/1.1\r\nHost: x\r\n${MEMBER_HEADERS}Connection: close\r\n\r\n`]);
    expect(res.status).toBe(200);
    expect(res.headers['x-openstack-request-id']).toMatch(/^req-/);
  });

  it('headers over 16 KiB: 431', async () => {
    const res = await rawRequest(port, [`GET /v1/flavors/ HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`]);
    expectApiError(res, 431, /headers are too large/);
  });

  it('a malformed request line: 400', async () => {
    for (const line of ['GET\r\n\r\n', 'BLAH /v1/ HTTP/1.1\r\n\r\n', 'GET /v1/flavors/ HTTP/9.x\r\n\r\n', 'GET  HTTP/1.1\r\n\r\n']) {
      const res = await rawRequest(port, [line]);
      expectApiError(res, 400, /Malformed HTTP request/);
    }
  });

  it('a bad character in a header name or value: 400', async () => {
    for (const h of ['X-Bad Name: 1', 'X-Bad\u0001: 1', 'X-Bad: a\u0000b']) {
      const res = await rawRequest(port, [Buffer.from(`GET /v1/flavors/ HTTP/1.1\r\nHost: x\r\n${h}\r\n\r\n`, 'latin1')]);
      expectApiError(res, 400, /Malformed HTTP request/);
    }
  });

  it('Content-Length with Transfer-Encoding: 400', async () => {
    const res = await rawRequest(port, [
      `POST /v1/flavors/ HTTP/1.1\r\nHost: x\r\n${MEMBER_HEADERS}Content-Type: application/json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    ]);
    expectApiError(res, 400, /Content-Length together with Transfer-Encoding/);
  });

  it('a raw 0xff byte in the URL: 400', async () => {
    const res = await rawRequest(port, [
      Buffer.concat([
        Buffer.from('GET /v1/flavors/'),
        Buffer.from([0xff]),
        Buffer.from(' HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
      ]),
    ]);
    expectApiError(res, 400, /Malformed HTTP request|not a valid URL/);
  });
});

describe('slow clients ([api] request_timeout, headers_timeout)', () => {
  it('answers 408 to a body trickled slower than request_timeout, and closes the connection', async () => {
    const started = Date.now();
    const body = '{"name": "slow", "vcpu": 1, "memory_mb": 1, "disk_gb": 1, "slots": 1}';
    const res = await rawRequest(
      port,
      [
        `POST /v1/flavors/ HTTP/1.1\r\nHost: x\r\n${MEMBER_HEADERS}Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`,
        ...body.split(''),
      ],
      { gapMs: 200, maxMs: 6000 },
    );
    expectApiError(res, 408, /not received in time/);
    // Answered after the limit, within the check interval (a fifth of the limit) and some slack.
    expect(Date.now() - started).toBeGreaterThanOrEqual(REQUEST_MS - 50);
    expect(res.closedAfterMs).toBeLessThan(REQUEST_MS + 1500);
  });

  it('answers 408 to headers trickled slower than headers_timeout', async () => {
    const head = `GET /v1/flavors/ HTTP/1.1\r\nHost: x\r\n${MEMBER_HEADERS}`;
    const res = await rawRequest(port, [...head.match(/[\s\S]{1,4}/g)!], { gapMs: 100, maxMs: 6000 });
    expectApiError(res, 408, /not received in time/);
    expect(res.closedAfterMs).toBeLessThan(HEADERS_MS + 1500);
  });

  it('closes a connection that sends nothing after headers_timeout', async () => {
    const res = await rawRequest(port, [], { maxMs: 6000 });
    expect(res.closedAfterMs).toBeLessThan(HEADERS_MS + 1500);
    if (res.status !== 0) expectApiError(res, 408, /not received in time/);
  });

  it('still serves requests sent at a normal pace afterwards', async () => {
    const res = await rawRequest(port, [`GET /v1/flavors/ HTTP/1.1\r\nHost: x\r\n${MEMBER_HEADERS}Connection: close\r\n\r\n`]);
    expect(res.status).toBe(200);
  });
});
