/**
 * `npm run bench`: seeds a database per dialect, starts `warre api` as a
 * separate process, loads it with autocannon (32 connections) and prints
 * Markdown tables (stdout) next to the Python service's numbers. Progress
 * goes to stderr.
 *
 * With --keystone: on one seeded database, two APIs run side by side, one
 * with `auth_strategy = noauth` and one with `= keystone` against a running
 * Keystone; each read scenario is measured on the first, then on the second
 * (warm token cache), and a table compares them.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { IDLE_MS } from '../cli/idle-heap.js';
import { openDatabase } from '../db/connect.js';
import { upgrade } from '../db/migrate.js';
import { type BenchArgs, type BenchDialect, parseArgs, USAGE, UsageError } from './args.js';
import { breakdown } from './breakdown.js';
import { compareRun } from './compare.js';
import { createBenchDatabase } from './databases.js';
import { Client } from './http.js';
import { type KeystoneBench, setupKeystoneBench } from './keystone.js';
import { type AuthPair, allInOneTable, type DbRun, dbTable, keystoneTable, type SingleResult } from './report.js';
import {
  type CreatesResult,
  type LoadResult,
  loadGenerator,
  loadScenarios,
  noauthHeaders,
  runCreates,
  runLoad,
  singleLatency,
} from './scenarios.js';
import { type Seeded, type SeedProjects, seed } from './seed.js';
import { type RunningServer, rssAfterIdle, startServer } from './server.js';

const CONNECTIONS = 32;
const CREATES = 200;
const SINGLE_REQUESTS = 20;
const IDLE_WAIT_MS = 5000;

const progress = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
const loadavg = () => os.loadavg().map((n) => Math.round(n * 100) / 100);

const KEYSTONE_URL = process.env.OS_AUTH_URL ?? 'http://127.0.0.1:5001/v3';
const KEYSTONE_PASSWORD = process.env.OS_PASSWORD ?? 'secret';

/** True when `GET <authUrl>` answers 200 within 5 s. */
async function keystoneAnswers(authUrl: string): Promise<boolean> {
  try {
    const res = await fetch(authUrl, { signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

const NO_KEYSTONE = (url: string) => `bench: no Keystone answers at ${url}.
--keystone needs a running Keystone whose admin (user "admin", project "admin",
domain Default) has the password in $OS_PASSWORD (default "secret").
Start the one the tests use (127.0.0.1:5001; installs the Debian packages the
first time, about a minute; uwsgi keeps running afterwards):
  npx vitest run test/drivers/keystone/keystone.test.ts
or point OS_AUTH_URL / OS_PASSWORD at another Keystone v3.
`;

/** Creates and seeds a database of this kind; the caller drops it. */
async function seededDatabase(dialect: BenchDialect, tmp: string, projects: SeedProjects = {}) {
  const dir = fs.mkdtempSync(path.join(tmp, `${dialect}-`));
  const bdb = await createBenchDatabase(dialect, dir);
  try {
    progress(`${bdb.version}: migrating and seeding`);
    const t0 = performance.now();
    const db = openDatabase(bdb.target);
    try {
      await upgrade(db);
      const seeded = await seed(db, Date.now(), projects);
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

async function benchDatabase(dialect: BenchDialect, args: BenchArgs, tmp: string): Promise<{ run: DbRun; version: string }> {
  const headers = noauthHeaders;
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
      const r = await runLoad(server.url, sc, headers, {
        duration: args.duration,
        connections: CONNECTIONS,
        load: args.load ?? 'autocannon',
      });
      progress(`  ${r.reqPerSec.toFixed(1)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, non-2xx ${r.non2xx}, errors ${r.errors}`);
      loads.push(r);
    }
    let creates: CreatesResult | null = null;
    if (wanted(`${CREATES} sequential creates`)) {
      progress(`${CREATES} sequential creates`);
      creates = await runCreates(server.url, seeded, headers, CREATES);
      progress(
        `  ${creates.perSec.toFixed(1)} creates/s, p50 ${creates.p50.toFixed(1)} ms, p99 ${creates.p99.toFixed(1)} ms, max ${creates.max.toFixed(1)} ms, ${creates.failures} failed${creates.firstFailure ? ` (first: ${creates.firstFailure})` : ''}`,
      );
    }
    const singles: SingleResult[] = [];
    for (const sc of scenarios.filter((x) => x.goal?.singleMs !== undefined && wanted(x.name))) {
      const ms = await singleLatency(server.url, sc, headers, SINGLE_REQUESTS);
      singles.push({ name: sc.name, ms, goalMs: sc.goal!.singleMs!, count: SINGLE_REQUESTS });
      progress(`  ${sc.name}, one request alone: ${ms.toFixed(1)} ms (median of ${SINGLE_REQUESTS})`);
    }
    const apiRss = server.rss();
    const loadAfter = loadavg();
    progress(`waiting for the API to fall idle (${(IDLE_MS + 3000) / 1000} s) to read its memory again`);
    const apiRssIdle = await rssAfterIdle(server);
    return {
      run: {
        label: bdb.version,
        workers: args.workers,
        loads,
        creates,
        singles,
        idleRss,
        apiRss,
        apiRssIdle,
        loadBefore,
        loadAfter,
        seedSeconds,
      },
      version: bdb.version,
    };
  } finally {
    await server?.stop();
    await bdb.drop().catch((err: Error) => progress(`could not drop the ${dialect} database: ${err.message}`));
  }
}

interface AuthRun {
  label: string;
  pairs: AuthPair[];
  loadBefore: number[];
  loadAfter: number[];
}

/** Checks that the keystone API refuses noauth headers, so the comparison really measures token auth. */
async function expectTokenRequired(base: string, seeded: Seeded): Promise<void> {
  const client = new Client(base);
  try {
    const h = await noauthHeaders({ projectId: seeded.memberProject, userId: 'bench-member', roles: ['member'] });
    const r = await client.request('GET', '/v1/flavors/', h);
    if (r.status !== 401)
      throw new Error(
        `the keystone API answered ${r.status} to a request without a token (expected 401): is it really under auth_strategy = keystone?`,
      );
  } finally {
    client.close();
  }
}

/**
 * The read scenarios on one seeded database, against a noauth API and a
 * keystone API running side by side: each scenario on the noauth one, then on
 * the keystone one, so both see about the same machine load.
 */
async function compareAuth(dialect: BenchDialect, args: BenchArgs, ks: KeystoneBench, tmp: string): Promise<AuthRun> {
  const { bdb, dir, db, seeded } = await seededDatabase(dialect, tmp, {
    memberProject: ks.projects.member,
    adminProject: ks.projects.admin,
    createProject: ks.projects.create,
  });
  await db.close();
  const servers: RunningServer[] = [];
  try {
    progress(`starting two warre api (${args.workers} workers each): auth_strategy = noauth and = keystone`);
    const common = { command: 'api', databaseUrl: bdb.url, dir, workers: args.workers, cpuProfDir: args.cpuProfDir } as const;
    const noauth = await startServer(common);
    servers.push(noauth);
    const keystone = await startServer({ ...common, env: ks.env });
    servers.push(keystone);
    await expectTokenRequired(keystone.url, seeded);
    await new Promise((r) => setTimeout(r, 1000));
    const loadBefore = loadavg();
    const pairs: AuthPair[] = [];
    const show = (r: LoadResult) =>
      `${r.reqPerSec.toFixed(1)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, non-2xx ${r.non2xx}, errors ${r.errors}`;
    for (const sc of loadScenarios(seeded).filter((x) => args.only === null || x.name.toLowerCase().includes(args.only))) {
      progress(`${sc.name}: ${args.duration} s at ${CONNECTIONS} connections, noauth then keystone`);
      const a = await runLoad(noauth.url, sc, noauthHeaders, {
        duration: args.duration,
        connections: CONNECTIONS,
        load: args.load ?? 'autocannon',
      });
      progress(`  noauth:   ${show(a)}`);
      const b = await runLoad(keystone.url, sc, ks.headers, {
        duration: args.duration,
        connections: CONNECTIONS,
        load: args.load ?? 'autocannon',
      });
      progress(`  keystone: ${show(b)}`);
      pairs.push({ noauth: a, keystone: b });
    }
    return { label: bdb.version, pairs, loadBefore, loadAfter: loadavg() };
  } finally {
    for (const server of servers.reverse()) await server.stop();
    await bdb.drop().catch((err: Error) => progress(`could not drop the ${dialect} database: ${err.message}`));
  }
}

/** The --keystone run: Keystone users, projects and tokens for the run, then every database. */
async function keystoneRuns(args: BenchArgs, tmp: string, out: string[]): Promise<void> {
  progress(`creating projects, users and tokens in Keystone at ${KEYSTONE_URL}`);
  const ks = await setupKeystoneBench({ authUrl: KEYSTONE_URL, adminPassword: KEYSTONE_PASSWORD });
  try {
    for (const dialect of args.dbs) {
      const run = await compareAuth(dialect, args, ks, tmp);
      out.push(
        `## ${run.label}: noauth vs Keystone tokens`,
        '',
        `Load average before: ${run.loadBefore.join(', ')}; after: ${run.loadAfter.join(', ')}.`,
        '',
        keystoneTable(run.pairs),
        '',
      );
    }
  } finally {
    progress('deleting the Keystone projects, users and service of this run');
    await ks.cleanup();
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
  args.load = loadGenerator(args.load);
  if (args.keystone && !(await keystoneAnswers(KEYSTONE_URL))) {
    process.stderr.write(NO_KEYSTONE(KEYSTONE_URL));
    process.exitCode = 2;
    return;
  }
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'warre-bench-'));
  const out: string[] = [
    '# Warre API benchmark',
    '',
    machine(),
    `- Command: \`npm run bench -- ${process.argv.slice(2).join(' ')}\``.replace(/ -- `$/, '`'),
    args.breakdown
      ? '- Mode: --breakdown (in-process, no server, one call at a time; mean of 20–200 calls after 3 unmeasured)'
      : `- Load: ${args.load === 'wrk' ? 'wrk -t2' : 'autocannon'}, ${CONNECTIONS} connections, ${args.duration} s per scenario after a 1 s warm-up, from the same machine; ${args.workers} API worker process(es); ${
          args.keystone
            ? `noauth headers, then Keystone tokens (${KEYSTONE_URL}, token validated once per worker, then cached)`
            : 'noauth headers'
        }`,
    '',
  ];
  try {
    if (args.keystone) {
      await keystoneRuns(args, tmp, out);
      process.stdout.write(`${out.join('\n')}\n`);
      return;
    }
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
      if (args.baseline !== null) {
        const { bdb, dir, db, seeded, seedSeconds } = await seededDatabase(dialect, tmp);
        await db.close();
        try {
          const loadBefore = loadavg();
          const body = await compareRun({
            args,
            databaseUrl: bdb.url,
            dir,
            seeded,
            connections: CONNECTIONS,
            creates: CREATES,
            singleRequests: SINGLE_REQUESTS,
            progress,
          });
          out.push(
            `## ${bdb.version}: before (${args.baseline}) and after`,
            '',
            `Seeded in ${seedSeconds.toFixed(1)} s. Load average before: ${loadBefore.join(', ')}; after: ${loadavg().join(', ')}.`,
            '',
            body,
            '',
          );
        } finally {
          await bdb.drop().catch((err: Error) => progress(`could not drop the ${dialect} database: ${err.message}`));
        }
        continue;
      }
      const { run } = await benchDatabase(dialect, args, tmp);
      out.push(
        `## ${run.label}`,
        '',
        `Seeded in ${run.seedSeconds.toFixed(1)} s. Load average before: ${run.loadBefore.join(', ')}; after: ${run.loadAfter.join(', ')}.`,
        '',
        dbTable(run),
        '',
      );
    }
    if (!args.cpuProfDir && !args.breakdown && args.only === null && args.baseline === null) {
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
