/**
 * A fake Blazar lease API following docs/interop.md#blazar-leases: the request formats
 * python-blazarclient sends, the response shapes, status codes and error messages
 * captured from the real Blazar. Serves `/v1/leases[/<id>]`; its catalog URL is
 * `<root>/v1`.
 */
import { randomUUID } from 'node:crypto';

import type { LeaseRequest } from '../../src/drivers/lease-backend.js';
import { FakeOpenStackService, type FakeResponse, type RecordedRequest } from './fake-openstack-http.js';

/** A whole-minute time `hours` from now, plus `extraSeconds` (which Blazar's date format drops). */
export function futureMinute(hours: number, extraSeconds = 0): Date {
  return new Date(Math.floor((Date.now() + hours * 3_600_000) / 60_000) * 60_000 + extraSeconds * 1000);
}

/** A lease request as in docs/interop.md#blazar-requests: 2 instances of a GPU flavor with properties and extra specs. */
export function exampleLeaseRequest(overrides: Partial<LeaseRequest> = {}): LeaseRequest {
  return {
    reservationId: '3c2b1a09-8f7e-4d6c-b5a4-9382716f5e4d',
    start: futureMinute(24, 45),
    end: futureMinute(72),
    amount: 2,
    vcpus: 4,
    memoryMb: 16384,
    diskGb: 30,
    ephemeralGb: 0,
    resourceProperties: '["=", "$gpu", "a100"]',
    extraSpecs: { 'resources:VGPU': '1', 'trait:CUSTOM_A100': 'required' },
    ...overrides,
  };
}

export interface FakeLease {
  id: string;
  name: string;
  user_id: string;
  project_id: string;
  trust_id: string;
  start: Date;
  end: Date;
  created_at: Date;
  updated_at: Date | null;
  /** Body of the create request's reservations[0] (as sent). */
  request: Record<string, unknown>;
  reservationId: string;
  resourceId: string;
  serverGroupId: string;
  aggregateId: number;
  beforeEnd: Date;
}

const DATE_IN = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2})$/;
const MINUTES_BEFORE_END = 60;

/** `2027-01-01T00:00:00.000000` (start_date, end_date, events[].time). */
function isoMicro(d: Date): string {
  return d.toISOString().slice(0, 19) + '.' + String(d.getUTCMilliseconds() * 1000).padStart(6, '0');
}

/** `2026-11-25 12:45:17.585635` (created_at, updated_at). */
function spaceMicro(d: Date): string {
  return isoMicro(d).replace('T', ' ');
}

class BlazarError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class FakeBlazar extends FakeOpenStackService {
  readonly leases = new Map<string, FakeLease>();
  /**
   * Instances that fit at once: a create (or extension) whose amount plus the amounts of
   * every other lease overlapping its interval exceeds this gets `500 Not enough hosts
   * available`. null = unlimited.
   */
  capacity: number | null = null;
  projectId = 'fe0f6c00e6644455883594d0480ecba1';
  userId = 'b6b498a5ad884004a72408d1cef60f64';
  private nextAggregate = 1;

  /** The catalog URL (`<root>/v1`). */
  get url(): string {
    return `${this.rootUrl}/v1`;
  }

  /** Clears recorded requests and knobs (failures, hang, capacity); leases stay. */
  override reset(): void {
    super.reset();
    this.capacity = null;
  }

  protected errorBody(status: number, message: string): unknown {
    return { error_code: status, error_message: message, error_name: status };
  }

  protected handle(req: RecordedRequest): FakeResponse {
    const path = req.path.split('?')[0]!;
    const m = /^\/v1\/leases(?:\/([^/]+))?\/?$/.exec(path);
    if (!m) return { status: 404, body: { error: 404, error_message: 'The resource could not be found.' } };
    try {
      const id = m[1];
      if (id === undefined) {
        if (req.method === 'GET') return { status: 200, body: { leases: [...this.leases.values()].map((l) => this.render(l)) } };
        if (req.method === 'POST') return { status: 201, body: { lease: this.render(this.create(req.body)) } };
      } else {
        if (req.method === 'GET') return { status: 200, body: { lease: this.render(this.get(id)) } };
        if (req.method === 'PUT')
          return { status: 200, body: { lease: { ...this.render(this.update(id, req.body)), status: 'UPDATING' } } };
        if (req.method === 'DELETE') {
          this.get(id);
          this.leases.delete(id);
          return { status: 204, headers: { 'Content-Type': 'application/json' } };
        }
      }
      return { status: 405, body: { error: 405, error_message: 'The method is not allowed for the requested URL.' } };
    } catch (e) {
      if (e instanceof BlazarError) return { status: e.status, body: this.errorBody(e.status, e.message) };
      throw e;
    }
  }

  private get(id: string): FakeLease {
    const l = this.leases.get(id);
    if (!l) throw new BlazarError(404, `Object with {'lease_id': '${id}'} not found`);
    return l;
  }

  private nowMinute(): number {
    return Math.floor(this.clock() / 60_000) * 60_000;
  }

