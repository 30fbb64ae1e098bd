/**
 * Every metric a Warre process counts (docs/metrics.md), in one registry per process: names,
 * help, labels. Code that counts imports the metric it needs from here. The registry is what
 * several processes of one port add up (src/metrics/cluster.ts); what is read from the database
 * at scrape time is not here but in src/services/metrics.ts, read once per scrape.
 *
 * Label values come from bounded sets only (route templates, not URLs; outcomes and reasons
 * from the lists below), so the number of series stays small whatever the traffic.
 */
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { LeaseFailureKind } from '../domain/lifecycle.js';

/** The process's own metrics (counters and histograms, plus Node's process metrics). */
export const registry = new Registry();
collectDefaultMetrics({ register: registry });
// Gauges named like counters (promtool rejects them); their per-type series stay (nodejs_active_handles …).
for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
  registry.removeSingleMetric(name);
}

const registers = [registry];

// ---- HTTP (the API) ----

export const httpRequests = new Counter({
  name: 'warre_http_requests_total',
  help: 'HTTP requests answered, by route template (unmatched: no route), method and status.',
  labelNames: ['route', 'method', 'status'] as const,
  registers,
});

export const httpRequestDuration = new Histogram({
  name: 'warre_http_request_duration_seconds',
  help: 'Time from receiving an HTTP request to the end of its answer, by route template and method.',
  labelNames: ['route', 'method'] as const,
  registers,
});

/** The label of a request that matched no route (404s, requests refused before routing). */
export const UNMATCHED_ROUTE = 'unmatched';

// ---- Lease creation (the worker) ----

/**
 * Why a lease creation was retried or failed (the label's bounded values): the kinds of
 * docs/api.md#lease-failures, as the worker's `describeLeaseFailure` names them (the same
 * `kind` as its log line), and `record`: the lease exists but the database could not record it.
 */
export const LEASE_FAILURE_REASONS = [
  'refused',
  'identity',
  'catalog',
  'service',
  'unavailable',
  'internal',
  'record',
] as const satisfies readonly (LeaseFailureKind | 'record')[];
export type LeaseFailureReason = (typeof LEASE_FAILURE_REASONS)[number];

export const leaseCreations = new Counter({
  name: 'warre_lease_creations_total',
  help:
    'Lease creations by outcome: created (reason new, or found: the lease of an earlier attempt), ' +
    'retried or failed (reason: why), abandoned (the reservation changed meanwhile; the lease was deleted).',
  labelNames: ['outcome', 'reason'] as const,
  registers,
});
// Every combination exists from the start at 0, so that rate() works before the first event.
for (const reason of ['new', 'found']) leaseCreations.inc({ outcome: 'created', reason }, 0);
for (const reason of LEASE_FAILURE_REASONS) {
  leaseCreations.inc({ outcome: 'retried', reason }, 0);
  leaseCreations.inc({ outcome: 'failed', reason }, 0);
}
leaseCreations.inc({ outcome: 'abandoned', reason: 'reservation_changed' }, 0);

// ---- Lease events (the notification consumer, the all-in-one simulator) ----

export const LEASE_EVENT_TYPES = ['start_lease', 'before_end_lease', 'end_lease'] as const;
export const LEASE_EVENT_OUTCOMES = ['applied', 'duplicate', 'dropped', 'retry', 'error'] as const;

export const leaseEvents = new Counter({
  name: 'warre_lease_events_total',
  help:
    'Lease events received, by event and outcome: applied (a status change or a message), duplicate ' +
    '(nothing new to do), dropped (no reservation has the lease, or no lease id), retry (the lease is ' +
    'not recorded yet: requeued), error (could not be applied: requeued).',
  labelNames: ['event', 'outcome'] as const,
  registers,
});
for (const event of LEASE_EVENT_TYPES) for (const outcome of LEASE_EVENT_OUTCOMES) leaseEvents.inc({ event, outcome }, 0);

// ---- Message bus ----

export const busReconnects = new Counter({
  name: 'warre_bus_reconnects_total',
  help: 'Times an established message bus connection was lost (a reconnection follows), by connection name.',
  labelNames: ['connection'] as const,
  registers,
});

export const busConnectFailures = new Counter({
  name: 'warre_bus_connect_failures_total',
  help: 'Failed attempts to connect to a message broker, by connection name.',
  labelNames: ['connection'] as const,
  registers,
});

// ---- Telling people ----

export const userMessages = new Counter({
  name: 'warre_user_messages_total',
  help:
    'User messages (e-mails, Taynac messages, log lines) by event and result: sent, failed (given up ' +
    'after retries, or the template could not be rendered), skipped (the user has no e-mail address).',
  labelNames: ['event', 'result'] as const,
  registers,
});

export const busNotifications = new Counter({
  name: 'warre_notifications_total',
  help: 'Notifications on the message bus (warre.reservation.*) by event type and result: sent (confirmed), failed (given up).',
  labelNames: ['event', 'result'] as const,
  registers,
});

export const outboxResent = new Counter({
  name: 'warre_outbox_resent_total',
  help: 'Recorded messages a process died before sending, sent later by the periodic task, by message.',
  labelNames: ['message'] as const,
  registers,
});

// ---- Keystone ----

export const tokenCache = new Counter({
  name: 'warre_keystone_token_cache_total',
  help:
    'User token look-ups by result: hit (served from the cache), miss (asked Keystone), rejected ' +
    '(refused from the short cache of tokens Keystone rejected).',
  labelNames: ['result'] as const,
  registers,
});
for (const result of ['hit', 'miss', 'rejected']) tokenCache.inc({ result }, 0);

export const keystoneRequestDuration = new Histogram({
  name: 'warre_keystone_request_duration_seconds',
  help: 'Duration of calls to Keystone by method, path template and status (error: no answer).',
  labelNames: ['method', 'path', 'status'] as const,
  registers,
});

/** Path segments of the identity API kept as they are; any other segment is an id. */
const KEYSTONE_WORDS = new Set([
  'auth',
  'tokens',
  'projects',
  'users',
  'roles',
  'limits',
  'registered_limits',
  'model',
  'endpoints',
  'services',
  'regions',
  'domains',
  'catalog',
]);

/** `https://ks/v3/projects/p1/users/u1/roles/r1?x` → `/projects/{id}/users/{id}/roles/{id}` (a bounded label). */
export function keystonePathTemplate(url: string): string {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    return 'unknown';
  }
  const v3 = path.indexOf('/v3/');
  const rest = v3 >= 0 ? path.slice(v3 + 4) : path;
  const segments = rest.split('/').filter((s) => s !== '');
  return `/${segments.map((s) => (KEYSTONE_WORDS.has(s) ? s : '{id}')).join('/')}`;
}
