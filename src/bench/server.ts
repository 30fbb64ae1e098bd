/**
 * The Warre process under test, started as a separate `node dist/cli/warre.js`
 * child configured only through the environment (an empty configuration file
 * so /etc/warre/warre.conf is never read), and its memory use (VmRSS).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { IDLE_MS } from '../cli/idle-heap.js';

/** dist/cli/warre.js, next to this compiled file's dist/bench/. */
export const WARRE_JS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'cli', 'warre.js');

export interface ServerOptions {
  command: 'api' | 'all';
  /** `[database] connection`. */
  databaseUrl: string;
  /** Scratch directory: the empty config file, the log, the working directory. */
  dir: string;
  /** `[api] workers` (the `api` command only). */
  workers?: number;
  /** Extra `WARRE_*` variables. */
  env?: Record<string, string>;
  /** Write a V8 CPU profile into this directory when the process exits. */
  cpuProfDir?: string | null;
  /** Another build's dist/cli/warre.js (a --baseline run); default: this build's. */
  warreJs?: string;
}

export interface ProcessRss {
  pid: number;
  rss: number;
}

export interface RunningServer {
  url: string;
  pid: number;
  logFile: string;
  /** VmRSS (bytes) of the process, then of each of its children (the cluster workers). */
  rss(): ProcessRss[];
  stop(): Promise<void>;
}

/**
 * The node flags of `npm start` (package.json), with which the all-in-one is measured: the
 * process a newcomer starts.
 */
export function npmStartNodeFlags(): string[] {
  const pkg = JSON.parse(fs.readFileSync(path.resolve(path.dirname(WARRE_JS), '..', '..', 'package.json'), 'utf8')) as {
    scripts?: Record<string, string>;
  };
  const m = /^node((?: --[\w-]+(?:=\S+)?)*) dist\/cli\/warre\.js all$/.exec(pkg.scripts?.start ?? '');
  return m?.[1] ? m[1].trim().split(' ') : [];
}

/**
 * VmRSS of each process once the API has been idle long enough to trim its heap
 * (src/cli/idle-heap.ts): the wait is the same for any build, so an earlier one's own V8
 * memory reducer gets the same chance.
 */
export async function rssAfterIdle(server: Pick<RunningServer, 'rss'>): Promise<ProcessRss[]> {
  await new Promise((r) => setTimeout(r, IDLE_MS + IDLE_SETTLE_MS));
  return server.rss();
}
/** Beyond IDLE_MS: the trim's own timer tick and collections. */
const IDLE_SETTLE_MS = 3000;

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

/** VmRSS of one process in bytes (0 when it is gone). */
export function vmRss(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

function childPids(pid: number): number[] {
  try {
    return execFileSync('ps', ['--ppid', String(pid), '-o', 'pid='], { encoding: 'utf8' })
      .split('\n')
      .map((s) => Number(s.trim()))
      .filter((n) => n > 0);
  } catch {
    return []; // ps exits 1 when there are none
  }
}

/** Environment of the child: ours without any WARRE_* variable, plus the benchmark's. */
function childEnv(opts: ServerOptions, port: number, configFile: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('WARRE_')) env[k] = v;
  return {
    ...env,
    WARRE_CONFIG_FILE: configFile,
    WARRE_DATABASE__CONNECTION: opts.databaseUrl,
    WARRE_API__HOST: '127.0.0.1',
    WARRE_API__PORT: String(port),
    WARRE_API__WORKERS: String(opts.workers ?? 1),
    WARRE_DEFAULT__AUTH_STRATEGY: 'noauth',
    WARRE_WARRE__LEASE_BACKEND: 'simulator',
    WARRE_WARRE__USER_NOTIFIER: 'logging',
    // An absolute path that does not exist: no policy overrides, whatever is installed in /etc.
    WARRE_OSLO_POLICY__POLICY_FILE: path.join(opts.dir, 'no-policy.yaml'),
    // High enough for every create of the run.
    WARRE_QUOTA__DEFAULT_RESERVATION: '1000000',
    WARRE_QUOTA__DEFAULT_HOURS: '1000000000',
    ...opts.env,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts the process and resolves once every API process logs "listening". */
export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const port = await freePort();
  const configFile = path.join(opts.dir, 'warre.conf');
  fs.writeFileSync(configFile, '');
  const logFile = path.join(opts.dir, `warre-${opts.command}-${port}.log`);
  const log = fs.openSync(logFile, 'w');
  const nodeArgs = opts.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(opts.cpuProfDir)}`] : [];
  if (opts.command === 'all') nodeArgs.push(...npmStartNodeFlags());
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, opts.warreJs ?? WARRE_JS, opts.command], {
    cwd: opts.dir,
    env: childEnv(opts, port, configFile),
    stdio: ['ignore', log, log],
  });
  fs.closeSync(log);
  let exited: string | null = null;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = `exited with ${signal ?? `code ${code}`}`;
      resolve();
    }),
  );

  const listening = opts.command === 'api' ? /"msg":"warre-api listening"/g : /"msg":"warre all-in-one started"/g;
  const expected = opts.command === 'api' ? (opts.workers ?? 1) : 1;
  const deadline = Date.now() + 60_000;
  for (;;) {
    const text = fs.readFileSync(logFile, 'utf8');
    if ((text.match(listening) ?? []).length >= expected) break;
    if (exited !== null || Date.now() > deadline) {
      if (exited === null) child.kill('SIGKILL');
      const tail = text.split('\n').slice(-15).join('\n');
      throw new Error(`warre ${opts.command} ${exited ?? 'did not start within 60 s'}; log ${logFile}:\n${tail}`);
    }
    await sleep(100);
  }

  const pid = child.pid!;
  return {
    url: `http://127.0.0.1:${port}`,
    pid,
    logFile,
    rss() {
      return [pid, ...childPids(pid)].map((p) => ({ pid: p, rss: vmRss(p) }));
    },
    async stop() {
      if (exited !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exit;
      clearTimeout(timer);
    },
  };
}
