/**
 * The hand-written formatter against the platform's ISO formatting, over the whole storable range;
 * the stored-text formatter of the lists against the parse-and-format it replaces.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { formatApi, formatApiFromDb, formatSqliteDateTime, formatSqlSeconds, parseDbDateTime } from '../../src/domain/time.js';

const iso = (ms: number) => new Date(ms).toISOString().slice(0, 19) + '+00:00';
const FIRST = Date.UTC(1000, 0, 1);
const LAST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

describe('formatApi', () => {
  it('matches toISOString for any millisecond of years 1000–9999', () => {
    fc.assert(
      fc.property(fc.integer({ min: FIRST, max: LAST }), (ms) => formatApi(ms) === iso(ms)),
      { numRuns: 20_000 },
    );
  });

  it('is exact at the edges: epoch, leap days, century and era boundaries, the first and last second', () => {
    const cases = [
      0,
      -1,
      1,
      FIRST,
      LAST,
      Date.UTC(2000, 1, 29, 12),
      Date.UTC(1900, 1, 28, 23, 59, 59),
      Date.UTC(1900, 2, 1),
      Date.UTC(2100, 1, 28),
      Date.UTC(2100, 2, 1),
      Date.UTC(1600, 1, 29),
      Date.UTC(1969, 11, 31, 23, 59, 59, 999),
      Date.UTC(2026, 11, 31, 23, 59, 59),
      Date.UTC(2027, 0, 1),
    ];
    for (const ms of cases) expect(formatApi(ms)).toBe(iso(ms));
    expect(formatApi(Date.UTC(2026, 10, 25, 9, 5, 7))).toBe('2026-11-25T09:05:07+00:00');
  });
});

describe('formatApiFromDb', () => {
  /** What the reservation list wrote before: parse to epoch ms, format (or the error either throws). */
  const viaEpoch = (text: string) => {
    try {
      return formatApi(parseDbDateTime(text));
    } catch (err) {
      return `throws ${(err as Error).name}`;
    }
  };
  const fromDb = (text: string) => {
    try {
      return formatApiFromDb(text);
    } catch (err) {
      return `throws ${(err as Error).name}`;
    }
  };
  const digits = (n: number, max: number) => fc.integer({ min: 0, max }).map((v) => String(v).padStart(n, '0'));

  it('is formatApi(parseDbDateTime(text)) for every stored form of any second of years 1000–9999', () => {
    const forms = (ms: number, micro: number) => {
      const base = formatSqlSeconds(ms);
      const frac = String(micro).padStart(6, '0');
      return [
        base,
        `${base}.${frac}`,
        `${base}.${frac.slice(0, 3)}`,
        `${base}.${frac.slice(0, 1)}`,
        base.replace(' ', 'T'),
        formatSqliteDateTime(ms),
      ];
    };
    fc.assert(
      fc.property(fc.integer({ min: FIRST, max: LAST }), fc.integer({ min: 0, max: 999_999 }), (ms, micro) =>
        forms(ms, micro).every((t) => formatApiFromDb(t) === viaEpoch(t) && formatApiFromDb(t) === iso(ms)),
      ),
      { numRuns: 20_000 },
    );
  });

  it('agrees with the parse on datetime-shaped text with any field out of range, odd separators or suffixes', () => {
    // Mostly the usual separators and fields near their ranges, so that the checks of each field are met.
    const sep = (usual: string) =>
      fc.oneof({ weight: 9, arbitrary: fc.constant(usual) }, { weight: 1, arbitrary: fc.constantFrom('-', ':', ' ', 'T', '/', 'x') });
    const suffix = fc.oneof(
      { weight: 4, arbitrary: fc.constant('') },
      { weight: 4, arbitrary: digits(6, 999_999).map((d) => `.${d}`) },
      { weight: 1, arbitrary: fc.constantFrom('.', 'Z', '+00:00', '.5Z', ' BC', '.12a', '.\uffff\uffff') },
      { weight: 1, arbitrary: fc.string({ maxLength: 4 }) },
    );
    const text = fc
      .tuple(
        fc.oneof({ weight: 9, arbitrary: digits(4, 9999).filter((y) => y >= '1000') }, { weight: 1, arbitrary: digits(4, 999) }),
        sep('-'),
        digits(2, 13),
        sep('-'),
        digits(2, 32),
        sep(' '),
        digits(2, 25),
        sep(':'),
        digits(2, 61),
        sep(':'),
        digits(2, 61),
        suffix,
      )
      .map((parts) => parts.join(''));
    fc.assert(
      fc.property(text, (t) => fromDb(t) === viaEpoch(t)),
      { numRuns: 50_000 },
    );
  });

  it('agrees on the edge cases: leap days, the zero date, days past the month, short texts', () => {
    const cases = [
      '2024-02-29 12:00:00',
      '2023-02-29 12:00:00',
      '1900-02-29 00:00:00',
      '2000-02-29 00:00:00',
      '2030-04-31 10:00:00',
      '2030-12-31 23:59:59.999999',
      '2030-01-01 24:00:00',
      '2030-01-01 23:60:00',
      '2030-01-01 23:59:60',
      '0000-00-00 00:00:00',
      '0999-12-31 23:59:59',
      '1000-01-01 00:00:00',
      '9999-12-31 23:59:59.999999',
      '2030-01-01',
      '2030-01-01 10:00',
      '2030-01-01 10:00:00.',
      '2030-01-01T10:00:00.123456',
      '２０３０-01-01 10:00:00',
    ];
    for (const t of cases) expect(fromDb(t), t).toBe(viaEpoch(t));
    expect(formatApiFromDb('2030-01-01 10:00:00.123456')).toBe('2030-01-01T10:00:00+00:00');
    expect(formatApiFromDb('2030-04-31 10:00:00')).toBe('2030-05-01T10:00:00+00:00');
  });
});
