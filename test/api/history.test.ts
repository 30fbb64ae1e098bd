/**
 * The reservation history (docs/api.md#history) on each database, through the API, the lease
 * worker and the lease-event handler together: a reservation's whole life gives its rows in
 * order, with who, which request, and the status before and after; an error keeps the error as
 * it happened; a deleted reservation's history stays readable to admins (GET /v1/history/) and is
 * a 404 under the reservation; members see only their own project's; a dry run and a refused
 * create write nothing; the admin list filters and pages like every list.
 */
import { randomUUID } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordHistory } from '../../src/db/repositories/history.js';
import type { HistoryEntry } from '../../src/domain/history.js';
import { formatApi } from '../../src/domain/time.js';
import { type Lease, type LeaseBackend, LeaseError, type LeaseRequest } from '../../src/drivers/lease-backend.js';
import type { ServiceSession } from '../../src/drivers/service-session.js';
import { LeaseEventHandler } from '../../src/notification/lease-events.js';
import { LeaseWorker } from '../../src/worker/lease-worker.js';
import { as, call, createFlavor, expectError, expectOk, REQUEST_ID, uniq } from '../support/api-helpers.js';
import { ADMIN, buildTestApp, READER, type TestApp } from '../support/app.js';
import { DIALECTS } from '../support/db.js';
import { DAY, HOUR, MINUTE, RecordingMessenger, recordingLogger } from '../support/lifecycle-helpers.js';

/** A lease back-end for the worker (create) and the API (extend, delete); `failCreate` makes creates fail. */
class StubLeases implements LeaseBackend {
  readonly name = 'simulator' as const;
  failCreate: Error | null = null;
  readonly leases = new Map<string, Lease>();

  async createLease(_s: ServiceSession | null, req: LeaseRequest): Promise<Lease> {
    if (this.failCreate) throw this.failCreate;
    const lease: Lease = {
      id: randomUUID(),
      name: `Reservation ${req.reservationId}`,
      computeFlavor: randomUUID(),
      start: req.start,
      end: req.end,
      status: 'PENDING',
    };
    this.leases.set(lease.id, lease);
    return lease;
  }
  async findLeaseByName(): Promise<Lease | null> {
    return null;
  }
  async updateLeaseEnd(_s: ServiceSession | null, leaseId: string, end: Date): Promise<void> {
    this.leases.get(leaseId)!.end = end;
  }
  async deleteLease(_s: ServiceSession | null, leaseId: string): Promise<void> {
    this.leases.delete(leaseId);
  }
}

const minute = (ms: number) => Math.floor(ms / MINUTE) * MINUTE;
const requestIdOf = (res: LightMyRequestResponse) => res.headers['x-openstack-request-id'] as string;

