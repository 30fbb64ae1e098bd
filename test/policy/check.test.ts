import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Check, evaluate, parseCheck, parseRule, pythonStr } from '../../src/policy/check.js';

const NO_RULES = new Map<string, Check>();

/** Parses and evaluates a bare check string, collecting parse errors. */
function run(
  text: string,
  target: Record<string, unknown>,
  creds: Record<string, unknown>,
  rules: Map<string, Check> = NO_RULES,
): { result: boolean; errors: string[] } {
  const errors: string[] = [];
  const check = parseCheck(text, (m) => errors.push(m));
  return { result: evaluate(check, target, creds, rules), errors };
}

describe('bare check strings as oslo.policy 4.0 evaluates them (docs/interop.md#policy-check-strings)', () => {
  const rows: Array<[number, string, Record<string, unknown>, Record<string, unknown>, boolean]> = [
    [13, '', {}, { roles: [] }, true],
    [14, '!', {}, { roles: ['admin'] }, false],
    [15, 'role:admin', {}, { roles: ['ADMIN'] }, true],
    [16, 'is_admin:1', {}, { is_admin: true }, false],
    [17, 'is_admin:1', {}, { is_admin: 1 }, true],
    [18, 'is_admin:True', {}, { is_admin: true }, true],
    [19, 'project_id:%(project_id)s', {}, { project_id: 'p1' }, false],
    [20, "'p1':%(project_id)s", { project_id: 'p1' }, {}, true],
    [21, 'role:a or role:b and role:c', {}, { roles: ['a'] }, true],
    [22, '(role:a or role:b) and role:c', {}, { roles: ['a'] }, false],
    [23, 'not role:a or role:b', {}, { roles: ['a'] }, false],
    [24, 'role:a and not role:b', {}, { roles: ['a', 'b'] }, false],
  ];
  it.each(rows)('row %i: %j', (_n, text, target, creds, expected) => {
    const { result, errors } = run(text, target, creds);
    expect(result).toBe(expected);
    expect(errors).toEqual([]);
  });

  it('also observed True', () => {
    expect(run('roles:admin', {}, { roles: ['member', 'admin'] }).result).toBe(true);
    expect(run('user.enabled:True', {}, { user: { enabled: true } }).result).toBe(true);
    expect(run('role:%(role)s', { role: 'member' }, { roles: ['member'] }).result).toBe(true);
  });
});

