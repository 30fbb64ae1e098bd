import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Logger } from '../../src/domain/logger.js';
import { POLICY_DEFAULTS } from '../../src/policy/defaults.js';
import { PolicyEnforcer, PolicyNotRegisteredError } from '../../src/policy/enforcer.js';

/** Credentials as `RequestContext(user_id='u1', project_id='p1', roles=…).to_policy_values()`. */
const creds = (...roles: string[]) => ({ user_id: 'u1', project_id: 'p1', roles, is_admin_project: true });

function recordingLogger(): Pick<Logger, 'warn' | 'error'> & { warnings: string[]; errors: string[] } {
  const warnings: string[] = [];
  const errors: string[] = [];
  return { warnings, errors, warn: (m) => void warnings.push(String(m)), error: (m) => void errors.push(String(m)) };
}

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'warre-policy-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('Warre defaults as oslo.policy 4.0 evaluates them (docs/api.md#policy)', () => {
  const enforcer = new PolicyEnforcer();
  const rows: Array<[number, string, Record<string, unknown>, string[], boolean]> = [
    [1, 'warre:reservation:get', { project_id: 'p1' }, ['member'], true],
    [2, 'warre:reservation:get', { project_id: 'p2' }, ['member'], false],
    [3, 'warre:reservation:get', { project_id: 'p2' }, ['Read_Only'], true],
    [4, 'warre:reservation:get', {}, ['member'], false],
    [5, 'warre:reservation:delete', { project_id: 'p2' }, ['Admin'], true],
    [6, 'warre:reservation:delete', { project_id: 'p2' }, ['helpdesk'], false],
    // ctx is_admin=True does not reach the credentials: to_policy_values() has no is_admin.
    [7, 'warre:reservation:delete', { project_id: 'p2' }, ['member'], false],
    [8, 'warre:reservation:list', {}, [], true],
    [9, 'warre:reservation:list:all', {}, ['read_only'], true],
    [10, 'warre:reservation:create:bypass_maintenance', {}, ['cloud_admin'], false],
    [11, 'warre:flavor:create', {}, ['helpdesk'], true],
    [12, 'warre:flavorproject:list', {}, ['member'], false],
  ];
  it.each(rows)('row %i: %s %j roles %j', (_n, rule, target, roles, expected) => {
    expect(enforcer.authorize(rule, target, creds(...roles))).toBe(expected);
  });

  it('is_admin:1 only matches a credentials key is_admin rendering as "1"', () => {
    expect(enforcer.authorize('admin_required', {}, { ...creds('member'), is_admin: true })).toBe(false);
    expect(enforcer.authorize('admin_required', {}, { ...creds('member'), is_admin: 1 })).toBe(true);
  });

  it('every default: admin passes all but reader/writer; a project member only the open and owner rules', () => {
    const target = { project_id: 'p1' };
    const allowed = (roles: string[]) =>
      POLICY_DEFAULTS.filter((d) => enforcer.authorize(d.name, target, creds(...roles))).map((d) => d.name);
    expect(allowed(['admin'])).toEqual(POLICY_DEFAULTS.map((d) => d.name).filter((n) => n !== 'reader' && n !== 'writer'));
    expect(allowed(['member'])).toEqual([
      'owner',
      'admin_or_owner',
      'admin_or_owner_or_reader',
      'admin_or_owner_or_writer',
      'warre:flavor:get',
      'warre:flavor:list',
      'warre:maintenancewindow:get',
      'warre:maintenancewindow:list',
      'warre:reservation:get',
      'warre:reservation:list',
      'warre:reservation:update',
      'warre:reservation:delete',
      'warre:reservation:history',
      'warre:reservation:calendar',
      'warre:availability:get',
      'warre:offer:list',
    ]);
  });
});

describe('registration', () => {
  it('authorize on an unregistered name throws PolicyNotRegisteredError', () => {
    const enforcer = new PolicyEnforcer();
    expect(() => enforcer.authorize('my_custom', {}, creds('admin'))).toThrow(PolicyNotRegisteredError);
    expect(() => enforcer.authorize('my_custom', {}, creds('admin'))).toThrow('Policy my_custom has not been registered');
  });

  it('enforce on an unknown name denies', () => {
    expect(new PolicyEnforcer().enforce('nothing:here', {}, creds('admin'))).toBe(false);
  });

  it('a missing policy file means defaults only', () => {
    const enforcer = new PolicyEnforcer({ policyFile: path.join(dir, 'absent.yaml'), policyDirs: [path.join(dir, 'nope')] });
    expect(enforcer.authorize('warre:flavor:create', {}, creds('helpdesk'))).toBe(true);
    expect(enforcer.authorize('warre:flavor:create', {}, creds('member'))).toBe(false);
  });
});

