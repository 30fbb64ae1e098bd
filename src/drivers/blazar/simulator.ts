/**
 * An in-process stand-in for Blazar, for clouds (and test setups) without one.
 * Leases live in memory; their events (`start_lease`, `before_end_lease`,
 * `end_lease`) are handed to the same handler that serves lease events from the bus.
 *
 * Event times follow Blazar's manager: start at the lease start, end at the lease
 * end, before_end at end − `beforeEndMinutes` but never before the start (Blazar
 * moves it to the start rather than dropping it; 0 minutes = no before_end event).
 * Moving the end moves before_end by the same delta and re-arms it, as Blazar does.
 * Unlike Blazar, a start already in the past is accepted: its events fire at once
 * (after `settleMs`).
 *
 * One timer serves all leases: it is set for the earliest due event (re-armed in
 * steps when that is beyond setTimeout's ~24.8-day limit). Events are delivered one
 * at a time, per lease in the order start, before_end, end; a failing handler is
 * called again after a back-off, so no event is dropped.
 */
import { randomUUID } from 'node:crypto';

import type { Logger } from 'pino';

import { type Lease, type LeaseBackend, LeaseError, type LeaseRequest, leaseName } from '../lease-backend.js';
import type { ServiceSession } from '../service-session.js';

export type LeaseEventType = 'start_lease' | 'before_end_lease' | 'end_lease';

export interface LeaseEvent {
  eventType: LeaseEventType;
  leaseId: string;
  /** Unique per event; the same on every retry of one event. */
  messageId: string;
}

export type LeaseEventHandler = (event: LeaseEvent) => Promise<void>;

export interface LeaseSimulatorOptions {
  /** Minutes before the end for `before_end_lease` (Blazar's `minutes_before_end_lease`, default 60). */
  beforeEndMinutes?: number;
  /** Milliseconds since the epoch (default Date.now). */
  clock?: () => number;
  /** First retry delay after a handler failure (default 5 s, doubling up to 5 min). */
  retryDelayMs?: number;
  /**
   * No event of a new lease is delivered sooner than this after its creation (default
   * 10 s, Blazar's event-loop period), so the worker has stored the lease id before
   * a start that is already due arrives.
   */
  settleMs?: number;
  logger: Logger;
}

/** A lease to re-arm after a restart, from Warre's reservation rows. */
export interface RestoredLease {
  leaseId: string;
  start: Date;
  end: Date;
  firedStart: boolean;
  firedEnd: boolean;
  /**
   * Whether the reminder went out. When unknown, one whose time passed while the
   * process was down counts as sent if the start was delivered (no duplicate mail).
   */
  firedBeforeEnd?: boolean;
}

/** setTimeout's largest delay (2^31 − 1 ms); longer waits are re-armed in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const MAX_RETRY_MS = 5 * 60_000;
const ORDER: LeaseEventType[] = ['start_lease', 'before_end_lease', 'end_lease'];

interface SimEvent {
  type: LeaseEventType;
  time: number;
  fired: boolean;
  messageId: string;
  /** Not before this time: settling after creation, or back-off after a handler failure. */
  retryAt: number;
  failures: number;
}

interface SimLease {
  id: string;
  name: string;
  computeFlavor: string;
  start: number;
  end: number;
  events: SimEvent[];
}

export class LeaseSimulator implements LeaseBackend {
  readonly name = 'simulator' as const;
  private readonly leases = new Map<string, SimLease>();
  private readonly beforeEndMs: number;
  private readonly now: () => number;
  private readonly retryDelayMs: number;
  private readonly settleMs: number;
  private readonly log: Logger;
  private timer: NodeJS.Timeout | null = null;
  /** When the armed timer is due (ms), for a cheap check on create. */
  private timerDue = Infinity;
  private delivering = false;
  private stopped = false;

  constructor(
    private readonly handler: LeaseEventHandler,
    opts: LeaseSimulatorOptions,
  ) {
    this.beforeEndMs = (opts.beforeEndMinutes ?? 60) * 60_000;
    this.now = opts.clock ?? (() => Date.now());
    this.retryDelayMs = opts.retryDelayMs ?? 5_000;
    this.settleMs = opts.settleMs ?? 10_000;
    this.log = opts.logger;
  }

  async createLease(_session: ServiceSession | null, req: LeaseRequest): Promise<Lease> {
    const start = truncateToMinute(req.start);
    const end = truncateToMinute(req.end);
    if (end <= start) throw badRequest('End date must be later than start date.');
    const name = leaseName(req.reservationId);
    if ([...this.leases.values()].some((l) => l.name === name)) {
      throw new LeaseError(`ERROR: The lease with name: ${name} already exists`, { status: 409, transient: false });
    }
    const lease: SimLease = { id: randomUUID(), name, computeFlavor: randomUUID(), start, end, events: [] };
    lease.events = this.makeEvents(start, end);
    const settled = this.now() + this.settleMs;
    for (const e of lease.events) e.retryAt = settled;
    this.leases.set(lease.id, lease);
    this.log.info({ lease_id: lease.id, name }, 'Simulated lease created');
    // The armed timer already serves anything due no earlier than it (saves a scan per create).
    if (!this.timer || Math.max(start, settled) < this.timerDue) this.arm();
    return this.toLease(lease);
  }

  async findLeaseByName(_session: ServiceSession | null, name: string): Promise<Lease | null> {
    for (const l of this.leases.values()) if (l.name === name) return this.toLease(l);
    return null;
  }

