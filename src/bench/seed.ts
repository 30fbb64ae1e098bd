/**
 * The benchmark's data set, written straight into a migrated database with
 * Kysely (multi-row inserts of 500 rows in one transaction):
 * - 20 flavors (5 with 10 slots, 2 private ones granted to the member project);
 * - 50 projects holding 2,000 reservations spread over them and the 20 flavors
 *   (past, current and future; 40 per project);
 * - three free-slot flavors with 100, 1,000 and 10,000 effective reservations,
 *   all overlapping one 30-day window, owned by 10 other projects.
 * A fixed pseudo-random seed makes every run insert the same shapes.
 */
import { randomUUID } from 'node:crypto';
import { type Insertable, sql } from 'kysely';
import type { Db } from '../db/connect.js';
import { insertFlavorProject } from '../db/repositories/flavor-projects.js';
import { insertFlavor } from '../db/repositories/flavors.js';
import type { ReservationTable } from '../db/schema.js';
import { DAY, HOUR, MINUTE } from '../domain/time.js';
import type { Flavor, ReservationStatus } from '../domain/types.js';

export const BATCH = 500;
export const FREE_SLOT_COUNTS = [100, 1000, 10_000] as const;

export interface FreeSlotFlavor {
  id: string;
  /** Effective reservations overlapping the window. */
  count: number;
  slots: number;
  windowStart: number;
  windowEnd: number;
}

export interface Seeded {
  /** The project whose member lists its ~40 reservations. */
  memberProject: string;
  memberReservations: number;
  /** Flavors a member of memberProject sees (public + granted). */
  memberFlavors: number;
  /** A project with no reservations, for the admin. */
  adminProject: string;
  /** A project with no reservations, for the sequential creates. */
  createProject: string;
  /** The 10-slot flavors the creates go to. */
  tenSlotFlavors: string[];
  /** First instant the creates may use (minute-aligned, in the future). */
  createBase: number;
  freeSlotFlavors: FreeSlotFlavor[];
  totalReservations: number;
  /** Effective reservations overlapping the 90 days from `now` (what availability and offers read). */
  effectiveIn90Days: number;
}

/** mulberry32: a tiny seeded PRNG, so every run seeds the same shapes. */
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

const projectId = (): string => randomUUID().replace(/-/g, '');
const minute = (ms: number): number => Math.floor(ms / MINUTE) * MINUTE;

function flavor(name: string, slots: number, isPublic: boolean, i: number): Flavor {
  return {
    id: randomUUID(),
    name,
    description: `benchmark flavor ${name}`,
    vcpu: 2 ** (i % 5),
    memory_mb: 4096 * 2 ** (i % 5),
    disk_gb: 30,
    ephemeral_gb: i % 2 === 0 ? 0 : 100,
    active: true,
    properties: 'resources:VCPU=1',
    max_length_hours: 504,
    slots,
    is_public: isPublic,
    extra_specs: { 'hw:cpu_policy': 'dedicated', 'aggregate_instance_extra_specs:reservation': 'bench' },
    start: null,
    end: null,
    category: i % 3 === 0 ? 'GPU' : 'compute',
    availability_zone: i % 4 === 0 ? 'az-2' : 'az-1',
  };
}

/** Peak-ish occupancy: the 75th percentile over time of the instances in use, so some stretches are full. */
function busySlots(rows: { start: number; end: number }[]): number {
  const events: [number, number][] = [];
  for (const r of rows) events.push([r.start, 1], [r.end, -1]);
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const weighted: [number, number][] = [];
  let level = 0;
  for (let i = 0; i + 1 < events.length; i++) {
    level += events[i]![1];
    const span = events[i + 1]![0] - events[i]![0];
    if (span > 0) weighted.push([level, span]);
  }
  weighted.sort((a, b) => a[0] - b[0]);
  const total = weighted.reduce((s, [, span]) => s + span, 0);
  let acc = 0;
  for (const [lvl, span] of weighted) {
    acc += span;
    if (acc >= 0.75 * total) return Math.max(1, lvl);
  }
  return Math.max(1, level);
}

async function insertReservations(db: Db, rows: Insertable<ReservationTable>[]): Promise<void> {
  await db.kysely.transaction().execute(async (trx) => {
    for (let i = 0; i < rows.length; i += BATCH) {
      await trx
        .insertInto('reservation')
        .values(rows.slice(i, i + BATCH))
        .execute();
    }
  });
}

/**
 * Fresh planner statistics on the server databases, as their background
 * statistics (InnoDB auto-recalc, PostgreSQL autovacuum) would have in
 * production; without them MariaDB joins the member list from the flavor side.
 * SQLite is left as Warre leaves it (no sqlite_stat1).
 */
async function analyze(db: Db): Promise<void> {
  if (db.dialect.name === 'mysql') await sql.raw('ANALYZE TABLE reservation, flavor, flavor_project').execute(db.kysely);
  if (db.dialect.name === 'postgres') await sql.raw('ANALYZE').execute(db.kysely);
}

/** Project ids chosen by the caller (e.g. Keystone's, which cannot be chosen); random ones otherwise. */
export type SeedProjects = Partial<Pick<Seeded, 'memberProject' | 'adminProject' | 'createProject'>>;

