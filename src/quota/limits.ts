import type { ProjectLimits } from '../domain/quota.js';

/**
 * Where limits come from: configuration (no Keystone) or Keystone unified
 * limits (oslo.limit flat model). Usage is counted by Warre itself.
 */
export interface LimitsProvider {
  /** Limits for a project. Throws {@link UnknownProjectError} when the source knows the project does not exist / the id is invalid. */
  getLimits(projectId: string): Promise<ProjectLimits>;
}

export class UnknownProjectError extends Error {
  constructor(readonly projectId: string) {
    super(`Invalid project_id: ${projectId}`);
    this.name = 'UnknownProjectError';
  }
}

/** The limit source is unreachable (Keystone down): the API answers 503. */
export class LimitsUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LimitsUnavailableError';
  }
}
