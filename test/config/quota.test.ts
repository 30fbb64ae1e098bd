import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { parseProjectLimits, quotaFor } from '../../src/config/quota.js';

describe('parseProjectLimits', () => {
  it('reads one line per project, with spaces tolerated', () => {
    const limits = parseProjectLimits(['9e8d7c6b5a4f43e2b1c0d9e8f7a6b5c4:reservation=10,hours=2000', ' p2 : hours = 5 ']);
    expect(Object.fromEntries(limits)).toEqual({
      '9e8d7c6b5a4f43e2b1c0d9e8f7a6b5c4': { reservation: 10, hours: 2000 },
      p2: { hours: 5 },
    });
  });

  it('merges a project given twice, the later line winning', () => {
    const limits = parseProjectLimits(['p:reservation=1,hours=2', 'p:hours=3']);
    expect(limits.get('p')).toEqual({ reservation: 1, hours: 3 });
  });

  it.each([
    ['p:cores=4', 'unknown resource "cores"'],
    ['p:hours=lots', '"lots" is not a non-negative integer (resource hours)'],
    ['p:hours=-1', '"-1" is not a non-negative integer'],
    ['p:hours=1.5', '"1.5" is not a non-negative integer'],
    ['p:hours', '"hours" is not <resource>=<n>'],
    ['p:', '"" is not <resource>=<n>'],
    ['reservation=10', 'no project id'],
    [':hours=1', 'no project id'],
    ['a b:hours=1', 'bad project id "a b"'],
  ])('%j is refused', (line, problem) => {
    expect(() => parseProjectLimits([line])).toThrow(ConfigError);
    expect(() => parseProjectLimits([line])).toThrow(`[quota] project_limit: ${problem}`);
    expect(() => parseProjectLimits([line])).toThrow('accepted: <project_id>:<resource>=<n>[,<resource>=<n>]');
  });
});

describe('quotaFor', () => {
  const config = {
    quota: { default_reservation: 5, default_hours: 1000 },
    projectLimits: parseProjectLimits(['big:reservation=10,hours=2000', 'half:hours=100']),
  };
  it('uses the override, falling back to the defaults per resource', () => {
    expect(quotaFor(config, 'big')).toEqual({ reservation: 10, hours: 2000 });
    expect(quotaFor(config, 'half')).toEqual({ reservation: 5, hours: 100 });
    expect(quotaFor(config, 'other')).toEqual({ reservation: 5, hours: 1000 });
  });
});
