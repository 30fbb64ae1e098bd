/**
 * The database shape, as the Python Warre's Alembic history leaves it at
 * revision a1b2c3d4e5f6 (tables `flavor`, `flavor_project`, `reservation`,
 * `maintenance_window`, `maintenance_window_flavor`), plus Warre's own
 * `warre_*` tables. Raw column types are what the drivers return: datetimes
 * as strings (naive UTC), booleans as 0/1 or boolean, JSON as text or object.
 * Conversion to domain values happens in src/db/codec.ts only.
 */
import type { Generated } from 'kysely';

export type DbDateTime = string;
export type DbBool = number | boolean;

export interface FlavorTable {
  id: string;
  name: string;
  description: string | null;
  vcpu: number;
  memory_mb: number;
  disk_gb: number;
  active: DbBool | null;
  properties: string | null;
  max_length_hours: number;
  slots: number;
  is_public: DbBool | null;
  extra_specs: unknown;
  end: DbDateTime | null;
  start: DbDateTime | null;
  category: string | null;
  availability_zone: string | null;
  ephemeral_gb: number;
}

export interface FlavorProjectTable {
  id: string;
  project_id: string;
  flavor_id: string;
}

export interface ReservationTable {
  id: string;
  user_id: string;
  project_id: string;
  flavor_id: string;
  lease_id: string | null;
  status: string;
  start: DbDateTime;
  end: DbDateTime;
  instance_count: number;
  status_reason: string | null;
  compute_flavor: string | null;
  created_at: DbDateTime;
}

export interface MaintenanceWindowTable {
  id: string;
  start: DbDateTime;
  end: DbDateTime;
  note: string | null;
}

export interface MaintenanceWindowFlavorTable {
  maintenance_window_id: string;
  flavor_id: string;
}

export interface AlembicVersionTable {
  version_num: string;
}

/** Warre's own migration history (never Alembic's table). */
export interface WarreMigrationTable {
  name: string;
  applied_at: DbDateTime;
}

/** One row per project, locked FOR UPDATE to serialise quota checks. */
export interface WarreProjectLockTable {
  project_id: string;
}

/**
 * The worker's claim on a PENDING_CREATE reservation (the reservation row is
 * the job; this row only records who holds it, until when, and retries).
 */
export interface WarreLeaseJobTable {
  reservation_id: string;
  claimed_by: string | null;
  claimed_until: DbDateTime | null;
  attempts: Generated<number>;
  first_attempt_at: DbDateTime | null;
  next_attempt_at: DbDateTime | null;
  last_error: string | null;
}

/** User messages and bus notifications already sent, so duplicates send nothing. */
export interface WarreSentMessageTable {
  reservation_id: string;
  event: string;
  /** When the state change that causes the message was committed. */
  sent_at: DbDateTime;
  /** When the message was handed to its driver; null until then (resent by the periodic task). */
  delivered_at: DbDateTime | null;
}

/**
 * The reservation history (docs/api.md#history): one row per change, appended in the
 * transaction of the change; removed only after `[warre] history_retention_days`.
 */
export interface WarreReservationHistoryTable {
  /** Auto-increment: orders the rows of one reservation as they were written. */
  id: Generated<number>;
  reservation_id: string;
  project_id: string;
  event: string;
  time: DbDateTime;
  user_id: string | null;
  request_id: string | null;
  status_before: string | null;
  status_after: string | null;
  /** A JSON object as text. */
  detail: string | null;
}

/** Periodic-task leader lease, so several workers do not run a task at once. */
export interface WarreTaskLockTable {
  name: string;
  holder: string | null;
  held_until: DbDateTime | null;
}

export interface Database {
  flavor: FlavorTable;
  flavor_project: FlavorProjectTable;
  reservation: ReservationTable;
  maintenance_window: MaintenanceWindowTable;
  maintenance_window_flavor: MaintenanceWindowFlavorTable;
  alembic_version: AlembicVersionTable;
  warre_migration: WarreMigrationTable;
  warre_project_lock: WarreProjectLockTable;
  warre_lease_job: WarreLeaseJobTable;
  warre_sent_message: WarreSentMessageTable;
  warre_task_lock: WarreTaskLockTable;
  warre_reservation_history: WarreReservationHistoryTable;
}