describe('policy file merge (docs/interop.md#policy-files)', () => {
  it('overriding admin_required reaches the composite defaults', () => {
    const file = path.join(dir, 'policy.yaml');
    fs.writeFileSync(file, '"admin_required": "role:admin or role:cloud_admin"\n');
    const enforcer = new PolicyEnforcer({ policyFile: file });
    expect(enforcer.authorize('warre:reservation:delete', { project_id: 'p2' }, creds('cloud_admin'))).toBe(true);
    expect(enforcer.authorize('warre:reservation:delete', { project_id: 'p2' }, creds('helpdesk'))).toBe(false);
    // Rules absent from the file keep their defaults.
    expect(enforcer.authorize('warre:reservation:get', { project_id: 'p1' }, creds('member'))).toBe(true);
  });

  it('a file-only rule works through rule: and enforce(), but not authorize()', () => {
    const file = path.join(dir, 'policy.yaml');
    fs.writeFileSync(
      file,
      ['my_custom: "role:auditor"', '"warre:flavorproject:list": "rule:my_custom or rule:admin_or_reader"'].join('\n'),
    );
    const enforcer = new PolicyEnforcer({ policyFile: file });
    expect(enforcer.authorize('warre:flavorproject:list', {}, creds('auditor'))).toBe(true);
    expect(enforcer.enforce('my_custom', {}, creds('auditor'))).toBe(true);
    expect(enforcer.enforce('my_custom', {}, creds('member'))).toBe(false);
    expect(() => enforcer.authorize('my_custom', {}, creds('auditor'))).toThrow(PolicyNotRegisteredError);
  });

  it('reads JSON files', () => {
    const file = path.join(dir, 'policy.json');
    fs.writeFileSync(file, JSON.stringify({ 'warre:flavor:get': '!', 'warre:reservation:list': 'role:member' }));
    const enforcer = new PolicyEnforcer({ policyFile: file });
    expect(enforcer.authorize('warre:flavor:get', {}, creds('admin'))).toBe(false);
    expect(enforcer.authorize('warre:reservation:list', {}, creds('Member'))).toBe(true);
    expect(enforcer.authorize('warre:reservation:list', {}, creds('reader'))).toBe(false);
  });

  it('an empty check in the file allows everyone, [] too', () => {
    const file = path.join(dir, 'policy.yaml');
    fs.writeFileSync(file, '"warre:flavor:create": ""\n"warre:flavor:delete": []\n');
    const enforcer = new PolicyEnforcer({ policyFile: file });
    expect(enforcer.authorize('warre:flavor:create', {}, creds())).toBe(true);
    expect(enforcer.authorize('warre:flavor:delete', {}, creds())).toBe(true);
    expect(enforcer.authorize('warre:flavor:update', {}, creds())).toBe(false);
  });

  it('an empty file is no overrides', () => {
    const file = path.join(dir, 'policy.yaml');
    fs.writeFileSync(file, '# nothing yet\n');
    const enforcer = new PolicyEnforcer({ policyFile: file });
    expect(enforcer.authorize('warre:flavor:create', {}, creds('helpdesk'))).toBe(true);
  });

  it('policy dirs apply after the file, in name order, later wins; dotfiles are skipped', () => {
    const file = path.join(dir, 'policy.yaml');
    const d = path.join(dir, 'policy.d');
    fs.mkdirSync(d);
    fs.writeFileSync(file, '"warre:flavor:create": "role:one"\n"warre:flavor:update": "role:one"\n');
    fs.writeFileSync(path.join(d, '20-second.yaml'), '"warre:flavor:create": "role:three"\n');
    fs.writeFileSync(path.join(d, '10-first.json'), '{"warre:flavor:create": "role:two", "warre:flavor:delete": "role:two"}');
    fs.writeFileSync(path.join(d, '.hidden.yaml'), '"warre:flavor:create": "@"\n');
    const enforcer = new PolicyEnforcer({ policyFile: file, policyDirs: [d] });
    expect(enforcer.authorize('warre:flavor:create', {}, creds('three'))).toBe(true);
    expect(enforcer.authorize('warre:flavor:create', {}, creds('two'))).toBe(false);
    expect(enforcer.authorize('warre:flavor:create', {}, creds('member'))).toBe(false);
    expect(enforcer.authorize('warre:flavor:delete', {}, creds('two'))).toBe(true);
    expect(enforcer.authorize('warre:flavor:update', {}, creds('one'))).toBe(true);
  });

  it('a rule named "default" answers for unknown names, as oslo.policy does', () => {
    const file = path.join(dir, 'policy.yaml');
    fs.writeFileSync(file, 'default: "role:admin"\n"warre:flavor:get": "rule:missing"\n');
    const enforcer = new PolicyEnforcer({ policyFile: file });
    expect(enforcer.enforce('whatever', {}, creds('admin'))).toBe(true);
    expect(enforcer.enforce('whatever', {}, creds('member'))).toBe(false);
    expect(enforcer.authorize('warre:flavor:get', {}, creds('admin'))).toBe(true);
  });

  it('a file that does not parse throws, naming the file', () => {
    const file = path.join(dir, 'broken.yaml');
    fs.writeFileSync(file, '"warre:flavor:create": [\n');
    expect(() => new PolicyEnforcer({ policyFile: file })).toThrow(file);
  });

  it('a file that is not a map, or a rule that is not a string, throws naming the file', () => {
    const file = path.join(dir, 'policy.yaml');
    fs.writeFileSync(file, '- role:admin\n');
    expect(() => new PolicyEnforcer({ policyFile: file })).toThrow(`Policy file ${file} must be a map`);
    fs.writeFileSync(file, '"warre:flavor:create": 5\n');
    expect(() => new PolicyEnforcer({ policyFile: file })).toThrow(`Policy file ${file}: rule "warre:flavor:create"`);
  });

  it('an unparseable check denies and is logged once', () => {
    const file = path.join(dir, 'policy.yaml');
    fs.writeFileSync(file, '"warre:flavor:get": "role:admin or"\n');
    const logger = recordingLogger();
    const enforcer = new PolicyEnforcer({ policyFile: file, logger });
    for (let i = 0; i < 3; i++) expect(enforcer.authorize('warre:flavor:get', {}, creds('admin'))).toBe(false);
    expect(logger.errors).toEqual(['Failed to understand rule role:admin or']);
  });

  it('warns about undefined references and cycles; cycles deny', () => {
    const file = path.join(dir, 'policy.yaml');
    fs.writeFileSync(file, 'a: "rule:b"\nb: "rule:a or role:x"\n"warre:flavor:get": "rule:nowhere"\n');
    const logger = recordingLogger();
    const enforcer = new PolicyEnforcer({ policyFile: file, logger });
    expect(logger.warnings).toEqual(['Policies warre:flavor:get reference a rule that is not defined.']);
    expect(logger.errors).toHaveLength(1);
    expect(logger.errors[0]).toMatch(/^Policies a, b are part of a cyclical reference/);
    expect(enforcer.enforce('a', {}, creds('y'))).toBe(false);
    expect(enforcer.enforce('a', {}, creds('x'))).toBe(true);
    expect(enforcer.authorize('warre:flavor:get', {}, creds('admin'))).toBe(false);
  });
});