  async updateLeaseEnd(_session: ServiceSession | null, leaseId: string, end: Date): Promise<void> {
    const lease = this.leases.get(leaseId);
    if (!lease) throw notFound(leaseId);
    const now = truncateToMinute(new Date(this.now()));
    const newEnd = truncateToMinute(end);
    if (lease.end < now) throw badRequest('Terminated leases can only be renamed');
    if (newEnd < now || newEnd < lease.start) throw badRequest('End date must be later than current and start date');
    const endEvent = lease.events.find((e) => e.type === 'end_lease')!;
    endEvent.time = newEnd;
    const beforeEnd = lease.events.find((e) => e.type === 'before_end_lease');
    if (beforeEnd) {
      // Same distance from the end as before; a reminder already sent is sent again.
      beforeEnd.time = Math.max(lease.start, newEnd - (lease.end - beforeEnd.time));
      if (beforeEnd.fired) Object.assign(beforeEnd, freshEvent('before_end_lease', beforeEnd.time));
    }
    lease.end = newEnd;
    this.log.info({ lease_id: leaseId, end: new Date(newEnd).toISOString() }, 'Simulated lease end moved');
    this.arm();
  }

  async deleteLease(_session: ServiceSession | null, leaseId: string): Promise<void> {
    if (this.leases.delete(leaseId)) this.log.info({ lease_id: leaseId }, 'Simulated lease deleted');
    this.arm();
  }

  /** Re-arms leases after a process restart; those whose end was delivered are skipped. */
  restore(leases: RestoredLease[]): void {
    const now = this.now();
    for (const r of leases) {
      if (r.firedEnd) continue;
      const start = r.start.getTime();
      const end = r.end.getTime();
      const events = this.makeEvents(start, end);
      for (const e of events) {
        if (e.type === 'start_lease') e.fired = r.firedStart;
        if (e.type === 'before_end_lease') e.fired = r.firedBeforeEnd ?? (r.firedStart && e.time <= now);
      }
      const existing = this.leases.get(r.leaseId);
      this.leases.set(r.leaseId, {
        id: r.leaseId,
        name: existing?.name ?? '',
        computeFlavor: existing?.computeFlavor ?? '',
        start,
        end,
        events,
      });
    }
    this.log.info({ count: this.leases.size }, 'Simulated leases restored');
    this.arm();
  }

  /** Stops all timers; events not yet delivered stay pending (restore() them on the next start). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerDue = Infinity;
  }

  private makeEvents(start: number, end: number): SimEvent[] {
    const events = [freshEvent('start_lease', start)];
    if (this.beforeEndMs > 0) events.push(freshEvent('before_end_lease', Math.max(start, end - this.beforeEndMs)));
    events.push(freshEvent('end_lease', end));
    return events;
  }

  /** The lease's next undelivered event (events are kept in delivery order). */
  private static next(lease: SimLease): SimEvent | undefined {
    return lease.events.find((e) => !e.fired);
  }

  /** The earliest due event over all leases (a linear scan: fine for thousands). */
  private earliest(): { lease: SimLease; event: SimEvent; due: number } | null {
    let best: { lease: SimLease; event: SimEvent; due: number } | null = null;
    for (const lease of this.leases.values()) {
      const event = LeaseSimulator.next(lease);
      if (!event) continue;
      const due = Math.max(event.time, event.retryAt);
      if (!best || due < best.due || (due === best.due && ORDER.indexOf(event.type) < ORDER.indexOf(best.event.type))) {
        best = { lease, event, due };
      }
    }
    return best;
  }

  /** Sets the single timer for the earliest due event. */
  private arm(): void {
    if (this.stopped || this.delivering) return; // deliver() re-arms when it finishes
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.timerDue = Infinity;
    const next = this.earliest();
    if (!next) return;
    const delay = Math.min(Math.max(0, next.due - this.now()), MAX_TIMER_MS);
    this.timerDue = this.now() + delay;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerDue = Infinity;
      void this.deliver();
    }, delay);
    this.timer.unref();
  }

  /** Hands every due event to the handler, one at a time, then re-arms. */
  private async deliver(): Promise<void> {
    if (this.delivering || this.stopped) return;
    this.delivering = true;
    try {
      for (;;) {
        const next = this.earliest();
        if (!next || next.due > this.now() || this.stopped) break;
        const { lease, event } = next;
        try {
          await this.handler({ eventType: event.type, leaseId: lease.id, messageId: event.messageId });
          event.fired = true;
        } catch (err) {
          event.failures += 1;
          const delay = Math.min(this.retryDelayMs * 2 ** (event.failures - 1), MAX_RETRY_MS);
          event.retryAt = this.now() + delay;
          this.log.error({ err, lease_id: lease.id, event_type: event.type, retry_in_ms: delay }, 'Lease event handler failed; will retry');
        }
        if (lease.events.every((e) => e.fired)) this.leases.delete(lease.id);
      }
    } finally {
      this.delivering = false;
      this.arm();
    }
  }

  private toLease(l: SimLease): Lease {
    const now = this.now();
    const status = l.events.find((e) => e.type === 'end_lease')?.fired ? 'TERMINATED' : now >= l.start ? 'ACTIVE' : 'PENDING';
    return { id: l.id, name: l.name, computeFlavor: l.computeFlavor, start: new Date(l.start), end: new Date(l.end), status };
  }
}

function freshEvent(type: LeaseEventType, time: number): SimEvent {
  return { type, time, fired: false, messageId: randomUUID(), retryAt: 0, failures: 0 };
}

/** Blazar keeps lease dates at minute resolution. */
function truncateToMinute(d: Date): number {
  return Math.floor(d.getTime() / 60_000) * 60_000;
}

function badRequest(message: string): LeaseError {
  return LeaseError.fromStatus(400, message);
}

function notFound(leaseId: string): LeaseError {
  return LeaseError.fromStatus(404, `Object with {'lease_id': '${leaseId}'} not found`);
}
