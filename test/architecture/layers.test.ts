/**
 * The layers of ARCHITECTURE.md, checked on the imports: routes speak HTTP and call services;
 * only services, the worker, the notification listener and the CLI reach the database layer;
 * the domain imports nothing of the layers around it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = join(import.meta.dirname, '..', '..', 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return files(p);
    return /\.tsx?$/.test(name) ? [p] : [];
  });
}

/** The src/ folders a file imports from (relative imports only). */
function importedAreas(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const areas: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+'(\.{1,2}\/[^']+)'/g)) {
    const target = relative(SRC, join(file, '..', m[1]!));
    areas.push(target.split('/')[0]!);
  }
  return areas;
}

const inArea = (area: string) => files(join(SRC, area)).map((f) => ({ file: relative(SRC, f), areas: importedAreas(f) }));

describe('layers', () => {
  it('api/ never imports db/ (routes call services)', () => {
    const offenders = inArea('api')
      .filter((f) => f.areas.includes('db'))
      .map((f) => f.file);
    expect(offenders).toEqual([]);
  });

  it('domain/ imports nothing but domain/ (and the quota types it decides on)', () => {
    const offenders = inArea('domain')
      .map((f) => ({ file: f.file, bad: f.areas.filter((a) => a !== 'domain' && a !== 'quota') }))
      .filter((f) => f.bad.length > 0);
    expect(offenders).toEqual([]);
  });

  it('one file knows the database dialect: src/db/dialect.ts (and the codec it carries)', () => {
    // Comparisons with the database's dialect name (not a parsed URL's: `target.dialect`), and the
    // dialect-specific query builder calls.
    const DIALECT_SPECIFIC =
      /(?:(?<![Tt]arget\.)dialect(?:\.name)?\s*[!=]==?\s*'(?:sqlite|mysql|postgres)')|\.forUpdate\(|\.skipLocked\(|\.ignore\(\)|\.onConflict\(|force index/i;
    // The adapter and codec; the connection factory and the URL parser pick a driver by dialect;
    // the benchmark tooling creates and analyses its own databases.
    const allowed = new Set(['db/dialect.ts', 'db/codec.ts', 'db/connect.ts', 'config/database-url.ts']);
    const offenders = files(SRC)
      .map((f) => relative(SRC, f))
      .filter((f) => !allowed.has(f) && !f.startsWith('bench/'))
      .filter((f) => DIALECT_SPECIFIC.test(readFileSync(join(SRC, f), 'utf8')));
    expect(offenders).toEqual([]);
    expect(DIALECT_SPECIFIC.test(readFileSync(join(SRC, 'db', 'dialect.ts'), 'utf8'))).toBe(true);
  });

  it('test/ mirrors src/ (ARCHITECTURE.md): every test folder is a source folder, or one of the four that cut across', () => {
    const TEST = join(SRC, '..', 'test');
    const crossCutting = new Set(['hardening', 'architecture', 'support', 'fixtures']);
    const sourceFolders = new Set(readdirSync(SRC).filter((n) => statSync(join(SRC, n)).isDirectory()));
    const strays = readdirSync(TEST)
      .filter((n) => statSync(join(TEST, n)).isDirectory())
      .filter((n) => !crossCutting.has(n) && !sourceFolders.has(n));
    expect(strays).toEqual([]);
    const driverStrays = readdirSync(join(TEST, 'drivers'))
      .filter((n) => statSync(join(TEST, 'drivers', n)).isDirectory())
      .filter((n) => !statSync(join(SRC, 'drivers', n), { throwIfNoEntry: false })?.isDirectory());
    expect(driverStrays).toEqual([]);
  });

  it('the check sees imports at all (it would pass vacuously otherwise)', () => {
    expect(inArea('api').some((f) => f.areas.includes('services'))).toBe(true);
    expect(inArea('services').some((f) => f.areas.includes('db'))).toBe(true);
  });
});
