/**
 * `npm run bench -- --baseline DIR`: before/after in one run. One seeded database, two APIs
 * side by side — the earlier build in DIR ("before") and this one ("after"), each with the same
 * `[api] workers` — and every line run against one, then the other, `rounds` times, so that a
 * change in the machine's load touches both alike (BENCHMARKS.md says how to read it).
 */
import path from 'node:path';
import { IDLE_MS } from '../cli/idle-heap.js';
import type { BenchArgs } from './args.js';
import { num } from './report.js';
import {
  type CreatesResult,
  type LoadResult,
  type LoadScenario,
  loadScenarios,
  noauthHeaders,
  runCreates,
  runLoad,
  singleLatency,
} from './scenarios.js';
import type { Seeded } from './seed.js';
import { type ProcessRss, type RunningServer, rssAfterIdle, startServer } from './server.js';

const MB = 1024 * 1024;

export interface CompareContext {
  args: BenchArgs;
  databaseUrl: string;
  dir: string;
  seeded: Seeded;
  connections: number;
  creates: number;
  singleRequests: number;
  progress(msg: string): void;
}

interface Side {
  loads: Map<string, LoadResult[]>;
  creates: CreatesResult[];
  singles: Map<string, number[]>;
  rss: ProcessRss[];
  /** The same once the API fell idle (src/bench/server.ts, rssAfterIdle). */
  rssIdle: ProcessRss[];
}

const newSide = (): Side => ({ loads: new Map(), creates: [], singles: new Map(), rss: [], rssIdle: [] });

