/**
 * Keystone over HTTPS with keystoneauth's `cafile` / `insecure` options: the
 * real Keystone (test/support/keystone.ts) behind a TLS-terminating proxy whose
 * certificate is signed by a CA made here with openssl. Covers the API's token
 * validation ([keystone_authtoken]), the [service_auth] session, the calls it
 * makes to services (serviceRequest) and the worker's bot login.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

import { type Logger, pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { type RunningApi, startApiProcess } from '../../../src/cli/api.js';
import { createServiceSession } from '../../../src/cli/runtime.js';
import { botSessions } from '../../../src/cli/worker-parts.js';
import { loadConfig, type WarreConfig } from '../../../src/config/load.js';
import { SSLError, tlsOptions } from '../../../src/drivers/http.js';
import type { KeystoneAuthOptions } from '../../../src/drivers/keystone/options.js';
import { KeystoneSession, KeystoneUnavailableError } from '../../../src/drivers/keystone/session.js';
import { serviceRequest } from '../../../src/drivers/service-request.js';
import type { ServiceSession } from '../../../src/drivers/service-session.js';
import { createTestDatabase, type TestDatabase } from '../../support/db.js';
import * as ks from '../../support/keystone.js';
import { makeTestPki, type TestPki } from '../../support/pki.js';

let fx: ks.WarreFixtures;
let pki: TestPki;
let dir: string;
let confFile: string;
let proxy: https.Server;
let proxyUrl: string;
/** The same, but it requires a client certificate signed by the test CA. */
let mtlsProxy: https.Server;
let mtlsUrl: string;
/** TCP connections the proxy accepted (a refused handshake counts too). */
let connections = 0;
const running: { api: RunningApi; db: TestDatabase }[] = [];

beforeAll(async () => {
  fx = await ks.createWarreFixtures();
  pki = makeTestPki('keystone');
  // warre.conf lives next to the certificates: `cafile = ca.pem` is relative to it.
  dir = pki.dir;
  writeFileSync(join(dir, 'not-a-ca.pem'), 'hello\n');

  // TLS in front of the real Keystone: every request forwarded as is.
  const upstream = new URL(ks.keystoneUrl());
  const forward = (req: http.IncomingMessage, res: http.ServerResponse) => {
    // A connection per request: uwsgi drops idle keep-alive sockets (docs/interop.md#http-connections).
    const out = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, connection: 'close' },
        agent: false,
      },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    req.pipe(out);
  };
  const serverTls = { key: readFileSync(pki.serverKeyFile), cert: readFileSync(pki.serverCertFile) };
  proxy = https.createServer(serverTls, forward);
  proxy.on('connection', () => connections++);
  proxy.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `https://127.0.0.1:${(proxy.address() as AddressInfo).port}/v3`;
  mtlsProxy = https.createServer({ ...serverTls, ca: readFileSync(pki.caFile), requestCert: true, rejectUnauthorized: true }, forward);
  mtlsProxy.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => mtlsProxy.listen(0, '127.0.0.1', resolve));
  mtlsUrl = `https://127.0.0.1:${(mtlsProxy.address() as AddressInfo).port}/v3`;

  confFile = join(dir, 'warre.conf');
  const credentials = (section: string) => [
    `[${section}]`,
    `auth_url = ${proxyUrl}`,
    'username = admin',
    `password = ${fx.adminPassword}`,
    'user_domain_name = Default',
    'project_name = admin',
    'project_domain_name = Default',
    'region_name = RegionOne',
    // Relative: taken from the directory of this file.
    'cafile = ca.pem',
  ];
  writeFileSync(
    confFile,
    [
      '[DEFAULT]',
      'auth_strategy = keystone',
      '[api]',
      'host = 127.0.0.1',
      'workers = 1',
      ...credentials('keystone_authtoken'),
      'http_request_max_retries = 3',
      ...credentials('service_auth'),
      '[warre]',
      `bot_auth_url = ${proxyUrl}`,
      `bot_user_id = ${fx.bot.id}`,
      `bot_password = ${fx.bot.password}`,
      `bot_role_id = ${fx.bot.roleId}`,
      '',
    ].join('\n'),
  );
}, 900_000);

