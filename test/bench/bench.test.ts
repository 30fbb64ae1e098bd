import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from '../../src/bench/args.js';
import { quantile } from '../../src/bench/http.js';
import { dbTable, keystoneTable } from '../../src/bench/report.js';
import { loadScenarios } from '../../src/bench/scenarios.js';
import { FREE_SLOT_COUNTS, type Seeded, seed } from '../../src/bench/seed.js';
import { type Db, openDatabase } from '../../src/db/connect.js';
import { upgrade } from '../../src/db/migrate.js';
import * as flavors from '../../src/db/repositories/flavors.js';
import { flavorOccupancy } from '../../src/db/repositories/occupancy.js';
import * as reservations from '../../src/db/repositories/reservations.js';
import { freeSlots } from '../../src/domain/capacity.js';

describe('bench arguments', () => {
  it('defaults to sqlite then mysql, 10 s, 2 workers', () => {
    expect(parseArgs([])).toMatchObject({ dbs: ['sqlite', 'mysql'], duration: 10, workers: 2, keystone: false, only: null });
  });
  it('reads every flag, both spellings', () => {
    expect(parseArgs(['--db', 'all', '--duration=3', '--workers', '4', '--keystone'])).toMatchObject({
      dbs: ['sqlite', 'mysql', 'postgres'],
      duration: 3,
      workers: 4,
      keystone: true,
    });
    expect(parseArgs(['--db=postgres']).dbs).toEqual(['postgres']);
  });
  it('does not combine --breakdown with --keystone', () => {
    expect(() => parseArgs(['--keystone', '--breakdown'])).toThrow(/does not combine with --keystone/);
  });
  it('profiles one process', () => {
    expect(parseArgs(['--cpu-prof', '/tmp/p', '--workers', '2'])).toMatchObject({ cpuProfDir: '/tmp/p', workers: 1 });
  });
  it('refuses bad values and unknown flags', () => {
    expect(() => parseArgs(['--db', 'oracle'])).toThrow(UsageError);
    expect(() => parseArgs(['--duration', '0'])).toThrow(/positive integer/);
    expect(() => parseArgs(['--duration'])).toThrow(/positive integer/);
    expect(() => parseArgs(['--fast'])).toThrow(/unknown argument/);
  });
});

describe('quantile', () => {
  it('is nearest-rank', () => {
    expect(quantile([5, 1, 3, 2, 4], 0.5)).toBe(3);
    expect(quantile([1, 2, 3, 4], 0.99)).toBe(4);
    expect(quantile([7], 0.01)).toBe(7);
  });
});

