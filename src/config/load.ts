/**
 * Loads Warre's configuration at start-up (synchronously).
 *
 * Sources, highest precedence first:
 * 1. environment variables `WARRE_<SECTION>__<OPTION>` (e.g. `WARRE_DATABASE__CONNECTION`,
 *    `WARRE_DEFAULT__AUTH_STRATEGY`; names are case-insensitive; a multi-valued option takes
 *    one value per line);
 * 2. the configuration file(s): `--config-file <path>` and `--config-dir <dir>` (its `*.conf`
 *    files, sorted) in argv, as oslo.config reads them: repeatable, in order, later files win,
 *    multi-valued options collect from all; else `WARRE_CONFIG_FILE`, else
 *    `/etc/warre/warre.conf` when it exists;
 * 3. the defaults in `options.ts`. With no file at all the all-in-one defaults apply
 *    (`config.allInOne`: noauth, SQLite in ./.warre, simulated leases).
 *
 * Section names in files follow oslo.config: `[DEFAULT]` exactly, other names in any case;
 * option names are case-sensitive. Unknown sections and options are ignored (listed in
 * `unknownOptions`), as operators' files hold options of libraries Warre does not use.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ProjectLimits } from '../domain/quota.js';
import { type DatabaseTarget, maskUrl, parseDatabaseUrl } from './database-url.js';
import { ConfigError } from './errors.js';
import { type IniData, readIniFile } from './ini.js';
import { allSections, type ConfigValues, type DefaultContext, InvalidValue, namesOf, type OptionName, type OptionSpec } from './options.js';
import { parseProjectLimits } from './quota.js';

export { ConfigError } from './errors.js';

export const DEFAULT_CONFIG_FILE = '/etc/warre/warre.conf';

export interface LoadOptions {
  /** Command-line arguments searched for `--config-file`; default `process.argv.slice(2)`. */
  argv?: readonly string[];
  /** Default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Default `process.cwd()`. */
  cwd?: string;
  /** The file used when none is named, if it exists; null never uses one. Default /etc/warre/warre.conf. */
  defaultConfigFile?: string | null;
}

/** The whole configuration: `config.api.port`, `config.database.connection`, … plus what was loaded. */
export type WarreConfig = ConfigValues & {
  /** The (first) configuration file used, absolute; null when none. */
  source: string | null;
  /** Every configuration file used, in order. */
  sources: string[];
  /** True when no configuration file is used (built-in all-in-one defaults). */
  allInOne: boolean;
  /** The directory relative paths in the configuration resolve against. */
  configDir: string;
  /** `[database] connection`, parsed (relative SQLite paths against the working directory, as SQLAlchemy). */
  databaseTarget: DatabaseTarget;
  /** `[quota] project_limit`, parsed: project id → overridden limits. */
  projectLimits: ReadonlyMap<string, Partial<ProjectLimits>>;
  /** Options given in files or the environment that Warre does not know (for a debug log). */
  unknownOptions: string[];
  /** Deprecated names used and options accepted but ignored (for a warning log). */
  notes: string[];
};

interface FileValue {
  values: string[];
  file: string;
}
type FileData = Map<string, Map<string, FileValue>>;

interface EnvValue {
  variable: string;
  value: string;
}

