/**
 * The portal's only way to Warre: the v1 API (same origin) with the signed-in
 * identity's headers (docs/dashboard.md "Signing in"), and the error shape of
 * the API, `{"error_message": string | {field: [messages]}}`.
 */

export interface NoauthSession {
  kind: 'noauth';
  user: string;
  project: string;
  roles: string[];
}

export interface KeystoneSession {
  kind: 'keystone';
  token: string;
  expires_at: string;
  user: { id: string; name: string; domain: string | null };
  project: { id: string; name: string } | null;
  roles: string[];
  projects: { id: string; name: string }[];
  application_credential: boolean;
}

export type Session = NoauthSession | KeystoneSession;

/** What policy lets the caller do, from `GET /dashboard/api/session`. */
export interface Capabilities {
  manage_flavors: boolean;
  manage_grants: boolean;
  list_grants: boolean;
  manage_maintenance: boolean;
  all_projects: boolean;
  all_flavors: boolean;
}

export interface WhoAmI {
  auth_strategy: 'noauth' | 'keystone';
  user_id: string | null;
  user_name: string | null;
  project_id: string | null;
  project_name: string | null;
  roles: string[];
  can: Capabilities;
}

/** An answer of the API other than 2xx; `fields` holds per-field messages when the API gave them. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly fields: Record<string, string[]> | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const STORAGE_KEY = 'warre.session';

let current: Session | null = load();
let onExpired: ((message: string) => void) | null = null;

function load(): Session | null {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

export function session(): Session | null {
  return current;
}

/** Kept in sessionStorage: a reload keeps the sign-in, closing the tab forgets it. */
export function setSession(s: Session | null): void {
  current = s;
  try {
    if (s) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(s));
    else sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // storage refused (private mode): the session lives in memory only
  }
}

/** Called when the API answers 401: the token expired or was revoked. */
export function whenExpired(fn: (message: string) => void): void {
  onExpired = fn;
}

export function authHeaders(s: Session | null = current): Record<string, string> {
  if (!s) return {};
  if (s.kind === 'keystone') return { 'X-Auth-Token': s.token };
  const h: Record<string, string> = { 'X-User-Id': s.user, 'X-Project-Id': s.project };
  if (s.roles.length > 0) h['X-Roles'] = s.roles.join(',');
  return h;
}

function describe(body: unknown, status: number): ApiError {
  const m = (body as { error_message?: unknown } | null)?.error_message;
  if (typeof m === 'string') return new ApiError(status, m);
  if (m && typeof m === 'object') {
    const fields: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(m as Record<string, unknown>)) fields[k] = Array.isArray(v) ? v.map(String) : [String(v)];
    const text = Object.entries(fields)
      .map(([k, v]) => `${k}: ${v.join(' ')}`)
      .join('; ');
    return new ApiError(status, text, fields);
  }
  return new ApiError(status, `The server answered ${status}.`);
}

export interface CallOptions {
  body?: unknown;
  /** Do not treat a 401 as an expired session (the sign-in calls). */
  noExpiry?: boolean;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

async function raw(method: string, path: string, opts: CallOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json', ...authHeaders(), ...opts.headers };
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  let res: Response;
  try {
    res = await fetch(path, { method, headers, body, signal: opts.signal ?? null, credentials: 'omit' });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'Warre could not be reached. Check your connection and try again.');
  }
  if (res.status === 401 && !opts.noExpiry && current) {
    const err = describe(await res.json().catch(() => null), 401);
    onExpired?.(current.kind === 'keystone' ? 'Your session has expired or was ended. Sign in again.' : err.message);
    throw err;
  }
  return res;
}

/** One API call; the parsed JSON answer, or an {@link ApiError} carrying the API's error_message. */
export async function call<T>(method: string, path: string, opts: CallOptions = {}): Promise<T> {
  const res = await raw(method, path, opts);
  const text = await res.text();
  let parsed: unknown = null;
  if (text) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
  }
  if (!res.ok) throw describe(parsed, res.status);
  return parsed as T;
}

/** A file answer (the calendar export) as a Blob. */
export async function download(path: string): Promise<Blob> {
  const res = await raw('GET', path, { headers: { Accept: 'text/calendar' } });
  if (!res.ok) throw describe(await res.json().catch(() => null), res.status);
  return res.blob();
}

export const get = <T>(path: string, opts?: CallOptions) => call<T>('GET', path, opts);

/** Every page of a paginated list (`results` + `next`). */
export async function getAll<T>(path: string): Promise<T[]> {
  const out: T[] = [];
  let url: string | null = path;
  for (let i = 0; url && i < 50; i++) {
    const page: { results: T[]; next?: string } = await get(url);
    out.push(...page.results);
    url = page.next ? new URL(page.next).pathname + new URL(page.next).search : null;
  }
  return out;
}

// ------------------------------------------------------------------ shapes of the API

export interface BookableFlavor {
  id: string;
  name: string;
  description: string | null;
  category: string | null;
  availability_zone: string | null;
  vcpu: number;
  memory_mb: number;
  disk_gb: number;
  slots: number;
  max_length_hours: number;
  extra_specs: Record<string, unknown>;
}

export interface Flavor extends BookableFlavor {
  ephemeral_gb: number;
  active: boolean;
  properties: string | null;
  is_public: boolean;
  start: string | null;
  end: string | null;
}

export interface Interval {
  start: string;
  end: string;
  free: number;
}

export interface AvailabilityRow {
  flavor: BookableFlavor;
  slots: number;
  intervals: Interval[];
}

export interface Availability {
  start: string;
  end: string;
  results: AvailabilityRow[];
}

export interface Offer {
  flavor: BookableFlavor;
  start: string;
  end: string;
  instance_count: number;
  hours: number;
  cost: number | null;
  within_quota: boolean;
  quota_reason: string | null;
}

export type Status = 'PENDING_CREATE' | 'ALLOCATED' | 'ACTIVE' | 'COMPLETE' | 'ERROR' | string;

export interface Reservation {
  id: string | null;
  created_at: string | null;
  user_id: string;
  project_id: string;
  flavor: Flavor | BookableFlavor;
  lease_id: string | null;
  status: Status;
  status_reason: string | null;
  start: string;
  end: string;
  instance_count: number;
  hours?: number;
  cost?: number | null;
}

export interface Limits {
  absolute: { maxHours: number; maxReservations: number; totalHoursUsed: number; totalReservationsUsed: number };
}

export interface MaintenanceWindow {
  id: string;
  start: string;
  end: string;
  note: string | null;
  flavors: { id: string; name: string }[];
}

export interface Grant {
  id: string;
  project_id: string;
  flavor: string;
}
