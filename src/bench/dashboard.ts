/**
 * `npm run bench:dashboard` (docs/dashboard.md "Speed"): how long the portal's
 * Availability page takes from navigation to the timeline on screen, for 20
 * flavors over 4 weeks holding 10,000 reservations. A real `warre all` process
 * (built dist/, SQLite by default, `--db mysql` for MariaDB) and Debian's
 * Chromium (playwright-core); prints the median and the slowest of the runs.
 * `--screenshots` also saves docs/dashboard-availability.png (1440 px) and
 * docs/dashboard-availability-360.png (a phone) of that page.
 * A benchmark line, not a test: nothing here asserts a time.
 */

import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Insertable } from 'kysely';
import { chromium } from 'playwright-core';
import { openDatabase } from '../db/connect.js';
import { upgrade } from '../db/migrate.js';
import { insertFlavor } from '../db/repositories/flavors.js';
import type { ReservationTable } from '../db/schema.js';
import { DAY, HOUR, MINUTE } from '../domain/time.js';
import type { Flavor } from '../domain/types.js';
import type { BenchDialect } from './args.js';
import { createBenchDatabase } from './databases.js';

const WARRE_JS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', 'cli', 'warre.js');
const CHROMIUM = process.env.WARRE_CHROMIUM ?? '/usr/bin/chromium';
const FLAVORS = 20;
const RESERVATIONS = 10_000;
const RUNS = 7;
const PROJECT = 'bench-portal';

