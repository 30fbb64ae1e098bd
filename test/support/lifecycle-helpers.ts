/**
 * Helpers for the reservation lifecycle tests (test/worker/, test/notification/): a recording
 * Messenger, seeding flavors and reservations straight into a database,
 * configuration files, real `warre` child processes, and an HTTP proxy that
 * can hold a service's answers (to kill a worker between Blazar's reply and
 * the database commit).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Logger as PinoLogger, pino } from 'pino';
import { afterAll } from 'vitest';

import { loadConfig, type WarreConfig } from '../../src/config/load.js';
import type { Db } from '../../src/db/connect.js';
import { insertFlavor } from '../../src/db/repositories/flavors.js';
import { insertReservation } from '../../src/db/repositories/reservations.js';
import type { NotificationEvent, UserMessageEvent } from '../../src/domain/lifecycle.js';
import type { Flavor, ReservationStatus, ReservationWithFlavor } from '../../src/domain/types.js';
import type { Messenger } from '../../src/notification/messenger.js';

export { type RecordingLogger, recordingLogger, waitFor } from './rabbit.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const WARRE_CLI = path.join(ROOT, 'dist', 'cli', 'warre.js');

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** Throws a clear message when `npm run build` has not been run. */
export function requireBuild(): void {
  if (!fs.existsSync(WARRE_CLI)) throw new Error(`${WARRE_CLI} is missing: run "npm run build" before the lifecycle tests`);
}

// ------------------------------------------------------------------ messages

export interface SentRecord {
  kind: 'user' | 'notify';
  event: UserMessageEvent | NotificationEvent;
  reservationId: string;
  /** The reservation's status when the message was sent. */
  status: ReservationStatus;
  reservation: ReservationWithFlavor;
}

/** A Messenger that only records what it is asked to send. */
export class RecordingMessenger implements Messenger {
  readonly sent: SentRecord[] = [];

  async userMessage(event: UserMessageEvent, r: ReservationWithFlavor): Promise<void> {
    this.sent.push({ kind: 'user', event, reservationId: r.id, status: r.status, reservation: r });
  }

  async notify(event: NotificationEvent, r: ReservationWithFlavor): Promise<void> {
    this.sent.push({ kind: 'notify', event, reservationId: r.id, status: r.status, reservation: r });
  }

  /** `kind:event` strings for one reservation, in order. */
  of(reservationId: string): string[] {
    return this.sent.filter((s) => s.reservationId === reservationId).map((s) => `${s.kind}:${s.event}`);
  }

  count(kind: SentRecord['kind'], event: string, reservationId?: string): number {
    return this.sent.filter(
      (s) => s.kind === kind && s.event === event && (reservationId === undefined || s.reservationId === reservationId),
    ).length;
  }
}

/** A pino logger keeping its lines as objects (for components typed with pino's Logger). */
export function capturePino(): { logger: PinoLogger; lines: Record<string, unknown>[]; find(text: string): Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { logger, lines, find: (text) => lines.filter((l) => String(l['msg']).includes(text)) };
}

// ------------------------------------------------------------------ data

export async function seedFlavor(db: Db, fields: Partial<Flavor> = {}): Promise<Flavor> {
  const f: Flavor = {
    id: randomUUID(),
    name: `lc-${randomUUID().slice(0, 8)}`,
    description: null,
    vcpu: 4,
    memory_mb: 16384,
    disk_gb: 30,
    ephemeral_gb: 0,
    active: true,
    properties: '["=", "$gpu", "a100"]',
    max_length_hours: 720,
    slots: 1000,
    is_public: true,
    extra_specs: { 'resources:VGPU': '1', 'trait:CUSTOM_A100': 'required' },
    start: null,
    end: Date.parse('2027-06-30T00:00:00Z'),
    category: 'GPU',
    availability_zone: 'melbourne-qh2',
    ...fields,
  };
  await insertFlavor(db, f);
  return f;
}