describe('check semantics', () => {
  it('@ allows and ! denies', () => {
    expect(run('@', {}, {}).result).toBe(true);
    expect(run('!', {}, { roles: ['admin'] }).result).toBe(false);
  });

  it('role checks ignore case on both sides and need a roles list', () => {
    expect(run('role:Member', {}, { roles: ['mEMBER'] }).result).toBe(true);
    expect(run('role:member', {}, { roles: ['reader'] }).result).toBe(false);
    expect(run('role:member', {}, {}).result).toBe(false);
    expect(run('role:%(role)s', {}, { roles: ['member'] }).result).toBe(false);
  });

  it('generic checks compare Python str() renderings', () => {
    expect(run('is_admin:False', {}, { is_admin: false }).result).toBe(true);
    expect(run('is_admin:false', {}, { is_admin: false }).result).toBe(false);
    expect(run('domain_id:None', {}, { domain_id: null }).result).toBe(true);
    expect(run('count:2', {}, { count: 2 }).result).toBe(true);
    expect(run('ratio:0.5', {}, { ratio: 0.5 }).result).toBe(true);
    // A key in the target formats with str(): a boolean becomes "True".
    expect(run('True:%(enabled)s', { enabled: true }, {}).result).toBe(true);
    expect(run('True:%(enabled)s', { enabled: false }, {}).result).toBe(false);
    // Missing left-side path in the credentials denies.
    expect(run('user.enabled:True', {}, { user: {} }).result).toBe(false);
    expect(run('user.enabled:True', {}, { user: 'x' }).result).toBe(false);
  });

  it('owner: project_id against the target', () => {
    const check = 'project_id:%(project_id)s';
    expect(run(check, { project_id: 'p1' }, { project_id: 'p1' }).result).toBe(true);
    expect(run(check, { project_id: 'p2' }, { project_id: 'p1' }).result).toBe(false);
    expect(run(check, { project_id: 'p1' }, {}).result).toBe(false);
  });

  it('Python literals on the left side', () => {
    expect(run('"p1":%(project_id)s', { project_id: 'p1' }, {}).result).toBe(true);
    expect(run("'p1':%(project_id)s", { project_id: 'p2' }, {}).result).toBe(false);
    expect(run('1:%(n)s', { n: 1 }, {}).result).toBe(true);
    expect(run('-0:%(n)s', { n: 0 }, {}).result).toBe(true);
    expect(run('0x10:16', {}, {}).result).toBe(true);
    expect(run('1.0:%(x)s', { x: '1.0' }, {}).result).toBe(true);
    expect(run('None:%(x)s', { x: null }, {}).result).toBe(true);
    expect(run("'a\\'b':%(x)s", { x: "a'b" }, {}).result).toBe(true);
  });

  it('list values match when any element matches, also along a path', () => {
    const creds = { groups: [{ name: 'g1' }, { name: 'g2' }], tags: [['a']] };
    expect(run('groups.name:g2', {}, creds).result).toBe(true);
    expect(run('groups.name:g3', {}, creds).result).toBe(false);
    expect(run("tags:['a']", {}, creds).result).toBe(true);
  });

  it('%% and substitutions in the right side', () => {
    expect(run('name:100%%', {}, { name: '100%' }).result).toBe(true);
    expect(run('name:%(a)s-%(b)s', { a: 'x', b: 2 }, { name: 'x-2' }).result).toBe(true);
    expect(run('name:%(a)s-%(b)s', { a: 'x' }, { name: 'x-' }).result).toBe(false);
  });

  it('rule: follows other rules; unknown rules and cycles deny', () => {
    const rules = new Map<string, Check>([
      ['admin', parseCheck('role:admin')],
      ['loop_a', parseCheck('rule:loop_b')],
      ['loop_b', parseCheck('rule:loop_a or role:x')],
    ]);
    expect(run('rule:admin', {}, { roles: ['admin'] }, rules).result).toBe(true);
    expect(run('rule:admin', {}, { roles: ['member'] }, rules).result).toBe(false);
    expect(run('rule:nope', {}, { roles: ['admin'] }, rules).result).toBe(false);
    expect(run('rule:loop_a', {}, { roles: ['y'] }, rules).result).toBe(false);
    expect(run('rule:loop_a', {}, { roles: ['x'] }, rules).result).toBe(true);
  });
});

describe('precedence and parentheses', () => {
  const cases: Array<[string, string[], boolean]> = [
    ['role:a and role:b or role:c', ['c'], true],
    ['role:a and (role:b or role:c)', ['c'], false],
    ['role:a or role:b and role:c and role:d', ['b', 'c'], false],
    ['role:a or role:b and role:c and role:d', ['b', 'c', 'd'], true],
    ['not (role:a or role:b)', ['b'], false],
    ['not not role:a', ['a'], true],
    ['((role:a))', ['a'], true],
    ['(role:a or role:b)and role:c', ['a', 'c'], false], // "role:b)and" is one word: no parse
    ['ROLE:a OR role:b', ['b'], true],
    ['role:a AND NOT role:b', ['a'], true],
  ];
  it.each(cases)('%s with roles %j', (text, roles, expected) => {
    expect(run(text, {}, { roles }).result).toBe(expected);
  });
});

describe('unparseable check strings deny and are logged', () => {
  it.each(['role:admin or', 'foo', 'or role:a', 'role:a role:b', '(role:a', 'role:a)', '()', 'not', "'role:a'"])('%j', (text) => {
    const { result, errors } = run(text, {}, { roles: ['a', 'admin'], foo: 'x' });
    expect(result).toBe(false);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.some((e) => e.startsWith('Failed to understand rule '))).toBe(true);
  });

  it('the whole rule text is named', () => {
    expect(run('role:admin or', {}, {}).errors).toEqual(['Failed to understand rule role:admin or']);
  });

  it('a bad word inside a valid rule only fails that check', () => {
    const { result, errors } = run('foo or role:a', {}, { roles: ['a'] });
    expect(result).toBe(true);
    expect(errors).toEqual(['Failed to understand rule foo']);
  });

  it('a malformed %-substitution denies and is logged (Python would raise)', () => {
    for (const text of ['name:50%', 'role:%(x)d', 'name:%(x']) {
      const { result, errors } = run(text, { x: 'a' }, { name: '50%', roles: ['%(x)d'] });
      expect(result).toBe(false);
      expect(errors).toEqual([`Failed to understand rule ${text}: bad %(key)s substitution`]);
    }
  });

  it('remote http: checks are not supported and deny', () => {
    const { result, errors } = run('http://example.com/check', {}, {});
    expect(result).toBe(false);
    expect(errors).toHaveLength(1);
  });
});

