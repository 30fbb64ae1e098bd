/** Domain records → the JSON the v1 API answers (field names and formats of docs/api.md#resources). */
import type { HistoryRecord } from '../domain/history.js';
import { formatApi, formatApiOrNull } from '../domain/time.js';
import type { Flavor, FlavorProject, MaintenanceWindow, ReservationWithFlavor } from '../domain/types.js';

export function flavorView(f: Flavor) {
  return {
    id: f.id,
    name: f.name,
    description: f.description,
    vcpu: f.vcpu,
    memory_mb: f.memory_mb,
    disk_gb: f.disk_gb,
    ephemeral_gb: f.ephemeral_gb,
    active: f.active,
    properties: f.properties,
    max_length_hours: f.max_length_hours,
    slots: f.slots,
    is_public: f.is_public,
    extra_specs: f.extra_specs ?? {},
    start: formatApiOrNull(f.start),
    end: formatApiOrNull(f.end),
    category: f.category,
    availability_zone: f.availability_zone,
  };
}

/** A flavor as availability and offers show it: what a researcher chooses by (docs/availability.md). */
export function bookableFlavorView(f: Flavor) {
  return {
    id: f.id,
    name: f.name,
    description: f.description,
    category: f.category,
    availability_zone: f.availability_zone,
    vcpu: f.vcpu,
    memory_mb: f.memory_mb,
    disk_gb: f.disk_gb,
    slots: f.slots,
    max_length_hours: f.max_length_hours,
    extra_specs: f.extra_specs ?? {},
  };
}

/**
 * A reservation as the API shows it. `flavorViews` lets a list render each
 * flavor once and share it between its reservations.
 */
export function reservationView(r: ReservationWithFlavor, flavorViews?: Map<string, ReturnType<typeof flavorView>>) {
  let fv = flavorViews?.get(r.flavor.id);
  if (!fv) {
    fv = flavorView(r.flavor);
    flavorViews?.set(r.flavor.id, fv);
  }
  return {
    id: r.id,
    created_at: formatApi(r.created_at),
    user_id: r.user_id,
    project_id: r.project_id,
    flavor: fv,
    lease_id: r.lease_id,
    compute_flavor: r.compute_flavor,
    status: r.status,
    status_reason: r.status_reason,
    start: formatApi(r.start),
    end: formatApi(r.end),
    instance_count: r.instance_count,
  };
}

export function flavorProjectView(fp: FlavorProject) {
  return { id: fp.id, project_id: fp.project_id, flavor: fp.flavor_id };
}

export function maintenanceWindowView(w: MaintenanceWindow) {
  return { id: w.id, start: formatApi(w.start), end: formatApi(w.end), note: w.note, flavors: w.flavors };
}

/** A row of a reservation's history (docs/api.md#history). */
export function historyView(h: HistoryRecord) {
  return {
    id: h.id,
    reservation_id: h.reservationId,
    project_id: h.projectId,
    event: h.event,
    time: formatApi(h.time),
    user_id: h.userId,
    request_id: h.requestId,
    status_before: h.statusBefore,
    status_after: h.statusAfter,
    detail: h.detail,
  };
}
