/**
 * Helpers for the v1 API conformance tests (test/api/): a fixed clock,
 * identity headers per project and role, request shortcuts, data seeding
 * straight into the database, table snapshots ("bad input changes nothing")
 * and a recording lease back-end for extend / delete.
 */
import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import { insertReservation } from '../../src/db/repositories/reservations.js';
import { formatApi } from '../../src/domain/time.js';
import type { Reservation, ReservationStatus } from '../../src/domain/types.js';
import type { Lease, LeaseBackend, LeaseRequest } from '../../src/drivers/lease-backend.js';
import type { ServiceSession } from '../../src/drivers/service-session.js';
import { ADMIN, type TestApp } from './app.js';

export type Headers = Record<string, string>;
/** noauth identity headers (docs/api.md#identity). */
export type Identity = { 'x-user-id': string; 'x-project-id': string; 'x-roles': string };
type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT';

/** `2030-01-10T10:00` (UTC, no offset) → epoch ms. Seconds may be given. */
export function at(text: string): number {
  const ms = Date.parse(`${text.length === 16 ? `${text}:00` : text}Z`);
  if (Number.isNaN(ms)) throw new Error(`bad test time ${text}`);
  return ms;
}

/** The API output form `YYYY-MM-DDTHH:MM:SS+00:00` of a `2030-01-10T10:00` test time. */
export function iso(text: string | number): string {
  return formatApi(typeof text === 'number' ? text : at(text));
}

/** A clock the test can move; pass `clock.now` as `buildTestApp(…, { now })`. */
export class Clock {
  constructor(
    readonly initial: number,
    public current = initial,
  ) {}
  readonly now = (): number => this.current;
  set(text: string): void {
    this.current = at(text);
  }
  reset(): void {
    this.current = this.initial;
  }
}

let counter = 0;
/** A name no other test of the run uses. */
export function uniq(prefix: string): string {
  return `${prefix}-${process.pid}-${++counter}`;
}

/** Identity headers for `project` with `roles` (comma-separated in X-Roles). */
export function as(project: string, roles = 'member', user = `${project}-user`): Identity {
  return { 'x-user-id': user, 'x-project-id': project, 'x-roles': roles };
}

/** A fresh member project: its id and its headers. */
export function newProject(prefix = 'proj'): { id: string; headers: Identity } {
  const id = uniq(prefix);
  return { id, headers: as(id) };
}

export async function call(
  t: TestApp,
  method: Method,
  url: string,
  headers: Headers = {},
  payload?: unknown,
): Promise<LightMyRequestResponse> {
  return t.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });
}

/** POST a raw text body with a content type (for malformed JSON and scalars). */
export async function postRaw(t: TestApp, method: Method, url: string, headers: Headers, body: string, contentType = 'application/json') {
  return t.app.inject({ method, url, headers: { ...headers, 'content-type': contentType }, payload: body });
}

/** Assert a JSON error answer `{"error_message": expected}` (exact when given). */
export function expectError(res: LightMyRequestResponse, status: number, message?: unknown): void {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  const body = res.json();
  expect(Object.keys(body)).toEqual(['error_message']);
  if (message !== undefined) expect(body.error_message).toEqual(message);
}

export function expectOk(res: LightMyRequestResponse, status = 200): any {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  return res.json();
}

export const FLAVOR_FIELDS = [
  'id',
  'name',
  'description',
  'vcpu',
  'memory_mb',
  'disk_gb',
  'ephemeral_gb',
  'active',
  'properties',
  'max_length_hours',
  'slots',
  'is_public',
  'extra_specs',
  'start',
  'end',
  'category',
  'availability_zone',
].sort();

export const RESERVATION_FIELDS = [
  'id',
  'created_at',
  'user_id',
  'project_id',
  'flavor',
  'lease_id',
  'compute_flavor',
  'status',
  'status_reason',
  'start',
  'end',
  'instance_count',
].sort();

/** Create a flavor as admin (202) with a unique name unless given; returns its JSON. */
export async function createFlavor(t: TestApp, fields: Record<string, unknown> = {}): Promise<any> {
  const res = await call(t, 'POST', '/v1/flavors/', ADMIN, { name: uniq('flavor'), vcpu: 2, memory_mb: 2048, disk_gb: 20, ...fields });
  return expectOk(res, 202);
}