describe('seeded data set (SQLite)', () => {
  let db: Db;
  let s: Seeded;
  const now = Date.UTC(2030, 0, 15, 12, 0, 0);

  beforeAll(async () => {
    db = openDatabase({ dialect: 'sqlite', filename: ':memory:' });
    await upgrade(db);
    s = await seed(db, now);
  });
  afterAll(() => db.close());

  it('has 2,000 spread reservations plus the free-slot ones', async () => {
    expect(s.totalReservations).toBe(2000 + FREE_SLOT_COUNTS.reduce((a, b) => a + b, 0));
    const n = await db.kysely
      .selectFrom('reservation')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(n.n)).toBe(s.totalReservations);
    expect(s.memberReservations).toBe(40);
    const mine = await reservations.listReservations(db, { projectId: s.memberProject }, { limit: 1000, offset: 0 });
    expect(mine.total).toBe(40);
  });

  it('has 20 flavors (5 with 10 slots) and the member sees the public and granted ones', async () => {
    expect(s.tenSlotFlavors).toHaveLength(5);
    const all = await flavors.listFlavors(db, { visibleToProject: null }, { limit: 1000, offset: 0 });
    expect(all.total).toBe(20 + FREE_SLOT_COUNTS.length);
    const seen = await flavors.listFlavors(db, { visibleToProject: s.memberProject }, { limit: 1000, offset: 0 });
    expect(seen.total).toBe(s.memberFlavors);
    const other = await flavors.listFlavors(db, { visibleToProject: 'someone-else' }, { limit: 1000, offset: 0 });
    expect(other.total).toBe(s.memberFlavors - 2);
  });

  it('puts every free-slot reservation in the queried window, with busy and free stretches', async () => {
    for (const f of s.freeSlotFlavors) {
      const flavor = (await flavors.getFlavor(db, f.id))!;
      const occ = (await flavorOccupancy(db, flavor, f.windowStart, f.windowEnd)).reservations;
      expect(occ).toHaveLength(f.count);
      expect(flavor.slots).toBeGreaterThan(0);
      expect(flavor.slots).toBeLessThan(f.count);
      const slots = freeSlots(flavor, f.windowStart, f.windowEnd, occ, now);
      expect(slots.length).toBeGreaterThanOrEqual(2);
      expect(slots[0]!.start).toBeGreaterThanOrEqual(f.windowStart);
    }
  });

  it('leaves room for every sequential create', async () => {
    // The creates: 40 per 10-slot flavor, one a day, 20 hours long, from createBase.
    for (const id of s.tenSlotFlavors) {
      const flavor = (await flavors.getFlavor(db, id))!;
      const occ = (await flavorOccupancy(db, flavor, s.createBase, s.createBase + 45 * 86_400_000)).reservations;
      const slots = freeSlots(flavor, s.createBase, s.createBase + 45 * 86_400_000, occ, now);
      expect(slots).toEqual([{ start: s.createBase, end: s.createBase + 45 * 86_400_000 }]);
    }
  });

  it('makes scenarios whose answer checks accept the seeded answers', async () => {
    const sc = loadScenarios(s);
    expect(sc.map((x) => x.name)).toEqual([
      'list flavors (member)',
      'list reservations (member, 40 rows)',
      'list all reservations (admin, 1,000 rows)',
      'free slots over 100 reservations',
      'free slots over 1,000 reservations',
      'free slots over 10,000 reservations',
      `availability, 23 flavors × 90 days (${s.effectiveIn90Days.toLocaleString('en-US')} reservations)`,
      'offers, 23 flavors (2 instances × 48 h)',
    ]);
    // The availability and offers lines read at least 10,000 effective reservations.
    expect(s.effectiveIn90Days).toBeGreaterThanOrEqual(10_000);
    expect(() => sc[6]!.check({ results: new Array(22).fill({ intervals: [] }) })).toThrow(/expected 23 flavors/);
    expect(() => sc[7]!.check({ results: [] })).toThrow(/expected offers/);
    expect(() => sc[1]!.check({ results: new Array(40).fill({}), total: 40 })).not.toThrow();
    expect(() => sc[1]!.check({ results: new Array(39).fill({}), total: 39 })).toThrow(/expected 40 rows/);
    expect(() => sc[5]!.check([])).toThrow(/several free slots/);
  });
});

describe('seeded data set with chosen project ids (as Keystone assigns them)', () => {
  let db: Db;
  let s: Seeded;
  const now = Date.UTC(2030, 0, 15, 12, 0, 0);
  const ids = { memberProject: 'a'.repeat(32), adminProject: 'b'.repeat(32), createProject: 'c'.repeat(32) };

  beforeAll(async () => {
    db = openDatabase({ dialect: 'sqlite', filename: ':memory:' });
    await upgrade(db);
    s = await seed(db, now, ids);
  });
  afterAll(() => db.close());

  it('uses the given ids for the member, admin and create projects', () => {
    expect(s).toMatchObject(ids);
  });

  it('gives the member project its 40 reservations and the private flavors', async () => {
    expect(s.memberReservations).toBe(40);
    const mine = await reservations.listReservations(db, { projectId: ids.memberProject }, { limit: 1000, offset: 0 });
    expect(mine.total).toBe(40);
    expect(mine.rows.every((r) => r.project_id === ids.memberProject)).toBe(true);
    const seen = await flavors.listFlavors(db, { visibleToProject: ids.memberProject }, { limit: 1000, offset: 0 });
    expect(seen.total).toBe(s.memberFlavors);
  });

  it('leaves the admin and create projects without reservations', async () => {
    for (const projectId of [ids.adminProject, ids.createProject]) {
      const theirs = await reservations.listReservations(db, { projectId }, { limit: 10, offset: 0 });
      expect(theirs.total).toBe(0);
    }
  });

  it('makes scenarios that call as those projects', () => {
    const sc = loadScenarios(s);
    expect(sc[0]!.who.projectId).toBe(ids.memberProject);
    expect(sc[2]!.who.projectId).toBe(ids.adminProject);
    expect(sc[2]!.who.roles).toContain('admin');
  });
});

