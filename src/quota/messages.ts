/** Quota messages, worded exactly as oslo.limit words them (clients match on the text). */

export interface OverLimit {
  resource: string;
  limit: number;
  usage: number;
  delta: number;
}

/**
 * `str(ProjectOverLimit)` of oslo.limit (docs/interop.md#unified-limits), resources in sorted
 * name order, numbers as integers:
 * `Project <id> is over a limit for [Resource hours is over limit of 100 due to current usage 95 and delta 10, …]`.
 */
export function formatOverLimit(projectId: string, overs: readonly OverLimit[]): string {
  const items = [...overs]
    .sort((a, b) => (a.resource < b.resource ? -1 : a.resource > b.resource ? 1 : 0))
    .map(
      (o) =>
        `Resource ${o.resource} is over limit of ${Math.trunc(o.limit)} due to current usage ${Math.trunc(o.usage)} and delta ${Math.trunc(o.delta)}`,
    );
  return `Project ${projectId} is over a limit for [${items.join(', ')}]`;
}
