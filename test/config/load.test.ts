import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, expectTypeOf, it } from 'vitest';
import { ConfigError } from '../../src/config/errors.js';
import { parseIni } from '../../src/config/ini.js';
import {
  describeConfig,
  type LoadOptions,
  loadConfig,
  unknownOptions,
  type WarreConfig,
  withoutConfigArgs,
} from '../../src/config/load.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'warre-config-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let counter = 0;
/** Writes a config file in its own directory and returns its path. */
function confFile(text: string, name = 'warre.conf'): string {
  const dir = path.join(tmp, `c${++counter}`);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

const cwd = path.join(tmp, 'cwd');
mkdirSync(cwd, { recursive: true });
const missing = path.join(tmp, 'absent', 'warre.conf');

/** Loads with nothing from the real machine: no argv, no env, no /etc/warre/warre.conf. */
function load(opts: LoadOptions = {}): WarreConfig {
  return loadConfig({ argv: [], env: {}, cwd, defaultConfigFile: missing, ...opts });
}
const loadText = (text: string, env: NodeJS.ProcessEnv = {}) => load({ argv: ['--config-file', confFile(text)], env });

function errorOf(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as Error;
  }
  throw new Error('expected a ConfigError');
}

describe('all-in-one defaults (no configuration file)', () => {
  const config = load();

  it('uses the embedded defaults', () => {
    expect(config.source).toBeNull();
    expect(config.sources).toEqual([]);
    expect(config.allInOne).toBe(true);
    expect(config.configDir).toBe(cwd);
    expect(config.DEFAULT.auth_strategy).toBe('noauth');
    expect(config.DEFAULT.host).toBe(os.hostname());
    expect(config.DEFAULT.control_exchange).toBe('warre');
    expect(config.DEFAULT.transport_url).toBeNull();
    expect(config.DEFAULT.debug).toBe(false);
    expect(config.warre.lease_backend).toBe('simulator');
    expect(config.warre.user_notifier).toBe('logging');
    expect(config.api).toEqual({
      host: '127.0.0.1',
      port: 8787,
      workers: os.availableParallelism(),
      public_url: null,
      request_timeout: 30,
      headers_timeout: 10,
      flavor_cache_seconds: 1,
      metrics_allowed_networks: ['127.0.0.0/8', '::1'],
    });
    expect(config.database.connection).toBe(`sqlite:///${cwd}/.warre/warre.db`);
    expect(config.database).toMatchObject({ connect_timeout: 5, pool_timeout: 5, statement_timeout: 10 }); // docs/operations.md
    expect(config.databaseTarget).toEqual({ dialect: 'sqlite', filename: path.join(cwd, '.warre', 'warre.db') });
    expect(config.oslo_policy).toEqual({ policy_file: '/etc/warre/policy.yaml', policy_dirs: [path.join(cwd, 'policy.d')] });
    expect(config.worker).toEqual({
      workers: 1,
      periodic_task_interval: 1800,
      lease_retry_timeout: 900,
      claim_ttl: 300,
      lease_concurrency: 8,
      metrics_port: null,
    });
    expect(config.keystone_authtoken.token_cache_time).toBe(300);
    expect(config.keystone_authtoken.service_token_roles).toEqual(['service']);
    expect(config.keystone_authtoken.interface).toBe('internal');
    expect(config.keystone_authtoken.include_service_catalog).toBe(true);
    expect(config.oslo_limit.endpoint_interface).toBe('public');
    expect(config.oslo_messaging_notifications).toEqual({ driver: [], transport_url: null, topics: ['notifications'], retry: -1 });
    expect(config.oslo_messaging_rabbit.rabbit_transient_queues_ttl).toBe(1800);
    expect(config.oslo_messaging_rabbit.rabbit_login_method).toBe('AMQPLAIN');
    expect(config.quota).toEqual({ default_reservation: 5, default_hours: 1000, project_limit: [] });
    expect(config.smtp.from_address).toBe('Nectar Reservation System <noreply@localhost>');
    expect(config.unknownOptions).toEqual([]);
    expect(config.notes).toEqual([]);
  });

  it('is fully typed', () => {
    expectTypeOf(config.api.port).toEqualTypeOf<number>();
    expectTypeOf(config.DEFAULT.auth_strategy).toEqualTypeOf<'noauth' | 'keystone'>();
    expectTypeOf(config.warre.bot_user_id).toEqualTypeOf<string | null>();
    expectTypeOf(config.keystone_authtoken.delay_auth_decision).toEqualTypeOf<boolean>();
    expectTypeOf(config.oslo_messaging_notifications.driver).toEqualTypeOf<string[]>();
    expectTypeOf(config.keystone_authtoken.http_connect_timeout).toEqualTypeOf<number>();
    expectTypeOf(config.source).toEqualTypeOf<string | null>();
  });
});