export interface SeedReservation {
  flavor: Flavor;
  projectId?: string;
  userId?: string;
  status?: ReservationStatus;
  start: number;
  end: number;
  instanceCount?: number;
  leaseId?: string | null;
  computeFlavor?: string | null;
  createdAt?: number;
}

/** Insert a reservation row; returns its id. */
export async function seedReservation(db: Db, s: SeedReservation): Promise<string> {
  const id = randomUUID();
  await insertReservation(db, {
    id,
    created_at: s.createdAt ?? Date.now(),
    user_id: s.userId ?? 'a3f5c8d2e1b04f6a9c7d8e9f0a1b2c3d',
    project_id: s.projectId ?? '9e8d7c6b5a4f43e2b1c0d9e8f7a6b5c4',
    flavor_id: s.flavor.id,
    lease_id: s.leaseId ?? null,
    compute_flavor: s.computeFlavor ?? null,
    status: s.status ?? 'PENDING_CREATE',
    status_reason: null,
    start: s.start,
    end: s.end,
    instance_count: s.instanceCount ?? 2,
  });
  return id;
}

export async function reservationRow(db: Db, id: string) {
  return db.kysely.selectFrom('reservation').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Status of every given reservation, by id. */
export async function statuses(db: Db, ids: string[]): Promise<Map<string, string>> {
  const rows = await db.kysely.selectFrom('reservation').select(['id', 'status']).where('id', 'in', ids).execute();
  return new Map(rows.map((r) => [r.id, r.status]));
}

/** The next whole minute at least `minMs` from now (reservation times are minute-aligned). */
export function nextMinute(minMs = 0, now = Date.now()): number {
  return Math.ceil((now + minMs) / MINUTE) * MINUTE;
}

// ------------------------------------------------------------------ configuration

export type IniSections = Record<string, Record<string, string | number | boolean | null | undefined>>;

let confDir: string | null = null;
let confCount = 0;

// The configuration files of a test file go when it is done.
afterAll(() => {
  if (confDir) fs.rmSync(confDir, { recursive: true, force: true });
  confDir = null;
});

/** Write a warre.conf into this test file's temporary directory; returns its path. */
export function writeConfig(sections: IniSections): string {
  confDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'warre-lc-conf-'));
  const file = path.join(confDir, `warre-${++confCount}.conf`);
  const text = Object.entries(sections)
    .map(([section, options]) => {
      const lines = Object.entries(options)
        .filter(([, v]) => v !== null && v !== undefined)
        .map(([k, v]) => `${k} = ${String(v)}`);
      return `[${section}]\n${lines.join('\n')}\n`;
    })
    .join('\n');
  fs.writeFileSync(file, text);
  return file;
}

/** A loaded configuration from these sections (as a file would give them). */
export function configFrom(sections: IniSections): WarreConfig {
  const file = writeConfig(sections);
  try {
    return loadConfig({ argv: ['--config-file', file], env: {}, defaultConfigFile: null });
  } finally {
    fs.rmSync(file, { force: true });
  }
}

// ------------------------------------------------------------------ processes

/** The environment of a child warre process: ours without any WARRE_* variable. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('WARRE_')) env[k] = v;
  return { ...env, ...extra };
}

/** A `node dist/cli/warre.js <command>` child; its pino JSON lines are parsed as they come. */
export class WarreProcess {
  readonly lines: Record<string, unknown>[] = [];
  stdout = '';
  stderr = '';
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private buffer = '';

