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
    json: (v) => (v === null || v === undefined ? null : JSON.stringify(v)),
  };
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
