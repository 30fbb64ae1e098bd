/**
 * oslo.config-compatible INI parsing.
 *
 * Written by hand because oslo.config files use repeated keys for multi-valued options and
 * indented continuation lines, which the npm `ini` package does not support (it keeps only
 * the last value and treats indented lines as new keys). The rules below were checked
 * against oslo.config 9 (`oslo_config.iniparser`):
 *
 * - `[name]` starts a section; names are kept as written (the loader normalises them).
 * - `key = value` or `key: value` (whichever separator comes first); the value is trimmed and
 *   one pair of matching surrounding quotes (`'…'` or `"…"`) is removed.
 * - Lines starting with `#` or `;` are comments; there are no inline comments.
 * - A line starting with a space or tab continues the previous value (joined with `\n`);
 *   a blank line ends a multi-line value.
 * - A key may repeat: every occurrence is kept, in order.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from './errors.js';

/** section → key → every value given for it, in file order. */
export type IniData = Map<string, Map<string, string[]>>;

/** A syntax error, with the file name and 1-based line number. */
export class IniSyntaxError extends ConfigError {
  constructor(
    readonly file: string,
    readonly line: number,
    problem: string,
    text: string,
  ) {
    super(`${file}:${line}: ${problem}: ${JSON.stringify(text)}`);
  }
}

/** Parses INI text; `file` is only used in error messages. */
export function parseIni(text: string, file = '<string>'): IniData {
  const data: IniData = new Map();
  let section: Map<string, string[]> | null = null;
  let pending: { key: string; lines: string[] } | null = null;

  const flush = (): void => {
    if (pending === null || section === null) return;
    const values = section.get(pending.key) ?? [];
    values.push(pending.lines.join('\n'));
    section.set(pending.key, values);
    pending = null;
  };

  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const line = raw.trimEnd();
    if (line === '') {
      flush();
      return;
    }
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (pending === null) throw new IniSyntaxError(file, lineNo, 'Unexpected continuation line', raw);
      pending.lines.push(line.trimStart());
      return;
    }
    flush();
    if (line.startsWith('[')) {
      if (!line.endsWith(']')) throw new IniSyntaxError(file, lineNo, 'Invalid section (must end with ])', raw);
      const name = line.slice(1, -1).trim();
      if (name === '') throw new IniSyntaxError(file, lineNo, 'Empty section name', raw);
      section = data.get(name) ?? new Map<string, string[]>();
      data.set(name, section);
      return;
    }
    if (line.startsWith('#') || line.startsWith(';')) return;

    const colon = line.indexOf(':');
    const equal = line.indexOf('=');
    if (colon < 0 && equal < 0) throw new IniSyntaxError(file, lineNo, "No ':' or '=' found in assignment", raw);
    const split = colon < 0 || (equal >= 0 && equal < colon) ? equal : colon;
    const key = line.slice(0, split).trim();
    if (key === '') throw new IniSyntaxError(file, lineNo, 'Key cannot be empty', raw);
    if (section === null) throw new IniSyntaxError(file, lineNo, 'Section must be started before assignment', raw);
    pending = { key, lines: [unquote(line.slice(split + 1).trim())] };
  });
  flush();
  return data;
}

/** Reads and parses an INI file (synchronously: configuration loads at start-up). */
export function readIniFile(path: string): IniData {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read configuration file ${path}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return parseIni(text, path);
}

function unquote(value: string): string {
  if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.at(-1) === value[0]) {
    return value.slice(1, -1);
  }
  return value;
}