function push<T>(m: Map<string, T[]>, key: string, v: T): void {
  const list = m.get(key) ?? [];
  list.push(v);
  m.set(key, list);
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/** Runs every wanted line before/after and returns the Markdown section body. */
export async function compareRun(ctx: CompareContext): Promise<string> {
  const { args, progress } = ctx;
  const baselineJs = path.resolve(args.baseline!, 'dist', 'cli', 'warre.js');
  const wanted = (name: string) => args.only === null || name.toLowerCase().includes(args.only);
  const scenarios = loadScenarios(ctx.seeded).filter((s) => wanted(s.name));
  const sides = { before: newSide(), after: newSide() };
  const servers: { before: RunningServer | null; after: RunningServer | null } = { before: null, after: null };
  let gc: number | null = null;
  let wall = 0;
  const t0 = performance.now();
  try {
    progress(`starting the baseline (${baselineJs}) and this build, ${args.workers} workers each`);
    servers.before = await startServer({
      command: 'api',
      databaseUrl: ctx.databaseUrl,
      dir: ctx.dir,
      workers: args.workers,
      warreJs: baselineJs,
    });
    servers.after = await startServer({ command: 'api', databaseUrl: ctx.databaseUrl, dir: ctx.dir, workers: args.workers });
    await new Promise((r) => setTimeout(r, 1000));
    // Which side goes first alternates from round to round: neither is always measured on a
    // machine the other just warmed (or loaded).
    const orderOf = (round: number) => (round % 2 === 1 ? (['before', 'after'] as const) : (['after', 'before'] as const));
    // Every load round first, then the creates: a create adds rows that a list's check counts.
    for (let round = 1; round <= args.rounds; round++) {
      const order = orderOf(round);
      for (const sc of scenarios) {
        for (const side of order) {
          const r = await runLoad(servers[side]!.url, sc, noauthHeaders, {
            duration: args.duration,
            connections: ctx.connections,
            load: args.load ?? 'autocannon',
          });
          progress(`round ${round} ${side.padEnd(6)} ${sc.name}: ${r.reqPerSec.toFixed(1)} req/s, p50 ${r.p50} ms (non-2xx ${r.non2xx})`);
          push(sides[side].loads, sc.name, r);
        }
      }
      for (const sc of scenarios.filter((s) => s.goal?.singleMs !== undefined)) {
        for (const side of order) {
          push(sides[side].singles, sc.name, await singleLatency(servers[side]!.url, sc, noauthHeaders, ctx.singleRequests));
        }
      }
    }
    if (wanted(`${ctx.creates} sequential creates`)) {
      for (let round = 1; round <= args.rounds; round++) {
        const order = orderOf(round);
        for (const side of order) {
          const run = (round - 1) * order.length + order.indexOf(side);
          const c = await runCreates(servers[side]!.url, ctx.seeded, noauthHeaders, ctx.creates, run);
          progress(
            `round ${round} ${side.padEnd(6)} creates: ${c.perSec.toFixed(1)}/s, ${c.failures} failed${c.firstFailure ? ` (${c.firstFailure})` : ''}`,
          );
          sides[side].creates.push(c);
        }
      }
    }
    sides.before.rss = servers.before.rss();
    sides.after.rss = servers.after.rss();
    gc = await gcSeconds(servers.after.url);
    wall = (performance.now() - t0) / 1000;
    progress(`waiting for both APIs to fall idle (${(IDLE_MS + 3000) / 1000} s) to read their memory again`);
    [sides.before.rssIdle, sides.after.rssIdle] = await Promise.all([rssAfterIdle(servers.before), rssAfterIdle(servers.after)]);
  } finally {
    await servers.before?.stop();
    await servers.after?.stop();
  }
  const table = compareTable(scenarios, sides.before, sides.after, ctx);
  if (gc === null) return table;
  // The "after" API's own count (prom-client's nodejs_gc_duration_seconds, summed over its workers).
  return `${table}\n\nGarbage collection in the "after" API: ${num(gc)} s over ${num(wall)} s of run, both workers together (${num((gc / (wall * args.workers)) * 100)} % of their time).`;
}

/** Seconds spent in garbage collection by every process behind `url` (its /metrics), or null. */
async function gcSeconds(url: string): Promise<number | null> {
  try {
    const res = await fetch(`${url}/metrics`);
    if (res.status !== 200) return null;
    let sum = 0;
    for (const line of (await res.text()).split('\n')) {
      if (line.startsWith('nodejs_gc_duration_seconds_sum')) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
    return sum;
  } catch {
    return null;
  }
}

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

function change(before: number, after: number, higherIsBetter: boolean): string {
  if (!(before > 0)) return '—';
  const pct = ((after - before) / before) * 100;
  const sign = pct >= 0 ? '+' : '';
  const better = higherIsBetter ? pct >= 0 : pct <= 0;
  return `${sign}${pct.toFixed(0)} %${Math.abs(pct) >= 5 ? (better ? ' ▲' : ' ▼') : ''}`;
}

function rounds(xs: readonly number[]): string {
  return xs.map((x) => num(x)).join(' / ');
}

function failures(rs: readonly { non2xx: number; errors: number }[]): number {
  return rs.reduce((n, r) => n + r.non2xx + r.errors, 0);
}

function compareTable(scenarios: readonly LoadScenario[], before: Side, after: Side, ctx: CompareContext): string {
  const lines = [
    row([
      'Line',
      'before req/s (each round)',
      'after req/s (each round)',
      'change (means)',
      'p50 ms before → after',
      'non-2xx before / after',
    ]),
    row(['---', '---:', '---:', '---:', '---:', '---:']),
  ];
  for (const sc of scenarios) {
    const b = before.loads.get(sc.name) ?? [];
    const a = after.loads.get(sc.name) ?? [];
    const bm = mean(b.map((r) => r.reqPerSec));
    const am = mean(a.map((r) => r.reqPerSec));
    lines.push(
      row([
        sc.name,
        rounds(b.map((r) => r.reqPerSec)),
        rounds(a.map((r) => r.reqPerSec)),
        change(bm, am, true),
        `${num(mean(b.map((r) => r.p50)))} → ${num(mean(a.map((r) => r.p50)))}`,
        `${failures(b)} / ${failures(a)}`,
      ]),
    );
  }
  if (before.creates.length > 0) {
    const bm = mean(before.creates.map((c) => c.perSec));
    const am = mean(after.creates.map((c) => c.perSec));
    const fails = (cs: CreatesResult[]) => cs.reduce((n, c) => n + c.failures, 0);
    lines.push(
      row([
        `${ctx.creates} sequential creates (creates/s)`,
        rounds(before.creates.map((c) => c.perSec)),
        rounds(after.creates.map((c) => c.perSec)),
        change(bm, am, true),
        `${num(mean(before.creates.map((c) => c.p50)))} → ${num(mean(after.creates.map((c) => c.p50)))}`,
        `${fails(before.creates)} / ${fails(after.creates)}`,
      ]),
    );
  }
  for (const [name, b] of before.singles) {
    const a = after.singles.get(name) ?? [];
    lines.push(
      row([
        `${name}: one request alone (ms, median of ${ctx.singleRequests})`,
        rounds(b),
        rounds(a),
        change(mean(b), mean(a), false),
        '—',
        '—',
      ]),
    );
  }
  const rss = (list: ProcessRss[]) => {
    const [primary, ...workers] = list;
    return `primary ${num((primary?.rss ?? 0) / MB)}, workers ${workers.map((w) => num(w.rss / MB)).join(' + ')} MB`;
  };
  lines.push('', row(['API RSS', 'before', 'after']), row(['---', '---', '---']));
  lines.push(row(['right after the run', rss(before.rss), rss(after.rss)]));
  lines.push(row(['after the run, once idle', rss(before.rssIdle), rss(after.rssIdle)]));
  return lines.join('\n');
}
