/**
 * `npm run bench`: seeds a database per dialect, starts `warre api` as a
 * separate process, loads it with autocannon (32 connections) and prints
 * Markdown tables (stdout) next to the Python service's numbers. Progress
 * goes to stderr.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase } from '../db/connect.js';
import { upgrade } from '../db/migrate.js';
import { parseArgs, UsageError, USAGE, type BenchArgs, type BenchDialect } from './args.js';
import { createBenchDatabase } from './databases.js';
import { breakdown } from './breakdown.js';
import { allInOneTable, dbTable, type DbRun } from './report.js';
import { loadScenarios, noauthHeaders, runCreates, runLoad, singleLatency, type CreatesResult, type HeaderProvider, type LoadResult } from './scenarios.js';
import { seed } from './seed.js';
import { startServer, type RunningServer } from './server.js';

const CONNECTIONS = 32;
const CREATES = 200;
const SINGLE_REQUESTS = 20;
const IDLE_WAIT_MS = 5000;

const progress = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
const loadavg = () => os.loadavg().map((n) => Math.round(n * 100) / 100);

function headerProvider(args: BenchArgs): HeaderProvider {
  if (args.keystone) {
    // Placeholder: a Keystone variant returns { 'X-Auth-Token': <token for who> } here.
    throw new UsageError('--keystone is not available yet: only noauth headers are implemented');
  }
  return noauthHeaders;
}

/** Creates and seeds a database of this kind; the caller drops it. */
async function seededDatabase(dialect: BenchDialect, tmp: string) {
  const dir = fs.mkdtempSync(path.join(tmp, `${dialect}-`));
  const bdb = await createBenchDatabase(dialect, dir);
  try {
    progress(`${bdb.version}: migrating and seeding`);
    const t0 = performance.now();
    const db = openDatabase(bdb.target);
    try {
      await upgrade(db);
      const seeded = await seed(db, Date.now());
      const seedSeconds = (performance.now() - t0) / 1000;
      progress(`seeded ${seeded.totalReservations} reservations in ${seedSeconds.toFixed(1)} s`);
      return { bdb, dir, db, seeded, seedSeconds };
    } catch (err) {
      await db.close();
      throw err;
    }
  } catch (err) {
    await bdb.drop().catch(() => {});
    throw err;
  }
}

async function benchDatabase(dialect: BenchDialect, args: BenchArgs, headers: HeaderProvider, tmp: string): Promise<{ run: DbRun; version: string }> {
  const { bdb, dir, db, seeded, seedSeconds } = await seededDatabase(dialect, tmp);
  await db.close();
  let server: RunningServer | null = null;
  try {
    progress(`starting warre api (${args.workers} workers)`);

    server = await startServer({ command: 'api', databaseUrl: bdb.url, dir, workers: args.workers, cpuProfDir: args.cpuProfDir });
    await new Promise((r) => setTimeout(r, 1000));
    const idleRss = server.rss();
    const loadBefore = loadavg();
    const loads: LoadResult[] = [];
    const wanted = (name: string) => args.only === null || name.toLowerCase().includes(args.only);
    const scenarios = loadScenarios(seeded);
    for (const sc of scenarios.filter((x) => wanted(x.name))) {
      progress(`${sc.name}: ${args.duration} s at ${CONNECTIONS} connections`);
      const r = await runLoad(server.url, sc, headers, { duration: args.duration, connections: CONNECTIONS });
      progress(`  ${r.reqPerSec.toFixed(1)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, non-2xx ${r.non2xx}, errors ${r.errors}`);
      loads.push(r);
    }
    let creates: CreatesResult | null = null;
    if (wanted(`${CREATES} sequential creates`)) {
      progress(`${CREATES} sequential creates`);
      creates = await runCreates(server.url, seeded, headers, CREATES);
      progress(`  ${creates.perSec.toFixed(1)} creates/s, p50 ${creates.p50.toFixed(1)} ms, p99 ${creates.p99.toFixed(1)} ms, max ${creates.max.toFixed(1)} ms, ${creates.failures} failed${creates.firstFailure ? ` (first: ${creates.firstFailure})` : ''}`);
    }
    const last = scenarios[scenarios.length - 1]!;
    let single10kMs: number | null = null;
    if (wanted(last.name)) {
      single10kMs = await singleLatency(server.url, last, headers, SINGLE_REQUESTS);
      progress(`  ${last.name}, one request alone: ${single10kMs.toFixed(1)} ms (median of ${SINGLE_REQUESTS})`);
    }
    const apiRss = server.rss();
    const loadAfter = loadavg();
    return { run: { label: bdb.version, workers: args.workers, loads, creates, single10kMs, idleRss, apiRss, loadBefore, loadAfter, seedSeconds }, version: bdb.version };
  } finally {
    await server?.stop();
    await bdb.drop().catch((err: Error) => progress(`could not drop the ${dialect} database: ${err.message}`));
  }
}

