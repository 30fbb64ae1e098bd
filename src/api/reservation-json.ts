/**
 * The reservation list's JSON text, written straight from the stored rows: the same bytes as
 * `JSON.stringify` of the list answer built from {@link reservationView} (docs/api.md#reservations),
 * without a domain record, a view object or an epoch round trip per row. An admin's page holds
 * 1,000 reservations; building and stringifying their objects cost more than reading them.
 * test/api/reservation-json.test.ts compares both paths on every dialect, odd values included.
 */
import { formatApiFromDb } from '../domain/time.js';
import type { Flavor, StoredReservationPage } from '../domain/types.js';
import { flavorView } from './views.js';

/** What JSON.stringify escapes in a string: `"`, `\`, control characters, lone surrogates (any surrogate here). */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** `JSON.stringify(v)` of a column value, quicker for the usual plain string. */
function json(v: unknown): string {
  if (typeof v === 'string') return NEEDS_ESCAPE.test(v) ? JSON.stringify(v) : `"${v}"`;
  if (v === null) return 'null';
  return JSON.stringify(v);
}

/** Bytes to add to a page's buffer, or more. */
class Out {
  buf: Buffer;
  at = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }
  /** Room for `bytes` more bytes. */
  room(bytes: number): void {
    if (this.at + bytes <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + bytes));
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
  }
  /** A string as UTF-8 (at most 3 bytes per UTF-16 unit). */
  text(s: string): void {
    this.room(s.length * 3);
    this.at += this.buf.write(s, this.at);
  }
  bytes(b: Buffer): void {
    this.room(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
  }
}

/**
 * `JSON.stringify({ results, total, next })` of a page of the reservation list, as the UTF-8
 * bytes that are sent. `next` is left out when absent, as JSON.stringify leaves out an
 * undefined member. Each row is written into one buffer as two short strings around its
 * flavor, whose JSON is encoded once per page and copied: one 837 KiB string would cost more
 * to join (a rope of 30,000 pieces) and encode than the rows cost to write.
 */
export function reservationListJson(page: StoredReservationPage, next: string | undefined): Buffer {
  const flavors = new Map<string, Buffer>();
  const flavorJson = (id: string): Buffer => {
    let bytes = flavors.get(id);
    if (bytes === undefined) {
      const f: Flavor | undefined = page.flavors.get(id);
      // A row whose flavor is gone fails as the view did (it reads the flavor's id).
      if (!f) throw new TypeError(`reservation list: flavor ${id} not read`);
      bytes = Buffer.from(JSON.stringify(flavorView(f)));
      flavors.set(id, bytes);
    }
    return bytes;
  };
  const { rows } = page;
  const out = new Out(1024 + rows.length * 1024);
  out.text('{"results":[');
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    // The keys and order of reservationView.
    out.text(
      (i === 0 ? '{"id":' : ',{"id":') +
        json(r.id) +
        ',"created_at":"' +
        formatApiFromDb(r.created_at) +
        '","user_id":' +
        json(r.user_id) +
        ',"project_id":' +
        json(r.project_id) +
        ',"flavor":',
    );
    out.bytes(flavorJson(r.flavor_id));
    out.text(
      ',"lease_id":' +
        json(r.lease_id) +
        ',"compute_flavor":' +
        json(r.compute_flavor) +
        ',"status":' +
        json(r.status) +
        ',"status_reason":' +
        json(r.status_reason) +
        ',"start":"' +
        formatApiFromDb(r.start) +
        '","end":"' +
        formatApiFromDb(r.end) +
        '","instance_count":' +
        json(r.instance_count) +
        '}',
    );
  }
  out.text(`],"total":${json(page.total)}${next === undefined ? '' : `,"next":${json(next)}`}}`);
  return out.buf.subarray(0, out.at);
}
