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

/**
 * Limits cannot be read because of how Warre or Keystone is set up (an `[oslo_limit]
 * endpoint_id` Keystone does not know, a user without the right to read limits, …): the API
 * answers 500 with this message, which names what is wrong and never a secret
 * (docs/keystone.md#limits-errors).
 */
export class LimitsConfigurationError extends Error {
  constructor(message: string) {
    super(`Quota limits cannot be read: ${message}`);
    this.name = 'LimitsConfigurationError';
  }
}
