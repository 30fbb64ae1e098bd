/**
 * Running the built entry points (`dist/cli/warre.js`) as real processes for
 * the CLI and hardening tests: build once when dist/ is missing, a clean
 * environment (no /etc/warre/warre.conf, no WARRE_* of the caller), free
 * ports, waiting for output, and stopping a process with all its children.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const WARRE_JS = path.join(ROOT, 'dist/cli/warre.js');

/** `npm run build` unless dist/ already has the entry point (`npm test` builds first). */
export function ensureBuilt(): void {
  if (fs.existsSync(WARRE_JS)) return;
  execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'inherit' });
}

/** A TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

let emptyConf: string | null = null;

/** An empty configuration file: Warre reads it instead of /etc/warre/warre.conf. */
export function emptyConfigFile(): string {
  if (emptyConf === null) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warre-conf-'));
    emptyConf = path.join(dir, 'warre.conf');
    fs.writeFileSync(emptyConf, '');
  }
  return emptyConf;
}

/**
 * The environment of a Warre process: the caller's without any WARRE_* variable,
 * an empty config file (so no /etc file is read; production defaults then apply
 * unless overridden), and `extra`. Pass `WARRE_CONFIG_FILE: undefined` to use none.
 */
export function warreEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('WARRE_')) env[k] = v;
  env.WARRE_CONFIG_FILE = emptyConfigFile();
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run `node dist/cli/warre.js <args>` to completion. */
export async function runWarre(
  args: string[],
  env: NodeJS.ProcessEnv,
  opts: { cwd?: string; timeoutMs?: number; script?: string } = {},
): Promise<RunResult> {
  const p = startWarre(args, env, opts);
  const timer = setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
  const { code, signal } = await p.exited;
  clearTimeout(timer);
  return { code, signal, stdout: p.stdout(), stderr: p.stderr() };
}

export interface WarreProcess {
  child: ChildProcess;
  pid: number;
  stdout(): string;
  stderr(): string;
  /** Resolves once the output (stdout + stderr) matches `re` `count` times. */
  waitFor(re: RegExp, opts?: { count?: number; timeoutMs?: number }): Promise<string[]>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): void;
  /** SIGTERM, wait for the exit (SIGKILL after `graceMs`), then SIGKILL whatever is left of its process group. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Start `node dist/cli/warre.js <args>` (or another entry point of dist/cli,
 * e.g. `script: 'warre-manage.js'`) in its own process group, so its cluster
 * workers can be found and ended with it.
 */
export function startWarre(args: string[], env: NodeJS.ProcessEnv, opts: { cwd?: string; script?: string } = {}): WarreProcess {
  const script = opts.script ? path.join(ROOT, 'dist/cli', opts.script) : WARRE_JS;
  const child = spawn(process.execPath, [script, ...args], {
    cwd: opts.cwd ?? ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  child.stdout!.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    for (const l of listeners) l();
  });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => {
    err += d;
    for (const l of listeners) l();
  });
  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => {
      exitInfo = { code, signal };
      for (const l of listeners) l();
      resolve(exitInfo);
    });
  });
  const pid = child.pid!;
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // the group is already gone
    }
  };
  const proc: WarreProcess = {
    child,
    pid,
    stdout: () => out,
    stderr: () => err,
    waitFor(re, { count = 1, timeoutMs = 60_000 } = {}) {
      const global = new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`);
      return new Promise((resolve, reject) => {
        const check = () => {
          const matches = [...`${out}${err}`.matchAll(global)].map((m) => m[0]);
          if (matches.length >= count) {
            done();
            resolve(matches);
          } else if (exitInfo) {
            done();
            reject(new Error(`process exited (${JSON.stringify(exitInfo)}) before printing ${re}:\n${out}\n${err}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out waiting for ${re}:\n${out.slice(-4000)}\n${err.slice(-4000)}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    exited,
    kill: (signal) => {
      if (!exitInfo) child.kill(signal);
    },
    async stop(graceMs = 15_000) {
      if (!exitInfo) child.kill('SIGTERM');
      const timer = setTimeout(() => killGroup('SIGKILL'), graceMs);
      const info = await exited;
      clearTimeout(timer);
      killGroup('SIGKILL');
      return info;
    },
  };
  return proc;
}

/** Pids of the live processes in `pid`'s process group (Linux /proc). */
export function processGroupMembers(pgid: number): number[] {
  const members: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid pgrp …: comm may contain spaces, so split after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') members.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return members;
}

export interface HttpAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  json(): any;
}

/** One HTTP request on its own connection (no keep-alive agent shared with others). */
export function httpRequest(
  port: number,
  method: string,
  urlPath: string,
  headers: Record<string, string> = {},
  body?: unknown,
): Promise<HttpAnswer> {
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path: urlPath,
        agent: false,
        headers: {
          ...headers,
          connection: 'close',
          ...(payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: text,
            json: () => JSON.parse(text),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** Poll `GET /healthcheck` until it answers 200. */
export async function waitHealthy(port: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const r = await httpRequest(port, 'GET', '/healthcheck');
      if (r.status === 200) return;
      last = r.status;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`port ${port} not healthy: ${String(last)}`);
}