  constructor(args: string[], env: Record<string, string> = {}) {
    requireBuild();
    this.child = spawn(process.execPath, [WARRE_CLI, ...args], { cwd: ROOT, env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d: Buffer) => {
      const text = d.toString();
      this.stdout += text;
      this.buffer += text;
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl).trim();
        this.buffer = this.buffer.slice(nl + 1);
        if (line.startsWith('{')) {
          try {
            this.lines.push(JSON.parse(line) as Record<string, unknown>);
          } catch {
            // not a log line
          }
        }
      }
    });
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
  }

  get pid(): number {
    return this.child.pid!;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Log lines whose `msg` contains `text` (and match `where`, if given). */
  find(text: string, where: Record<string, unknown> = {}): Record<string, unknown>[] {
    return this.lines.filter((l) => String(l['msg']).includes(text) && Object.entries(where).every(([k, v]) => l[k] === v));
  }

  /** Wait for a log line; fails early when the process exits. */
  async waitForLog(text: string, where: Record<string, unknown> = {}, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.find(text, where)[0];
      if (hit) return hit;
      if (!this.alive) throw new Error(`warre exited before logging "${text}":\n${this.stderr}\n${this.stdout.slice(-4000)}`);
      if (Date.now() > deadline)
        throw new Error(`warre did not log "${text}" within ${timeoutMs} ms:\n${this.stderr}\n${this.stdout.slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Send a signal (default SIGTERM) and wait for the exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 15_000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.alive) this.child.kill(signal);
    const timer = setTimeout(() => this.alive && this.child.kill('SIGKILL'), timeoutMs);
    const r = await this.exited;
    clearTimeout(timer);
    return r;
  }
}

// ------------------------------------------------------------------ holding proxy

interface HeldAnswer {
  res: http.ServerResponse;
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/**
 * An HTTP proxy to one upstream. Requests pass through; the upstream's answer to a
 * request matching `holdIf` is kept (the upstream has done its work, the client is
 * still waiting) until `release()`.
 */
export class HoldingProxy {
  holdIf: (method: string, path: string) => boolean = () => false;
  readonly held: HeldAnswer[] = [];
  private server: http.Server | null = null;
  private url = '';

  /** Root URL requests are forwarded to. */
  constructor(public upstream: string) {}

  async start(): Promise<string> {
    const server = http.createServer((req, res) => this.onRequest(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return this.url;
  }

  get rootUrl(): string {
    return this.url;
  }

  /** Answer everything held (to clients still connected) and stop holding. */
  release(): void {
    this.holdIf = () => false;
    for (const h of this.held.splice(0)) {
      if (!h.res.destroyed) {
        h.res.writeHead(h.status, h.headers);
        h.res.end(h.body);
      }
    }
  }

  async stop(): Promise<void> {
    this.release();
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const method = req.method ?? 'GET';
      const p = req.url ?? '/';
      const headers = { ...req.headers };
      delete headers.host;
      const up = http.request(`${this.upstream}${p}`, { method, headers, agent: false }, (ures) => {
        const body: Buffer[] = [];
        ures.on('data', (c: Buffer) => body.push(c));
        ures.on('end', () => {
          const answer: HeldAnswer = { res, status: ures.statusCode ?? 502, headers: ures.headers, body: Buffer.concat(body) };
          delete answer.headers['transfer-encoding'];
          delete answer.headers.connection;
          if (this.holdIf(method, p)) {
            this.held.push(answer);
            return;
          }
          res.writeHead(answer.status, answer.headers);
          res.end(answer.body);
        });
      });
      up.on('error', () => {
        res.writeHead(502);
        res.end();
      });
      up.end(Buffer.concat(chunks));
    });
  }
}

// ------------------------------------------------------------------ private broker

async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

async function portOpen(port: number): Promise<boolean> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A RabbitMQ node of this test's own (its own node name, ports, data directory, no
 * plugins), so it can be stopped and started without disturbing other test files on
 * the shared broker. Durable queues and persistent messages survive `restart()`.
 */
export class PrivateBroker {
  port = 0;
  /** The AMQPS listener's port, with `tls`. */
  sslPort = 0;
  private distPort = 0;

  /**
   * With `tls`: also an AMQPS listener presenting that certificate; with `requireClientCert`
   * it accepts only clients presenting a certificate signed by `caFile`.
   */
  constructor(private readonly tls?: { certFile: string; keyFile: string; caFile: string; requireClientCert?: boolean }) {}
  private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warre-lc-rmq-'));
  private readonly node = `warrelc${process.pid}x${Math.floor(Math.random() * 1e6)}@localhost`;
  private pid = 0;
  private readonly onExit = () => {
    if (this.pid && pidAlive(this.pid)) process.kill(this.pid, 'SIGKILL');
  };

  /** `rabbit://guest:guest@127.0.0.1:<port>/` plus an optional query. */
  transportUrl(query?: string): string {
    return `rabbit://guest:guest@127.0.0.1:${this.port}/${query ? `?${query}` : ''}`;
  }

  get amqpUrl(): string {
    return `amqp://guest:guest@127.0.0.1:${this.port}/`;
  }

  async start(timeoutMs = 90_000): Promise<void> {
    if (!this.port) {
      this.port = await freePort();
      this.distPort = await freePort();
      fs.writeFileSync(path.join(this.dir, 'enabled_plugins'), '[].\n');
      const conf = [`listeners.tcp.default = 127.0.0.1:${this.port}`, 'loopback_users = none'];
      if (this.tls) {
        this.sslPort = await freePort();
        conf.push(
          `listeners.ssl.default = 127.0.0.1:${this.sslPort}`,
          `ssl_options.cacertfile = ${this.tls.caFile}`,
          `ssl_options.certfile = ${this.tls.certFile}`,
          `ssl_options.keyfile = ${this.tls.keyFile}`,
          `ssl_options.verify = ${this.tls.requireClientCert ? 'verify_peer' : 'verify_none'}`,
          `ssl_options.fail_if_no_peer_cert = ${this.tls.requireClientCert ? 'true' : 'false'}`,
        );
      }
      fs.writeFileSync(path.join(this.dir, 'rabbitmq.conf'), conf.join('\n') + '\n');
      fs.writeFileSync(path.join(this.dir, 'env.conf'), '');
      process.on('exit', this.onExit);
    }
    const pidFile = path.join(this.dir, 'pid');
    fs.rmSync(pidFile, { force: true });
    const log = fs.openSync(path.join(this.dir, 'server.log'), 'a');
    const child = spawn('/usr/lib/rabbitmq/bin/rabbitmq-server', [], {
      cwd: this.dir,
      stdio: ['ignore', log, log],
      env: {
        ...process.env,
        HOME: this.dir,
        RABBITMQ_CONF_ENV_FILE: path.join(this.dir, 'env.conf'),
        RABBITMQ_NODENAME: this.node,
        RABBITMQ_NODE_PORT: String(this.port),
        RABBITMQ_DIST_PORT: String(this.distPort),
        RABBITMQ_CONFIG_FILE: path.join(this.dir, 'rabbitmq.conf'),
        RABBITMQ_ENABLED_PLUGINS_FILE: path.join(this.dir, 'enabled_plugins'),
        RABBITMQ_MNESIA_BASE: path.join(this.dir, 'mnesia'),
        RABBITMQ_LOG_BASE: path.join(this.dir, 'log'),
        RABBITMQ_PID_FILE: pidFile,
        ERL_EPMD_ADDRESS: '127.0.0.1',
      },
    });
    fs.closeSync(log);
    child.unref();
    const deadline = Date.now() + timeoutMs;
    while (!(await portOpen(this.port)) || (this.sslPort && !(await portOpen(this.sslPort)))) {
      if (Date.now() > deadline) throw new Error(`private RabbitMQ did not start; see ${path.join(this.dir, 'server.log')}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    this.pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
  }

  /** Graceful shutdown (SIGTERM to the node), waiting until it is gone. */
  async stop(timeoutMs = 60_000): Promise<void> {
    const pid = this.pid;
    if (!pid || !pidAlive(pid)) return;
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + timeoutMs;
    while (pidAlive(pid)) {
      if (Date.now() > deadline) {
        process.kill(pid, 'SIGKILL');
        break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    this.pid = 0;
  }

  async destroy(): Promise<void> {
    await this.stop();
    process.off('exit', this.onExit);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
