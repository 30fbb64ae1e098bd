/** Domain records. Times are epoch milliseconds UTC; see src/domain/time.ts. */

export const RESERVATION_STATUSES = ['PENDING_CREATE', 'ALLOCATED', 'ACTIVE', 'COMPLETE', 'ERROR'] as const;
export type ReservationStatus = (typeof RESERVATION_STATUSES)[number];
/** Reservations that hold capacity and count against quotas. */
export const EFFECTIVE_STATUSES: readonly ReservationStatus[] = ['PENDING_CREATE', 'ALLOCATED', 'ACTIVE'];

export interface Flavor {
  id: string;
  name: string;
  description: string | null;
  vcpu: number;
  memory_mb: number;
  disk_gb: number;
  ephemeral_gb: number;
  active: boolean;
  properties: string | null;
  max_length_hours: number;
  slots: number;
  is_public: boolean;
  extra_specs: Record<string, unknown> | null;
  start: number | null;
  end: number | null;
  category: string | null;
  availability_zone: string | null;
}

/** A reservation with its flavor, as the API shows it and messages describe it. */
export type ReservationWithFlavor = Reservation & { flavor: Flavor };

export interface FlavorProject {
  id: string;
  project_id: string;
  flavor_id: string;
}

export interface Reservation {
  id: string;
  created_at: number;
  user_id: string;
  project_id: string;
  flavor_id: string;
  lease_id: string | null;
  compute_flavor: string | null;
  status: ReservationStatus;
  status_reason: string | null;
  start: number;
  end: number;
  instance_count: number;
}

/**
 * A reservation row as a list reads it, for writing the list's JSON without building a
 * {@link Reservation} per row (src/api/reservation-json.ts): the columns as the database
 * returned them, datetimes in its text form (read with src/domain/time.ts#formatApiFromDb).
 */
export interface StoredReservation {
  id: string;
  created_at: string;
  user_id: string;
  project_id: string;
  flavor_id: string;
  lease_id: string | null;
  compute_flavor: string | null;
  status: string;
  status_reason: string | null;
  start: string;
  end: string;
  instance_count: number;
}

/** A page of a reservation list as read: its rows, the flavors they name (by id), the total. */
export interface StoredReservationPage {
  rows: StoredReservation[];
  flavors: ReadonlyMap<string, Flavor>;
  total: number;
}

export interface MaintenanceWindow {
  id: string;
  start: number;
  end: number;
  note: string | null;
  flavors: { id: string; name: string }[];
}
