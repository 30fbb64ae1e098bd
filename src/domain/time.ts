/**
 * The one place that knows how Warre reads, normalises and writes time.
 * Domain times are epoch milliseconds (UTC). The database stores naive UTC at
 * minute resolution for normalised fields.
 */

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

/** Years a stored datetime may have (MySQL DATETIME and Python datetime both cover this). */
export const MIN_YEAR = 1000;
export const MAX_YEAR = 9999;

const ISO_WITH_OFFSET = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|z|[+-]\d{2}(?::?\d{2})?)$/;

function validParts(y: number, mo: number, d: number, h: number, mi: number, s: number): boolean {
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return false;
  const dim = new Date(Date.UTC(2000, mo, 0)).getUTCDate(); // days in month (leap year base)
  if (d > dim) return false;
  if (mo === 2 && d === 29 && !(y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0))) return false;
  return true;
}

function utc(y: number, mo: number, d: number, h: number, mi: number, s: number, ms = 0): number {
  const t = new Date(0);
  t.setUTCFullYear(y, mo - 1, d);
  t.setUTCHours(h, mi, s, ms);
  return t.getTime();
}

export function inRange(ms: number): boolean {
  const y = new Date(ms).getUTCFullYear();
  return Number.isFinite(ms) && y >= MIN_YEAR && y <= MAX_YEAR;
}

/**
 * Parse an API datetime: ISO 8601 with an offset (`Z` or `±HH:MM`).
 * Seconds and fractions are dropped *before* the offset is applied, as the
 * historical service did. Returns null when the text is not such a datetime
 * (or out of the storable range).
 */
export function parseApiDateTime(text: string): number | null {
  const m = ISO_WITH_OFFSET.exec(text);
  if (!m) return null;
  const [y, mo, d, h, mi] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number, number];
  const s = m[6] ? Number(m[6]) : 0;
  if (!validParts(y, mo, d, h, mi, s)) return null;
  const tz = m[8]!;
  let offsetMin = 0;
  if (tz !== 'Z' && tz !== 'z') {
    const sign = tz[0] === '-' ? -1 : 1;
    const digits = tz.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (oh > 23 || om > 59) return null;
    offsetMin = sign * (oh * 60 + om);
  }
  const ms = utc(y, mo, d, h, mi, 0) - offsetMin * MINUTE;
  return inRange(ms) ? ms : null;
}

/**
 * Parse a free-slots query bound: a calendar date `YYYY-MM-DD` (midnight UTC)
 * or [beyond] a full API datetime (then normalised like any other input).
 */
export function parseDateOrDateTime(text: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (m) {
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (!validParts(y, mo, d, 0, 0, 0)) return null;
    const ms = utc(y, mo, d, 0, 0, 0);
    return inRange(ms) ? ms : null;
  }
  return parseApiDateTime(text);
}

/** Drop seconds and milliseconds. */
export function truncateToMinute(ms: number): number {
  return Math.floor(ms / MINUTE) * MINUTE;
}

/** Drop milliseconds. */
export function truncateToSecond(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));

/**
 * API output: `YYYY-MM-DDTHH:MM:SS+00:00` (years 1000–9999, as stored).
 * Hand-written because a 1,000-row list formats 3,000 of them: integer
 * arithmetic (the days-to-civil-date algorithm of H. Hinnant) is several
 * times faster than `new Date(ms).toISOString()` and allocates no Date.
 */
export function formatApi(ms: number): string {
  const secs = Math.floor(ms / 1000);
  const days = Math.floor(secs / 86_400);
  let sod = secs - days * 86_400;
  const h = Math.floor(sod / 3600);
  sod -= h * 3600;
  const mi = Math.floor(sod / 60);
  const sec = sod - mi * 60;
  // Civil date from days since 1970-01-01 (proleptic Gregorian).
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  if (y < 1000 || y > 9999) return new Date(ms).toISOString().slice(0, 19) + '+00:00'; // never stored; kept exact anyway
  return `${y}-${TWO_DIGITS[m]}-${TWO_DIGITS[d]}T${TWO_DIGITS[h]}:${TWO_DIGITS[mi]}:${TWO_DIGITS[sec]}+00:00`;
}

export function formatApiOrNull(ms: number | null): string | null {
  return ms === null ? null : formatApi(ms);
}