describe('a configuration file', () => {
  it('reads a Python-style warre.conf; defaults become those of the Python service', () => {
    const file = confFile(
      [
        '[DEFAULT]',
        "transport_url = 'rabbit://warre:s3cr%40t@mq1:5672,warre:s3cr%40t@mq2:5672/nectar'",
        'debug=true',
        'log_config_append = /etc/warre/logging.conf',
        '',
        '[flask]',
        "secret_key = 'test'",
        'host = 0.0.0.0',
        'port = 5000',
        '',
        '[database]',
        'connection = mysql+pymysql://warre:pw@db/warre?charset=utf8',
        '',
        '[keystone_authtoken]',
        'www_authenticate_uri = https://keystone.example.org:5000/v3',
        'auth_url = https://keystone.example.org:5000/v3',
        'memcached_servers = mc1:11211,mc2:11211',
        'token_cache_time = 600',
        'service_token_roles = service, admin',
        '',
        '[service_auth]',
        'auth_url=http://keystone:5000',
        'username=warre',
        'project_name=service',
        'password=test',
        'user_domain_name=Default',
        'project_domain_name=Default',
        'auth_type=password',
        '',
        '[oslo_messaging_notifications]',
        'driver = messagingv2',
        'driver = log',
        '',
        '[oslo_limit]',
        'endpoint_id = 8d9f1c',
        'system_scope = all',
      ].join('\n'),
    );
    const config = load({ argv: ['warre-api', '--config-file', file] });
    expect(config.source).toBe(file);
    expect(config.allInOne).toBe(false);
    expect(config.configDir).toBe(path.dirname(file));
    expect(config.DEFAULT.auth_strategy).toBe('keystone');
    expect(config.warre.lease_backend).toBe('blazar');
    expect(config.warre.user_notifier).toBe('taynac');
    expect(config.DEFAULT.debug).toBe(true);
    expect(config.DEFAULT.transport_url).toBe('rabbit://warre:s3cr%40t@mq1:5672,warre:s3cr%40t@mq2:5672/nectar');
    expect(config.api.host).toBe('0.0.0.0');
    expect(config.api.port).toBe(5000);
    expect(config.databaseTarget).toMatchObject({ dialect: 'mysql', host: 'db', user: 'warre', database: 'warre' });
    expect(config.keystone_authtoken.token_cache_time).toBe(600);
    expect(config.keystone_authtoken.service_token_roles).toEqual(['service', 'admin']);
    expect(config.keystone_authtoken.memcached_servers).toEqual(['mc1:11211', 'mc2:11211']);
    expect(config.service_auth).toMatchObject({ username: 'warre', password: 'test', project_name: 'service', auth_type: 'password' });
    expect(config.oslo_messaging_notifications.driver).toEqual(['messagingv2', 'log']);
    expect(config.oslo_limit.endpoint_id).toBe('8d9f1c');
    expect(config.oslo_limit.system_scope).toBe('all');
    expect(config.oslo_policy.policy_file).toBe('/etc/warre/policy.yaml');
    expect(config.oslo_policy.policy_dirs).toEqual([path.join(path.dirname(file), 'policy.d')]);
    expect(config.unknownOptions.sort()).toEqual(['[DEFAULT] log_config_append', '[flask] secret_key']);
    expect(config.notes).toEqual([
      '[flask] host is deprecated: use [api] host',
      '[flask] port is deprecated: use [api] port',
      '[keystone_authtoken] memcached_servers is set but ignored: tokens are cached in-process',
    ]);
  });

  it('prefers [api] over [flask] when both are set', () => {
    const config = loadText('[flask]\nhost = 0.0.0.0\nport = 5000\n[api]\nport = 9000\n');
    expect(config.api.port).toBe(9000);
    expect(config.api.host).toBe('0.0.0.0');
  });

  it('reads deprecated option names of the libraries', () => {
    const config = loadText(
      '[keystone_authtoken]\nauth_uri = https://k/v3\n[DEFAULT]\nnotification_driver = messagingv2\n[oslo_messaging_rabbit]\nrabbit_use_ssl = yes\n',
    );
    expect(config.keystone_authtoken.www_authenticate_uri).toBe('https://k/v3');
    expect(config.oslo_messaging_notifications.driver).toEqual(['messagingv2']);
    expect(config.oslo_messaging_rabbit.ssl).toBe(true);
    expect(config.notes).toContain('[keystone_authtoken] auth_uri is deprecated: use [keystone_authtoken] www_authenticate_uri');
  });

  it('normalises section names as oslo.config: any case but DEFAULT exactly; option names are case-sensitive', () => {
    const config = loadText('[Database]\nconnection = sqlite://\n[default]\ndebug = true\n[API]\nPort = 1\n');
    expect(config.database.connection).toBe('sqlite://');
    expect(config.databaseTarget).toEqual({ dialect: 'sqlite', filename: ':memory:' });
    expect(config.DEFAULT.debug).toBe(false);
    expect(config.api.port).toBe(8787);
    expect(config.unknownOptions).toEqual(['[default] debug', '[api] Port']);
  });

  it('takes the last value of a repeated single option', () => {
    expect(loadText('[api]\nport = 1\nport = 2\n').api.port).toBe(2);
  });

  it('treats an empty value as the default for strings and numbers, as empty for lists', () => {
    const config = loadText('[api]\nport =\nhost =\n[warre]\nbot_user_id =\n[keystone_authtoken]\nservice_token_roles =\n');
    expect(config.api.port).toBe(8787);
    expect(config.api.host).toBe('127.0.0.1');
    expect(config.warre.bot_user_id).toBeNull();
    expect(config.keystone_authtoken.service_token_roles).toEqual([]);
  });

  it("resolves relative paths against the file's directory", () => {
    const file = confFile(
      '[oslo_policy]\npolicy_file = policy.yaml\npolicy_dirs = /etc/warre/policy.d\npolicy_dirs = extra.d\n[warre]\ntemplate_dir = ../templates\n',
    );
    const dir = path.dirname(file);
    const config = load({ argv: ['--config-file', file] });
    expect(config.oslo_policy.policy_file).toBe(path.join(dir, 'policy.yaml'));
    expect(config.oslo_policy.policy_dirs).toEqual(['/etc/warre/policy.d', path.join(dir, 'extra.d')]);
    expect(config.warre.template_dir).toBe(path.resolve(dir, '..', 'templates'));
  });

  it('resolves a relative SQLite path against the working directory, as SQLAlchemy', () => {
    expect(loadText('[database]\nconnection = sqlite:///data/warre.db\n').databaseTarget).toEqual({
      dialect: 'sqlite',
      filename: path.join(cwd, 'data', 'warre.db'),
    });
  });

  it('treats 0 API workers as one per CPU core', () => {
    expect(loadText('[api]\nworkers = 0\n').api.workers).toBe(os.availableParallelism());
    expect(loadText('[api]\nworkers = 3\n').api.workers).toBe(3);
  });

  it('parses [quota] project_limit', () => {
    const config = loadText('[quota]\ndefault_hours = 50\nproject_limit = p1:reservation=10,hours=2000\nproject_limit = p2:hours=7\n');
    expect(config.quota.default_hours).toBe(50);
    expect(Object.fromEntries(config.projectLimits)).toEqual({ p1: { reservation: 10, hours: 2000 }, p2: { hours: 7 } });
  });
});

