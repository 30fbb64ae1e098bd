/**
 * The measured scenarios. Each names who calls (an {@link Identity}); a
 * {@link HeaderProvider} turns that into request headers, so the same
 * scenarios run with noauth headers or (later) Keystone tokens.
 */
import autocannon from 'autocannon';
import { DAY, formatApi, HOUR } from '../domain/time.js';
import { Client, quantile } from './http.js';
import type { Seeded } from './seed.js';
import { runWrk, wrkInstalled } from './wrk.js';

export interface Identity {
  projectId: string;
  userId: string;
  roles: string[];
}

/** Request headers that authenticate `who` (called once per scenario, not per request). */
export type HeaderProvider = (who: Identity) => Promise<Record<string, string>>;

/** `auth_strategy = noauth`: the identity headers the API trusts. */
export const noauthHeaders: HeaderProvider = async (who) => ({
  'X-Project-Id': who.projectId,
  'X-User-Id': who.userId,
  'X-Roles': who.roles.join(','),
});

/** Python Warre on the same kind of 2-core machine (MariaDB, two uwsgi workers). */
export const PYTHON = {
  listFlavors: 292,
  memberReservations: 88,
  adminReservations: 18,
  freeSlots: { 100: 197, 1000: 41, 10000: 4.4 } as Record<number, number>,
  creates: 52,
  rssPerWorkerMb: [120, 150] as const,
};

export interface LoadScenario {
  name: string;
  who: Identity;
  path: string;
  /** Requests per second of the Python service, when known. */
  python: number | null;
  /** Goals of this line beyond 10× Python: req/s at 32 connections, and ms for one request alone. */
  goal?: { reqPerSec?: number; singleMs?: number };
  /** Checks one answer and says what it held (e.g. "40 rows"); throws when it is not what the scenario means to measure. */
  check(body: unknown): string;
}

export interface LoadResult {
  name: string;
  goal?: LoadScenario['goal'];
  reqPerSec: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  python: number | null;
  answer: string;
}

interface Page {
  results: unknown[];
  total: number;
}

function expectPage(body: unknown, rows: number, total?: number): string {
  const p = body as Page;
  if (!Array.isArray(p?.results)) throw new Error('answer is not a page of results');
  if (p.results.length !== rows) throw new Error(`expected ${rows} rows, got ${p.results.length}`);
  if (total !== undefined && p.total !== total) throw new Error(`expected total ${total}, got ${p.total}`);
  return `${p.results.length} rows`;
}

const date = (ms: number) => encodeURIComponent(formatApi(ms));

export function loadScenarios(s: Seeded): LoadScenario[] {
  const member: Identity = { projectId: s.memberProject, userId: 'bench-member', roles: ['member'] };
  const admin: Identity = { projectId: s.adminProject, userId: 'bench-admin', roles: ['admin', 'member'] };
  const list: LoadScenario[] = [
    {
      name: 'list flavors (member)',
      who: member,
      path: '/v1/flavors/',
      python: PYTHON.listFlavors,
      check: (b) => expectPage(b, s.memberFlavors),
    },
    {
      name: `list reservations (member, ${s.memberReservations} rows)`,
      who: member,
      path: '/v1/reservations/',
      python: PYTHON.memberReservations,
      check: (b) => expectPage(b, s.memberReservations, s.memberReservations),
    },
    {
      name: 'list all reservations (admin, 1,000 rows)',
      who: admin,
      path: '/v1/reservations/?all_projects=true&limit=1000',
      python: PYTHON.adminReservations,
      check: (b) => expectPage(b, 1000, s.totalReservations),
    },
  ];
  for (const f of s.freeSlotFlavors) {
    list.push({
      name: `free slots over ${f.count.toLocaleString('en-US')} reservations`,
      who: member,
      path: `/v1/flavors/${f.id}/freeslots?start=${date(f.windowStart)}&end=${date(f.windowEnd)}`,
      python: PYTHON.freeSlots[f.count] ?? null,
      ...(f.count === 10_000 ? { goal: { reqPerSec: 100, singleMs: 15 } } : {}),
      check: (b) => {
        if (!Array.isArray(b)) throw new Error('free slots answer is not a list');
        if (b.length < 2) throw new Error(`expected several free slots (busy stretches in the window), got ${b.length}`);
        return `${b.length} slots (${f.slots} slots flavor)`;
      },
    });
  }
  // docs/availability.md: every flavor the member may book, over the default 90 days, which
  // hold every effective reservation of the data set (the free-slot flavors' included).
  list.push(
    {
      name: `availability, ${s.memberFlavors} flavors × 90 days (${s.effectiveIn90Days.toLocaleString('en-US')} reservations)`,
      who: member,
      path: '/v1/availability/',
      python: null,
      goal: { singleMs: 30 },
      check: (b) => {
        const results = (b as { results?: { intervals: unknown[] }[] }).results;
        if (!Array.isArray(results) || results.length !== s.memberFlavors) throw new Error(`expected ${s.memberFlavors} flavors`);
        return `${results.length} flavors, ${results.reduce((n, r) => n + r.intervals.length, 0).toLocaleString('en-US')} intervals`;
      },
    },
    {
      name: `offers, ${s.memberFlavors} flavors (2 instances × 48 h)`,
      who: member,
      path: '/v1/offers/?instance_count=2&hours=48&limit=100',
      python: null,
      goal: { reqPerSec: 100, singleMs: 30 },
      check: (b) => {
        const results = (b as { results?: unknown[] }).results;
        if (!Array.isArray(results) || results.length === 0) throw new Error('expected offers');
        return `${results.length} offers`;
      },
    },
  );
  return list;
}

