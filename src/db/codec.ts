/**
 * Value conversion between domain values and each dialect's column values.
 * The only place that knows SQLite stores datetimes as SQLAlchemy's text
 * form, booleans as 0/1, and JSON as text.
 */
import { formatSqliteDateTime, formatSqlSeconds, parseDbDateTime } from '../domain/time.js';

export type DialectName = 'sqlite' | 'mysql' | 'postgres';

export interface Codec {
  /** Domain epoch ms → column value. */
  dt(ms: number): string;
  dtOrNull(ms: number | null): string | null;
  bool(b: boolean): number | boolean;
  json(v: unknown): string | null;
}

export function codecFor(dialect: DialectName): Codec {
  const dt = dialect === 'sqlite' ? formatSqliteDateTime : formatSqlSeconds;
  return {
    dt,
    dtOrNull: (ms) => (ms === null ? null : dt(ms)),
    bool: dialect === 'postgres' ? (b) => b : (b) => (b ? 1 : 0),
    json: (v) => (v === null || v === undefined ? null : JSON.stringify(wellFormed(v))),
  };
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Lone UTF-16 surrogates (in keys and strings) become U+FFFD, as the drivers
 * already do for text columns: JSON.stringify would write them as `\ud800`
 * escapes, which MariaDB's JSON check constraint refuses.
 */
function wellFormed(v: unknown): unknown {
  if (typeof v === 'string') return wellFormedText(v);
  if (Array.isArray(v)) return v.map(wellFormed);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [wellFormedText(k), wellFormed(x)]));
  }
  return v;
}

/** The text with each lone UTF-16 surrogate replaced by U+FFFD (the same string when it has none). */
export function wellFormedText(s: string): string {
  return s.replace(LONE_SURROGATE, '\ufffd');
}

/** Column → domain, identical for every dialect. */
export const read = {
  dt: (v: string | Date): number => parseDbDateTime(v),
  dtOrNull: (v: string | Date | null): number | null => (v === null || v === undefined ? null : parseDbDateTime(v)),
  /** SQLAlchemy Boolean columns may be NULL; the Python model treats NULL as false. */
  bool: (v: unknown): boolean => v === true || v === 1 || v === '1' || v === 't',
  json(v: unknown): Record<string, unknown> | null {
    if (v === null || v === undefined) return null;
    if (typeof v === 'string') {
      try {
        return read.json(JSON.parse(v));
      } catch {
        return null;
      }
    }
    if (typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
    return null;
  },
};
