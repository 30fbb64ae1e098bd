/**
 * The registry of every configuration option Warre reads: section and option names are the
 * Python service's (oslo.config, keystonemiddleware, keystoneauth, oslo.limit,
 * oslo.messaging, oslo.policy), so an existing `warre.conf` keeps working.
 *
 * Each option is built by a typed helper (`str`, `int`, `bool`, …); the value types of the
 * whole configuration ({@link ConfigValues}) are derived from this registry.
 */
import os from 'node:os';
import path from 'node:path';
import { LOOPBACK_NETWORKS } from '../metrics/access.js';

export type OptionType = 'string' | 'int' | 'float' | 'bool' | 'list' | 'multi' | 'enum';

/** What computed defaults depend on. */
export interface DefaultContext {
  /** True when no configuration file is used (the built-in all-in-one defaults). */
  readonly allInOne: boolean;
  /** The process's working directory. */
  readonly cwd: string;
}

export interface OptionName {
  readonly section: string;
  readonly name: string;
}

/** Thrown by an option's `parse`; the loader adds which option and where it was set. */
export class InvalidValue extends Error {
  constructor(
    readonly problem: string,
    readonly accepted: string,
  ) {
    super(`${problem}; accepted: ${accepted}`);
  }
}

export interface OptionSpec<T> {
  readonly type: OptionType;
  readonly help: string;
  /** The value when the option is not set. */
  readonly default: (ctx: DefaultContext) => T;
  /** Turns every raw value given for the option (in order) into its typed value. */
  readonly parse: (raw: readonly string[], ctx: DefaultContext) => T;
  /** What the sample file shows as default, when the default is computed. */
  readonly sampleDefault?: string;
  readonly choices?: readonly string[];
  readonly min?: number;
  readonly max?: number;
  /** Holds a password or a URL with one: never printed in logs. */
  readonly secret?: boolean;
  /** A file or directory path: relative paths resolve against the config file's directory. */
  readonly path?: boolean;
  /** Older names still read (the new name wins when both are set). */
  readonly deprecatedNames?: readonly OptionName[];
  /** Accepted for compatibility but not used; this says why. */
  readonly ignored?: string;
}

/** The typed value of an option spec. */
export type OptionValue<O> = O extends OptionSpec<infer T> ? T : never;

interface Common {
  help: string;
  secret?: boolean;
  path?: boolean;
  deprecatedNames?: readonly OptionName[];
  ignored?: string;
  sampleDefault?: string;
}
interface DefaultFields<T> {
  default: T;
  computeDefault: (ctx: DefaultContext) => T;
}
type Default<T> = Pick<DefaultFields<T>, 'default'> | Pick<DefaultFields<T>, 'computeDefault'>;

function defaultOf<T>(a: Partial<DefaultFields<T>>, fallback: T): (ctx: DefaultContext) => T {
  if (a.computeDefault) return a.computeDefault;
  const value = a.default === undefined ? fallback : a.default;
  return () => structuredClone(value);
}

function meta(a: Common, type: OptionType): Omit<OptionSpec<never>, 'default' | 'parse'> {
  return {
    type,
    help: a.help,
    ...(a.secret ? { secret: true } : {}),
    ...(a.path ? { path: true } : {}),
    ...(a.deprecatedNames ? { deprecatedNames: a.deprecatedNames } : {}),
    ...(a.ignored ? { ignored: a.ignored } : {}),
    ...(a.sampleDefault !== undefined ? { sampleDefault: a.sampleDefault } : {}),
  };
}

const last = (raw: readonly string[]): string => raw.at(-1) ?? '';

interface StrArgs extends Common {
  /** Returns what is accepted when the value is not, else undefined. */
  check?: (value: string) => string | undefined;
}