/** RSS of an idle `warre all` on a fresh SQLite file, `IDLE_WAIT_MS` after it is up. */
async function allInOneIdleRss(tmp: string): Promise<number> {
  const dir = fs.mkdtempSync(path.join(tmp, 'all-'));
  const server = await startServer({ command: 'all', databaseUrl: `sqlite:///${path.join(dir, 'warre.db')}`, dir });
  try {
    await new Promise((r) => setTimeout(r, IDLE_WAIT_MS));
    return server.rss().reduce((sum, p) => sum + p.rss, 0);
  } finally {
    await server.stop();
  }
}

function machine(): string {
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  return [
    `- Date: ${new Date().toISOString().replace(/\.\d+Z$/, 'Z')}`,
    `- Machine: ${os.availableParallelism()} × ${cpu.trim()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, Linux ${os.release()}`,
    `- Node ${process.version}; load average at start: ${loadavg().join(', ')}`,
  ].join('\n');
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.help) {
    process.stdout.write(USAGE);
    return;
  }
  const headers = headerProvider(args);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'warre-bench-'));
  const out: string[] = [
    '# Warre API benchmark',
    '',
    machine(),
    `- Command: \`npm run bench -- ${process.argv.slice(2).join(' ')}\``.replace(/ -- `$/, '`'),
    args.breakdown
      ? '- Mode: --breakdown (in-process, no server, one call at a time; mean of 20–200 calls after 3 unmeasured)'
      : `- Load: autocannon, ${CONNECTIONS} connections, ${args.duration} s per scenario after a 1 s warm-up, from the same machine; ${args.workers} API worker process(es); noauth headers`,
    '',
  ];
  try {
    for (const dialect of args.dbs) {
      if (args.breakdown) {
        const { bdb, db, seeded } = await seededDatabase(dialect, tmp);
        try {
          progress('timing each step in-process');
          out.push(`## ${bdb.version}: where the time goes (in-process, one call at a time)`, '', await breakdown(db, seeded), '');
        } finally {
          await db.close();
          await bdb.drop();
        }
        continue;
      }
      const { run } = await benchDatabase(dialect, args, headers, tmp);
      out.push(`## ${run.label}`, '', `Seeded in ${run.seedSeconds.toFixed(1)} s. Load average before: ${run.loadBefore.join(', ')}; after: ${run.loadAfter.join(', ')}.`, '', dbTable(run), '');
    }
    if (!args.cpuProfDir && !args.breakdown && args.only === null) {
      progress('all-in-one idle RSS');
      out.push('## All-in-one', '', allInOneTable(await allInOneIdleRss(tmp)), '');
    }
    if (args.cpuProfDir) out.push(`CPU profile(s) written to ${path.resolve(args.cpuProfDir)}.`, '');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

main().catch((err: unknown) => {
  if (err instanceof UsageError) {
    process.stderr.write(`bench: ${err.message}\n\n${USAGE}`);
    process.exit(2);
  }
  process.stderr.write(`bench: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
