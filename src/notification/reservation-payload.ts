/** Warre's own notification payload (docs/api.md#notification-payload): the reservation as `format_reservation` wrote it. */
import { renderDates } from '../drivers/bus/python-json.js';

export interface FlavorForPayload {
  id: string;
  name: string;
  vcpu: number;
  memory_mb: number;
  disk_gb: number;
  ephemeral_gb: number;
  active: boolean;
  category: string | null;
  availability_zone: string | null;
  start: Date | null;
  end: Date | null;
}

export interface ReservationForPayload {
  id: string;
  flavor: FlavorForPayload;
  user_id: string;
  project_id: string;
  lease_id: string | null;
  start: Date;
  end: Date;
  instance_count: number;
}

/** `format_reservation()`: exactly its keys, in its order; dates stay `Date` (rendered per driver). */
export function formatReservation(r: ReservationForPayload): Record<string, unknown> {
  const f = r.flavor;
  return {
    id: r.id,
    flavor: {
      id: f.id,
      name: f.name,
      vcpu: f.vcpu,
      memory_mb: f.memory_mb,
      disk_gb: f.disk_gb,
      ephemeral_gb: f.ephemeral_gb,
      active: f.active,
      category: f.category,
      availability_zone: f.availability_zone,
      start: f.start,
      end: f.end,
    },
    user_id: r.user_id,
    project_id: r.project_id,
    lease_id: r.lease_id,
    start: r.start,
    end: r.end,
    instance_count: r.instance_count,
  };
}

/** The reservation payload as a driver sends it: `messagingv2` → strtime dates, `messaging` → isoformat. */
export function renderReservationPayload(r: ReservationForPayload, driver: 'messagingv2' | 'messaging'): Record<string, unknown> {
  return renderDates(formatReservation(r), driver === 'messagingv2' ? 'strtime' : 'isoformat') as Record<string, unknown>;
}
