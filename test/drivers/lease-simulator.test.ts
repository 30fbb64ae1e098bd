import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { type LeaseEvent, LeaseSimulator } from '../../src/drivers/blazar/simulator.js';
import { LeaseError, type LeaseRequest } from '../../src/drivers/lease-backend.js';
import { captureLogger } from './log-capture.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const T0 = Date.parse('2030-01-01T00:00:00Z');

function req(startOffset: number, endOffset: number, id = 'r1'): LeaseRequest {
  return {
    reservationId: id,
    start: new Date(T0 + startOffset),
    end: new Date(T0 + endOffset),
    amount: 1,
    vcpus: 1,
    memoryMb: 1024,
    diskGb: 10,
    ephemeralGb: 0,
    resourceProperties: null,
    extraSpecs: null,
  };
}

describe('LeaseSimulator', () => {
  let events: LeaseEvent[];
  let sim: LeaseSimulator;
  let failures: number;
  const make = (opts: { beforeEndMinutes?: number; retryDelayMs?: number; settleMs?: number } = {}): LeaseSimulator =>
    new LeaseSimulator(
      async (e) => {
        if (failures > 0) {
          failures -= 1;
          throw new Error('handler down');
        }
        events.push(e);
      },
      { logger: captureLogger().logger, ...opts },
    );
  const seen = (): string[] => events.map((e) => `${e.eventType}`);

  beforeEach(() => {
    vi.useFakeTimers({ now: T0 });
    events = [];
    failures = 0;
    sim = make();
  });
  afterEach(() => {
    sim.stop();
    vi.useRealTimers();
  });

  it('emits start, before_end (60 min before the end) and end at their times', async () => {
    const lease = await sim.createLease(null, req(1 * HOUR, 5 * HOUR));
    expect(lease.name).toBe('Reservation r1');
    expect(lease.computeFlavor).toMatch(/^[0-9a-f-]{36}$/);
    expect(lease.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(lease.status).toBe('PENDING');

    await vi.advanceTimersByTimeAsync(HOUR - 1);
    expect(seen()).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(seen()).toEqual(['start_lease']);
    await vi.advanceTimersByTimeAsync(3 * HOUR - 1);
    expect(seen()).toEqual(['start_lease']);
    await vi.advanceTimersByTimeAsync(1);
    expect(seen()).toEqual(['start_lease', 'before_end_lease']);
    await vi.advanceTimersByTimeAsync(HOUR);
    expect(seen()).toEqual(['start_lease', 'before_end_lease', 'end_lease']);
    expect(new Set(events.map((e) => e.leaseId))).toEqual(new Set([lease.id]));
    expect(new Set(events.map((e) => e.messageId)).size).toBe(3);
  });

  it('fires past events in order once the lease has settled (10 s, so its id can be stored first)', async () => {
    await sim.createLease(null, req(-3 * HOUR, -1 * HOUR));
    await vi.advanceTimersByTimeAsync(0);
    expect(seen()).toEqual([]);
    await vi.advanceTimersByTimeAsync(10_000 - 1);
    expect(seen()).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(seen()).toEqual(['start_lease', 'before_end_lease', 'end_lease']);
  });

  it('fires past events at once with settleMs 0', async () => {
    sim.stop();
    sim = make({ settleMs: 0 });
    await sim.createLease(null, req(-3 * HOUR, -1 * HOUR));
    await vi.advanceTimersByTimeAsync(0);
    expect(seen()).toEqual(['start_lease', 'before_end_lease', 'end_lease']);
  });

  it('moves before_end to the start of a lease shorter than the reminder, as Blazar does', async () => {
    await sim.createLease(null, req(HOUR, HOUR + 30 * MIN));
    await vi.advanceTimersByTimeAsync(HOUR);
    expect(seen()).toEqual(['start_lease', 'before_end_lease']);
    await vi.advanceTimersByTimeAsync(30 * MIN);
    expect(seen()).toEqual(['start_lease', 'before_end_lease', 'end_lease']);
  });

  it('sends no before_end with beforeEndMinutes 0', async () => {
    sim.stop();
    sim = make({ beforeEndMinutes: 0 });
    await sim.createLease(null, req(0, 2 * HOUR));
    await vi.advanceTimersByTimeAsync(2 * HOUR);
    expect(seen()).toEqual(['start_lease', 'end_lease']);
  });

  it('honours a custom beforeEndMinutes', async () => {
    sim.stop();
    sim = make({ beforeEndMinutes: 10 });
    await sim.createLease(null, req(0, 2 * HOUR));
    await vi.advanceTimersByTimeAsync(2 * HOUR - 10 * MIN - 1);
    expect(seen()).toEqual(['start_lease']);
    await vi.advanceTimersByTimeAsync(1);
    expect(seen()).toEqual(['start_lease', 'before_end_lease']);
  });

  it('rejects an end not after the start, like Blazar', async () => {
    const e = await sim.createLease(null, req(2 * HOUR, 2 * HOUR)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(LeaseError);
    expect((e as LeaseError).message).toBe('ERROR: End date must be later than start date.');
    expect((e as LeaseError).status).toBe(400);
  });

  it('reschedules end and re-arms before_end when the end moves', async () => {
    const lease = await sim.createLease(null, req(0, 3 * HOUR));
    await vi.advanceTimersByTimeAsync(2 * HOUR);
    expect(seen()).toEqual(['start_lease', 'before_end_lease']);

    await sim.updateLeaseEnd(null, lease.id, new Date(T0 + 6 * HOUR));
    await vi.advanceTimersByTimeAsync(HOUR);
    expect(seen()).toEqual(['start_lease', 'before_end_lease']); // old end passed: nothing
    await vi.advanceTimersByTimeAsync(2 * HOUR);
    expect(seen()).toEqual(['start_lease', 'before_end_lease', 'before_end_lease']);
    await vi.advanceTimersByTimeAsync(HOUR);
    expect(seen()).toEqual(['start_lease', 'before_end_lease', 'before_end_lease', 'end_lease']);
    expect(events[1]!.messageId).not.toBe(events[2]!.messageId);
  });

  it('refuses to move the end of an unknown lease or into the past', async () => {
    const unknown = await sim.updateLeaseEnd(null, 'nope', new Date(T0 + HOUR)).catch((x: unknown) => x);
    expect((unknown as LeaseError).status).toBe(404);
    expect((unknown as LeaseError).message).toBe("ERROR: Object with {'lease_id': 'nope'} not found");

    const lease = await sim.createLease(null, req(HOUR, 3 * HOUR));
    const past = await sim.updateLeaseEnd(null, lease.id, new Date(T0 - HOUR)).catch((x: unknown) => x);
    expect((past as LeaseError).status).toBe(400);
    expect((past as LeaseError).message).toBe('ERROR: End date must be later than current and start date');
  });

  it('cancels the events of a deleted lease; deleting again is fine', async () => {
    const lease = await sim.createLease(null, req(HOUR, 3 * HOUR));
    await sim.createLease(null, req(2 * HOUR, 4 * HOUR, 'r2'));
    await sim.deleteLease(null, lease.id);
    await sim.deleteLease(null, lease.id);
    await vi.advanceTimersByTimeAsync(5 * HOUR);
    expect(events.every((e) => e.leaseId !== lease.id)).toBe(true);
    expect(seen()).toEqual(['start_lease', 'before_end_lease', 'end_lease']);
  });

  it('finds a lease by name until it has ended', async () => {
    const lease = await sim.createLease(null, req(HOUR, 2 * HOUR, 'abc'));
    expect((await sim.findLeaseByName(null, 'Reservation abc'))?.id).toBe(lease.id);
    expect(await sim.findLeaseByName(null, 'Reservation xyz')).toBeNull();
    const dup = await sim.createLease(null, req(HOUR, 2 * HOUR, 'abc')).catch((x: unknown) => x);
    expect((dup as LeaseError).status).toBe(409);
  });

  it('retries a failing handler with the same message id; no event is lost', async () => {
    sim.stop();
    sim = make({ retryDelayMs: 1000, settleMs: 0 });
    failures = 2;
    await sim.createLease(null, req(0, 2 * HOUR));
    await vi.advanceTimersByTimeAsync(0);
    expect(seen()).toEqual([]);
    await vi.advanceTimersByTimeAsync(1000); // first retry fails too
    expect(seen()).toEqual([]);
    await vi.advanceTimersByTimeAsync(2000); // back-off doubled
    expect(seen()).toEqual(['start_lease']);
    await vi.advanceTimersByTimeAsync(2 * HOUR);
    expect(seen()).toEqual(['start_lease', 'before_end_lease', 'end_lease']);
  });

  it("handles events beyond setTimeout's 24.8-day limit", async () => {
    await sim.createLease(null, req(40 * DAY, 41 * DAY));
    await vi.advanceTimersByTimeAsync(40 * DAY - 1);
    expect(seen()).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(seen()).toEqual(['start_lease']);
  });

  it('uses one timer for thousands of leases and delivers every event', async () => {
    for (let i = 0; i < 2000; i++) await sim.createLease(null, req((i % 50) * MIN, DAY + i * MIN, `r${i}`));
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(3 * DAY);
    expect(events).toHaveLength(6000);
    for (const id of new Set(events.map((e) => e.leaseId))) {
      expect(events.filter((e) => e.leaseId === id).map((e) => e.eventType)).toEqual(['start_lease', 'before_end_lease', 'end_lease']);
    }
    expect(vi.getTimerCount()).toBe(0);
  });

  it('restores leases after a restart', async () => {
    sim.restore([
      // not started yet: everything to come
      { leaseId: 'L1', start: new Date(T0 + HOUR), end: new Date(T0 + 3 * HOUR), firedStart: false, firedEnd: false },
      // started; its reminder time passed while down: counts as sent, only the end remains
      { leaseId: 'L2', start: new Date(T0 - 5 * HOUR), end: new Date(T0 + 30 * MIN), firedStart: true, firedEnd: false },
      // started, reminder known not sent: it goes out now
      {
        leaseId: 'L3',
        start: new Date(T0 - 5 * HOUR),
        end: new Date(T0 + 30 * MIN),
        firedStart: true,
        firedEnd: false,
        firedBeforeEnd: false,
      },
      // ended during the downtime but never delivered
      { leaseId: 'L4', start: new Date(T0 - 5 * HOUR), end: new Date(T0 - HOUR), firedStart: true, firedEnd: false },
      // finished: ignored
      { leaseId: 'L5', start: new Date(T0 - 5 * HOUR), end: new Date(T0 - HOUR), firedStart: true, firedEnd: true },
    ]);
    await vi.advanceTimersByTimeAsync(0);
    const of = (id: string): string[] => events.filter((e) => e.leaseId === id).map((e) => e.eventType);
    expect(of('L3')).toEqual(['before_end_lease']);
    expect(of('L4')).toEqual(['end_lease']);
    expect(of('L1')).toEqual([]);
    await vi.advanceTimersByTimeAsync(3 * HOUR);
    expect(of('L1')).toEqual(['start_lease', 'before_end_lease', 'end_lease']);
    expect(of('L2')).toEqual(['end_lease']);
    expect(of('L3')).toEqual(['before_end_lease', 'end_lease']);
    expect(of('L5')).toEqual([]);

    // a restored lease can be extended
    sim.restore([{ leaseId: 'L6', start: new Date(T0), end: new Date(T0 + 10 * HOUR), firedStart: true, firedEnd: false }]);
    await sim.updateLeaseEnd(null, 'L6', new Date(T0 + 12 * HOUR));
    await vi.advanceTimersByTimeAsync(10 * HOUR);
    expect(of('L6')).toEqual(['before_end_lease', 'end_lease']);
  });

  it('stop() clears the timer', async () => {
    await sim.createLease(null, req(HOUR, 2 * HOUR));
    expect(vi.getTimerCount()).toBe(1);
    sim.stop();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(3 * HOUR);
    expect(events).toEqual([]);
  });
});
