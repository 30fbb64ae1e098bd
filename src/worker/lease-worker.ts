/**
 * The lease worker: turns PENDING_CREATE reservations into Blazar leases
 * (docs/api.md#lease-creation). The reservation row is the job, so nothing is lost when the
 * worker is down or killed; claims expire; a lease created before a crash is
 * found again by its name instead of created twice; transient failures are
 * retried with capped backoff for `[worker] lease_retry_timeout`.
 */
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Db } from '../db/connect.js';
import { type Claim, claimLeaseJob, completeLeaseJob, failLeaseJob, retryLeaseJobLater } from '../db/repositories/lease-jobs.js';
import { markDelivered } from '../db/repositories/outbox.js';
import { getReservation } from '../db/repositories/reservations.js';
import { isDatabaseUnavailable } from '../db/resilience.js';
import { type LeaseFailure, type LeaseFailureKind, leaseFailure, nextAttemptDelay, shouldRetry } from '../domain/lifecycle.js';
import type { Logger } from '../domain/logger.js';
import { KeystoneAuthError, KeystoneUnavailableError } from '../drivers/keystone/session.js';
import { type LeaseBackend, LeaseError, type LeaseRequest, leaseName } from '../drivers/lease-backend.js';
import { EndpointNotFoundError, type ServiceSession } from '../drivers/service-session.js';
import { leaseCreations } from '../metrics/registry.js';
import type { Messenger } from '../notification/messenger.js';

export interface LeaseWorkerOptions {
  db: Db;
  leases: LeaseBackend;
  /** The bot identity for a project (grant role + project-scoped login); null for the simulator. */
  botSession: (projectId: string) => Promise<ServiceSession | null>;
  messenger: Messenger;
  log: Logger;
  /** `[worker] claim_ttl` seconds → ms. */
  claimTtlMs: number;
  /** `[worker] lease_retry_timeout` seconds → ms. */
  retryTimeoutMs: number;
  /** Poll interval when not nudged (default 5 s). */
  pollMs?: number;
  now?: () => number;
  /** Base delay of the retry backoff (default 2 s; tests shorten it). */
  retryBaseMs?: number;
  /** Reservations worked on at once (`[worker] lease_concurrency`, default 1). */
  concurrency?: number;
}

export class LeaseWorker {
  readonly id = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private timer: NodeJS.Timeout | null = null;
  private running = false;
  private stopped = true;
  private wakeRequested = false;
  private idle: Promise<void> = Promise.resolve();

  constructor(private readonly o: LeaseWorkerOptions) {}

  private now(): number {
    return this.o.now ? this.o.now() : Date.now();
  }

  start(): void {
    this.stopped = false;
    this.wake();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.idle;
  }

  /** Look for work now (the API's nudge). Correctness never depends on it: the poll finds everything. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.wakeRequested = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.idle = this.drain();
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      do {
        this.wakeRequested = false;
        // Several claim-and-process loops at once: a Blazar call takes seconds, and claims
        // are safe between loops as they are between workers (src/db/repositories/lease-jobs.ts).
        await Promise.all(Array.from({ length: Math.max(1, this.o.concurrency ?? 1) }, () => this.loop()));
      } while (this.wakeRequested && !this.stopped);
    } finally {
      this.running = false;
      if (!this.stopped) this.timer = setTimeout(() => this.wake(), this.o.pollMs ?? 5_000);
    }
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const claim = await claimLeaseJob(this.o.db, this.id, this.now(), this.o.claimTtlMs).catch((err: unknown) => {
        // A database outage is logged once by the database layer (docs/operations.md), not per poll.
        if (isDatabaseUnavailable(err)) this.o.log.debug({ error: err.message }, 'cannot claim lease jobs: database unavailable');
        else this.o.log.error({ err }, 'cannot claim lease jobs');
        return null;
      });
      if (!claim) return;
      await this.process(claim);
    }
  }

  /** Process everything due now and return (tests and one-shot runs). */
  async runOnce(): Promise<number> {
    let n = 0;
    for (;;) {
      const claim = await claimLeaseJob(this.o.db, this.id, this.now(), this.o.claimTtlMs);
      if (!claim) return n;
      await this.process(claim);
      n++;
    }
  }