/**
 * Checks one answer, warms up for 1 s, then measures `duration` seconds at `connections`
 * connections with wrk (2 threads, as the side-by-side run) or autocannon.
 */
export async function runLoad(
  base: string,
  sc: LoadScenario,
  headers: HeaderProvider,
  opts: { duration: number; connections: number; load: 'wrk' | 'autocannon' },
): Promise<LoadResult> {
  const h = await headers(sc.who);
  const client = new Client(base);
  let answer: string;
  try {
    answer = sc.check(await client.getJson(sc.path, h));
  } finally {
    client.close();
  }
  const url = new URL(sc.path, base).toString();
  if (opts.load === 'wrk') {
    await runWrk(url, h, { connections: opts.connections, duration: 1 });
    await settle(base);
    const r = await runWrk(url, h, opts);
    await settle(base);
    return { name: sc.name, goal: sc.goal, ...r, python: sc.python, answer };
  }
  await autocannon({ url, headers: h, connections: opts.connections, duration: 1 });
  await settle(base);
  const r = await autocannon({ url, headers: h, connections: opts.connections, duration: opts.duration });
  await settle(base);
  return {
    name: sc.name,
    goal: sc.goal,
    reqPerSec: r.requests.total / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
    python: sc.python,
    answer,
  };
}

/** The load generator to use: the one asked for, else wrk when it is installed, else autocannon. */
export function loadGenerator(asked: 'wrk' | 'autocannon' | null): 'wrk' | 'autocannon' {
  if (asked === 'wrk' && !wrkInstalled()) throw new Error('--load wrk: wrk is not installed (apt-get install wrk)');
  return asked ?? (wrkInstalled() ? 'wrk' : 'autocannon');
}

/**
 * Waits until the API has worked off the requests the load generator left in flight
 * when it stopped (the server still answers them): until four requests in a
 * row, each on a new connection (so both workers are asked), answer within
 * 20 ms, or 20 s passed.
 */
export async function settle(base: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  let fast = 0;
  while (fast < 4 && Date.now() < deadline) {
    const client = new Client(base);
    try {
      const r = await client.request('GET', '/', {});
      fast = r.ms < 20 ? fast + 1 : 0;
    } catch {
      fast = 0;
    } finally {
      client.close();
    }
    if (fast === 0) await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface CreatesResult {
  count: number;
  perSec: number;
  p50: number;
  p99: number;
  max: number;
  failures: number;
  firstFailure: string | null;
}

/**
 * `count` creates one after another on one connection: each a 20-hour reservation on one of the
 * 10-slot flavors, spread over days so none runs out of capacity. Run `run` > 0 (a --baseline
 * comparison runs several on one database) books later days, so each finds the capacity the
 * first found, in a project of its own: a create reads its project's usage, whose cost grows
 * with the project's reservations, so every run starts from an empty project.
 */
export async function runCreates(base: string, s: Seeded, headers: HeaderProvider, count: number, run = 0): Promise<CreatesResult> {
  const projectId = run === 0 ? s.createProject : `${s.createProject.slice(0, 24)}${run.toString(16).padStart(8, '0')}`;
  const who: Identity = { projectId, userId: 'bench-creator', roles: ['member'] };
  const h = await headers(who);
  const client = new Client(base);
  const times: number[] = [];
  let failures = 0;
  let firstFailure: string | null = null;
  const n = s.tenSlotFlavors.length;
  const t0 = performance.now();
  try {
    for (let i = 0; i < count; i++) {
      const start = s.createBase + (run * Math.ceil(count / n) + Math.floor(i / n)) * DAY + (i % n) * HOUR;
      const body = { flavor_id: s.tenSlotFlavors[i % n], start: formatApi(start), end: formatApi(start + 20 * HOUR), instance_count: 1 };
      const r = await client.request('POST', '/v1/reservations/', h, body);
      times.push(r.ms);
      if (r.status < 200 || r.status > 299) {
        failures++;
        firstFailure ??= `${r.status} ${r.body.slice(0, 200)}`;
      }
    }
  } finally {
    client.close();
  }
  const elapsed = (performance.now() - t0) / 1000;
  return {
    count,
    perSec: count / elapsed,
    p50: quantile(times, 0.5),
    p99: quantile(times, 0.99),
    max: Math.max(...times),
    failures,
    firstFailure,
  };
}

/** Median of `count` sequential requests (after a few unmeasured ones). */
export async function singleLatency(base: string, sc: LoadScenario, headers: HeaderProvider, count: number): Promise<number> {
  const h = await headers(sc.who);
  const client = new Client(base);
  const times: number[] = [];
  try {
    for (let i = 0; i < count + 3; i++) {
      const r = await client.request('GET', sc.path, h);
      if (r.status !== 200) throw new Error(`GET ${sc.path} answered ${r.status}`);
      if (i >= 3) times.push(r.ms);
    }
  } finally {
    client.close();
  }
  return quantile(times, 0.5);
}