describe('where the file comes from', () => {
  const argvFile = confFile('[api]\nport = 1\n');
  const envFile = confFile('[api]\nport = 2\n');
  const defaultFile = confFile('[api]\nport = 3\n');

  it('--config-file first', () => {
    const config = load({ argv: ['--config-file', argvFile], env: { WARRE_CONFIG_FILE: envFile }, defaultConfigFile: defaultFile });
    expect([config.source, config.api.port]).toEqual([argvFile, 1]);
  });

  it('accepts --config-file=path and a path relative to the working directory', () => {
    const rel = path.relative(cwd, argvFile);
    const config = load({ argv: [`--config-file=${rel}`] });
    expect([config.source, config.api.port]).toEqual([argvFile, 1]);
  });

  it('then WARRE_CONFIG_FILE', () => {
    const config = load({ env: { WARRE_CONFIG_FILE: envFile }, defaultConfigFile: defaultFile });
    expect([config.source, config.api.port]).toEqual([envFile, 2]);
  });

  it('then the default file when it exists', () => {
    const config = load({ defaultConfigFile: defaultFile });
    expect([config.source, config.api.port, config.allInOne]).toEqual([defaultFile, 3, false]);
  });

  it('else no file: all-in-one', () => {
    expect(load({ defaultConfigFile: missing }).allInOne).toBe(true);
    expect(load({ defaultConfigFile: null }).allInOne).toBe(true);
  });

  it('several --config-file: later files win, multi-valued options collect from all', () => {
    const a = confFile('[api]\nport = 1\nhost = a\n[oslo_messaging_notifications]\ndriver = messagingv2\n');
    const b = confFile('[api]\nport = 2\n[oslo_messaging_notifications]\ndriver = log\n');
    const config = load({ argv: ['--config-file', a, '--config-file', b] });
    expect(config.sources).toEqual([a, b]);
    expect(config.source).toBe(a);
    expect([config.api.port, config.api.host]).toEqual([2, 'a']);
    expect(config.oslo_messaging_notifications.driver).toEqual(['messagingv2', 'log']);
  });

  it('a named file that does not exist is an error', () => {
    expect(errorOf(() => load({ argv: ['--config-file', missing] })).message).toBe(
      `configuration file ${missing} (given by --config-file) does not exist`,
    );
    expect(errorOf(() => load({ env: { WARRE_CONFIG_FILE: missing } })).message).toContain('(given by WARRE_CONFIG_FILE)');
    expect(errorOf(() => load({ argv: ['--config-file'] })).message).toBe('--config-file needs a file path');
  });

  it("--config-dir adds the directory's *.conf files, sorted, where it stands among the --config-file arguments", () => {
    const first = confFile('[api]\nport = 1\nhost = from-file\n');
    const dir = path.dirname(confFile('[api]\nport = 2\n', '20-port.conf'));
    writeFileSync(path.join(dir, '10-host.conf'), '[api]\nhost = from-dir\nport = 3\n');
    writeFileSync(path.join(dir, 'README'), 'not a configuration file = really\n');
    const last = confFile('[api]\nport = 4\n');
    const config = load({ argv: ['--config-file', first, `--config-dir=${dir}`, '--config-file', last] });
    expect(config.sources).toEqual([first, path.join(dir, '10-host.conf'), path.join(dir, '20-port.conf'), last]);
    expect([config.api.host, config.api.port]).toEqual(['from-dir', 4]);
    expect(load({ argv: ['--config-dir', dir] }).api.port).toBe(2);
    expect(errorOf(() => load({ argv: ['--config-dir', path.join(tmp, 'absent')] })).message).toBe(
      `configuration directory ${path.join(tmp, 'absent')} (given by --config-dir) does not exist`,
    );
    expect(errorOf(() => load({ argv: ['--config-dir'] })).message).toBe('--config-dir needs a directory path');
    expect(withoutConfigArgs(['--config-dir', dir, 'db', '--config-file=x', 'upgrade'])).toEqual(['db', 'upgrade']);
  });

  it('a syntax error names the file and line', () => {
    const file = confFile('[api]\nport = 1\noops\n');
    expect(errorOf(() => load({ argv: ['--config-file', file] })).message).toBe(`${file}:3: No ':' or '=' found in assignment: "oops"`);
  });
});

