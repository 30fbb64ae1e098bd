/**
 * Limits from the configuration file (`[quota] default_reservation`,
 * `default_hours`, `project_limit = <project>:<resource>=<n>,…`): the
 * all-in-one mode, where there is no Keystone.
 */
import { type QuotaSettings, quotaFor } from '../config/quota.js';
import type { ProjectLimits } from '../domain/quota.js';
import type { LimitsProvider } from './limits.js';

export class ConfigLimitsProvider implements LimitsProvider {
  constructor(private readonly settings: QuotaSettings) {}

  async getLimits(projectId: string): Promise<ProjectLimits> {
    return quotaFor(this.settings, projectId);
  }
}