  private parseDate(v: unknown): Date {
    const m = typeof v === 'string' ? DATE_IN.exec(v) : null;
    if (!m) throw new BlazarError(400, `${String(v)} is an invalid date. Required format: %Y-%m-%d %H:%M`);
    return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!));
  }

  private checkCapacity(amount: number, start: Date, end: Date, except?: string): void {
    if (this.capacity === null) return;
    let used = 0;
    for (const l of this.leases.values()) {
      if (l.id !== except && l.start < end && start < l.end) used += Number(l.request['amount'] ?? 0);
    }
    if (used + amount > this.capacity) throw new BlazarError(500, 'Not enough hosts available');
  }

  private create(body: unknown): FakeLease {
    const b = (body ?? {}) as Record<string, unknown>;
    for (const k of ['name', 'start_date', 'end_date']) if (!(k in b)) throw new BlazarError(400, `Missing parameter ${k}`);
    const reservations = Array.isArray(b['reservations']) ? (b['reservations'] as Record<string, unknown>[]) : [];
    if (reservations.some((r) => !r || typeof r !== 'object' || !('resource_type' in r)))
      throw new BlazarError(400, 'Missing parameter resource_type');
    const start = this.parseDate(b['start_date']);
    const end = this.parseDate(b['end_date']);
    if (start.getTime() < this.nowMinute()) throw new BlazarError(400, 'Start date must be later than current date');
    if (end <= start) throw new BlazarError(400, 'End date must be later than start date.');
    const request = reservations[0] ?? {};
    this.checkCapacity(Number(request['amount'] ?? 0), start, end);
    const name = String(b['name']);
    if ([...this.leases.values()].some((l) => l.name === name)) throw new BlazarError(409, `The lease with name: ${name} already exists`);
    const now = new Date(this.clock());
    const lease: FakeLease = {
      id: randomUUID(),
      name,
      user_id: this.userId,
      project_id: this.projectId,
      trust_id: randomUUID().replace(/-/g, ''),
      start,
      end,
      created_at: now,
      updated_at: now,
      request,
      reservationId: randomUUID(),
      resourceId: randomUUID(),
      serverGroupId: randomUUID(),
      aggregateId: this.nextAggregate++,
      beforeEnd: new Date(Math.max(start.getTime(), end.getTime() - MINUTES_BEFORE_END * 60_000)),
    };
    this.leases.set(lease.id, lease);
    return lease;
  }

  private update(id: string, body: unknown): FakeLease {
    const lease = this.get(id);
    const b = (body ?? {}) as Record<string, unknown>;
    if ('name' in b) lease.name = String(b['name']);
    if ('end_date' in b) {
      const end = this.parseDate(b['end_date']);
      const now = this.nowMinute();
      if (lease.end.getTime() < now) throw new BlazarError(400, 'Terminated leases can only be renamed');
      if (end.getTime() < now || end < lease.start) throw new BlazarError(400, 'End date must be later than current and start date');
      this.checkCapacity(Number(lease.request['amount'] ?? 0), lease.start, end, lease.id);
      const delta = lease.end.getTime() - lease.beforeEnd.getTime();
      lease.beforeEnd = new Date(Math.max(lease.start.getTime(), end.getTime() - delta));
      lease.end = end;
    }
    lease.updated_at = new Date(this.clock());
    return lease;
  }

  private status(l: FakeLease): string {
    const now = this.clock();
    if (now >= l.end.getTime()) return 'TERMINATED';
    return now >= l.start.getTime() ? 'ACTIVE' : 'PENDING';
  }

  /** The lease as Blazar's API shows it (docs/interop.md#blazar-responses). */
  render(l: FakeLease): Record<string, unknown> {
    const now = this.clock();
    const event = (type: string, time: Date): Record<string, unknown> => ({
      created_at: spaceMicro(l.created_at),
      updated_at: null,
      id: `${l.id}-${type}`,
      lease_id: l.id,
      event_type: type,
      time: isoMicro(time),
      status: now >= time.getTime() ? 'DONE' : 'UNDONE',
    });
    const r = l.request;
    const status = this.status(l);
    const reservations =
      Object.keys(r).length === 0
        ? []
        : [
            {
              id: l.reservationId,
              lease_id: l.id,
              status: status === 'ACTIVE' ? 'active' : status === 'TERMINATED' ? 'deleted' : 'pending',
              missing_resources: false,
              resources_changed: false,
              resource_id: l.resourceId,
              resource_type: r['resource_type'],
              amount: r['amount'],
              vcpus: r['vcpus'],
              memory_mb: r['memory_mb'],
              disk_gb: r['disk_gb'],
              affinity: r['affinity'] ?? false,
              resource_properties: r['resource_properties'] ?? '',
              flavor_id: l.reservationId,
              server_group_id: l.serverGroupId,
              aggregate_id: l.aggregateId,
              created_at: spaceMicro(l.created_at).slice(0, 19),
              updated_at: null,
            },
          ];
    return {
      created_at: spaceMicro(l.created_at),
      updated_at: l.updated_at ? spaceMicro(l.updated_at) : null,
      id: l.id,
      name: l.name,
      user_id: l.user_id,
      project_id: l.project_id,
      start_date: isoMicro(l.start),
      end_date: isoMicro(l.end),
      trust_id: l.trust_id,
      status,
      degraded: false,
      reservations,
      events: [event('start_lease', l.start), event('end_lease', l.end), event('before_end_lease', l.beforeEnd)],
    };
  }
}