describe('report', () => {
  it('compares noauth with keystone against the 85 % goal', () => {
    const load = (name: string, reqPerSec: number, p50: number, non2xx = 0) => ({
      name,
      reqPerSec,
      p50,
      p99: p50 * 3,
      non2xx,
      errors: 0,
      python: null,
      answer: 'x',
    });
    const table = keystoneTable([
      { noauth: load('list flavors (member)', 2000, 10), keystone: load('list flavors (member)', 1800, 11) },
      { noauth: load('free slots over 100 reservations', 1000, 20), keystone: load('free slots over 100 reservations', 800, 25) },
      {
        noauth: load('list all reservations (admin, 1,000 rows)', 20, 800),
        keystone: load('list all reservations (admin, 1,000 rows)', 20, 800, 3),
      },
    ]);
    expect(table).toContain('| list flavors (member) | 2,000 | 1,800 | 90 % | 10.0 / 30.0 | 11.0 / 33.0 | 0 / 0 | ≥ 85 % ✔ |');
    expect(table).toContain('| 1,000 | 800 | 80 % |');
    expect(table).toMatch(/free slots over 100 reservations .*≥ 85 % ✘/);
    // Same speed, but failed requests under keystone do not pass.
    expect(table).toMatch(/\| 0 \/ 3 \| ≥ 85 % ✘ \|$/);
  });

  it('compares with Python and marks the goals', () => {
    const load = (name: string, reqPerSec: number, python: number | null, goal?: { reqPerSec: number }) => ({
      name,
      reqPerSec,
      p50: 1,
      p99: 2,
      non2xx: 0,
      errors: 0,
      python,
      answer: 'x',
      goal,
    });
    const table = dbTable({
      label: 'SQLite',
      workers: 2,
      loads: [
        load('list flavors (member)', 3000, 292),
        load('free slots over 10,000 reservations', 60, 4.4, { reqPerSec: 100 }),
        load('offers', 150, null, { reqPerSec: 100 }),
      ],
      creates: { count: 200, perSec: 100, p50: 1, p99: 2, max: 3, failures: 0, firstFailure: null },
      singles: [
        { name: 'free slots over 10,000 reservations', ms: 12, goalMs: 15, count: 20 },
        { name: 'offers', ms: 31, goalMs: 30, count: 20 },
      ],
      idleRss: [{ pid: 1, rss: 50 * 2 ** 20 }],
      apiRss: [{ pid: 1, rss: 60 * 2 ** 20 }],
      apiRssIdle: [{ pid: 1, rss: 55 * 2 ** 20 }],
      loadBefore: [0],
      loadAfter: [0],
      seedSeconds: 1,
    });
    expect(table).toContain('| list flavors (member) | x | 3,000 | 1.00 | 2.00 | 0 | 292 | 10.3× | ≥ 2,920 ✔ |');
    // 10× Python would be 44 req/s; the goal for 10,000 is 100.
    expect(table).toContain('| 13.6× | ≥ 100 ✘ |');
    expect(table).toContain('≥ 520 ✘');
    expect(table).toContain('| free slots over 10,000 reservations: one request alone (median of 20) | 12.0 ms | — | < 15 ms ✔ |');
    expect(table).toContain('| offers: one request alone (median of 20) | 31.0 ms | — | < 30 ms ✘ |');
    // A line without a Python reference is held to its own goal.
    expect(table).toContain('| offers | x | 150 | 1.00 | 2.00 | 0 | — | — | ≥ 100 ✔ |');
    expect(table).toContain('| API RSS right after the run | 60.0 MB (one process) |');
    expect(table).toMatch(/\| API RSS after the run, once idle \| 55\.0 MB \(one process\) \| [^|]+ \| — \|/);
    // With workers, each is held to the memory goal once idle.
    const workers = (mbs: number[]) => [{ pid: 1, rss: 60 * 2 ** 20 }, ...mbs.map((mb, i) => ({ pid: i + 2, rss: mb * 2 ** 20 }))];
    const base = {
      label: 'x',
      workers: 2,
      loads: [],
      creates: null,
      singles: [],
      idleRss: [],
      apiRss: [],
      loadBefore: [0],
      loadAfter: [0],
      seedSeconds: 1,
    };
    expect(dbTable({ ...base, apiRssIdle: workers([110, 119]) })).toContain('≤ 120 MB per worker ✔');
    expect(dbTable({ ...base, apiRssIdle: workers([110, 121]) })).toContain('≤ 120 MB per worker ✘');
  });
});
