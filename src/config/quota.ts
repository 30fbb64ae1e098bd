/**
 * Quotas from the configuration file, for the mode without Keystone unified limits:
 * `[quota] default_reservation`, `default_hours` and `project_limit` overrides.
 */

import { type ProjectLimits, QUOTA_RESOURCES } from '../domain/quota.js';
import { ConfigError } from './errors.js';

const FORM = '<project_id>:<resource>=<n>[,<resource>=<n>]';

/**
 * Parses every `project_limit` line (`<project_id>:<resource>=<n>[,<resource>=<n>]`) into
 * project → overridden limits. A project given twice is merged, the later line winning.
 * @example parseProjectLimits(['p1:reservation=10,hours=2000']) // Map { 'p1' => { reservation: 10, hours: 2000 } }
 */
export function parseProjectLimits(lines: readonly string[]): Map<string, Partial<ProjectLimits>> {
  const result = new Map<string, Partial<ProjectLimits>>();
  for (const line of lines) {
    const fail = (problem: string): never => {
      throw new ConfigError(`[quota] project_limit: ${problem} in ${JSON.stringify(line)}; accepted: ${FORM}`);
    };
    const colon = line.indexOf(':');
    const projectId = line.slice(0, colon).trim();
    if (colon < 0 || projectId === '') fail('no project id');
    if (/\s/.test(projectId)) fail(`bad project id ${JSON.stringify(projectId)}`);
    const limits: Partial<ProjectLimits> = { ...result.get(projectId) };
    const items = line.slice(colon + 1).split(',');
    for (const item of items) {
      const eq = item.indexOf('=');
      if (eq < 0) fail(`${JSON.stringify(item.trim())} is not <resource>=<n>`);
      const resource = item.slice(0, eq).trim();
      const amount = item.slice(eq + 1).trim();
      const known = QUOTA_RESOURCES.find((r) => r === resource);
      if (known === undefined) {
        fail(`unknown resource ${JSON.stringify(resource)} (resources: ${QUOTA_RESOURCES.join(', ')})`);
      } else {
        if (!/^\d+$/.test(amount)) fail(`${JSON.stringify(amount)} is not a non-negative integer (resource ${resource})`);
        limits[known] = Number(amount);
      }
    }
    result.set(projectId, limits);
  }
  return result;
}

/** What {@link quotaFor} reads: the `[quota]` defaults and the parsed overrides. */
export interface QuotaSettings {
  quota: { default_reservation: number; default_hours: number };
  projectLimits: ReadonlyMap<string, Partial<ProjectLimits>>;
}

/** The limits of a project: its `project_limit` override, else the defaults. */
export function quotaFor(config: QuotaSettings, projectId: string): ProjectLimits {
  const override = config.projectLimits.get(projectId);
  return {
    reservation: override?.reservation ?? config.quota.default_reservation,
    hours: override?.hours ?? config.quota.default_hours,
  };
}
