/**
 * Where reservations become leases: the real Blazar ({@link BlazarLeaseBackend} in
 * ./blazar/client.ts) or the in-process stand-in ({@link LeaseSimulator} in
 * ./blazar/simulator.ts). The worker creates leases, the API extends and deletes them.
 */
import type { ServiceSession } from './service-session.js';

/** What the worker asks for: one `virtual:instance` reservation of a Warre flavor. */
export interface LeaseRequest {
  /** Warre reservation id; the lease is named `Reservation <id>`. */
  reservationId: string;
  start: Date;
  end: Date;
  /** instance_count */
  amount: number;
  vcpus: number;
  memoryMb: number;
  diskGb: number;
  ephemeralGb: number;
  /** The flavor's `properties` (Blazar's JSON-in-a-string filter), null for none. */
  resourceProperties: string | null;
  /** The flavor's `extra_specs`. */
  extraSpecs: Record<string, unknown> | null;
}

export interface Lease {
  id: string;
  name: string;
  /** The Nova flavor Blazar made for the reservation (`reservations[0].flavor_id`). */
  computeFlavor: string | null;
  start: Date;
  end: Date;
  /** Blazar's lease status (`PENDING`, `ACTIVE`, …). */
  status: string;
}

export interface LeaseBackend {
  readonly name: 'blazar' | 'simulator';
  /** As the project's bot (blazar) — `session` is the bot's ServiceSession; the simulator ignores it. */
  createLease(session: ServiceSession | null, req: LeaseRequest): Promise<Lease>;
  /** Find a lease created earlier by its name `Reservation <id>` (crash recovery). */
  findLeaseByName(session: ServiceSession | null, name: string): Promise<Lease | null>;
  updateLeaseEnd(session: ServiceSession | null, leaseId: string, end: Date): Promise<void>;
  /** 404 counts as deleted. */
  deleteLease(session: ServiceSession | null, leaseId: string): Promise<void>;
}

/** The lease name Warre gives a reservation's lease. */
export function leaseName(reservationId: string): string {
  return `Reservation ${reservationId}`;
}

/**
 * A lease operation failed. `message` is what python-blazarclient's `str(e)` gives
 * (`ERROR: <error_message>` for an HTTP error; keystoneauth's text for a connection
 * failure or timeout) — Warre stores its first 255 characters as `status_reason`.
 *
 * `transient` (worth retrying later): no connection, timeout, 502/503/504, or a 401
 * that a fresh token did not cure. Every other status is permanent — 400, 403, 404,
 * 409 and **any 500**: Blazar answers "Not enough hosts available" with a 500 and
 * hides its other internal failures behind the same status, so a 500 cannot be told
 * apart from a refusal and retrying one would only delay the ERROR.
 */
export class LeaseError extends Error {
  readonly status: number | null;
  readonly transient: boolean;

  constructor(message: string, opts: { status: number | null; transient: boolean; cause?: unknown }) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'LeaseError';
    this.status = opts.status;
    this.transient = opts.transient;
  }

  /** An HTTP error answer from Blazar, classified as described on the class. */
  static fromStatus(status: number, errorMessage: string): LeaseError {
    return new LeaseError(`ERROR: ${errorMessage}`, { status, transient: isTransientStatus(status) });
  }
}

/** Statuses worth retrying; see {@link LeaseError}. */
export function isTransientStatus(status: number): boolean {
  return status === 401 || status === 502 || status === 503 || status === 504;
}