/** mulberry32: the same shapes on every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function flavor(i: number): Flavor {
  return {
    id: randomUUID(),
    name: `portal.f${String(i).padStart(2, '0')}`,
    description: 'dashboard benchmark flavor',
    vcpu: 2 ** (i % 5),
    memory_mb: 4096 * 2 ** (i % 5),
    disk_gb: 30,
    ephemeral_gb: 0,
    active: true,
    properties: null,
    max_length_hours: 504,
    slots: [20, 28, 36, 48][i % 4]!,
    is_public: true,
    extra_specs: {},
    start: null,
    end: null,
    category: i % 3 === 0 ? 'GPU' : 'compute',
    availability_zone: i % 4 === 0 ? 'az-2' : 'az-1',
  };
}

async function seed(target: Parameters<typeof openDatabase>[0], now: number): Promise<void> {
  const db = openDatabase(target);
  try {
    await upgrade(db, () => {});
    const rand = prng(8);
    const flavors = Array.from({ length: FLAVORS }, (_, i) => flavor(i));
    for (const f of flavors) await insertFlavor(db, f);
    const rows: Insertable<ReservationTable>[] = [];
    for (let i = 0; i < RESERVATIONS; i++) {
      const start = Math.floor((now + rand() * 28 * DAY) / MINUTE) * MINUTE;
      const end = start + (1 + Math.floor(rand() * 48)) * HOUR;
      rows.push({
        id: randomUUID(),
        user_id: 'bench-user',
        project_id: `bench-${i % 100}`,
        flavor_id: flavors[i % FLAVORS]!.id,
        lease_id: randomUUID(),
        status: 'ALLOCATED',
        start: db.codec.dt(start),
        end: db.codec.dt(end),
        instance_count: 1,
        status_reason: null,
        compute_flavor: randomUUID(),
        created_at: db.codec.dt(now - DAY),
      });
    }
    await db.kysely.transaction().execute(async (trx) => {
      for (let i = 0; i < rows.length; i += 500)
        await trx
          .insertInto('reservation')
          .values(rows.slice(i, i + 500))
          .execute();
    });
  } finally {
    await db.close();
  }
}

async function main(): Promise<void> {
  const dialect = (process.argv.includes('--db') ? process.argv[process.argv.indexOf('--db') + 1] : 'sqlite') as BenchDialect;
  if (!fs.existsSync(path.resolve(path.dirname(WARRE_JS), '..', 'dashboard', 'index.html'))) throw new Error('run "npm run build" first');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warre-bench-portal-'));
  const bench = await createBenchDatabase(dialect, dir);
  const now = Date.now();
  await seed(bench.target, now);

  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('WARRE_')) env[k] = v;
  Object.assign(env, {
    WARRE_DATABASE__CONNECTION: bench.url,
    WARRE_API__HOST: '127.0.0.1',
    WARRE_API__PORT: '0',
    WARRE_LOG_LEVEL: 'warn',
  });
  const child = spawn(process.execPath, [WARRE_JS, 'all'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`warre all did not start:\n${out}`)), 60_000);
    const check = () => {
      const m = /Portal:\s+(http:\/\/\S+)\/dashboard\//.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout.on('data', check);
    child.on('exit', () => reject(new Error(`warre all exited:\n${out}`)));
  });

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const times: number[] = [];
  /** From the availability answer received to the timeline painted. */
  const drawing: number[] = [];
  let rows = 0;
  let stretches = 0;
  try {
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    await context.addInitScript(
      `sessionStorage.setItem('warre.session', JSON.stringify({ kind: 'noauth', user: 'bench', project: '${PROJECT}', roles: ['member', 'reader'] }))`,
    );
    const page = await context.newPage();
    for (let run = 0; run < RUNS + 1; run++) {
      await page.goto(`${base}/dashboard/`, { waitUntil: 'commit' });
      // From navigation start (performance.now()'s origin) to the 20 rows drawn and painted.
      const ms = (await page.evaluate(
        `new Promise((resolve) => {
          const done = () => requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now())));
          const seen = () => document.querySelectorAll('[role=grid] [role=row][aria-label]').length >= ${FLAVORS};
          if (seen()) return done();
          const mo = new MutationObserver(() => { if (seen()) { mo.disconnect(); done(); } });
          mo.observe(document, { childList: true, subtree: true });
        })`,
      )) as number;
      if (run > 0) times.push(ms); // the first run warms the server's caches and the browser's
      const dataAt = (await page.evaluate(
        `(performance.getEntriesByType('resource').find((e) => e.name.includes('/v1/availability/')) || { responseEnd: 0 }).responseEnd`,
      )) as number;
      if (run > 0) drawing.push(ms - dataAt);
      if (process.env.WARRE_BENCH_DETAIL) {
        const detail = await page.evaluate(
          `performance.getEntriesByType('resource').map((e) => e.name.replace(location.origin, '').slice(0, 40) + ' ' + e.startTime.toFixed(0) + '→' + e.responseEnd.toFixed(0)).join('; ')`,
        );
        process.stdout.write(`  run ${run}: ${ms.toFixed(0)} ms; ${String(detail)}\n`);
      }
      rows = await page.locator('[role=grid] [role=row][aria-label]').count();
      stretches = await page.locator('[role=grid] button').count();
    }
    if (process.argv.includes('--screenshots')) {
      const docs = path.resolve(path.dirname(WARRE_JS), '..', '..', 'docs');
      // A stretch in focus shows the readout under the grid, as a keyboard user sees it.
      await page.locator('[role=grid] [role=row][aria-label] button[tabindex="0"]').first().focus();
      await page.screenshot({ path: path.join(docs, 'dashboard-availability.png'), fullPage: true });
      await page.setViewportSize({ width: 360, height: 740 });
      await page.reload();
      await page.locator('[role=grid] [role=row][aria-label]').first().waitFor();
      await page.screenshot({ path: path.join(docs, 'dashboard-availability-360.png'), fullPage: false });
    }
  } finally {
    await browser.close();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await bench.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
  times.sort((a, b) => a - b);
  drawing.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  const drawMedian = drawing[Math.floor(drawing.length / 2)]!;
  process.stdout.write(
    `Availability page, ${rows} flavors × 4 weeks, ${RESERVATIONS.toLocaleString('en')} reservations (${dialect}, ${stretches} stretches drawn): ` +
      `navigation → timeline on screen median ${median.toFixed(0)} ms, slowest ${times[times.length - 1]!.toFixed(0)} ms over ${times.length} runs ` +
      `(of which drawing after the availability answer: median ${drawMedian.toFixed(0)} ms; load average ${os.loadavg()[0]!.toFixed(1)})\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