describe('reload on change', () => {
  /** Rewrites a file and moves its mtime into the future, so the change is certain to show. */
  function rewrite(file: string, text: string, secondsAhead: number): void {
    fs.writeFileSync(file, text);
    const t = new Date(Date.now() + secondsAhead * 1000);
    fs.utimesSync(file, t, t);
  }

  it('picks up an edited policy file', () => {
    const file = path.join(dir, 'policy.yaml');
    fs.writeFileSync(file, '"warre:flavor:create": "role:one"\n');
    const enforcer = new PolicyEnforcer({ policyFile: file, checkIntervalMs: 0 });
    expect(enforcer.authorize('warre:flavor:create', {}, creds('one'))).toBe(true);
    rewrite(file, '"warre:flavor:create": "role:two"\n', 60);
    expect(enforcer.authorize('warre:flavor:create', {}, creds('one'))).toBe(false);
    expect(enforcer.authorize('warre:flavor:create', {}, creds('two'))).toBe(true);
  });

  it('picks up a file created, and a file added to a policy dir, after start', () => {
    const file = path.join(dir, 'policy.yaml');
    const d = path.join(dir, 'policy.d');
    const enforcer = new PolicyEnforcer({ policyFile: file, policyDirs: [d], checkIntervalMs: 0 });
    expect(enforcer.authorize('warre:flavor:get', {}, creds())).toBe(true);
    rewrite(file, '"warre:flavor:get": "role:one"\n', 60);
    expect(enforcer.authorize('warre:flavor:get', {}, creds())).toBe(false);
    fs.mkdirSync(d);
    rewrite(path.join(d, 'extra.yaml'), '"warre:flavor:get": "role:two"\n', 120);
    expect(enforcer.authorize('warre:flavor:get', {}, creds('two'))).toBe(true);
    fs.rmSync(path.join(d, 'extra.yaml'));
    expect(enforcer.authorize('warre:flavor:get', {}, creds('one'))).toBe(true);
  });

  it('does not look at the files again within the check interval', () => {
    const file = path.join(dir, 'policy.yaml');
    fs.writeFileSync(file, '"warre:flavor:create": "role:one"\n');
    const enforcer = new PolicyEnforcer({ policyFile: file, checkIntervalMs: 3_600_000 });
    rewrite(file, '"warre:flavor:create": "role:two"\n', 60);
    expect(enforcer.authorize('warre:flavor:create', {}, creds('one'))).toBe(true);
  });

  it('a broken edit keeps the previous rules and logs an error', () => {
    const file = path.join(dir, 'policy.yaml');
    fs.writeFileSync(file, '"warre:flavor:create": "role:one"\n');
    const logger = recordingLogger();
    const enforcer = new PolicyEnforcer({ policyFile: file, logger, checkIntervalMs: 0 });
    rewrite(file, '"warre:flavor:create": [\n', 60);
    expect(enforcer.authorize('warre:flavor:create', {}, creds('one'))).toBe(true);
    expect(enforcer.authorize('warre:flavor:create', {}, creds('one'))).toBe(true);
    expect(logger.errors).toHaveLength(1);
    expect(logger.errors[0]).toContain(file);
    rewrite(file, '"warre:flavor:create": "role:two"\n', 120);
    expect(enforcer.authorize('warre:flavor:create', {}, creds('two'))).toBe(true);
  });
});
