import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseIni } from '../../src/config/ini.js';
import { loadConfig } from '../../src/config/load.js';
import { allSections, KEYSTONE_TIMEOUT_S, LIMITS_CACHE_TIME_S, TOKEN_CACHE_TIME_S } from '../../src/config/options.js';
import { renderConfigSample } from '../../src/config/sample.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'warre-sample-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const sample = renderConfigSample();

function loadFrom(name: string, text: string) {
  const file = path.join(tmp, name);
  writeFileSync(file, text);
  return loadConfig({ argv: ['--config-file', file], env: {}, cwd: tmp });
}

describe('renderConfigSample', () => {
  it('shows every section and option, commented out', () => {
    const lines = sample.split('\n');
    for (const [section, options] of allSections()) {
      expect(lines).toContain(`[${section}]`);
      for (const [name] of options) {
        expect(
          lines.some((l) => l === `#${name} =` || l.startsWith(`#${name} = `)),
          `${section}.${name}`,
        ).toBe(true);
      }
    }
  });

  it('documents defaults, types, choices, deprecated names and secrets', () => {
    expect(sample).toContain('#auth_strategy = keystone\n');
    expect(sample).toContain('# Allowed values: noauth, keystone\n');
    expect(sample).toContain('#port = 8787\n');
    expect(sample).toContain('# Deprecated name: [flask] port\n');
    expect(sample).toContain('#token_cache_time = 300\n');
    expect(sample).toContain('#service_token_roles = service\n');
    expect(sample).toContain('#policy_dirs = policy.d\n');
    expect(sample).toContain('#bot_user_id = <None>\n');
    expect(sample).toContain('#connection = sqlite:///.warre/warre.db\n');
    expect(sample).toMatch(/#\n# Type: string\n# Secret: never written to the logs\.\n#bot_password = <None>\n/);
    for (const line of sample.split('\n')) expect(line.length, line).toBeLessThanOrEqual(100);
  });

  it('parses back with the INI parser: every section, no active option', () => {
    const ini = parseIni(sample, 'sample');
    expect([...ini.keys()]).toEqual(allSections().map(([section]) => section));
    for (const options of ini.values()) expect(options.size).toBe(0);
  });

  it('uncommented, gives the same configuration as an empty file', () => {
    const uncommented = sample
      .split('\n')
      .map((line) => (/^#[a-z_]+ =/.test(line) && !line.includes('<') ? line.slice(1) : line))
      .join('\n');
    expect(uncommented).toContain('\nauth_strategy = keystone\n');
    const fromSample = loadFrom('sample.conf', uncommented);
    const fromEmpty = loadFrom('empty.conf', '');
    expect(fromSample.unknownOptions).toEqual([]);
    expect(fromSample.databaseTarget).toEqual(fromEmpty.databaseTarget);
    for (const [section, options] of allSections()) {
      for (const [name] of options) {
        if (section === 'database' && name === 'connection') continue; // relative in the sample: compared as databaseTarget
        const get = (c: object) => (c as Record<string, Record<string, unknown>>)[section]?.[name];
        expect(get(fromSample), `${section}.${name}`).toEqual(get(fromEmpty));
      }
    }
  });
});

/** The sample's lines of one section (from its header to the next). */
function sampleSection(name: string): string {
  const from = sample.indexOf(`\n[${name}]\n`);
  expect(from, name).toBeGreaterThanOrEqual(0);
  const next = sample.indexOf('\n[', from + 1);
  return sample.slice(from, next < 0 ? undefined : next);
}

describe('the sample states the defaults the code applies', () => {
  it('Keystone waits and caches: the constants the drivers fall back to', () => {
    expect(sampleSection('keystone_authtoken')).toContain(`\n#http_connect_timeout = ${KEYSTONE_TIMEOUT_S}\n`);
    expect(sampleSection('service_auth')).toContain(`\n#timeout = ${KEYSTONE_TIMEOUT_S}\n`);
    expect(sampleSection('oslo_limit')).toContain(`\n#timeout = ${KEYSTONE_TIMEOUT_S}\n`);
    expect(sampleSection('keystone_authtoken')).toContain(`\n#token_cache_time = ${TOKEN_CACHE_TIME_S}\n`);
    expect(sampleSection('oslo_limit')).toContain(`\n#cache_time = ${LIMITS_CACHE_TIME_S}\n`);
  });

  it('token_cache_time names both values that disable the cache, as docs/keystone.md', () => {
    expect(sampleSection('keystone_authtoken').replace(/\n# /g, ' ')).toContain('-1 or 0 disables the cache');
  });

  it('no option that has a default says what happens when it is unset', () => {
    const ctx = { allInOne: false, cwd: '.' };
    const contradictions = allSections().flatMap(([section, options]) =>
      options
        .filter(([, spec]) => spec.default(ctx) !== null && /\bunset\b/i.test(spec.help))
        .map(([name, spec]) => `[${section}] ${name}: ${spec.help}`),
    );
    expect(contradictions).toEqual([]);
  });
});