/** Python `str(datetime)` without fraction: `YYYY-MM-DD HH:MM:SS` (used in messages clients match on). */
export function formatPython(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
}

/** Naive UTC `YYYY-MM-DD HH:MM:SS` (MySQL / PostgreSQL parameter form). */
export function formatSqlSeconds(ms: number): string {
  return formatPython(ms);
}

/** SQLAlchemy's SQLite DATETIME storage form: `YYYY-MM-DD HH:MM:SS.ffffff`. */
export function formatSqliteDateTime(ms: number): string {
  const frac = pad(new Date(ms).getUTCMilliseconds(), 3) + '000';
  return `${formatPython(ms)}.${frac}`;
}

/**
 * Parse a naive UTC datetime as any of our databases returns it
 * (`YYYY-MM-DD HH:MM:SS[.ffffff]`, `T` also accepted). Hand-written because
 * it is on the hot path of the free-slot sweep (10,000 rows a request):
 * fixed-position digit parsing is several times faster than `new Date()`.
 */
export function parseDbDateTime(text: string | Date): number {
  if (text instanceof Date) return text.getTime();
  const n = (i: number, len: number) => {
    let v = 0;
    for (let k = i; k < i + len; k++) v = v * 10 + (text.charCodeAt(k) - 48);
    return v;
  };
  const y = n(0, 4),
    mo = n(5, 2),
    d = n(8, 2);
  const h = text.length > 10 ? n(11, 2) : 0;
  const mi = text.length > 13 ? n(14, 2) : 0;
  const s = text.length > 16 ? n(17, 2) : 0;
  let ms = 0;
  if (text.length > 20) ms = n(20, Math.min(3, text.length - 20)) * (text.length - 20 >= 3 ? 1 : text.length - 20 === 2 ? 10 : 100);
  if (y >= 1970 && y < 10000) return Date.UTC(y, mo - 1, d, h, mi, s, ms);
  return utc(y, mo, d, h, mi, s, ms);
}

/** `YYYY-MM-DD HH:MM:SS` (or `T`), a year from 1000, and an optional fraction of digits. */
const DB_DATETIME = /^[1-9]\d{3}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?$/;
const DAYS_IN_MONTH = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** The two digits at `i` of a text already known to be digits there. */
function twoDigits(text: string, i: number): number {
  return (text.charCodeAt(i) - 48) * 10 + text.charCodeAt(i + 1) - 48;
}

/**
 * Whether a stored datetime is in a database's usual form (`YYYY-MM-DD HH:MM:SS` with an
 * optional fraction, as MariaDB, PostgreSQL and SQLAlchemy's SQLite text give it) and names a
 * real calendar time from the year 1000: then its API form is its first 10 characters, `T`,
 * the next 8 after the separator, `+00:00` ({@link formatApiFromDb}).
 */
export function isPlainDbDateTime(text: string): boolean {
  if (!DB_DATETIME.test(text)) return false;
  const y = twoDigits(text, 0) * 100 + twoDigits(text, 2);
  const mo = twoDigits(text, 5);
  const d = twoDigits(text, 8);
  return (
    mo >= 1 &&
    mo <= 12 &&
    d >= 1 &&
    d <= DAYS_IN_MONTH[mo]! &&
    (mo !== 2 || d < 29 || (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0))) &&
    twoDigits(text, 11) <= 23 &&
    twoDigits(text, 14) <= 59 &&
    twoDigits(text, 17) <= 59
  );
}

/**
 * A stored datetime as the API writes it: always `formatApi(parseDbDateTime(text))`, but by
 * string work when {@link isPlainDbDateTime}: its date and time of day with a `T` between and
 * `+00:00` after, the fraction dropped. Anything else (another form, a day 31 of a 30-day
 * month, which the parse rolls over) takes the parse and format. Lists format thousands of
 * datetimes: this saves the round trip through epoch milliseconds.
 */
export function formatApiFromDb(text: string | Date): string {
  if (typeof text === 'string' && isPlainDbDateTime(text)) return `${text.slice(0, 10)}T${text.slice(11, 19)}+00:00`;
  return formatApi(parseDbDateTime(text));
}

/** Hours a reservation counts for quotas: ceil((end − start) / 1 h). */
export function totalHours(start: number, end: number): number {
  return Math.ceil((end - start) / HOUR);
}
