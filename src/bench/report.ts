/** Markdown tables of the results, side by side with the Python service and the goals. */
import { type CreatesResult, type LoadResult, PYTHON } from './scenarios.js';
import type { ProcessRss } from './server.js';

/** Goals: every line ≥ 10× Python; lines may add their own (LoadScenario.goal); idle all-in-one < 120 MB. */
export const GOALS = {
  timesPython: 10,
  /** Under `auth_strategy = keystone` (warm token cache): at least this share of the noauth req/s. */
  keystoneShareOfNoauth: 0.85,
  /** Issue 11: the all-in-one idle, and each API worker after the whole run. */
  allInOneIdleMb: 90,
  apiWorkerMb: 120,
};

export interface SingleResult {
  name: string;
  /** Median of `count` requests one after another, ms. */
  ms: number;
  goalMs: number;
  count: number;
}

export interface DbRun {
  label: string;
  workers: number;
  loads: LoadResult[];
  /** Null when not run (--only). */
  creates: CreatesResult | null;
  /** Median single-request latency of the lines that have a goal for it (none when not run). */
  singles: SingleResult[];
  /** The API's primary process first, then its workers: 1 s after start, and after the run. */
  idleRss: ProcessRss[];
  apiRss: ProcessRss[];
  /** The same once the API fell idle (src/bench/server.ts, rssAfterIdle). */
  apiRssIdle: ProcessRss[];
  loadBefore: number[];
  loadAfter: number[];
  seedSeconds: number;
}

const MB = 1024 * 1024;

export function num(n: number): string {
  if (!Number.isFinite(n)) return '—';
  const digits = n >= 100 ? 0 : n >= 10 ? 1 : 2;
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

const ok = (pass: boolean) => (pass ? '✔' : '✘');

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`;
}

/** The table of one database run. */
export function dbTable(run: DbRun): string {
  const lines = [
    row(['Scenario', 'Answer', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx (errors)', 'Python req/s', '× Python', 'Goal']),
    row(['---', '---', '---:', '---:', '---:', '---:', '---:', '---:', '---']),
  ];
  for (const r of run.loads) {
    let target = r.python === null ? null : r.python * GOALS.timesPython;
    if (r.goal?.reqPerSec !== undefined) target = Math.max(target ?? 0, r.goal.reqPerSec);
    const ratio = r.python === null ? '—' : `${num(r.reqPerSec / r.python)}×`;
    const goal = target === null ? '—' : `≥ ${num(target)} ${ok(r.reqPerSec >= target && r.non2xx === 0 && r.errors === 0)}`;
    lines.push(
      row([
        r.name,
        r.answer,
        num(r.reqPerSec),
        num(r.p50),
        num(r.p99),
        `${r.non2xx}${r.errors ? ` (${r.errors})` : ''}`,
        r.python === null ? '—' : num(r.python),
        ratio,
        goal,
      ]),
    );
  }
  const c = run.creates;
  if (c !== null) {
    const target = PYTHON.creates * GOALS.timesPython;
    lines.push(
      row([
        `${c.count} sequential creates (1 connection)`,
        `${c.count - c.failures} created, ${c.failures} failed`,
        `${num(c.perSec)} creates/s`,
        num(c.p50),
        num(c.p99),
        String(c.failures),
        num(PYTHON.creates),
        `${num(c.perSec / PYTHON.creates)}×`,
        `≥ ${num(target)} ${ok(c.perSec >= target && c.failures === 0)}`,
      ]),
    );
  }
  const [lo, hi] = PYTHON.rssPerWorkerMb;
  const describe = (list: ProcessRss[]) => {
    const total = list.reduce((sum, p) => sum + p.rss, 0);
    const [primary, ...workers] = list;
    const split =
      workers.length > 0
        ? `primary ${num((primary?.rss ?? 0) / MB)} + workers ${workers.map((w) => num(w.rss / MB)).join(' + ')}`
        : 'one process';
    return `${num(total / MB)} MB (${split})`;
  };
  const python = `${lo}–${hi} MB per worker (${run.workers} workers: ${lo * run.workers}–${hi * run.workers} MB)`;
  const extra = ['', row(['Measure', 'Warre', 'Python', 'Goal']), row(['---', '---:', '---:', '---'])];
  for (const s of run.singles) {
    extra.push(
      row([`${s.name}: one request alone (median of ${s.count})`, `${num(s.ms)} ms`, '—', `< ${s.goalMs} ms ${ok(s.ms < s.goalMs)}`]),
    );
  }
  extra.push(row(['API RSS 1 s after start', describe(run.idleRss), python, '—']));
  extra.push(row(['API RSS right after the run', describe(run.apiRss), python, '—']));
  const perWorker = run.apiRssIdle.slice(1).map((w) => w.rss / MB);
  const idleGoal =
    perWorker.length > 0 ? `≤ ${GOALS.apiWorkerMb} MB per worker ${ok(perWorker.every((mb) => mb <= GOALS.apiWorkerMb))}` : '—';
  extra.push(row(['API RSS after the run, once idle', describe(run.apiRssIdle), python, idleGoal]));
  return lines.concat(extra).join('\n');
}

/** One read scenario measured against the noauth API and the keystone API. */
export interface AuthPair {
  noauth: LoadResult;
  keystone: LoadResult;
}

const failures = (r: LoadResult) => `${r.non2xx}${r.errors ? ` (${r.errors})` : ''}`;

/** noauth vs keystone, side by side; the goal is keystone within 15 % of noauth. */
export function keystoneTable(pairs: readonly AuthPair[]): string {
  const lines = [
    row([
      'Scenario',
      'noauth req/s',
      'keystone req/s',
      'keystone / noauth',
      'noauth p50 / p99 ms',
      'keystone p50 / p99 ms',
      'non-2xx (errors) noauth / keystone',
      'Goal',
    ]),
    row(['---', '---:', '---:', '---:', '---:', '---:', '---:', '---']),
  ];
  for (const { noauth, keystone } of pairs) {
    const share = keystone.reqPerSec / noauth.reqPerSec;
    const clean = [noauth, keystone].every((r) => r.non2xx === 0 && r.errors === 0);
    lines.push(
      row([
        noauth.name,
        num(noauth.reqPerSec),
        num(keystone.reqPerSec),
        `${(share * 100).toFixed(0)} %`,
        `${num(noauth.p50)} / ${num(noauth.p99)}`,
        `${num(keystone.p50)} / ${num(keystone.p99)}`,
        `${failures(noauth)} / ${failures(keystone)}`,
        `≥ ${(GOALS.keystoneShareOfNoauth * 100).toFixed(0)} % ${ok(share >= GOALS.keystoneShareOfNoauth && clean)}`,
      ]),
    );
  }
  return lines.join('\n');
}

export function allInOneTable(idleRss: number): string {
  const [lo, hi] = PYTHON.rssPerWorkerMb;
  return [
    row(['Measure', 'Warre', 'Python', 'Goal']),
    row(['---', '---:', '---:', '---']),
    row([
      '`warre all` on SQLite, idle RSS 5 s after start',
      `${num(idleRss / MB)} MB`,
      `${lo}–${hi} MB per API worker alone`,
      `≤ ${GOALS.allInOneIdleMb} MB ${ok(idleRss / MB <= GOALS.allInOneIdleMb)}`,
    ]),
  ].join('\n');
}