describe('environment variables', () => {
  it('override the built-in defaults when there is no file', () => {
    const config = load({
      env: {
        WARRE_DATABASE__CONNECTION: 'postgresql://root@127.0.0.1/warre',
        WARRE_DEFAULT__AUTH_STRATEGY: 'keystone',
        WARRE_OSLO_LIMIT__ENDPOINT_ID: 'e1',
        WARRE_API__port: '9999',
      },
    });
    expect(config.allInOne).toBe(true);
    expect(config.DEFAULT.auth_strategy).toBe('keystone');
    expect(config.oslo_limit.endpoint_id).toBe('e1');
    expect(config.api.port).toBe(9999);
    expect(config.databaseTarget).toMatchObject({ dialect: 'postgres', host: '127.0.0.1', user: 'root', database: 'warre' });
  });

  it('override file values, including a deprecated name in the file', () => {
    const config = loadText('[api]\nhost = 10.0.0.1\n[flask]\nport = 5000\n[DEFAULT]\ndebug = true\n', {
      WARRE_API__PORT: '8000',
      WARRE_DEFAULT__DEBUG: 'false',
    });
    expect([config.api.host, config.api.port, config.DEFAULT.debug]).toEqual(['10.0.0.1', 8000, false]);
  });

  it('take one value per line for multi-valued options and commas for lists', () => {
    const config = load({
      env: {
        WARRE_OSLO_MESSAGING_NOTIFICATIONS__DRIVER: 'messagingv2\nlog',
        WARRE_OSLO_MESSAGING_NOTIFICATIONS__TOPICS: 'notifications, billing',
        WARRE_QUOTA__PROJECT_LIMIT: 'p1:reservation=1,hours=2\np2:hours=3',
      },
    });
    expect(config.oslo_messaging_notifications.driver).toEqual(['messagingv2', 'log']);
    expect(config.oslo_messaging_notifications.topics).toEqual(['notifications', 'billing']);
    expect(config.projectLimits.get('p1')).toEqual({ reservation: 1, hours: 2 });
    expect(config.projectLimits.get('p2')).toEqual({ hours: 3 });
  });

  it('can empty a multi-valued option set in the file', () => {
    const config = loadText('[oslo_messaging_notifications]\ndriver = messagingv2\n', {
      WARRE_OSLO_MESSAGING_NOTIFICATIONS__DRIVER: '',
    });
    expect(config.oslo_messaging_notifications.driver).toEqual([]);
  });

  it('that Warre does not know are listed, other WARRE_ variables ignored', () => {
    const config = load({ env: { WARRE_API__BODY_LIMIT: '1', WARRE_CONFIG_FILE: '', WARRE_LOG: 'x', PATH: '/bin' } });
    expect(config.unknownOptions).toEqual(['environment variable WARRE_API__BODY_LIMIT']);
  });
});

