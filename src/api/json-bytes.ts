/**
 * Large answers written as UTF-8 bytes into one buffer instead of a string (the reservation
 * list, src/api/reservation-json.ts; availability, src/api/availability-json.ts): a string of a
 * megabyte costs its making, its flattening, its UTF-8 length and its encoding again when
 * sent, and leaves all of it to the collector. The writers produce exactly the bytes of
 * `JSON.stringify` of the view they replace; their tests compare both.
 */
import type { FastifyReply } from 'fastify';
import { formatApi } from '../domain/time.js';

/**
 * Buffers of answers already sent, kept for the next answers: a fresh megabyte costs the kernel
 * a page fault per 4 KiB page, more than writing the answer into it. At most
 * {@link SPARE_COUNT} of at most {@link SPARE_BYTES} each are kept.
 */
const spare: Buffer[] = [];
const SPARE_COUNT = 4;
const SPARE_BYTES = 4 << 20;

/** Lets the kept buffers go (an idle process giving memory back, src/cli/idle-heap.ts). */
export function releaseSpareBuffers(): void {
  spare.length = 0;
}

function bufferOf(size: number): Buffer {
  const b = spare.pop();
  return b !== undefined && b.length >= size ? b : Buffer.allocUnsafeSlow(size);
}

/** Bytes of an answer, written into one buffer that grows as needed. */
export class Out {
  buf: Buffer;
  at = 0;
  constructor(size: number) {
    this.buf = bufferOf(size);
  }
  /** Room for `bytes` more bytes (`buf` may be another buffer afterwards). */
  room(bytes: number): void {
    if (this.at + bytes <= this.buf.length) return;
    const bigger = Buffer.allocUnsafeSlow(Math.max(this.buf.length * 2, this.at + bytes));
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
  }
  /** Any string, as UTF-8 (at most 3 bytes per UTF-16 unit). */
  text(s: string): void {
    this.room(s.length * 3);
    this.at += this.buf.write(s, this.at);
  }
  /** An ASCII constant of the caller, byte by byte (no string is made). */
  ascii(s: string): void {
    this.room(s.length);
    const { buf } = this;
    let at = this.at;
    for (let i = 0; i < s.length; i++) buf[at++] = s.charCodeAt(i);
    this.at = at;
  }
  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
  }
  /**
   * `JSON.stringify(v)` of a column value. A string of printable ASCII other than `"` and `\`
   * (ids, statuses: nearly every value) is copied byte by byte between quotes; any other
   * string, and any other value, is written as JSON.stringify gives it.
   */
  json(v: unknown): void {
    if (typeof v === 'string') {
      const n = v.length;
      this.room(n + 2);
      const { buf } = this;
      let at = this.at;
      buf[at++] = 0x22;
      for (let i = 0; i < n; i++) {
        const c = v.charCodeAt(i);
        if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) {
          this.text(JSON.stringify(v));
          return;
        }
        buf[at++] = c;
      }
      buf[at++] = 0x22;
      this.at = at;
    } else if (v === null) {
      this.ascii('null');
    } else {
      this.text(JSON.stringify(v));
    }
  }
  /** The bytes written, and how to give the buffer back once they were sent ({@link sendJsonBytes}). */
  done(): JsonBytes {
    const whole = this.buf;
    let released = false;
    return {
      bytes: whole.subarray(0, this.at),
      release: () => {
        if (released) return;
        released = true;
        if (spare.length < SPARE_COUNT && whole.length <= SPARE_BYTES) spare.push(whole);
      },
    };
  }
}

/** An answer's bytes, and how to give their memory back once they were sent (never before: {@link sendJsonBytes}). */
export interface JsonBytes {
  bytes: Buffer;
  release(): void;
}

/**
 * Answers with JSON bytes. Their buffer serves again once the answer was handed to the kernel
 * ('finish'), never before; an answer cut short (the client gone) leaves it to the collector.
 */
export function sendJsonBytes(reply: FastifyReply, json: JsonBytes): FastifyReply {
  reply.raw.once('finish', json.release);
  return reply.type('application/json; charset=utf-8').send(json.bytes);
}

