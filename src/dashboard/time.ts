/**
 * Dates in the portal: shown in the browser's time zone with the zone named,
 * UTC on hover; sent to the API as ISO 8601 with an offset (docs/dashboard.md).
 */

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

export const ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';

const full = new Intl.DateTimeFormat(undefined, {
  weekday: 'short',
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  timeZoneName: 'short',
});
const short = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
const dayLabel = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short' });
const hourLabel = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const zoneName = new Intl.DateTimeFormat(undefined, { timeZoneName: 'short' });

/** "Sat, 5 Dec 2026, 17:00 AEDT" (browser locale and zone). */
export function formatLocal(t: string | number | Date): string {
  return full.format(new Date(t));
}

/** "5 Dec, 17:00" without the zone (timeline labels, where the zone is named once). */
export function formatShort(t: string | number | Date): string {
  return short.format(new Date(t));
}

export function formatDay(t: number): string {
  return dayLabel.format(new Date(t));
}

export function formatHour(t: number): string {
  return hourLabel.format(new Date(t));
}

/** "2026-12-05 17:00 UTC" (the hover text). */
export function formatUtc(t: string | number | Date): string {
  return `${new Date(t).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** The zone's short name at a time, e.g. "AEDT" or "UTC". */
export function zoneAbbreviation(t: number = Date.now()): string {
  return zoneName.formatToParts(new Date(t)).find((p) => p.type === 'timeZoneName')?.value ?? ZONE;
}

/** What the API takes and gives: `YYYY-MM-DDTHH:MM:SS+00:00`. */
export function toApi(t: number | Date): string {
  return new Date(t).toISOString().replace(/\.\d{3}Z$/, '+00:00');
}

/** A `datetime-local` input's value (local wall time) for a moment. */
export function toInput(t: number | string): string {
  const d = new Date(t);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** A `datetime-local` value → epoch ms (local wall time), NaN when empty or invalid. */
export function fromInput(v: string): number {
  if (!v) return NaN;
  return new Date(v).getTime();
}

export function startOfMinute(t: number): number {
  return Math.floor(t / MINUTE) * MINUTE;
}

/** Local midnight of the day of `t`. */
export function startOfDay(t: number): number {
  const d = new Date(t);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

export function hoursBetween(a: number, b: number): number {
  return Math.round(((b - a) / HOUR) * 100) / 100;
}