describe('bad values', () => {
  it.each([
    ['[api]\nport = eighty\n', '[api] port: "eighty" is not an integer; accepted: an integer from 0 to 65535 (in '],
    ['[flask]\nport = 70000\n', '[flask] port: 70000 is out of range; accepted: an integer from 0 to 65535 (in '],
    ['[worker]\nclaim_ttl = 5m\n', '[worker] claim_ttl: "5m" is not an integer; accepted: an integer >= 1'],
    ['[database]\nconnect_timeout = soon\n', '[database] connect_timeout: "soon" is not a number; accepted: a number >= 0'],
    ['[DEFAULT]\ndebug = maybe\n', '[DEFAULT] debug: "maybe" is not a boolean; accepted: true, false, yes, no, on, off, 1, 0 (any case)'],
    ['[DEFAULT]\ndebug =\n', '[DEFAULT] debug: "" is not a boolean'],
    ['[DEFAULT]\nauth_strategy = testing\n', '[DEFAULT] auth_strategy: "testing" is not a valid choice; accepted: noauth, keystone'],
    ['[warre]\nuser_notifier = email\n', '[warre] user_notifier: "email" is not a valid choice; accepted: logging, taynac, smtp'],
    [
      '[api]\npublic_url = warre.example.org\n',
      '[api] public_url: invalid value "warre.example.org"; accepted: an http:// or https:// URL',
    ],
    ['[service_auth]\nauth_type = token\n', '[service_auth] auth_type: invalid value "token"; accepted: password'],
    ['[quota]\nproject_limit = p:cores=1\n', '[quota] project_limit: unknown resource "cores"'],
  ])('%j', (text, message) => {
    expect(errorOf(() => loadText(text)).message).toContain(message);
  });

  it('name the environment variable they came from', () => {
    expect(errorOf(() => load({ env: { WARRE_WORKER__PERIODIC_TASK_INTERVAL: 'hourly' } })).message).toBe(
      '[worker] periodic_task_interval: "hourly" is not an integer; accepted: an integer >= 1 ' +
        '(from environment variable WARRE_WORKER__PERIODIC_TASK_INTERVAL)',
    );
  });

  it('never show a database password', () => {
    const message = errorOf(() => loadText('[database]\nconnection = oracle://warre:hunter2@db/warre\n')).message;
    expect(message).toContain('[database] connection: unsupported URL "oracle://warre:***@db/warre"');
    expect(message).not.toContain('hunter2');
  });
});

