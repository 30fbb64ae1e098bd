/**
 * Gives memory back when an API process falls idle (docs/operations.md#memory). Under load V8
 * grows its young generation to the semi-space limit (8 MiB × 2) and keeps emptied pages for
 * reuse; its own memory reducer gives them back only after several seconds of low allocation,
 * and not always (an API copy stayed at 119–147 MB for 30 s after the benchmark).
 *
 * Once no request has been in flight for {@link IDLE_MS} and either the young generation has
 * grown past {@link YOUNG_BYTES} (it starts at 1 MiB) or the process's memory (RSS) has grown by
 * more than {@link SLACK_BYTES} since the last trim (the first idle spell after start-up always
 * trims), this runs two full collections: the first frees
 * the garbage, and — the idle time being longer than the 5 s over which V8 measures the
 * allocation rate — sees a low rate and shrinks the young generation; the second returns the
 * emptied pages to the system. About 40–90 ms of a process that has nothing else to do; a
 * request arriving meanwhile waits for it. Busy processes are never interrupted, and memory
 * that has not grown, or no request since the last trim, leaves it alone, so it does not repeat.
 * (Growth, not V8's free part: until a collection runs, garbage counts as used; and growth of
 * the process, not of V8's heap: a heap trimmed between two busy spells may end the second one
 * less than the slack above its floor while the process has grown by more.)
 *
 * Node offers a collection on demand only through `--expose-gc`; the flag is turned on just long
 * enough to fetch the function from a fresh context, so no `gc` global appears in the process.
 */
import type { Server } from 'node:http';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { Logger } from 'pino';

/** How long no request may have been in flight before the heap is trimmed (above V8's 5 s). */
export const IDLE_MS = 6000;
/** Growth of the process since the last trim that is worth a collection. */
export const SLACK_BYTES = 16 << 20;
/** A young generation this large has grown under load (1 MiB at start, 2 after a trim, 16 at most). */
export const YOUNG_BYTES = 4 << 20;

let cached: (() => void) | null | undefined;

/** V8's full collection (see above), or null where this Node does not offer it. */
export function fullGc(): (() => void) | null {
  if (cached !== undefined) return cached;
  try {
    v8.setFlagsFromString('--expose-gc');
    const fn = vm.runInNewContext('gc') as unknown;
    cached = typeof fn === 'function' ? (fn as () => void) : null;
  } catch {
    cached = null;
  } finally {
    v8.setFlagsFromString('--no-expose-gc');
  }
  return cached;
}

export interface IdleState {
  /** Requests not yet answered. */
  inFlight: number;
  /** Since the last request started or ended. */
  idleForMs: number;
  /** Requests started since the last trim. */
  requestsSinceTrim: number;
  /** V8's young generation (new space) now. */
  youngGeneration: number;
  /** The process's resident memory now. */
  rss: number;
  /** The same after the last trim; 0 before the first. */
  rssFloor: number;
}

/** The decision, apart from the clock and the heap: trim now? */
export function shouldTrim(s: IdleState, idleMs = IDLE_MS, slackBytes = SLACK_BYTES): boolean {
  return (
    s.inFlight === 0 &&
    s.requestsSinceTrim > 0 &&
    s.idleForMs >= idleMs &&
    (s.youngGeneration > YOUNG_BYTES || s.rss - s.rssFloor > slackBytes)
  );
}

function youngGeneration(): number {
  return v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
}

export interface IdleHeapTrimOptions {
  idleMs?: number;
  slackBytes?: number;
  /** Called just before the collections: let go of what is kept only for speed under load. */
  beforeTrim?: () => void;
}

export interface IdleHeapTrim {
  /** Trims done so far. */
  readonly trims: number;
  stop(): void;
}

/** Watches `server`'s requests and trims the heap when it falls idle (see above); null without a collection on demand. */
export function trimHeapWhenIdle(server: Server, log: Logger, opts: IdleHeapTrimOptions = {}): IdleHeapTrim | null {
  const gc = fullGc();
  if (!gc) return null;
  const idleMs = opts.idleMs ?? IDLE_MS;
  const slackBytes = opts.slackBytes ?? SLACK_BYTES;
  let inFlight = 0;
  let lastActivity = Date.now();
  let requestsSinceTrim = 0;
  let trims = 0;
  let rssFloor = 0;
  const onRequest = (_req: unknown, res: NodeJS.EventEmitter) => {
    inFlight++;
    requestsSinceTrim++;
    lastActivity = Date.now();
    res.once('close', () => {
      inFlight--;
      lastActivity = Date.now();
    });
  };
  server.on('request', onRequest);
  const timer = setInterval(
    () => {
      // The memory is read only once the process is idle: a busy one pays nothing for this.
      if (inFlight > 0 || requestsSinceTrim === 0 || Date.now() - lastActivity < idleMs) return;
      const state: IdleState = {
        inFlight,
        idleForMs: Date.now() - lastActivity,
        requestsSinceTrim,
        youngGeneration: youngGeneration(),
        rss: process.memoryUsage.rss(),
        rssFloor,
      };
      if (!shouldTrim(state, idleMs, slackBytes)) return;
      const before = v8.getHeapStatistics();
      requestsSinceTrim = 0;
      trims++;
      opts.beforeTrim?.();
      const t0 = performance.now();
      gc();
      gc();
      const after = v8.getHeapStatistics();
      rssFloor = process.memoryUsage.rss();
      log.debug(
        {
          ms: Math.round(performance.now() - t0),
          heapBeforeMb: Math.round(before.total_heap_size / 1048576),
          heapAfterMb: Math.round(after.total_heap_size / 1048576),
          rssBeforeMb: Math.round(state.rss / 1048576),
          rssAfterMb: Math.round(rssFloor / 1048576),
          youngBeforeMb: Math.round(state.youngGeneration / 1048576),
        },
        'idle: heap trimmed',
      );
    },
    Math.max(50, Math.floor(idleMs / 4)),
  );
  timer.unref();
  return {
    get trims() {
      return trims;
    },
    stop: () => {
      clearInterval(timer);
      server.off('request', onRequest);
    },
  };
}
