/**
 * Reservations → an iCalendar file (RFC 5545), for the calendar export (docs/calendar.md).
 * ical-generator writes the text: it escapes `\ ; ,` and newlines in TEXT values and folds
 * lines at 75 octets (never inside a UTF-8 character); this module decides what each event
 * says, and renders a long list in chunks so that the event loop is not held for seconds.
 */
import ical, { foldLines, type ICalEventData, ICalEventStatus } from 'ical-generator';
import type { ReservationStatus, ReservationWithFlavor } from '../domain/types.js';

export const CALENDAR_CONTENT_TYPE = 'text/calendar; charset=utf-8';

/** PRODID of every exported calendar: `-//Warre//Reservations//EN`. */
export const CALENDAR_PROD_ID = { company: 'Warre', product: 'Reservations', language: 'EN' };

/** Events rendered between two yields to the event loop. */
const CHUNK = 200;

const EVENT_STATUS: Record<ReservationStatus, ICalEventStatus> = {
  PENDING_CREATE: ICalEventStatus.TENTATIVE,
  ALLOCATED: ICalEventStatus.CONFIRMED,
  ACTIVE: ICalEventStatus.CONFIRMED,
  COMPLETE: ICalEventStatus.CONFIRMED,
  ERROR: ICalEventStatus.CANCELLED,
};

/**
 * RFC 5545 TEXT may not hold control characters other than HTAB (line breaks are escaped
 * as `\n` by ical-generator); any other one, e.g. a NUL stored in a flavor name, becomes U+FFFD.
 */
function text(s: string): string {
  return s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '\ufffd');
}

/** `gpu.large × 4`: the flavor and how many instances. */
export function eventSummary(r: ReservationWithFlavor): string {
  return text(`${r.flavor.name} × ${r.instance_count}`);
}

/** One `Name: value` line per fact; the status and the reservation id always. */
export function eventDescription(r: ReservationWithFlavor): string {
  const lines = [
    `Status: ${r.status}`,
    ...(r.status_reason ? [`Status reason: ${r.status_reason}`] : []),
    `Reservation: ${r.id}`,
    `Project: ${r.project_id}`,
    ...(r.flavor.availability_zone ? [`Availability zone: ${r.flavor.availability_zone}`] : []),
    ...(r.lease_id ? [`Lease: ${r.lease_id}`] : []),
  ];
  return text(lines.join('\n'));
}

/** One VEVENT: UID = the reservation id, DTSTART/DTEND in UTC, DTSTAMP = `now`. */
export function calendarEvent(r: ReservationWithFlavor, now: number): ICalEventData {
  return {
    id: r.id,
    start: new Date(r.start),
    end: new Date(r.end),
    stamp: new Date(now),
    created: new Date(r.created_at),
    summary: eventSummary(r),
    description: eventDescription(r),
    location: r.flavor.availability_zone ? text(r.flavor.availability_zone) : null,
    status: EVENT_STATUS[r.status],
  };
}

/**
 * ical-generator's folding of an event's lines. It leaves a line of 74 octets or fewer as it
 * is, and it costs over a microsecond per character, so only the longer lines go through it.
 */
function fold(lines: string): string {
  return lines
    .split('\r\n')
    .map((line) => (Buffer.byteLength(line, 'utf8') > 74 ? foldLines(line) : line))
    .join('\r\n');
}

/**
 * The calendar of `rows`, one VEVENT each, in their order. The same text as ical-generator's
 * `calendar.toString()` (the calendar tests compare the two), plus the CRLF that RFC 5545
 * puts after the last line too; built a chunk of events at a time, yielding in between.
 */
export async function reservationsCalendar(
  rows: readonly ReservationWithFlavor[],
  now: number,
  name = 'Warre reservations',
): Promise<string> {
  const cal = ical({ prodId: CALENDAR_PROD_ID, name });
  // The calendar without events, folded: its properties, then END:VCALENDAR.
  const shell = cal.toString();
  const endAt = shell.lastIndexOf('END:VCALENDAR');
  const parts = [shell.slice(0, endAt)];
  for (let i = 0; i < rows.length; i += CHUNK) {
    if (i > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    for (const r of rows.slice(i, i + CHUNK)) parts.push(fold(cal.createEvent(calendarEvent(r, now)).toString()));
  }
  parts.push(`${shell.slice(endAt)}\r\n`);
  return parts.join('');
}
