/**
 * Rules for maintenance windows (docs/api.md#maintenance-windows). Pure: the service loads
 * the data and asks.
 */

/** Why a window's times are refused, or null: end after start; a start that is sent must not be in the past. */
export function windowTimesRefusal(w: { start: number; end: number }, startGiven: boolean, nowMinute: number): string | null {
  if (w.end <= w.start) return 'Maintenance window end time must be after start time';
  if (startGiven && w.start < nowMinute) return 'Maintenance window cannot start in the past';
  return null;
}