/** Loads and validates the configuration; throws {@link ConfigError} naming the bad option. */
export function loadConfig(opts: LoadOptions = {}): WarreConfig {
  const argv = opts.argv ?? process.argv.slice(2);
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const defaultFile = opts.defaultConfigFile === undefined ? DEFAULT_CONFIG_FILE : opts.defaultConfigFile;

  const sources = configFiles(argv, env, cwd, defaultFile);
  const files = sources.map((file) => ({ file, data: readIniFile(file) }));
  const fileData = mergeFiles(files);
  const envData = envIndex(env);
  const ctx: DefaultContext = { allInOne: sources.length === 0, cwd };
  const configDir = sources[0] === undefined ? cwd : path.dirname(sources[0]);

  const notes: string[] = [];
  const known = new Set<string>();
  const sections: Record<string, Record<string, unknown>> = {};
  for (const [section, options] of allSections()) {
    const values: Record<string, unknown> = {};
    for (const [name, spec] of options) {
      const names = namesOf(section, name, spec);
      for (const n of names) known.add(key(n.section, n.name));
      const found = lookup(names, spec.type === 'multi', envData, fileData);
      let value = found === undefined ? spec.default(ctx) : parseFound(spec, found, ctx);
      if (spec.path) value = resolvePaths(value, configDir);
      if (found !== undefined) {
        if (found.via.section !== section || found.via.name !== name) {
          notes.push(`[${found.via.section}] ${found.via.name} is deprecated: use [${section}] ${name}`);
        }
        if (spec.ignored) notes.push(`[${section}] ${name} is set but ignored: ${spec.ignored}`);
      }
      values[name] = value;
    }
    sections[section] = values;
  }
  // The registry walk above filled every section and option with a value of its spec's type.
  const values = sections as ConfigValues;

  return {
    ...values,
    source: sources[0] ?? null,
    sources,
    allInOne: ctx.allInOne,
    configDir,
    databaseTarget: parseDatabaseUrl(values.database.connection, cwd),
    projectLimits: parseProjectLimits(values.quota.project_limit),
    unknownOptions: unknownEntries(fileData, envData, known),
    notes,
  };
}

/** Options in parsed INI data that Warre does not know, as `[section] option`. */
export function unknownOptions(ini: IniData): string[] {
  const known = new Set<string>();
  for (const [section, options] of allSections()) {
    for (const [name, spec] of options) for (const n of namesOf(section, name, spec)) known.add(key(n.section, n.name));
  }
  return unknownEntries(mergeFiles([{ file: '', data: ini }]), new Map(), known);
}

/** Every option as `[section] option = value`, secrets hidden: for a debug log. */
export function describeConfig(config: ConfigValues): string[] {
  const sections: Record<string, Record<string, unknown>> = config;
  const lines: string[] = [];
  for (const [section, options] of allSections()) {
    for (const [name, spec] of options) {
      lines.push(`[${section}] ${name} = ${show(sections[section]?.[name], spec.secret === true)}`);
    }
  }
  return lines;
}

function show(value: unknown, secret: boolean): string {
  if (value === null || value === undefined) return '<None>';
  if (Array.isArray(value)) return value.map((v) => show(v, secret)).join(', ');
  const text = String(value);
  if (!secret) return text;
  return text.includes('://') ? maskUrl(text) : '***';
}

/** The configuration options of the command line (each takes a value). */
export const CONFIG_ARGS = ['--config-file', '--config-dir'] as const;

/**
 * The `--config-file X` / `--config-dir X` arguments of `argv` (also `--opt=X`), in order.
 * Other arguments are the caller's.
 */
export function configArgs(argv: readonly string[]): { option: (typeof CONFIG_ARGS)[number]; value: string }[] {
  const out: { option: (typeof CONFIG_ARGS)[number]; value: string }[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    for (const option of CONFIG_ARGS) {
      let value: string | undefined;
      if (arg === option) {
        value = argv[++i];
        if (value === undefined || value.startsWith('--'))
          throw new ConfigError(`${option} needs a ${option === '--config-dir' ? 'directory' : 'file'} path`);
      } else if (arg.startsWith(`${option}=`)) {
        value = arg.slice(option.length + 1);
        if (value === '') throw new ConfigError(`${option} needs a ${option === '--config-dir' ? 'directory' : 'file'} path`);
      }
      if (value !== undefined) out.push({ option, value });
    }
  }
  return out;
}

/** `argv` without the configuration arguments. */
export function withoutConfigArgs(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if ((CONFIG_ARGS as readonly string[]).includes(arg)) i++;
    else if (!CONFIG_ARGS.some((o) => arg.startsWith(`${o}=`))) out.push(arg);
  }
  return out;
}

