/** Identifiers. */

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** Ids in Warre's tables are UUIDs (with dashes, or 32 hex like Keystone's). */
export function isUuid(s: string): boolean {
  return UUID_RE.test(s);
}