describe.each(DIALECTS)('reservation history on %s', (dialect) => {
  let t: TestApp;
  let flavor: { id: string };
  const leases = new StubLeases();
  const messenger = new RecordingMessenger();
  let worker: LeaseWorker;
  let events: LeaseEventHandler;

  beforeAll(async () => {
    t = await buildTestApp(dialect, {
      leases,
      projectLimits: new Map([['history-no-quota', { reservation: 0 }]]),
    });
    flavor = await createFlavor(t, { slots: 100 });
    const log = recordingLogger();
    worker = new LeaseWorker({
      db: t.db,
      leases,
      botSession: async () => null,
      messenger,
      log,
      claimTtlMs: 60_000,
      retryTimeoutMs: 0,
    });
    events = new LeaseEventHandler(t.db, messenger, log);
  });
  afterAll(async () => t?.close());

  const book = (headers: Record<string, string>, query = '') => {
    const start = minute(Date.now()) + HOUR;
    return call(t, 'POST', `/v1/reservations/${query}`, headers, {
      flavor_id: flavor.id,
      start: formatApi(start),
      end: formatApi(start + DAY),
    });
  };
  const historyRows = async () => t.db.kysely.selectFrom('warre_reservation_history').selectAll().execute();
  const leaseOf = async (id: string) =>
    (await t.db.kysely.selectFrom('reservation').select('lease_id').where('id', '=', id).executeTakeFirstOrThrow()).lease_id!;

  it("a reservation's life gives its rows in order: who, which request, the status before and after", async () => {
    const member = as(uniq('hist'));
    const created = await book(member);
    const r = expectOk(created);
    expect(await worker.runOnce()).toBe(1);
    const leaseId = await leaseOf(r.id);
    expect(await events.handle('start_lease', leaseId, 'msg-start')).toBe('applied');
    const newEnd = formatApi(Date.parse(r.end) + 2 * HOUR);
    const extended = await call(t, 'PATCH', `/v1/reservations/${r.id}/`, member, { end: newEnd });
    expectOk(extended);
    // A duplicate event and before_end change no status: they record nothing.
    expect(await events.handle('start_lease', leaseId, 'msg-start-again')).toBe('applied');
    expect(await events.handle('before_end_lease', leaseId)).toBe('applied');
    expect(await events.handle('end_lease', leaseId, 'msg-end')).toBe('applied');

    const page = expectOk(await call(t, 'GET', `/v1/reservations/${r.id}/history/`, member));
    expect(page.total).toBe(5);
    expect(page.next).toBeUndefined();
    const rows = page.results as any[];
    expect(rows.map((h) => [h.event, h.status_before, h.status_after, h.user_id])).toEqual([
      ['created', null, 'PENDING_CREATE', member['x-user-id']],
      ['allocated', 'PENDING_CREATE', 'ALLOCATED', 'system'],
      ['active', 'ALLOCATED', 'ACTIVE', 'system'],
      ['extended', 'ACTIVE', 'ACTIVE', member['x-user-id']],
      ['completed', 'ACTIVE', 'COMPLETE', 'system'],
    ]);
    expect(rows.map((h) => h.request_id)).toEqual([requestIdOf(created), null, null, requestIdOf(extended), null]);
    expect(requestIdOf(created)).toMatch(REQUEST_ID);
    expect(requestIdOf(extended)).not.toBe(requestIdOf(created));
    for (const h of rows) expect(h).toMatchObject({ reservation_id: r.id, project_id: member['x-project-id'] });
    expect(rows.map((h) => h.id)).toEqual([...rows.map((h) => h.id)].sort((a, b) => a - b));
    expect(rows[0].time).toBe(r.created_at);
    expect(rows[0].detail).toEqual({ flavor_id: flavor.id, start: r.start, end: r.end, instance_count: 1 });
    expect(rows[1].detail).toEqual({ lease_id: leaseId, compute_flavor: leases.leases.get(leaseId)!.computeFlavor });
    expect(rows[2].detail).toEqual({ lease_id: leaseId, lease_event: 'start_lease', message_id: 'msg-start' });
    expect(rows[3].detail).toEqual({ old_end: r.end, new_end: newEnd });
    expect(rows[4].detail).toEqual({ lease_id: leaseId, lease_event: 'end_lease', message_id: 'msg-end' });

    // Deleted by the member: the row names them and the request; the history stays, for admins.
    const deleted = await call(t, 'DELETE', `/v1/reservations/${r.id}/`, member);
    expect(deleted.statusCode).toBe(204);
    expect(leases.leases.has(leaseId)).toBe(false);
    expectError(await call(t, 'GET', `/v1/reservations/${r.id}/history/`, member), 404, `Reservation ${r.id} doesn't exist`);
    expectError(await call(t, 'GET', `/v1/reservations/${r.id}/history/`, ADMIN), 404, `Reservation ${r.id} doesn't exist`);
    const all = expectOk(await call(t, 'GET', `/v1/history/?reservation_id=${r.id}`, ADMIN));
    expect(all.total).toBe(6);
    expect(all.results.slice(0, 5)).toEqual(rows);
    expect(all.results[5]).toMatchObject({
      event: 'deleted',
      user_id: member['x-user-id'],
      request_id: requestIdOf(deleted),
      status_before: 'COMPLETE',
      status_after: null,
      detail: { lease_id: leaseId, lease: 'deleted' },
    });
    const byProject = expectOk(await call(t, 'GET', `/v1/history/?project_id=${member['x-project-id']}`, ADMIN));
    expect(byProject.results).toEqual(all.results);
    // The admin list is for admins only.
    expectError(await call(t, 'GET', `/v1/history/?reservation_id=${r.id}`, member), 403, 'Not authorised');
  });

  it('an error keeps the error as it happened; whoever may read the reservation may read its history', async () => {
    const member = as(uniq('hist-err'));
    const r = expectOk(await book(member));
    const raw = "ERROR: Policy doesn't allow blazar:leases:create to be performed.";
    leases.failCreate = LeaseError.fromStatus(403, "Policy doesn't allow blazar:leases:create to be performed.");
    try {
      expect(await worker.runOnce()).toBe(1);
    } finally {
      leases.failCreate = null;
    }
    const shown = expectOk(await call(t, 'GET', `/v1/reservations/${r.id}/`, member));
    expect(shown.status).toBe('ERROR');
    const page = expectOk(await call(t, 'GET', `/v1/reservations/${r.id}/history/`, member));
    expect(page.results.map((h: any) => h.event)).toEqual(['created', 'error']);
    expect(page.results[1]).toMatchObject({
      user_id: 'system',
      request_id: null,
      status_before: 'PENDING_CREATE',
      status_after: 'ERROR',
      detail: { reason: raw },
    });
    // A reader sees it as they see the reservation; another project's member gets the 404 of an unknown id.
    expect(expectOk(await call(t, 'GET', `/v1/reservations/${r.id}/history/`, READER)).results).toEqual(page.results);
    const other = as(uniq('hist-other'));
    expectError(await call(t, 'GET', `/v1/reservations/${r.id}/history/`, other), 404, `Reservation ${r.id} doesn't exist`);
    expectError(await call(t, 'GET', '/v1/history/', other), 403, 'Not authorised');
    expectError(await call(t, 'GET', '/v1/history/', READER), 403, 'Not authorised');
  });

  it('a dry run and a refused create write nothing', async () => {
    const before = await historyRows();
    const member = as(uniq('hist-dry'));
    expect(expectOk(await book(member, '?dry_run=true')).id).toBeNull();
    // Over the reservation quota (413), an unknown flavor (404), a start in the past (400).
    expectError(await book(as('history-no-quota')), 413);
    expectError(
      await call(t, 'POST', '/v1/reservations/', member, {
        flavor_id: randomUUID(),
        start: '2031-01-01T00:00:00Z',
        end: '2031-01-02T00:00:00Z',
      }),
      404,
    );
    expectError(
      await call(t, 'POST', '/v1/reservations/', member, {
        flavor_id: flavor.id,
        start: '2001-01-01T00:00:00Z',
        end: '2001-01-02T00:00:00Z',
      }),
      400,
    );
    expect(await historyRows()).toEqual(before);
  });

  it('the admin list filters by project, reservation and time, and pages like every list', async () => {
    const project = uniq('hist-list');
    const base = Date.parse('2030-03-01T00:00:00Z');
    const ids = [randomUUID(), randomUUID()];
    const entries: HistoryEntry[] = Array.from({ length: 5 }, (_, i) => ({
      reservationId: ids[i % 2]!,
      projectId: project,
      event: 'created',
      time: base + i * HOUR,
      userId: `u${i}`,
      requestId: null,
      statusBefore: null,
      statusAfter: 'PENDING_CREATE',
      detail: null,
    }));
    await recordHistory(t.db, entries);
    const list = async (q: string) => expectOk(await call(t, 'GET', `/v1/history/?project_id=${project}${q}`, ADMIN));
    const users = (page: any) => page.results.map((h: any) => h.user_id);

    const everything = await list('');
    expect(everything.total).toBe(5);
    expect(users(everything)).toEqual(['u0', 'u1', 'u2', 'u3', 'u4']);

    const since = await list('&since=2030-03-01T02:00:00Z');
    expect(users(since)).toEqual(['u2', 'u3', 'u4']);
    expect(since.results[0].time).toBe('2030-03-01T02:00:00+00:00');
    expect(await list('&since=2030-03-02')).toEqual({ results: [], total: 0 });

    expect(users(await list(`&reservation_id=${ids[1]}`))).toEqual(['u1', 'u3']);

    const first = await list('&limit=2');
    expect(first.total).toBe(5);
    expect(users(first)).toEqual(['u0', 'u1']);
    const next = new URL(first.next);
    expect(next.searchParams.get('page')).toBe('2');
    expect(next.searchParams.get('limit')).toBe('2');
    expect(next.searchParams.get('project_id')).toBe(project);
    const second = expectOk(await call(t, 'GET', `${next.pathname}${next.search}`, ADMIN));
    expect(users(second)).toEqual(['u2', 'u3']);
    const last = await list('&limit=2&page=3');
    expect(users(last)).toEqual(['u4']);
    expect(last.next).toBeUndefined();

    expectError(await call(t, 'GET', '/v1/history/?since=yesterday', ADMIN), 400);
    expectError(await call(t, 'GET', '/v1/history/?page=0', ADMIN), 400);
  });
});