/** The configuration files to read, absolute, in order (empty: none). */
function configFiles(argv: readonly string[], env: NodeJS.ProcessEnv, cwd: string, defaultFile: string | null): string[] {
  const files: string[] = [];
  const given = configArgs(argv);
  for (const { option, value } of given) {
    const absolute = path.resolve(cwd, value);
    if (option === '--config-file') {
      if (!existsSync(absolute)) throw new ConfigError(`configuration file ${absolute} (given by --config-file) does not exist`);
      files.push(absolute);
      continue;
    }
    // oslo.config: the directory's *.conf files, sorted, parsed after the files before it.
    if (!existsSync(absolute) || !statSync(absolute).isDirectory()) {
      throw new ConfigError(`configuration directory ${absolute} (given by --config-dir) does not exist`);
    }
    for (const name of readdirSync(absolute)
      .filter((n) => n.endsWith('.conf'))
      .sort())
      files.push(path.join(absolute, name));
  }
  if (given.length > 0) return files;
  if (env.WARRE_CONFIG_FILE) {
    const absolute = path.resolve(cwd, env.WARRE_CONFIG_FILE);
    if (!existsSync(absolute)) throw new ConfigError(`configuration file ${absolute} (given by WARRE_CONFIG_FILE) does not exist`);
    return [absolute];
  }
  return defaultFile !== null && existsSync(defaultFile) ? [path.resolve(cwd, defaultFile)] : [];
}

/** Merges files in order, with section names normalised as oslo.config does. */
function mergeFiles(files: { file: string; data: IniData }[]): FileData {
  const merged: FileData = new Map();
  for (const { file, data } of files) {
    for (const [rawSection, options] of data) {
      const section = rawSection === 'DEFAULT' ? rawSection : rawSection.toLowerCase();
      const target = merged.get(section) ?? new Map<string, FileValue>();
      merged.set(section, target);
      for (const [name, values] of options) {
        const previous = target.get(name)?.values ?? [];
        target.set(name, { values: [...previous, ...values], file });
      }
    }
  }
  return merged;
}

/** `WARRE_<SECTION>__<OPTION>` variables, by lower-cased section and option. */
function envIndex(env: NodeJS.ProcessEnv): Map<string, EnvValue> {
  const index = new Map<string, EnvValue>();
  for (const [variable, value] of Object.entries(env)) {
    if (value === undefined || !variable.startsWith('WARRE_')) continue;
    const rest = variable.slice('WARRE_'.length);
    const sep = rest.indexOf('__');
    if (sep <= 0 || sep + 2 >= rest.length) continue;
    index.set(envKey(rest.slice(0, sep), rest.slice(sep + 2)), { variable, value });
  }
  return index;
}

const key = (section: string, name: string): string => `${section}\u0000${name}`;
const envKey = (section: string, name: string): string => key(section.toLowerCase(), name.toLowerCase());

interface Found {
  raw: string[];
  via: OptionName;
  where: string;
}

/** The value of the first name set in the environment, else of the first set in a file. */
function lookup(names: OptionName[], multiValued: boolean, env: Map<string, EnvValue>, files: FileData): Found | undefined {
  for (const via of names) {
    const e = env.get(envKey(via.section, via.name));
    if (e === undefined) continue;
    const raw = multiValued ? e.value.split(/\r?\n/) : [e.value];
    return { raw, via, where: `from environment variable ${e.variable}` };
  }
  for (const via of names) {
    const f = files.get(via.section)?.get(via.name);
    if (f !== undefined) return { raw: f.values, via, where: `in ${f.file}` };
  }
  return undefined;
}

function parseFound(spec: OptionSpec<unknown>, found: Found, ctx: DefaultContext): unknown {
  try {
    return spec.parse(found.raw, ctx);
  } catch (err) {
    if (!(err instanceof InvalidValue)) throw err;
    const problem = spec.secret ? `invalid value (not shown: it is secret); accepted: ${err.accepted}` : err.message;
    throw new ConfigError(`[${found.via.section}] ${found.via.name}: ${problem} (${found.where})`);
  }
}

function resolvePaths(value: unknown, dir: string): unknown {
  if (typeof value === 'string') return path.resolve(dir, value);
  if (Array.isArray(value)) return value.map((v) => resolvePaths(v, dir));
  return value;
}

function unknownEntries(files: FileData, env: Map<string, EnvValue>, known: Set<string>): string[] {
  const unknown: string[] = [];
  for (const [section, options] of files) {
    for (const name of options.keys()) if (!known.has(key(section, name))) unknown.push(`[${section}] ${name}`);
  }
  const knownEnv = new Set([...known].map((k) => k.toLowerCase()));
  for (const [k, e] of env) if (!knownEnv.has(k)) unknown.push(`environment variable ${e.variable}`);
  return unknown;
}
