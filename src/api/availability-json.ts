/**
 * The availability answer (docs/availability.md#availability) as the UTF-8 bytes that are sent:
 * exactly `JSON.stringify` of `{start, end, results: [{flavor: bookableFlavorView(flavor),
 * slots, intervals: [{start, end, free}]}]}` with the dates of formatApi. A 90-day answer over
 * busy flavors holds tens of thousands of intervals (1.1 MB for the benchmark's 23 flavors);
 * each boundary is formatted once (an interval's end is the next one's start, copied), each
 * flavor's JSON is encoded once per flavor record, and no string or object is made per
 * interval. test/api/availability-json.test.ts compares it with JSON.stringify.
 */
import type { FreeSteps } from '../domain/availability.js';
import type { Flavor } from '../domain/types.js';
import { ApiDateTimes, type JsonBytes, jsonPerRecord, Out, writeNumber } from './json-bytes.js';
import { bookableFlavorView } from './views.js';

/** Each flavor's JSON as the availability answer shows it, once per flavor record. */
const bookableFlavorJson = jsonPerRecord<Flavor>(bookableFlavorView);

/** Bytes of one interval beyond its two datetimes: `,{"start":"` … `","end":"` … `","free":` n `}`. */
const INTERVAL_BYTES = 48;

export function availabilityJson(start: number, end: number, results: readonly { flavor: Flavor; steps: FreeSteps }[]): JsonBytes {
  let size = 256;
  for (const r of results) size += 128 + bookableFlavorJson(r.flavor).length + r.steps.length * (INTERVAL_BYTES + 50);
  const out = new Out(size);
  const dates = new ApiDateTimes();
  out.ascii('{"start":"');
  dates.write(out, start);
  out.ascii('","end":"');
  dates.write(out, end);
  out.ascii('","results":[');
  for (let r = 0; r < results.length; r++) {
    const { flavor, steps } = results[r]!;
    out.ascii(r === 0 ? '{"flavor":' : ',{"flavor":');
    out.bytes(bookableFlavorJson(flavor));
    out.ascii(',"slots":');
    out.text(String(flavor.slots));
    out.ascii(',"intervals":[');
    const { times, free, length } = steps;
    // Where the previous interval's end was written: this one's start, copied.
    let endAt = 0;
    let endLength = 0;
    for (let i = 0; i < length; i++) {
      out.ascii(i === 0 ? '{"start":"' : ',{"start":"');
      if (i === 0) {
        dates.write(out, times[0]!);
      } else {
        out.room(endLength);
        out.buf.copyWithin(out.at, endAt, endAt + endLength);
        out.at += endLength;
      }
      out.ascii('","end":"');
      endAt = out.at;
      dates.write(out, times[i + 1]!);
      endLength = out.at - endAt;
      out.ascii('","free":');
      writeNumber(out, free[i]!);
      out.ascii('}');
    }
    out.ascii(']}');
  }
  out.ascii(']}');
  return out.done();
}