describe('list rules (old syntax in policy files)', () => {
  const creds = { roles: ['b'], project_id: 'p1' };
  it('[] allows, null allows, [[]] denies', () => {
    expect(evaluate(parseRule([]), {}, {}, NO_RULES)).toBe(true);
    expect(evaluate(parseRule(null), {}, {}, NO_RULES)).toBe(true);
    expect(evaluate(parseRule([[]]), {}, {}, NO_RULES)).toBe(false);
  });
  it('outer list is or, inner list is and', () => {
    expect(evaluate(parseRule([['role:a'], ['role:b']]), {}, creds, NO_RULES)).toBe(true);
    expect(evaluate(parseRule([['role:a', 'role:b']]), {}, creds, NO_RULES)).toBe(false);
    expect(evaluate(parseRule(['role:b', 'role:c']), {}, creds, NO_RULES)).toBe(true);
  });
  it('other values are rejected', () => {
    expect(() => parseRule(1)).toThrow(/check string or a list/);
    expect(() => parseRule([[1]])).toThrow(/strings/);
  });
});

describe('pythonStr', () => {
  it('renders like Python str()', () => {
    expect(pythonStr(true)).toBe('True');
    expect(pythonStr(null)).toBe('None');
    expect(pythonStr(10)).toBe('10');
    expect(pythonStr(1e-5)).toBe('1e-05');
    expect(pythonStr(['a', 1, false])).toBe("['a', 1, False]");
    expect(pythonStr({ a: "it's" })).toBe(`{'a': "it's"}`);
  });
});

describe('properties', () => {
  const roleName = fc.constantFrom('a', 'b', 'c', 'd');
  const roleCheck = roleName.map((r) => `role:${r}`);
  const roles = fc.subarray(['a', 'b', 'c', 'd', 'A', 'x']);

  /** A random expression as text, with a reference evaluator. */
  type Expr = { text: string; holds: (roles: string[]) => boolean };
  const has = (r: string) => (rs: string[]) => rs.some((x) => x.toLowerCase() === r);
  const leaf: fc.Arbitrary<Expr> = roleName.map((r) => ({ text: `role:${r}`, holds: has(r) }));
  const { expr } = fc.letrec<{ expr: Expr }>((tie) => ({
    expr: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      leaf,
      tie('expr').map((e) => ({ text: `not (${e.text})`, holds: (rs: string[]) => !e.holds(rs) })),
      fc.tuple(tie('expr'), tie('expr')).map(([l, r]) => ({
        text: `(${l.text}) and (${r.text})`,
        holds: (rs: string[]) => l.holds(rs) && r.holds(rs),
      })),
      fc.tuple(tie('expr'), tie('expr')).map(([l, r]) => ({
        text: `(${l.text}) or (${r.text})`,
        holds: (rs: string[]) => l.holds(rs) || r.holds(rs),
      })),
    ),
  }));

  const ev = (text: string, rs: string[]) => evaluate(parseCheck(text), {}, { roles: rs }, NO_RULES);

  it('A or B = A || B, A and B = A && B, not A = !A', () => {
    fc.assert(
      fc.property(roleCheck, roleCheck, roles, (a, b, rs) => {
        expect(ev(`${a} or ${b}`, rs)).toBe(ev(a, rs) || ev(b, rs));
        expect(ev(`${a} and ${b}`, rs)).toBe(ev(a, rs) && ev(b, rs));
        expect(ev(`not ${a}`, rs)).toBe(!ev(a, rs));
      }),
    );
  });

  it('without parentheses, and binds tighter than or', () => {
    fc.assert(
      fc.property(roleCheck, roleCheck, roleCheck, roles, (a, b, c, rs) => {
        expect(ev(`${a} or ${b} and ${c}`, rs)).toBe(ev(a, rs) || (ev(b, rs) && ev(c, rs)));
        expect(ev(`${a} and ${b} or ${c}`, rs)).toBe((ev(a, rs) && ev(b, rs)) || ev(c, rs));
        expect(ev(`not ${a} and ${b}`, rs)).toBe(!ev(a, rs) && ev(b, rs));
      }),
    );
  });

  it('random nested expressions agree with a reference evaluator', () => {
    fc.assert(
      fc.property(expr, roles, (e, rs) => {
        expect(ev(e.text, rs)).toBe(e.holds(rs));
      }),
    );
  });
});
