/**
 * The commented YAML sample of the policy defaults (like `oslopolicy-sample-generator`),
 * printed by `warre-manage policy defaults`. Uncommenting a rule overrides it.
 */
import { POLICY_DEFAULTS } from './defaults.js';

/** One block per rule: description, guarded operations, then the commented-out rule. */
export function renderPolicySample(): string {
  return POLICY_DEFAULTS.map((d) => {
    const ops = d.operations.map((o) => `# ${o.method} ${o.path}\n`).join('');
    // JSON strings are valid YAML double-quoted scalars.
    return `# ${d.description}\n${ops}#${JSON.stringify(d.name)}: ${JSON.stringify(d.check)}\n`;
  }).join('\n');
}
