/**
 * The reservation list's JSON text, written straight from the stored rows: the same bytes as
 * `JSON.stringify` of the list answer built from {@link reservationView} (docs/api.md#reservations),
 * without a domain record, a view object or an epoch round trip per row. An admin's page holds
 * 1,000 reservations; building and stringifying their objects cost more than reading them.
 * test/api/reservation-json.test.ts compares both paths on every dialect, odd values included.
 */
import type { FastifyReply } from 'fastify';
import { formatApiFromDb, isPlainDbDateTime } from '../domain/time.js';
import type { Flavor, StoredReservationPage } from '../domain/types.js';
import { flavorView } from './views.js';

/**
 * Buffers of pages already sent, kept for the next pages: a fresh megabyte costs the kernel a
 * page fault per 4 KiB page, more than writing the page into it. At most {@link SPARE_COUNT}
 * of at most {@link SPARE_BYTES} each are kept.
 */
const spare: Buffer[] = [];
const SPARE_COUNT = 4;
const SPARE_BYTES = 4 << 20;

function bufferOf(size: number): Buffer {
  const b = spare.pop();
  return b !== undefined && b.length >= size ? b : Buffer.allocUnsafeSlow(size);
}

/** Bytes of a page, written into one buffer that grows as needed. */
class Out {
  buf: Buffer;
  at = 0;
  constructor(size: number) {
    this.buf = bufferOf(size);
  }
  /** Room for `bytes` more bytes. */
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
  /** An ASCII constant of this module, byte by byte (no string is made). */
  ascii(s: string): void {
    this.room(s.length);
    const { buf } = this;
    let at = this.at;
    for (let i = 0; i < s.length; i++) buf[at++] = s.charCodeAt(i);
    this.at = at;
  }
  bytes(b: Buffer): void {
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
  /** A stored datetime as a JSON string of its API form (formatApiFromDb), copied when it is plain. */
  datetime(t: string): void {
    if (typeof t !== 'string' || !isPlainDbDateTime(t)) {
      this.text(`"${formatApiFromDb(t)}"`);
      return;
    }
    this.room(27);
    const { buf } = this;
    let at = this.at;
    buf[at++] = 0x22;
    for (let i = 0; i < 10; i++) buf[at++] = t.charCodeAt(i);
    buf[at++] = 0x54; // T
    for (let i = 11; i < 19; i++) buf[at++] = t.charCodeAt(i);
    this.at = at;
    this.ascii('+00:00"');
  }
}

/**
 * Each flavor's JSON, by flavor record: the flavor cache (src/services/flavor-catalog.ts) hands
 * the same records to every page until it reads the catalog again, so a flavor is written once
 * per snapshot rather than once per page (half the time of a 40-row page). Flavor records are
 * never changed in place: a changed flavor is a new record, written anew.
 */
const flavorJsonCache = new WeakMap<Flavor, Buffer>();

function flavorJsonOf(f: Flavor): Buffer {
  let bytes = flavorJsonCache.get(f);
  if (bytes === undefined) {
    bytes = Buffer.from(JSON.stringify(flavorView(f)));
    flavorJsonCache.set(f, bytes);
  }
  return bytes;
}

/** A page's bytes, and how to give their memory back once they were sent (never before: {@link sendListJson}). */
export interface ListJson {
  bytes: Buffer;
  release(): void;
}

/**
 * `JSON.stringify({ results, total, next })` of a page of the reservation list, as the UTF-8
 * bytes that are sent. `next` is left out when absent, as JSON.stringify leaves out an
 * undefined member. Everything is written into one buffer, most of it byte by byte, and each
 * flavor's JSON is encoded once per page and copied: no string per row or per value, so a
 * page of 1,000 rows leaves next to no garbage behind (strings cost their making, their
 * joining and the collector's time more than the bytes cost to copy).
 */
export function reservationListJson(page: StoredReservationPage, next: string | undefined): ListJson {
  const flavors = new Map<string, Buffer>();
  const flavorJson = (id: string): Buffer => {
    let bytes = flavors.get(id);
    if (bytes === undefined) {
      const f: Flavor | undefined = page.flavors.get(id);
      // A row whose flavor is gone fails as the view did (it reads the flavor's id).
      if (!f) throw new TypeError(`reservation list: flavor ${id} not read`);
      bytes = flavorJsonOf(f);
      flavors.set(id, bytes);
    }
    return bytes;
  };
  const { rows } = page;
  const out = new Out(1024 + rows.length * 1024);
  out.ascii('{"results":[');
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    // The keys and order of reservationView.
    out.ascii(i === 0 ? '{"id":' : ',{"id":');
    out.json(r.id);
    out.ascii(',"created_at":');
    out.datetime(r.created_at);
    out.ascii(',"user_id":');
    out.json(r.user_id);
    out.ascii(',"project_id":');
    out.json(r.project_id);
    out.ascii(',"flavor":');
    out.bytes(flavorJson(r.flavor_id));
    out.ascii(',"lease_id":');
    out.json(r.lease_id);
    out.ascii(',"compute_flavor":');
    out.json(r.compute_flavor);
    out.ascii(',"status":');
    out.json(r.status);
    out.ascii(',"status_reason":');
    out.json(r.status_reason);
    out.ascii(',"start":');
    out.datetime(r.start);
    out.ascii(',"end":');
    out.datetime(r.end);
    out.ascii(',"instance_count":');
    out.json(r.instance_count);
    out.ascii('}');
  }
  out.ascii('],"total":');
  out.json(page.total);
  if (next !== undefined) {
    out.ascii(',"next":');
    out.json(next);
  }
  out.ascii('}');
  const whole = out.buf;
  let released = false;
  return {
    bytes: whole.subarray(0, out.at),
    release: () => {
      if (released) return;
      released = true;
      if (spare.length < SPARE_COUNT && whole.length <= SPARE_BYTES) spare.push(whole);
    },
  };
}

/**
 * Answers with a page. Its buffer serves again once the answer was handed to the kernel
 * ('finish'), never before; an answer cut short (the client gone) leaves it to the collector.
 */
export function sendListJson(reply: FastifyReply, json: ListJson): FastifyReply {
  reply.raw.once('finish', json.release);
  return reply.type('application/json; charset=utf-8').send(json.bytes);
}
