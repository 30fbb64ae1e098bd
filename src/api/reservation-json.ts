/**
 * The reservation list's JSON text, written straight from the stored rows: the same bytes as
 * `JSON.stringify` of the list answer built from {@link reservationView} (docs/api.md#reservations),
 * without a domain record, a view object or an epoch round trip per row. An admin's page holds
 * 1,000 reservations; building and stringifying their objects cost more than reading them.
 * test/api/reservation-json.test.ts compares both paths on every dialect, odd values included.
 */
import { formatApiFromDb, isPlainDbDateTime } from '../domain/time.js';
import type { Flavor, StoredReservationPage } from '../domain/types.js';
import { Out as BytesOut, type JsonBytes, jsonPerRecord } from './json-bytes.js';
import { flavorView } from './views.js';

/** The shared byte writer (src/api/json-bytes.ts) and the stored datetimes of reservation rows. */
class Out extends BytesOut {
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

/** Each flavor's JSON as a reservation shows it, once per flavor record. */
const flavorJsonOf = jsonPerRecord<Flavor>(flavorView);

/**
 * `JSON.stringify({ results, total, next })` of a page of the reservation list, as the UTF-8
 * bytes that are sent. `next` is left out when absent, as JSON.stringify leaves out an
 * undefined member. Everything is written into one buffer, most of it byte by byte, and each
 * flavor's JSON is encoded once per page and copied: no string per row or per value, so a
 * page of 1,000 rows leaves next to no garbage behind (strings cost their making, their
 * joining and the collector's time more than the bytes cost to copy).
 */
export function reservationListJson(page: StoredReservationPage, next: string | undefined): JsonBytes {
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
  return out.done();
}