/** A string option; an empty value means the default. Without a default it is `string | null`. */
export function str(a: StrArgs & Default<string>): OptionSpec<string>;
export function str(a: StrArgs): OptionSpec<string | null>;
export function str(a: StrArgs & Partial<DefaultFields<string>>): OptionSpec<string | null> {
  const def = defaultOf<string | null>(a, null);
  return {
    ...meta(a, 'string'),
    default: def,
    parse: (raw, ctx) => {
      const value = last(raw);
      if (value === '') return def(ctx);
      const accepted = a.check?.(value);
      if (accepted !== undefined) throw new InvalidValue(`invalid value ${JSON.stringify(value)}`, accepted);
      return value;
    },
  };
}

interface NumberArgs extends Common {
  min?: number;
  max?: number;
  /** 0 stands for the default (e.g. "0 workers" = one per CPU core). */
  zeroMeansDefault?: boolean;
}

function numberOption(type: 'int' | 'float', a: NumberArgs & Partial<DefaultFields<number>>): OptionSpec<number | null> {
  const def = defaultOf<number | null>(a, null);
  const pattern = type === 'int' ? /^[+-]?\d+$/ : /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
  const noun = type === 'int' ? 'an integer' : 'a number';
  let accepted = noun;
  if (a.min !== undefined && a.max !== undefined) accepted += ` from ${a.min} to ${a.max}`;
  else if (a.min !== undefined) accepted += ` >= ${a.min}`;
  else if (a.max !== undefined) accepted += ` <= ${a.max}`;
  return {
    ...meta(a, type),
    ...(a.min !== undefined ? { min: a.min } : {}),
    ...(a.max !== undefined ? { max: a.max } : {}),
    default: def,
    parse: (raw, ctx) => {
      const value = last(raw).trim();
      if (value === '') return def(ctx);
      if (!pattern.test(value)) throw new InvalidValue(`${JSON.stringify(value)} is not ${noun}`, accepted);
      const n = Number(value);
      if ((a.min !== undefined && n < a.min) || (a.max !== undefined && n > a.max)) {
        throw new InvalidValue(`${value} is out of range`, accepted);
      }
      return a.zeroMeansDefault && n === 0 ? def(ctx) : n;
    },
  };
}

/** An integer option; an empty value means the default. */
export function int(a: NumberArgs & Default<number>): OptionSpec<number>;
export function int(a: NumberArgs): OptionSpec<number | null>;
export function int(a: NumberArgs & Partial<DefaultFields<number>>): OptionSpec<number | null> {
  return numberOption('int', a);
}

/** A floating-point option; an empty value means the default. */
export function float(a: NumberArgs & Default<number>): OptionSpec<number>;
export function float(a: NumberArgs): OptionSpec<number | null>;
export function float(a: NumberArgs & Partial<DefaultFields<number>>): OptionSpec<number | null> {
  return numberOption('float', a);
}

const TRUE_VALUES = ['true', '1', 'on', 'yes'];
const FALSE_VALUES = ['false', '0', 'off', 'no'];

/** A boolean option, with oslo.config's spellings (case-insensitive). */
export function bool(a: Common & { default: boolean }): OptionSpec<boolean> {
  return {
    ...meta(a, 'bool'),
    default: () => a.default,
    parse: (raw) => {
      const value = last(raw).trim().toLowerCase();
      if (TRUE_VALUES.includes(value)) return true;
      if (FALSE_VALUES.includes(value)) return false;
      throw new InvalidValue(`${JSON.stringify(last(raw))} is not a boolean`, 'true, false, yes, no, on, off, 1, 0 (any case)');
    },
  };
}

/** A comma-separated list (`a, b, c`); an empty value is the empty list. */
export function list(a: Common & { default?: string[] }): OptionSpec<string[]> {
  return {
    ...meta(a, 'list'),
    default: defaultOf<string[]>(a, []),
    parse: (raw) =>
      last(raw)
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== ''),
  };
}

