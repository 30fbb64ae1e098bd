import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { POLICY_DEFAULTS } from '../../src/policy/defaults.js';
import { PolicyEnforcer } from '../../src/policy/enforcer.js';
import { renderPolicySample } from '../../src/policy/sample.js';

const sample = renderPolicySample();
const uncommented = sample.replace(/^#"/gm, '"');

describe('renderPolicySample', () => {
  it('is all comments: as a policy file it overrides nothing', () => {
    expect(parse(sample)).toBeNull();
  });

  it('uncommented, it parses back to the defaults', () => {
    const expected = Object.fromEntries(POLICY_DEFAULTS.map((d) => [d.name, d.check]));
    expect(parse(uncommented)).toEqual(expected);
  });

  it('describes each rule and lists the operations it guards', () => {
    expect(sample).toContain(
      '# Show one reservation, or export it as an iCalendar file.\n# GET /v1/reservations/{reservation_id}/\n# HEAD /v1/reservations/{reservation_id}/\n' +
        '# GET /v1/reservations/{reservation_id}/calendar.ics\n# HEAD /v1/reservations/{reservation_id}/calendar.ics\n' +
        '#"warre:reservation:get": "rule:admin_or_owner_or_reader"\n',
    );
    expect(sample).toContain('#"admin_required": "role:admin or is_admin:1"\n');
    for (const d of POLICY_DEFAULTS) {
      expect(d.description.length).toBeGreaterThan(0);
      expect(sample).toContain(`# ${d.description}\n`);
      for (const op of d.operations) expect(sample).toContain(`# ${op.method} ${op.path}\n`);
    }
  });

  it('uncommented, it is a policy file the enforcer accepts and that changes nothing', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warre-policy-sample-'));
    try {
      const file = path.join(dir, 'policy.yaml');
      fs.writeFileSync(file, uncommented);
      const errors: string[] = [];
      const fromFile = new PolicyEnforcer({
        policyFile: file,
        logger: { warn: (m) => void errors.push(String(m)), error: (m) => void errors.push(String(m)) },
      });
      const builtIn = new PolicyEnforcer();
      expect(errors).toEqual([]);
      for (const roles of [['member'], ['admin'], ['read_only'], ['helpdesk'], ['cloud_admin']]) {
        for (const d of POLICY_DEFAULTS) {
          const creds = { user_id: 'u1', project_id: 'p1', roles, is_admin_project: true };
          const target = { project_id: 'p2' };
          expect(fromFile.authorize(d.name, target, creds)).toBe(builtIn.authorize(d.name, target, creds));
        }
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