  private async process(claim: Claim): Promise<void> {
    const { db, leases, log } = this.o;
    let r: Awaited<ReturnType<typeof getReservation>>;
    try {
      r = await getReservation(db, claim.reservationId);
    } catch (err) {
      // Not the lease's fault: the claim expires and the job is taken again.
      log.error({ err, reservation: claim.reservationId }, 'cannot read the claimed reservation (database unavailable?)');
      return;
    }
    if (r?.status !== 'PENDING_CREATE') return;
    const name = leaseName(r.id);
    let session: ServiceSession | null;
    try {
      session = await this.o.botSession(r.project_id);
    } catch (err) {
      await this.failed(claim, err, 'bot');
      return;
    }
    try {
      // A previous attempt may have created the lease before dying: find it by name.
      let lease = claim.attempts > 1 ? await leases.findLeaseByName(session, name) : null;
      const found = lease !== null;
      if (lease) log.info({ reservation: r.id, lease: lease.id }, 'found the lease of an earlier attempt');
      if (!lease) {
        const req: LeaseRequest = {
          reservationId: r.id,
          start: new Date(r.start),
          end: new Date(r.end),
          amount: r.instance_count,
          vcpus: r.flavor.vcpu,
          memoryMb: r.flavor.memory_mb,
          diskGb: r.flavor.disk_gb,
          ephemeralGb: r.flavor.ephemeral_gb,
          resourceProperties: r.flavor.properties,
          extraSpecs: r.flavor.extra_specs,
        };
        lease = await leases.createLease(session, req);
        log.info({ reservation: r.id, lease: lease.id, project: r.project_id }, 'lease created');
      }
      let done: Awaited<ReturnType<typeof completeLeaseJob>>;
      try {
        done = await completeLeaseJob(db, r.id, lease.id, lease.computeFlavor);
      } catch (err) {
        // The lease exists but is not recorded: never ERROR (that would orphan it). The next
        // attempt finds it by name.
        const message = err instanceof Error ? err.message : String(err);
        log.error({ err, reservation: r.id, lease: lease.id }, 'cannot record the new lease; the next attempt finds it by name');
        leaseCreations.inc({ outcome: 'retried', reason: 'record' });
        const delay = nextAttemptDelay(claim.attempts, this.o.retryBaseMs);
        await retryLeaseJobLater(db, r.id, this.now() + delay, message).catch(() => {});
        setTimeout(() => this.wake(), delay + 10).unref();
        return;
      }
      if (done.outcome === 'gone' || (done.outcome === 'already' && done.leaseId !== lease.id)) {
        // Deleted (or given another lease) while we worked: do not leave an orphan lease.
        log.warn({ reservation: r.id, lease: lease.id }, 'reservation changed during lease creation; deleting the new lease');
        leaseCreations.inc({ outcome: 'abandoned', reason: 'reservation_changed' });
        await leases
          .deleteLease(session, lease.id)
          .catch((err: unknown) => log.error({ err, lease: lease.id }, 'could not delete orphan lease'));
        return;
      }
      leaseCreations.inc({ outcome: 'created', reason: found ? 'found' : 'new' });
      if (done.outcome === 'allocated' && done.createRecorded) {
        await this.o.messenger.userMessage('create', done.reservation);
        await markDelivered(db, r.id, 'create', this.now()).catch((err: unknown) =>
          log.error({ err, reservation: r.id }, 'cannot mark the create message delivered'),
        );
      }
    } catch (err) {
      await this.failed(claim, err, 'lease');
    }
  }

  private async failed(claim: Claim, err: unknown, stage: 'bot' | 'lease'): Promise<void> {
    const { db, log } = this.o;
    const transient = err instanceof LeaseError ? err.transient : isTransientError(err);
    const message = err instanceof Error ? err.message : String(err);
    const now = this.now();
    try {
      if (shouldRetry(transient, claim.firstAttemptAt, now, this.o.retryTimeoutMs)) {
        const delay = nextAttemptDelay(claim.attempts, this.o.retryBaseMs);
        log.warn(
          { reservation: claim.reservationId, attempt: claim.attempts, retryInMs: delay, error: message },
          'lease creation failed; will retry',
        );
        await retryLeaseJobLater(db, claim.reservationId, now + delay, message);
        leaseCreations.inc({ outcome: 'retried', reason: describeLeaseFailure(err, stage).kind });
        setTimeout(() => this.wake(), delay + 10).unref();
      } else {
        // The member sees a plain reason; the error itself goes to the log (docs/api.md#lease-failures).
        const failure = describeLeaseFailure(err, stage);
        log.error(
          { reservation: claim.reservationId, attempt: claim.attempts, error: failure.detail, kind: failure.kind, reason: failure.reason },
          'lease creation failed; reservation in ERROR',
        );
        // The history keeps the error as it happened (docs/api.md#history).
        await failLeaseJob(db, claim.reservationId, failure.reason, failure.detail, now);
        leaseCreations.inc({ outcome: 'failed', reason: failure.kind });
      }
    } catch (dbErr) {
      // The claim expires by itself; the job is taken again then.
      log.error({ err: dbErr, reservation: claim.reservationId }, 'cannot record the lease failure');
    }
  }
}

/** Blazar's refusals for want of room, which the member should read as they are. */
const NO_CAPACITY = /^ERROR: Not enough (hosts|resources) available/;

/**
 * What a lease failure means to the member and to operators ({@link LeaseFailure}): `stage`
 * says whether it happened while setting up the bot (role grant, login) or while
 * talking to Blazar. Exported so that whoever records the failure elsewhere (the
 * reservation's history) gets the same reason and detail.
 */
export function describeLeaseFailure(err: unknown, stage: 'bot' | 'lease'): LeaseFailure {
  const detail = err instanceof Error ? err.message : String(err);
  return leaseFailure(failureKind(err, stage, detail), detail);
}

function failureKind(err: unknown, stage: 'bot' | 'lease', detail: string): LeaseFailureKind {
  if (err instanceof LeaseError) {
    if (err.status === null || (err.status >= 502 && err.status <= 504)) return 'unavailable';
    if (err.status === 401) return 'identity';
    if (err.status === 400 || (err.status === 500 && NO_CAPACITY.test(detail))) return 'refused';
    return 'service';
  }
  if (err instanceof EndpointNotFoundError) return 'catalog';
  if (err instanceof KeystoneUnavailableError) return 'unavailable';
  if (err instanceof KeystoneAuthError || stage === 'bot') return 'identity';
  return isTransientError(err) ? 'unavailable' : 'internal';
}

/** Errors of Keystone (bot login) and the network are worth retrying. */
function isTransientError(err: unknown): boolean {
  const e = err as { name?: string; code?: string; transient?: boolean };
  if (typeof e?.transient === 'boolean') return e.transient;
  return (
    e?.name === 'KeystoneUnavailableError' ||
    e?.name === 'AbortError' ||
    e?.name === 'TimeoutError' ||
    /ECONN|ETIMEDOUT|EAI_AGAIN|socket hang up/i.test(String(e?.code ?? (err as Error)?.message))
  );
}