/** A multi-valued option: one value per occurrence of the key (oslo.config MultiStrOpt). */
export function multi(a: Common & { default?: string[] }): OptionSpec<string[]> {
  return {
    ...meta(a, 'multi'),
    default: defaultOf<string[]>(a, []),
    parse: (raw) => raw.map((item) => item.trim()).filter((item) => item !== ''),
  };
}

/** One of a fixed set of strings (case-sensitive, as oslo.config). */
export function choice<const C extends string>(choices: readonly C[], a: Common & Default<C>): OptionSpec<C> {
  return {
    ...meta(a, 'enum'),
    choices,
    default: 'computeDefault' in a ? a.computeDefault : () => a.default,
    parse: (raw) => {
      const value = last(raw).trim();
      const found = choices.find((c) => c === value);
      if (found === undefined) {
        throw new InvalidValue(`${JSON.stringify(value)} is not a valid choice`, choices.join(', '));
      }
      return found;
    },
  };
}

const same = (name: string): OptionName => ({ section: '', name });
const inSection = (section: string, name: string): OptionName => ({ section, name });

const httpUrl = (value: string): string | undefined => {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? undefined : 'an http:// or https:// URL';
  } catch {
    return 'an http:// or https:// URL';
  }
};

/** Keystone password-plugin credentials (keystoneauth names), shared by several sections. */
function keystoneCredentials(what: string) {
  return {
    auth_url: str({ help: `Keystone URL ${what} authenticates against, e.g. https://keystone.example.org:5000/v3.` }),
    auth_type: str({
      help: 'Authentication plugin; only "password" is supported.',
      default: 'password',
      deprecatedNames: [same('auth_plugin')],
      check: (v) => (v === 'password' || v === 'v3password' ? undefined : 'password'),
    }),
    username: str({ help: 'User name.', deprecatedNames: [same('user_name')] }),
    user_id: str({ help: 'User id (instead of username + domain).' }),
    password: str({ help: "The user's password.", secret: true }),
    user_domain_name: str({ help: "Name of the user's domain." }),
    user_domain_id: str({ help: "Id of the user's domain." }),
    project_name: str({ help: 'Project to scope the token to, by name.', deprecatedNames: [same('tenant_name')] }),
    project_id: str({ help: 'Project to scope the token to, by id.', deprecatedNames: [same('tenant_id')] }),
    project_domain_name: str({ help: "Name of the project's domain." }),
    project_domain_id: str({ help: "Id of the project's domain." }),
  };
}

const httpsClient = {
  cafile: str({
    help: 'PEM file of the CA certificates trusted for HTTPS (replaces the system CAs, as keystoneauth does); default: the system CAs.',
    path: true,
  }),
  insecure: bool({
    help: 'Do not verify HTTPS certificates (for tests only).',
    default: false,
  }),
  certfile: str({ help: 'PEM client certificate presented over HTTPS (with keyfile).', path: true }),
  keyfile: str({ help: 'PEM private key of certfile.', path: true }),
};

/**
 * Defaults the drivers also apply when they are built without a configuration (tests, tools,
 * the bot's sessions): one constant each, so the sample file and the code cannot disagree.
 */
/** Seconds to wait for each answer from Keystone; keystoneauth waits without limit, Warre never does (docs/operations.md). */
export const KEYSTONE_TIMEOUT_S = 30;
/** `[keystone_authtoken] token_cache_time` (keystonemiddleware's default). */
export const TOKEN_CACHE_TIME_S = 300;
/** `[oslo_limit] cache_time`. */
export const LIMITS_CACHE_TIME_S = 60;