describe('listing and describing', () => {
  it('unknownOptions lists what Warre does not read', () => {
    const ini = parseIni('[DEFAULT]\ndebug = 1\nuse_journal = 1\n[cors]\nallowed_origin = *\n[flask]\nport = 1\nsecret_key = x\n');
    expect(unknownOptions(ini)).toEqual(['[DEFAULT] use_journal', '[cors] allowed_origin', '[flask] secret_key']);
  });

  it('describeConfig shows every option and hides secrets', () => {
    const config = loadText(
      '[DEFAULT]\ntransport_url = rabbit://warre:rabbitpw@mq:5672/\n[database]\nconnection = mysql://warre:dbpw@db/warre\n' +
        '[service_auth]\npassword = servicepw\n[warre]\nbot_password = botpw\n',
    );
    const lines = describeConfig(config);
    const text = lines.join('\n');
    for (const secret of ['rabbitpw', 'dbpw', 'servicepw', 'botpw']) expect(text).not.toContain(secret);
    expect(lines).toContain('[DEFAULT] transport_url = rabbit://warre:***@mq:5672/');
    expect(lines).toContain('[database] connection = mysql://warre:***@db/warre');
    expect(lines).toContain('[service_auth] password = ***');
    expect(lines).toContain('[smtp] password = <None>');
    expect(lines).toContain('[keystone_authtoken] service_token_roles = service');
    expect(lines).toContain('[api] port = 8787');
  });
});