/** Seeds an empty, migrated database; `now` is the wall clock the API will see. */
export async function seed(db: Db, now: number, ids: SeedProjects = {}): Promise<Seeded> {
  const rand = prng(20240601);
  const { codec } = db;

  const projects = Array.from({ length: 50 }, projectId);
  if (ids.memberProject !== undefined) projects[0] = ids.memberProject;
  const flavors: Flavor[] = [];
  for (let i = 0; i < 20; i++) {
    const tenSlots = i < 5;
    const isPublic = !(i === 18 || i === 19);
    flavors.push(flavor(`bench.f${String(i).padStart(2, '0')}${tenSlots ? '.x10' : ''}`, tenSlots ? 10 : 1 + (i % 3), isPublic, i));
  }
  for (const f of flavors) await insertFlavor(db, f);
  for (const f of flavors.filter((x) => !x.is_public)) {
    await insertFlavorProject(db, { id: randomUUID(), project_id: projects[0]!, flavor_id: f.id });
  }

  // 2,000 reservations: project i % 50, flavor spread, from 60 days ago to 90 days ahead.
  const rows: Insertable<ReservationTable>[] = [];
  const statusAt = (start: number, end: number): ReservationStatus => {
    if (end <= now) return rand() < 0.9 ? 'COMPLETE' : 'ERROR';
    if (start <= now) return 'ACTIVE';
    return rand() < 0.8 ? 'ALLOCATED' : 'PENDING_CREATE';
  };
  let effectiveIn90Days = 0;
  const count90 = (start: number, end: number, status: ReservationStatus) => {
    if (status !== 'COMPLETE' && status !== 'ERROR' && start <= now + 90 * DAY && end >= now) effectiveIn90Days++;
  };
  for (let i = 0; i < 2000; i++) {
    const start = minute(now - 60 * DAY + rand() * 150 * DAY);
    const end = start + (1 + Math.floor(rand() * 72)) * HOUR;
    const status = statusAt(start, end);
    count90(start, end, status);
    const leased = status !== 'PENDING_CREATE' && status !== 'ERROR';
    rows.push({
      id: randomUUID(),
      user_id: projectId(),
      project_id: projects[i % 50]!,
      flavor_id: flavors[(i * 7 + Math.floor(i / 50)) % 20]!.id,
      lease_id: leased ? randomUUID() : null,
      status,
      start: codec.dt(start),
      end: codec.dt(end),
      instance_count: rand() < 0.8 ? 1 : 2,
      status_reason: status === 'ERROR' ? 'Failed to create lease: no capacity in Blazar' : null,
      compute_flavor: leased ? randomUUID() : null,
      created_at: codec.dt(Math.floor((start - rand() * 14 * DAY) / 1000) * 1000),
    });
  }

  // Free-slot flavors: every reservation overlaps [windowStart, windowEnd].
  const windowStart = Math.floor(now / DAY) * DAY + 30 * DAY;
  const windowEnd = windowStart + 30 * DAY;
  const fsProjects = Array.from({ length: 10 }, projectId);
  const freeSlotFlavors: FreeSlotFlavor[] = [];
  const effective: ReservationStatus[] = ['PENDING_CREATE', 'ALLOCATED', 'ACTIVE'];
  for (const [n, count] of FREE_SLOT_COUNTS.entries()) {
    const times: { start: number; end: number }[] = [];
    for (let i = 0; i < count; i++) {
      const start = minute(windowStart - DAY + rand() * (windowEnd - windowStart));
      const end = Math.max(minute(start + 2 * HOUR + rand() * 3 * DAY), windowStart + HOUR);
      times.push({ start, end });
    }
    const f = flavor(`bench.freeslots.${count}`, busySlots(times), true, 20 + n);
    await insertFlavor(db, f);
    freeSlotFlavors.push({ id: f.id, count, slots: f.slots, windowStart, windowEnd });
    for (const [i, t] of times.entries()) {
      const status = effective[i % 3]!;
      count90(t.start, t.end, status);
      rows.push({
        id: randomUUID(),
        user_id: projectId(),
        project_id: fsProjects[i % fsProjects.length]!,
        flavor_id: f.id,
        lease_id: status === 'PENDING_CREATE' ? null : randomUUID(),
        status,
        start: codec.dt(t.start),
        end: codec.dt(t.end),
        instance_count: 1,
        status_reason: null,
        compute_flavor: status === 'PENDING_CREATE' ? null : randomUUID(),
        created_at: codec.dt(Math.floor((now - rand() * 30 * DAY) / 1000) * 1000),
      });
    }
  }
  await insertReservations(db, rows);
  await analyze(db);

  return {
    memberProject: projects[0]!,
    memberReservations: rows.filter((r) => r.project_id === projects[0]).length,
    memberFlavors: flavors.length + FREE_SLOT_COUNTS.length,
    adminProject: ids.adminProject ?? projectId(),
    createProject: ids.createProject ?? projectId(),
    tenSlotFlavors: flavors.filter((f) => f.slots === 10).map((f) => f.id),
    createBase: Math.floor(now / DAY) * DAY + 2 * DAY,
    freeSlotFlavors,
    totalReservations: rows.length,
    effectiveIn90Days,
  };
}
