/**
 * Quota rule (docs/api.md#quotas, oslo.limit flat enforcement): a request is refused
 * when usage + delta > limit, checking resources in sorted name order.
 */

import { formatOverLimit } from '../quota/messages.js';
import { totalHours } from './time.js';

/** The two per-project quota resources (docs/api.md#quotas), in the order limits are checked and listed. */
export const QUOTA_RESOURCES = ['hours', 'reservation'] as const;
export type QuotaResource = (typeof QUOTA_RESOURCES)[number];
/** A project's limit of each resource. */
export type ProjectLimits = Record<QuotaResource, number>;

export type Usage = Record<QuotaResource, number>;

/** What one reservation takes from the `hours` quota: instance_count × total_hours. */
export function reservationHours(r: { start: number; end: number; instance_count: number }): number {
  return r.instance_count * totalHours(r.start, r.end);
}

/**
 * Usage of a project from its effective reservations. The services read it counted by the
 * database in one aggregate (src/db/repositories/reservations.ts, `projectUsageStep`), which
 * test/db/repositories/project-usage.test.ts holds equal to this rule.
 */
export function usageOf(reservations: readonly { start: number; end: number; instance_count: number }[]): Usage {
  let hours = 0;
  for (const r of reservations) hours += reservationHours(r);
  return { reservation: reservations.length, hours };
}

/** The over-limit message for the deltas asked, or null when they fit. */
export function quotaRefusal(
  projectId: string,
  limits: ProjectLimits,
  usage: Usage,
  deltas: Partial<Record<QuotaResource, number>>,
): string | null {
  const overs = (Object.keys(deltas) as QuotaResource[])
    .sort()
    .map((resource) => ({
      resource,
      limit: limits[resource],
      usage: Math.trunc(usage[resource]),
      delta: Math.trunc(deltas[resource] ?? 0),
    }))
    .filter((o) => o.usage + o.delta > o.limit);
  return overs.length > 0 ? formatOverLimit(projectId, overs) : null;
}