/** Bytes of an API datetime in its plain form (`YYYY-MM-DDTHH:MM:SS+00:00`). */
const DATETIME_BYTES = 25;
const PLAIN_MIDNIGHT = /^\d{4}-\d{2}-\d{2}T00:00:00\+00:00$/;
const DAY_MS = 86_400_000;

/**
 * `formatApi(ms)` (src/domain/time.ts) as bytes, for answers that write many datetimes: the
 * date part (`YYYY-MM-DDT`) is formatted by formatApi once per day met and kept, the time of
 * day is written digit by digit. A day formatApi does not write in the plain form (outside the
 * years it stores) is written with formatApi whole, so the bytes are always its.
 */
export class ApiDateTimes {
  /** Day number → its `YYYY-MM-DDT` bytes, or null when formatApi does not write it plainly. */
  readonly #days = new Map<number, Uint8Array | null>();

  #prefixOf(day: number): Uint8Array | null {
    let prefix = this.#days.get(day);
    if (prefix === undefined) {
      const midnight = formatApi(day * DAY_MS);
      prefix = PLAIN_MIDNIGHT.test(midnight) ? Uint8Array.from(midnight.slice(0, 11), (c) => c.charCodeAt(0)) : null;
      this.#days.set(day, prefix);
    }
    return prefix;
  }

  /** Writes `formatApi(ms)` as a JSON string's content (no quotes) at `out.at`. */
  write(out: Out, ms: number): void {
    const secs = Math.floor(ms / 1000);
    const day = Math.floor(secs / 86_400);
    const prefix = this.#prefixOf(day);
    if (prefix === null) {
      out.text(formatApi(ms));
      return;
    }
    out.room(DATETIME_BYTES);
    const { buf } = out;
    let at = out.at;
    for (let i = 0; i < 11; i++) buf[at++] = prefix[i]!;
    let sod = secs - day * 86_400;
    const h = Math.floor(sod / 3600);
    sod -= h * 3600;
    const mi = Math.floor(sod / 60);
    const s = sod - mi * 60;
    buf[at++] = 0x30 + Math.floor(h / 10);
    buf[at++] = 0x30 + (h % 10);
    buf[at++] = 0x3a;
    buf[at++] = 0x30 + Math.floor(mi / 10);
    buf[at++] = 0x30 + (mi % 10);
    buf[at++] = 0x3a;
    buf[at++] = 0x30 + Math.floor(s / 10);
    buf[at++] = 0x30 + (s % 10);
    buf[at++] = 0x2b; // +00:00
    buf[at++] = 0x30;
    buf[at++] = 0x30;
    buf[at++] = 0x3a;
    buf[at++] = 0x30;
    buf[at++] = 0x30;
    out.at = at;
  }
}

/** `String(n)` as bytes: digit by digit for a non-negative integer below 2^31 (every count), else the string. */
export function writeNumber(out: Out, n: number): void {
  if (!(n >= 0 && n < 2147483648 && Number.isInteger(n))) {
    out.text(String(n));
    return;
  }
  out.room(10);
  const { buf } = out;
  let v = n | 0;
  if (v < 10) {
    buf[out.at++] = 0x30 + v;
    return;
  }
  let digits = 1;
  for (let p = 10; p <= v && digits < 10; p *= 10) digits++;
  let at = out.at + digits;
  out.at = at;
  while (v > 0) {
    const q = (v / 10) | 0;
    buf[--at] = 0x30 + (v - q * 10);
    v = q;
  }
}

/**
 * A view's JSON bytes per record, made once per record: the flavor cache
 * (src/services/flavor-catalog.ts) hands the same flavor records to every request until it reads
 * the catalog again, so each flavor is encoded once per snapshot, not once per page or answer
 * (half the time of a 40-row reservation page). Records are never changed in place: a changed
 * flavor is a new record, encoded anew.
 */
export function jsonPerRecord<R extends object>(view: (record: R) => unknown): (record: R) => Buffer {
  const cache = new WeakMap<R, Buffer>();
  return (record) => {
    let bytes = cache.get(record);
    if (bytes === undefined) {
      bytes = Buffer.from(JSON.stringify(view(record)));
      cache.set(record, bytes);
    }
    return bytes;
  };
}