/** Grant a private flavor to a project as admin; returns the grant JSON. */
export async function grant(t: TestApp, flavorId: string, projectId: string): Promise<any> {
  return expectOk(await call(t, 'POST', '/v1/flavorprojects/', ADMIN, { flavor_id: flavorId, project_id: projectId }));
}

/** Create a maintenance window as admin (201); times as `2030-01-10T10:00`. */
export async function createWindow(t: TestApp, start: string, end: string, flavorIds: string[], note?: string): Promise<any> {
  const res = await call(t, 'POST', '/v1/maintenancewindows/', ADMIN, {
    start: iso(start),
    end: iso(end),
    flavor_ids: flavorIds,
    ...(note === undefined ? {} : { note }),
  });
  return expectOk(res, 201);
}

/** Book through the API as `headers`; times as `2030-01-10T10:00`. */
export async function book(t: TestApp, headers: Headers, flavorId: string, start: string, end: string, instanceCount?: number) {
  return call(t, 'POST', '/v1/reservations/', headers, {
    flavor_id: flavorId,
    start: iso(start),
    end: iso(end),
    ...(instanceCount === undefined ? {} : { instance_count: instanceCount }),
  });
}

export interface SeedReservation {
  flavor_id: string;
  project_id: string;
  start: string;
  end: string;
  status?: ReservationStatus;
  instance_count?: number;
  lease_id?: string | null;
  created_at?: string;
}

/** Insert a reservation row directly (any status, with or without a lease); returns its id. */
export async function seedReservation(t: TestApp, s: SeedReservation): Promise<string> {
  const r: Reservation = {
    id: randomUUID(),
    created_at: at(s.created_at ?? '2029-12-01T00:00'),
    user_id: `${s.project_id}-user`,
    project_id: s.project_id,
    flavor_id: s.flavor_id,
    lease_id: s.lease_id ?? null,
    compute_flavor: s.lease_id ? randomUUID() : null,
    status: s.status ?? 'PENDING_CREATE',
    status_reason: null,
    start: at(s.start),
    end: at(s.end),
    instance_count: s.instance_count ?? 1,
  };
  await insertReservation(t.db, r);
  return r.id;
}

const TABLES = ['flavor', 'flavor_project', 'reservation', 'maintenance_window', 'maintenance_window_flavor'] as const;

/** Every row of the five Warre tables, in a stable order. */
export async function snapshot(t: TestApp): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const table of TABLES) {
    const rows = await t.db.kysely.selectFrom(table).selectAll().execute();
    out[table] = rows.map((r) => JSON.stringify(r, Object.keys(r).sort())).sort();
  }
  return out;
}

/** Run `fn` (a rejected write) and assert no table changed. */
export async function expectUnchanged<T>(t: TestApp, fn: () => Promise<T>): Promise<T> {
  const before = await snapshot(t);
  const result = await fn();
  expect(await snapshot(t)).toEqual(before);
  return result;
}

/** Read a reservation row's status / end straight from the database. */
export async function reservationRow(t: TestApp, id: string) {
  return t.db.kysely.selectFrom('reservation').selectAll().where('id', '=', id).executeTakeFirst();
}

export interface LeaseCall {
  op: 'update' | 'delete';
  leaseId: string;
  end?: Date;
}

/**
 * A recording lease back-end for the API's extend and delete. `failUpdate` /
 * `failDelete` make the next calls throw that error (e.g. `LeaseError.fromStatus(404, …)`).
 */
export class RecordingLeases implements LeaseBackend {
  readonly name = 'simulator' as const;
  calls: LeaseCall[] = [];
  failUpdate: Error | null = null;
  failDelete: Error | null = null;

  async createLease(_s: ServiceSession | null, _req: LeaseRequest): Promise<Lease> {
    throw new Error('the API never creates leases');
  }

  async findLeaseByName(_s: ServiceSession | null, _name: string): Promise<Lease | null> {
    return null;
  }

  async updateLeaseEnd(_s: ServiceSession | null, leaseId: string, end: Date): Promise<void> {
    this.calls.push({ op: 'update', leaseId, end });
    if (this.failUpdate) throw this.failUpdate;
  }

  async deleteLease(_s: ServiceSession | null, leaseId: string): Promise<void> {
    this.calls.push({ op: 'delete', leaseId });
    if (this.failDelete) throw this.failDelete;
  }

  reset(): void {
    this.calls = [];
    this.failUpdate = null;
    this.failDelete = null;
  }
}

export const REQUEST_ID = /^req-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
