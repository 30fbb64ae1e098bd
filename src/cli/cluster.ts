/**
 * Runs `count` copies of this process with node:cluster: the primary only
 * supervises (restarts a copy that dies, stops them all on SIGTERM/SIGINT).
 * Returns true in the primary (the caller does nothing more), false in a copy.
 */
import cluster from 'node:cluster';
import type { Logger } from 'pino';

/**
 * V8's heap sizes for each copy (BENCHMARKS.md, memory). Node sizes a process's heap from the
 * machine's memory (about 4 GiB of old space on a 24 GiB host) and then lets garbage pile up far
 * below that: API copies grew to 150–250 MB after the benchmark. With an old space of 512 MiB and
 * 8 MiB semi-spaces V8 collects sooner and a copy stays near 105 MB, at no measured loss of
 * throughput; smaller sizes (256 MiB / 4 MiB) kept copies at 105–115 MB too but cost the
 * heaviest answers (availability, free slots over 1,000) 20–40 % of their throughput.
 * `npm start` (the all-in-one, one process a newcomer runs idle) uses 2 MiB semi-spaces: 79 MB idle
 * instead of 92. An operator's own flag (in NODE_OPTIONS or on the command line) wins.
 */
export const HEAP_FLAGS = { '--max-old-space-size': 512, '--max-semi-space-size': 8 } as const;

export function copyExecArgv(execArgv: readonly string[], nodeOptions = process.env.NODE_OPTIONS ?? ''): string[] {
  const set = (flag: string) => execArgv.some((a) => a.startsWith(flag)) || nodeOptions.includes(flag);
  const added = Object.entries(HEAP_FLAGS)
    .filter(([flag]) => !set(flag))
    .map(([flag, mb]) => `${flag}=${mb}`);
  return [...execArgv, ...added];
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
