/**
 * Runs `count` copies of this process with node:cluster: the primary only
 * supervises (restarts a copy that dies, stops them all on SIGTERM/SIGINT).
 * Returns true in the primary (the caller does nothing more), false in a copy.
 */
import cluster from 'node:cluster';
import type { Logger } from 'pino';

/**
 * V8's young generation, per copy: at most 2 MiB per semi-space (Node's default on 64-bit is
 * 16 MiB). A request's garbage dies young either way; with the default, V8 grows the young
 * generation to 48 MiB under load and keeps it, which is most of what a copy holds above its
 * idle size. Measured in BENCHMARKS.md (memory): RSS per API process after the benchmark, and the
 * time spent in garbage collection. An operator's own `--max-semi-space-size` (in NODE_OPTIONS
 * or on the command line) wins.
 */
const SEMI_SPACE_MB = 2;

export function copyExecArgv(execArgv: readonly string[], nodeOptions = process.env.NODE_OPTIONS ?? ''): string[] {
  const set = (flag: string) => execArgv.some((a) => a.startsWith(flag)) || nodeOptions.includes(flag);
  return set('--max-semi-space-size') ? [...execArgv] : [...execArgv, `--max-semi-space-size=${SEMI_SPACE_MB}`];
}

/** A copy that dies this soon after it was started counts as failing to start. */
const QUICK_DEATH_MS = 10_000;
/** This many quick deaths in a row: something every copy trips on (configuration, database); give up. */
const MAX_QUICK_DEATHS = 5;

export async function supervise(count: number, log: Logger, what: string, precheck?: () => Promise<void>): Promise<boolean> {
  if (count <= 1 || !cluster.isPrimary) return false;
  // Fail once, here, on what would make every copy fail.
  await precheck?.();
  log.info({ processes: count }, `starting ${count} ${what} processes`);
  cluster.setupPrimary({ execArgv: copyExecArgv(process.execArgv) });
  const started = new Map<number, number>();
  const fork = () => {
    const w = cluster.fork();
    started.set(w.id, Date.now());
  };
  for (let i = 0; i < count; i++) fork();
  let stopping = false;
  let quickDeaths = 0;
  const stop = (code: number) => {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    setTimeout(() => process.exit(code), 5000).unref();
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(code);
  };
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(process.exitCode ?? 0);
      return;
    }
    const lived = Date.now() - (started.get(worker.id) ?? 0);
    started.delete(worker.id);
    quickDeaths = lived < QUICK_DEATH_MS ? quickDeaths + 1 : 0;
    if (quickDeaths >= MAX_QUICK_DEATHS) {
      log.fatal({ code, signal }, `${what} processes keep dying right after start; giving up (see the errors above)`);
      process.exitCode = 1;
      stop(1);
      return;
    }
    log.error({ pid: worker.process.pid, code, signal }, `${what} process died; starting another`);
    setTimeout(fork, 1000);
  });
  process.on('SIGTERM', () => stop(0));
  process.on('SIGINT', () => stop(0));
  return true;
}
