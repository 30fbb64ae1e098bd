/** A project's quota limits and what it uses of them (docs/api.md#limits). */
import { projectUsage } from '../db/repositories/reservations.js';
import type { ProjectLimits, Usage } from '../domain/quota.js';
import type { Services } from './dependencies.js';

export async function projectQuota(svc: Services, projectId: string): Promise<{ limits: ProjectLimits; usage: Usage }> {
  const [limits, usage] = await Promise.all([svc.limits.getLimits(projectId), projectUsage(svc.db, projectId)]);
  return { limits, usage };
}
