/**
 * Blazar leases over HTTP, sent exactly as python-blazarclient 3.5 sends them
 * (docs/interop.md#blazar-leases): create, list, get-then-put to move the end, delete.
 */

import { ConnectFailure, ConnectTimeout, type HttpResponse } from '../http.js';
import { type Lease, type LeaseBackend, LeaseError, type LeaseRequest, leaseName } from '../lease-backend.js';
import { parseJson, serviceRequest } from '../service-request.js';
import type { ServiceSession } from '../service-session.js';

export interface BlazarOptions {
  /** `[blazar] interface` (default `public`). */
  interface?: string;
  /** Region of the `reservation` endpoint; null takes the first. */
  region?: string | null;
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
}

const HEADERS = { 'User-Agent': 'python-blazarclient', Accept: 'application/json' } as const;

/** `YYYY-MM-DD HH:MM` in UTC, seconds dropped (Blazar's `LEASE_DATE_FORMAT`). */
export function formatLeaseDate(d: Date): string {
  return d.toISOString().slice(0, 16).replace('T', ' ');
}

const BLAZAR_DATE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:?\d{2})?$/;

/**
 * Blazar's response dates (`2027-01-01T00:00:00.000000`, or with a space): naive UTC.
 * An explicit zone, should one appear, is honoured.
 */
export function parseBlazarDate(s: string): Date {
  const m = BLAZAR_DATE.exec(s);
  if (!m) throw new Error(`Unexpected date from Blazar: ${JSON.stringify(s)}`);
  const [, y, mo, d, h, mi, sec, frac, zone] = m;
  let ms = Date.UTC(
    Number(y),
    Number(mo) - 1,
    Number(d),
    Number(h),
    Number(mi),
    Number(sec ?? 0),
    Number((frac ?? '0').padEnd(3, '0').slice(0, 3)),
  );
  if (zone && zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    ms -= sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2))) * 60_000;
  }
  return new Date(ms);
}

/** A lease object of a Blazar response as a {@link Lease}. */
export function toLease(raw: unknown): Lease {
  const l = raw as Record<string, unknown> | null;
  if (!l || typeof l !== 'object' || typeof l['id'] !== 'string') {
    throw new LeaseError('ERROR: Blazar answered without a lease', { status: null, transient: false });
  }
  const reservations = Array.isArray(l['reservations']) ? (l['reservations'] as Record<string, unknown>[]) : [];
  const flavor = reservations[0]?.['flavor_id'];
  return {
    id: l['id'],
    name: typeof l['name'] === 'string' ? l['name'] : '',
    computeFlavor: typeof flavor === 'string' ? flavor : null,
    start: parseBlazarDate(String(l['start_date'])),
    end: parseBlazarDate(String(l['end_date'])),
    status: typeof l['status'] === 'string' ? l['status'] : '',
  };
}

export class BlazarLeaseBackend implements LeaseBackend {
  readonly name = 'blazar' as const;
  private readonly iface: string;
  private readonly region: string | null;
  private readonly timeoutMs: number;

  constructor(opts: BlazarOptions = {}) {
    this.iface = opts.interface ?? 'public';
    this.region = opts.region ?? null;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  async createLease(session: ServiceSession | null, req: LeaseRequest): Promise<Lease> {
    const body = {
      name: leaseName(req.reservationId),
      start_date: formatLeaseDate(req.start),
      end_date: formatLeaseDate(req.end),
      reservations: [
        {
          resource_type: 'virtual:instance',
          amount: req.amount,
          vcpus: req.vcpus,
          memory_mb: req.memoryMb,
          disk_gb: req.diskGb,
          ephemeral_gb: req.ephemeralGb,
          affinity: null,
          resource_properties: req.resourceProperties ?? '',
          extra_specs: req.extraSpecs,
        },
      ],
      events: [],
      before_end_date: null,
    };
    const res = await this.call(session, 'POST', '/leases', body);
    return toLease((res as { lease?: unknown } | null)?.lease);
  }

  async findLeaseByName(session: ServiceSession | null, name: string): Promise<Lease | null> {
    const res = (await this.call(session, 'GET', '/leases')) as { leases?: unknown } | null;
    const leases = Array.isArray(res?.leases) ? (res.leases as Record<string, unknown>[]) : [];
    const found = leases.find((l) => l && l['name'] === name);
    return found ? toLease(found) : null;
  }

  async updateLeaseEnd(session: ServiceSession | null, leaseId: string, end: Date): Promise<void> {
    // python-blazarclient reads the lease before changing its end date.
    await this.call(session, 'GET', `/leases/${leaseId}`);
    await this.call(session, 'PUT', `/leases/${leaseId}`, { end_date: formatLeaseDate(end) });
  }

  async deleteLease(session: ServiceSession | null, leaseId: string): Promise<void> {
    try {
      await this.call(session, 'DELETE', `/leases/${leaseId}`);
    } catch (e) {
      if (e instanceof LeaseError && e.status === 404) return;
      throw e;
    }
  }

  /** One Blazar call; the parsed body on success, a {@link LeaseError} otherwise. */
  private async call(session: ServiceSession | null, method: string, path: string, json?: unknown): Promise<unknown> {
    if (!session) throw new Error('The Blazar lease backend needs a Keystone session');
    let res: HttpResponse;
    try {
      res = await serviceRequest(session, {
        serviceType: 'reservation',
        interface: this.iface,
        region: this.region,
        method,
        path,
        headers: { ...HEADERS },
        json,
        timeoutMs: this.timeoutMs,
      });
    } catch (e) {
      if (e instanceof ConnectFailure || e instanceof ConnectTimeout) {
        throw new LeaseError(e.message, { status: null, transient: true, cause: e });
      }
      throw e; // token or catalog trouble: the session's own error
    }
    const body = parseJson(res.text);
    if (res.status >= 400) {
      // As python-blazarclient: the body's error_message, else the body, else the raw text.
      const msg = body !== null && typeof body === 'object' ? ((body as Record<string, unknown>)['error_message'] ?? body) : null;
      const text = msg === null ? res.text : typeof msg === 'string' ? msg : JSON.stringify(msg);
      throw LeaseError.fromStatus(res.status, text);
    }
    return body;
  }
}
