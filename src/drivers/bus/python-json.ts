/**
 * JSON and datetimes as the Python services write them (docs/interop.md#oslo-messaging-envelope):
 * `json.dumps` with its separators and escapes, and naive UTC datetimes in the forms
 * oslo.messaging and Warre's payloads use.
 */

/**
 * `json.dumps(value)` with Python's defaults: `", "` / `": "` separators, every character outside
 * printable ASCII escaped as `\uXXXX` (lower-case hex, surrogate pairs), `undefined` members
 * skipped. `Date`s must be rendered first ({@link renderDates}); numbers print as JavaScript
 * does (integers match Python ints; a Python float `1.0` would print `1`).
 */
export function pyJsonDumps(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return pyJsonString(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      return pyNumber(value);
    case 'object': {
      if (Array.isArray(value)) {
        return `[${value.map((v) => (v === undefined || typeof v === 'function' ? 'null' : pyJsonDumps(v))).join(', ')}]`;
      }
      if (value instanceof Date) throw new TypeError('Object of type datetime is not JSON serializable (render dates first)');
      const toJSON = (value as { toJSON?: () => unknown }).toJSON;
      if (typeof toJSON === 'function') return pyJsonDumps(toJSON.call(value));
      const parts: string[] = [];
      for (const [k, v] of Object.entries(value)) {
        if (v === undefined || typeof v === 'function') continue;
        parts.push(`${pyJsonString(k)}: ${pyJsonDumps(v)}`);
      }
      return `{${parts.join(', ')}}`;
    }
    default:
      throw new TypeError(`Object of type ${typeof value} is not JSON serializable`);
  }
}

function pyJsonString(s: string): string {
  // JSON.stringify already escapes quotes, backslashes and control characters the way Python
  // does; Python (ensure_ascii) also escapes DEL and everything non-ASCII.
  return JSON.stringify(s).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Integers (below 1e21, where JSON text has no exponent) print as Python ints; other numbers
 * as Python's float `repr`: shortest round-trip digits, scientific when the exponent is < -4
 * or >= 16, a `.0` on integral values, at least two exponent digits.
 */
function pyNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return 'Infinity';
  if (n === -Infinity) return '-Infinity';
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return String(n);
  const [mantissa, expText] = Math.abs(n).toExponential().split('e') as [string, string];
  const digits = mantissa.replace('.', '');
  const exp = Number(expText);
  const sign = n < 0 ? '-' : '';
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  const point = exp + 1;
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point < digits.length) return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
  return `${sign}${digits}${'0'.repeat(point - digits.length)}.0`;
}

// ---------------------------------------------------------------------------------------------
// Datetimes (naive UTC, as the Python services use them)

/** How datetimes inside a payload are written: `messagingv2` → strtime, `messaging` → isoformat. */
export type DateStyle = 'strtime' | 'isoformat';

/** Microseconds since the epoch, now (sub-millisecond digits from the monotonic clock). */
export function nowMicros(): number {
  return Date.now() * 1000 + Number((process.hrtime.bigint() / 1000n) % 1000n);
}

function parts(us: number): { date: string; time: string; micro: number } {
  const ms = Math.floor(us / 1000);
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  return { date: iso.slice(0, 10), time: iso.slice(11, 19), micro: us - Math.floor(us / 1e6) * 1e6 };
}

/** Python `str(datetime)`: `YYYY-MM-DD HH:MM:SS.ffffff`, the fraction omitted when it is 0. */
export function pyStrDatetime(t: Date | number): string {
  const p = parts(typeof t === 'number' ? t : t.getTime() * 1000);
  return `${p.date} ${p.time}${p.micro ? `.${String(p.micro).padStart(6, '0')}` : ''}`;
}

/** oslo `timeutils.strtime` / `jsonutils` rendering: `YYYY-MM-DDTHH:MM:SS.ffffff`, always 6 digits. */
export function pyStrtime(t: Date | number): string {
  const p = parts(typeof t === 'number' ? t : t.getTime() * 1000);
  return `${p.date}T${p.time}.${String(p.micro).padStart(6, '0')}`;
}

/** Python `datetime.isoformat()` of a naive datetime: the fraction only when non-zero. */
export function pyIsoformat(t: Date | number): string {
  const p = parts(typeof t === 'number' ? t : t.getTime() * 1000);
  return `${p.date}T${p.time}${p.micro ? `.${String(p.micro).padStart(6, '0')}` : ''}`;
}

/** A deep copy of `value` with every `Date` rendered in the given style. */
export function renderDates(value: unknown, style: DateStyle): unknown {
  if (value instanceof Date) return style === 'strtime' ? pyStrtime(value) : pyIsoformat(value);
  if (Array.isArray(value)) return value.map((v) => renderDates(v, style));
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = renderDates(v, style);
    return out;
  }
  return value;
}