afterAll(async () => {
  for (const { api, db } of running.splice(0)) {
    await api.close().catch(() => undefined);
    await db.drop();
  }
  await new Promise<void>((resolve) => (proxy ? proxy.close(() => resolve()) : resolve()));
  await new Promise<void>((resolve) => (mtlsProxy ? mtlsProxy.close(() => resolve()) : resolve()));
  await fx?.cleanup();
  pki?.remove();
}, 120_000);

function config(env: Record<string, string> = {}): WarreConfig {
  return loadConfig({ argv: ['--config-file', confFile], env, defaultConfigFile: null });
}

async function startWarre(env: Record<string, string> = {}): Promise<{ url: string; logs: Record<string, any>[] }> {
  const db = await createTestDatabase('sqlite');
  const logs: Record<string, any>[] = [];
  const log: Logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  const api = await startApiProcess(config({ WARRE_DATABASE__CONNECTION: db.url, ...env }), log, { autoUpgrade: true, port: 0 });
  running.push({ api, db });
  return { url: api.url, logs };
}

async function flavors(url: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/v1/flavors/`, { headers: { 'X-Auth-Token': fx.member.token } });
  return { status: res.status, body: await res.json() };
}

const adminOpts = (extra: Partial<KeystoneAuthOptions> = {}): KeystoneAuthOptions => ({
  auth_url: proxyUrl,
  username: 'admin',
  password: fx.adminPassword,
  user_domain_name: 'Default',
  project_name: 'admin',
  project_domain_name: 'Default',
  ...extra,
});

describe('[keystone_authtoken] over HTTPS', () => {
  it('validates tokens through the CA of cafile (a path relative to warre.conf)', async () => {
    const w = await startWarre();
    const before = connections;
    const res = await flavors(w.url);
    expect(res.status).toBe(200);
    expect(Array.isArray(res.body.results)).toBe(true);
    expect(connections).toBeGreaterThan(before);
  });

  it('answers 503 when the certificate is refused: system CAs only, or a cafile of another CA', async () => {
    for (const cafile of ['', join(dir, 'other-ca.pem')]) {
      const w = await startWarre({ WARRE_KEYSTONE_AUTHTOKEN__CAFILE: cafile });
      const res = await flavors(w.url);
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ error_message: 'The Keystone service is temporarily unavailable.' });
      expect(
        w.logs.some((l) =>
          /Keystone's certificate was refused \(POST https:\/\/127\.0\.0\.1:\d+\/v3\/auth\/tokens\): .+; check cafile \/ insecure/.test(
            String(l.error ?? l.msg),
          ),
        ),
      ).toBe(true);
    }
  });

  it('accepts any certificate with insecure = true', async () => {
    const w = await startWarre({ WARRE_KEYSTONE_AUTHTOKEN__CAFILE: '', WARRE_KEYSTONE_AUTHTOKEN__INSECURE: 'true' });
    expect((await flavors(w.url)).status).toBe(200);
  });

  it('stops start-up on a missing or non-PEM cafile, naming the section and file', async () => {
    await expect(startWarre({ WARRE_KEYSTONE_AUTHTOKEN__CAFILE: 'nope.pem' })).rejects.toThrow(
      `[keystone_authtoken] cafile: cannot read ${join(dir, 'nope.pem')} (ENOENT)`,
    );
    await expect(startWarre({ WARRE_KEYSTONE_AUTHTOKEN__CAFILE: 'not-a-ca.pem' })).rejects.toThrow(
      `[keystone_authtoken] cafile: ${join(dir, 'not-a-ca.pem')} holds no PEM certificate`,
    );
  });

  it('does not retry a refused certificate (http_request_max_retries is for connection failures)', async () => {
    const s = new KeystoneSession(adminOpts(), { connectRetries: 3 });
    const before = connections;
    const err = await s.getToken().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeystoneUnavailableError);
    expect((err as KeystoneUnavailableError).kind).toBe('tls');
    expect(connections - before).toBe(1);
  });
});

describe('client certificates (certfile / keyfile)', () => {
  it('are presented to a Keystone that requires one; without them the handshake is refused', async () => {
    const withCert = new KeystoneSession(
      adminOpts({ auth_url: mtlsUrl, cafile: pki.caFile, certfile: pki.clientCertFile, keyfile: pki.clientKeyFile }),
    );
    expect(await withCert.getToken()).toMatch(/^\S{20,}$/);
    const without = new KeystoneSession(adminOpts({ auth_url: mtlsUrl, cafile: pki.caFile }), { connectRetries: 3 });
    const err = await without.getToken().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeystoneUnavailableError);
    expect((err as KeystoneUnavailableError).kind).toBe('tls');
  });

  it('a certfile that also holds its key needs no keyfile; a keyfile alone is refused at start-up', async () => {
    const both = join(dir, 'client-with-key.pem');
    writeFileSync(both, readFileSync(pki.clientCertFile, 'utf8') + readFileSync(pki.clientKeyFile, 'utf8'));
    const s = new KeystoneSession(adminOpts({ auth_url: mtlsUrl, cafile: pki.caFile, certfile: both }));
    expect(await s.getToken()).toMatch(/^\S{20,}$/);
    expect(() => new KeystoneSession(adminOpts({ keyfile: pki.clientKeyFile }), { section: 'service_auth' })).toThrow(
      '[service_auth] keyfile is set without certfile',
    );
    expect(() => new KeystoneSession(adminOpts({ certfile: pki.caFile }), { section: 'service_auth' })).toThrow(
      `[service_auth] certfile (no keyfile): ${pki.caFile} holds no PEM private key`,
    );
  });
});

describe('[service_auth] over HTTPS', () => {
  it('logs in through cafile, and the calls it makes to services use the same CAs', async () => {
    const session = createServiceSession(config(), pino({ level: 'silent' }))!;
    expect(await session.getToken()).toMatch(/^\S{20,}$/);
    // A service at the proxy's address: serviceRequest must take the session's TLS options.
    const at = (tls: ServiceSession['tls']): ServiceSession => ({
      ...(tls ? { tls } : {}),
      getToken: () => session.getToken(),
      getEndpoint: async () => proxyUrl,
      invalidate: () => session.invalidate(),
    });
    const ok = await serviceRequest(at(session.tls), {
      serviceType: 'identity',
      method: 'GET',
      path: 'auth/tokens',
      headers: { 'X-Subject-Token': await session.getToken() },
      timeoutMs: 10_000,
    });
    expect(ok.status).toBe(200);
    await expect(
      serviceRequest(at(undefined), { serviceType: 'identity', method: 'GET', path: 'projects', headers: {}, timeoutMs: 10_000 }),
    ).rejects.toBeInstanceOf(SSLError);
    await expect(
      serviceRequest(at(tlsOptions({ cafile: join(dir, 'other-ca.pem') }, 'service_auth')), {
        serviceType: 'identity',
        method: 'GET',
        path: 'projects',
        headers: {},
        timeoutMs: 10_000,
      }),
    ).rejects.toThrow(/^SSL exception connecting to https:\/\/127\.0\.0\.1:\d+\/v3\/projects: /);
  });

  it('the bot logs in at an HTTPS bot_auth_url with [service_auth] cafile', async () => {
    const session = createServiceSession(config(), pino({ level: 'silent' }))!;
    const bot = (await botSessions(config(), session)(fx.project.id))!;
    expect(bot.tls).toBe(session.tls);
    const access = await (bot as KeystoneSession).getAccess();
    expect(access.project?.id).toBe(fx.project.id);
    expect(access.user.id).toBe(fx.bot.id);
  });
});