/** Every section and option. Section and option names are exactly the INI names. */
export const OPTIONS = {
  DEFAULT: {
    auth_strategy: choice(['noauth', 'keystone'], {
      help:
        'How API requests are authenticated: "keystone" validates the X-Auth-Token header with ' +
        'Keystone ([keystone_authtoken]); "noauth" trusts the X-User-Id, X-Project-Id and ' +
        'X-Roles headers (for tests and the all-in-one mode only). Default: noauth when no ' +
        'configuration file is used, keystone (as in the Python service) when one is.',
      computeDefault: (ctx) => (ctx.allInOne ? 'noauth' : 'keystone'),
    }),
    transport_url: str({
      help:
        'Message bus URL for API-to-worker RPC and (unless [oslo_messaging_notifications] ' +
        'transport_url is set) notifications: rabbit://user:pass@host:5672[,user:pass@host2:5672]/vhost. ' +
        'Unset: no message bus is used.',
      secret: true,
    }),
    control_exchange: str({ help: 'AMQP exchange for RPC and notifications.', default: 'warre' }),
    host: str({
      help: 'Name of this host, used in RPC queue names (warre-worker.<host>).',
      computeDefault: () => os.hostname(),
      sampleDefault: '<current hostname>',
    }),
    debug: bool({ help: 'Log at debug level instead of info.', default: false }),
    log_file: str({
      help:
        'File to log to, in log_dir when that is set (an absolute path is used as it is). Unset: ' +
        '<log_dir>/<program>.log when log_dir is set, else standard output (docs/operations.md#logs).',
    }),
    log_dir: str({
      help:
        'Directory of the log files, as oslo.log: without log_file each program writes ' +
        '<log_dir>/<program>.log (warre-api.log, warre-worker.log, warre-notification.log; ' +
        'warre.log for the all-in-one "warre all"; "warre api" is warre-api, and so on).',
      path: true,
    }),
  },

  api: {
    host: str({
      help: 'Address the API listens on.',
      default: '127.0.0.1',
      deprecatedNames: [inSection('flask', 'host')],
    }),
    port: int({
      help: 'Port the API listens on.',
      default: 8787,
      min: 0,
      max: 65535,
      deprecatedNames: [inSection('flask', 'port')],
    }),
    workers: int({
      help: 'Number of API processes; 0 means one per CPU core.',
      computeDefault: () => os.availableParallelism(),
      zeroMeansDefault: true,
      min: 0,
      sampleDefault: '0',
    }),
    public_url: str({
      help:
        'Base URL clients reach the API at (e.g. behind a proxy: https://warre.example.org/); ' +
        'used for "next" links. Unset: taken from the request.',
      check: httpUrl,
    }),
    request_timeout: float({
      help:
        'Seconds a client has to send a whole request (headers and body); a slower one gets ' +
        '408 and its connection is closed (docs/operations.md). 0: no limit.',
      default: 30,
      min: 0,
    }),
    headers_timeout: float({
      help:
        'Seconds a client has to send the request headers (at most request_timeout); a slower ' +
        'one gets 408 and its connection is closed (docs/operations.md).',
      default: 10,
      min: 1,
    }),
    flavor_cache_seconds: float({
      help:
        'Flavors and grants are read once and kept in each API process: a change made through ' +
        'the process is seen at once, one made elsewhere (another process or host, SQL) within ' +
        'this many seconds (docs/operations.md#flavor-cache). 0: read the database on every request.',
      default: 1,
      min: 0,
      max: 3600,
    }),
    metrics_allowed_networks: list({
      help:
        'Networks (address/prefix length, or single addresses; IPv4 or IPv6) allowed to read ' +
        'GET /metrics on the API port and on [worker] metrics_port (docs/metrics.md); others ' +
        "get 403. The connection's own peer address is checked, not X-Forwarded-For.",
      default: [...LOOPBACK_NETWORKS],
    }),
  },

  database: {
    connection: str({
      help:
        'SQLAlchemy-style database URL: sqlite:///relative/path (relative to the working ' +
        'directory), sqlite:////absolute/path, mysql+pymysql://user:pass@host:3306/warre, ' +
        'postgresql://user:pass@host:5432/warre. Default: a SQLite file .warre/warre.db in ' +
        'the working directory.',
      secret: true,
      computeDefault: (ctx) => `sqlite:///${path.resolve(ctx.cwd, '.warre', 'warre.db')}`,
      sampleDefault: 'sqlite:///.warre/warre.db',
    }),
    connection_recycle_time: int({
      help: 'Seconds after which a pooled connection is replaced by a new one.',
      default: 600,
      min: 1,
      ignored: 'the connection pools replace broken connections by themselves',
    }),
    pool_size: int({ help: 'Maximum number of pooled connections per process.', default: 10, min: 1 }),
    connect_timeout: float({
      help: 'Seconds to wait when opening a database connection (TCP connect and login; docs/operations.md).',
      default: 5,
      min: 0,
    }),
    pool_timeout: float({
      help: 'Seconds a request waits for a free pooled connection before it is answered 503 ' + '(docs/operations.md).',
      default: 5,
      min: 0.1,
    }),
    statement_timeout: float({
      help:
        'Seconds to wait for the answer to one SQL statement (MySQL/MariaDB, PostgreSQL); then ' +
        'the connection is closed and the request answered 503 (docs/operations.md). SQLite ' +
        'waits for a lock up to 10 s instead (its busy timeout).',
      default: 10,
      min: 0.1,
    }),
  },

  oslo_policy: {
    policy_file: str({
      help:
        'YAML or JSON file of policy rules overriding the defaults; a relative path is ' +
        'relative to the configuration file\'s directory. A missing file means "no overrides".',
      default: '/etc/warre/policy.yaml',
      path: true,
    }),
    policy_dirs: multi({
      help:
        'Directories of further policy files, applied in name order (later wins); relative ' +
        "to the configuration file's directory. Repeat the option for several directories.",
      default: ['policy.d'],
      path: true,
    }),
  },

  warre: {
    bot_auth_url: str({ help: 'Keystone URL the worker logs in to as the bot user to create Blazar leases.' }),
    bot_user_id: str({ help: 'Id of the bot user that owns Blazar leases.' }),
    bot_password: str({ help: "The bot user's password.", secret: true }),
    bot_role_id: str({ help: "Id of the role granted to the bot user on a reservation's project." }),
    user_notifier: choice(['logging', 'taynac', 'smtp'], {
      help:
        'How users are told about their reservations: "taynac" (the Taynac message service, ' +
        'via [service_auth]), "smtp" (e-mail through [smtp]), "logging" (only logged). ' +
        'Default: logging when no configuration file is used, taynac (as in the Python ' +
        'service) when one is.',
      computeDefault: (ctx) => (ctx.allInOne ? 'logging' : 'taynac'),
    }),
    template_dir: str({
      help: 'Directory of message templates (create.tmpl, start.tmpl, before_end.tmpl, end.tmpl) replacing the built-in ones.',
      path: true,
    }),
    lease_backend: choice(['blazar', 'simulator'], {
      help:
        'What provides leases: "blazar" (the Blazar service) or "simulator" (in-process, ' +
        'for the all-in-one mode and tests; see [simulator]). Default: simulator when no ' +
        'configuration file is used, blazar when one is.',
      computeDefault: (ctx) => (ctx.allInOne ? 'simulator' : 'blazar'),
    }),
    rate_extra_spec: str({
      help:
        'Flavor extra_specs key holding its service-unit rate (per instance-hour); offers and ' +
        'dry runs show cost = hours x rate for flavors that have it.',
      default: 'nectar:rate',
    }),
    history_retention_days: int({
      help:
        'Days the reservation history (who changed a reservation, when; GET /v1/history/) is ' +
        'kept; older rows are removed by the periodic task (docs/operations.md#history).',
      default: 400,
      min: 1,
    }),
  },

  dashboard: {
    enabled: bool({ help: 'Serve the web portal at /dashboard/ from warre-api.', default: true }),
  },

  sentry: {
    dsn: str({
      help: 'Sentry/GlitchTip DSN errors are reported to; unset: no error reporting.',
      secret: true,
      ignored: 'no Sentry reporting; errors are logged with their request id',
    }),
    environment: str({ help: 'Environment name reported errors are tagged with (e.g. production).' }),
  },

  worker: {
    workers: int({ help: 'Number of worker and notification-consumer processes.', default: 1, min: 1 }),
    periodic_task_interval: int({
      help: 'Seconds between runs of the periodic tasks (clean-up, usage notifications).',
      default: 1800,
      min: 1,
    }),
    lease_retry_timeout: int({
      help: 'Seconds a lease creation is retried after transient errors before the reservation goes to ERROR.',
      default: 900,
      min: 0,
    }),
    claim_ttl: int({
      help: 'Seconds a worker holds its claim on a pending reservation; after that another worker may take it over.',
      default: 300,
      min: 1,
    }),
    lease_concurrency: int({
      help: 'Pending reservations each worker process turns into Blazar leases at the same time.',
      default: 8,
      min: 1,
      max: 64,
    }),
    metrics_port: int({
      help:
        'Port on which warre-worker and warre-notification serve GET /metrics (all their ' +
        'processes in one answer; docs/metrics.md), to [api] metrics_allowed_networks only. ' +
        'Unset: no metrics served.',
      min: 1,
      max: 65535,
    }),
  },

  blazar: {
    interface: str({ help: "Catalog interface of Blazar's endpoint (public, internal, admin).", default: 'public' }),
    region_name: str({ help: "Region of Blazar's endpoint; unset: any." }),
  },

  simulator: {
    before_end_minutes: int({
      help: 'With lease_backend = simulator: minutes before a lease ends that its before_end event fires.',
      default: 60,
      min: 0,
    }),
  },

  keystone_authtoken: {
    www_authenticate_uri: str({
      help: 'Public Keystone URL sent to clients in the WWW-Authenticate header of a 401.',
      deprecatedNames: [same('auth_uri')],
    }),
    ...keystoneCredentials('the service user validating tokens'),
    region_name: str({ help: "Region of Keystone's endpoint." }),
    interface: str({ help: 'Catalog interface of the Keystone endpoint used to validate tokens.', default: 'internal' }),
    token_cache_time: int({
      help: 'Seconds a validated token is served from the in-process cache without asking Keystone; -1 or 0 disables the cache (every request asks Keystone).',
      default: TOKEN_CACHE_TIME_S,
      min: -1,
    }),
    service_token_roles: list({ help: 'Roles a service token must have.', default: ['service'] }),
    service_token_roles_required: bool({
      help: 'Reject service tokens without one of service_token_roles (otherwise only logged).',
      default: false,
      ignored: 'Warre does not take X-Service-Token',
    }),
    delay_auth_decision: bool({
      help: 'Let requests with a missing or invalid token through, marked unauthenticated.',
      default: false,
    }),
    include_service_catalog: bool({ help: 'Ask Keystone for the service catalog when validating tokens.', default: true }),
    http_request_max_retries: int({ help: 'Retries of a failed request to Keystone.', default: 3, min: 0 }),
    http_connect_timeout: int({
      help: 'Seconds to wait for each answer from Keystone when validating a token (then 503, after http_request_max_retries).',
      default: KEYSTONE_TIMEOUT_S,
      min: 1,
    }),
    memcached_servers: list({
      help: 'memcached servers for the token cache.',
      deprecatedNames: [same('memcache_servers')],
      ignored: 'tokens are cached in-process',
    }),
    ...httpsClient,
  },

  service_auth: {
    ...keystoneCredentials('the service user (Blazar, Nova, Taynac and Keystone calls)'),
    system_scope: str({ help: 'Scope the token to the system (e.g. "all") instead of a project.' }),
    region_name: str({ help: 'Region of the endpoints used.' }),
    interface: str({ help: 'Catalog interface of the endpoints used.', default: 'public' }),
    catalog_max_age: int({
      help:
        'Seconds a service catalog (and the token it came with) is used before Warre logs in ' +
        "again to read a fresh one, for this user and the worker's bot sessions: an endpoint " +
        'moved in Keystone is seen this late at most. A catalog that lacks an endpoint, or an ' +
        'endpoint that refuses connections or answers 404, is re-read at once.',
      default: 300,
      min: 1,
    }),
    ...httpsClient,
    timeout: int({
      help: "Seconds to wait for each answer from Keystone to the service user's calls (token, catalog, users, role grants).",
      default: KEYSTONE_TIMEOUT_S,
      min: 1,
    }),
  },

  oslo_limit: {
    ...keystoneCredentials('the unified-limits reader'),
    system_scope: str({
      help: 'Scope the token to the system ("all"): needed to read other projects\' limits.',
    }),
    region_name: str({ help: "Region of Keystone's endpoint." }),
    ...httpsClient,
    timeout: int({ help: 'Seconds to wait for each answer from Keystone when reading limits.', default: KEYSTONE_TIMEOUT_S, min: 1 }),
    endpoint_id: str({ help: "Id of Warre's endpoint in the Keystone catalog (gives the service and region of the limits)." }),
    endpoint_service_type: str({ help: 'Instead of endpoint_id: the service type to find the endpoint by.' }),
    endpoint_service_name: str({ help: 'Instead of endpoint_id: the service name to find the endpoint by.' }),
    endpoint_region_name: str({ help: 'With endpoint_service_type/name: the region of the endpoint.' }),
    endpoint_interface: str({ help: 'With endpoint_service_type/name: the interface of the endpoint.', default: 'public' }),
    cache_time: int({
      help: 'Seconds limits read from Keystone are cached; 0 reads them for every check (as oslo.limit does).',
      default: LIMITS_CACHE_TIME_S,
      min: 0,
    }),
  },

  quota: {
    default_reservation: int({
      help: 'Without Keystone (auth_strategy = noauth): reservations a project may hold at once.',
      default: 5,
      min: 0,
    }),
    default_hours: int({
      help: 'Without Keystone (auth_strategy = noauth): instance-hours a project may hold at once.',
      default: 1000,
      min: 0,
    }),
    project_limit: multi({
      help:
        'Without Keystone: per-project limits replacing the defaults, one line per project: ' +
        '<project_id>:<resource>=<n>[,<resource>=<n>], resources "reservation" and "hours", ' +
        'e.g. 9e8d7c6b5a4f43e2b1c0d9e8f7a6b5c4:reservation=10,hours=2000.',
    }),
  },

  oslo_messaging_notifications: {
    driver: multi({
      help:
        'Notification drivers: messagingv2 (v2 envelope, what consumers expect), messaging ' +
        '(v1), log, noop. Empty: notifications are not sent.',
      deprecatedNames: [inSection('DEFAULT', 'notification_driver')],
    }),
    transport_url: str({
      help: 'Message bus URL for notifications; unset: [DEFAULT] transport_url.',
      secret: true,
      deprecatedNames: [inSection('DEFAULT', 'notification_transport_url')],
    }),
    topics: list({
      help: 'Topics notifications are sent to (routing key <topic>.<priority>).',
      default: ['notifications'],
      deprecatedNames: [inSection('DEFAULT', 'notification_topics')],
    }),
    retry: int({ help: 'Attempts to resend a failed notification; -1 retries forever, 0 never.', default: -1, min: -1 }),
  },

  oslo_messaging_rabbit: {
    amqp_durable_queues: bool({
      help: 'Declare exchanges and queues durable; must match the other services on the same broker.',
      default: false,
    }),
    amqp_auto_delete: bool({ help: 'Declare exchanges and queues auto-delete.', default: false }),
    rabbit_quorum_queue: bool({ help: 'Declare quorum queues (x-queue-type: quorum; implies durable).', default: false }),
    rabbit_ha_queues: bool({ help: 'Declare queues with x-ha-policy: all.', default: false }),
    rabbit_qos_prefetch_count: int({ help: 'Messages prefetched per consumer; 0: unlimited.', default: 0, min: 0 }),
    heartbeat_timeout_threshold: int({ help: 'AMQP heartbeat in seconds; 0 disables it.', default: 60, min: 0 }),
    rabbit_transient_queues_ttl: int({
      help: 'Seconds unused transient (fanout) queues live (x-expires).',
      default: 1800,
      min: 1,
    }),
    rabbit_retry_interval: int({ help: 'Seconds before the first reconnection attempt.', default: 1, min: 0 }),
    rabbit_retry_backoff: int({ help: 'Seconds added to the wait after each failed reconnection.', default: 2, min: 0 }),
    rabbit_interval_max: int({ help: 'Longest wait between reconnection attempts, in seconds.', default: 30, min: 1 }),
    kombu_failover_strategy: choice(['round-robin', 'shuffle'], {
      help: 'Order in which the hosts of a multi-host transport_url are tried.',
      default: 'round-robin',
    }),
    rabbit_login_method: choice(['AMQPLAIN', 'PLAIN', 'EXTERNAL'], {
      help: 'SASL mechanism used to log in to RabbitMQ.',
      default: 'AMQPLAIN',
    }),
    ssl: bool({ help: 'Connect with TLS (also ?ssl=1 in transport_url).', default: false, deprecatedNames: [same('rabbit_use_ssl')] }),
    ssl_ca_file: str({ help: 'PEM file of CA certificates for TLS.', path: true, deprecatedNames: [same('kombu_ssl_ca_certs')] }),
    ssl_cert_file: str({ help: 'PEM client certificate for TLS.', path: true, deprecatedNames: [same('kombu_ssl_certfile')] }),
    ssl_key_file: str({ help: 'PEM client key for TLS.', path: true, deprecatedNames: [same('kombu_ssl_keyfile')] }),
    ssl_version: str({
      help: 'Minimum TLS version (e.g. TLSv1_2); unset: the library default.',
      deprecatedNames: [same('kombu_ssl_version')],
    }),
    ssl_enforce_hostname_verification: bool({
      help: "Check the broker's host name against its certificate.",
      default: false,
    }),
  },

  smtp: {
    host: str({ help: 'SMTP server (with user_notifier = smtp).', default: 'localhost' }),
    port: int({ help: 'SMTP port.', default: 25, min: 1, max: 65535 }),
    tls: bool({ help: 'Use TLS from the start (implicit TLS, usually port 465).', default: false }),
    starttls: bool({ help: 'Require STARTTLS on a plain connection.', default: false }),
    username: str({ help: 'SMTP user name; unset: no authentication.' }),
    password: str({ help: 'SMTP password.', secret: true }),
    from_address: str({ help: 'Sender of the e-mails.', default: 'Nectar Reservation System <noreply@localhost>' }),
  },
};

export type Options = typeof OPTIONS;
export type SectionName = keyof Options;

/** The typed values of every section (`config.api.port: number`, …). */
export type ConfigValues = {
  [S in SectionName]: { [K in keyof Options[S]]: OptionValue<Options[S][K]> };
};

/** The registry as plain maps, for code that walks every option. */
export function allSections(): [string, [string, OptionSpec<unknown>][]][] {
  const sections: Record<string, Record<string, OptionSpec<unknown>>> = OPTIONS;
  return Object.entries(sections).map(([section, options]) => [section, Object.entries(options)]);
}

/** Every name an option can be given under: its own, then its deprecated ones. */
export function namesOf(section: string, name: string, spec: OptionSpec<unknown>): OptionName[] {
  return [
    { section, name },
    ...(spec.deprecatedNames ?? []).map((d) => ({ section: d.section === '' ? section : d.section, name: d.name })),
  ];
}
