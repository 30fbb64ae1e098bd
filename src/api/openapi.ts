/**
 * The OpenAPI 3.1 document of the API, served at `GET /v1/openapi.json` (ARCHITECTURE.md).
 * It is assembled from what the routes themselves use, so the two cannot drift apart quietly:
 * request bodies from the `Schema` objects the routes pass to `validateBody` (translated by
 * `bodyJsonSchema`), answers from src/api/view-schemas.ts (one schema per view of
 * src/api/views.ts), the policy rules of each operation from the operations listed in
 * src/policy/defaults.ts. Every answer of the conformance suite (test/api/) is checked against
 * it; test/api/openapi.test.ts validates it with an OpenAPI 3.1 validator.
 */
import { POLICY_DEFAULTS, type PolicyOperation } from '../policy/defaults.js';
import { CALENDAR_CONTENT_TYPE } from './calendar.js';
import { API_LIMIT } from './request.js';
import { METRICS_PATH } from './routes/metrics.js';
import { CALENDAR_MAX_EVENTS } from './routes/v1/calendar.js';
import { CREATE_FIELDS as GRANT_FIELDS } from './routes/v1/flavorprojects.js';
import { FLAVOR_FIELDS, UPDATE_FIELDS as FLAVOR_UPDATE_FIELDS, IMMUTABLE } from './routes/v1/flavors.js';
import { FIELDS as WINDOW_FIELDS } from './routes/v1/maintenancewindows.js';
import { UPDATE_FIELDS as EXTEND_FIELDS, CREATE_FIELDS as RESERVATION_FIELDS } from './routes/v1/reservations.js';
import { bodyJsonSchema } from './validate.js';
import { type JsonSchema, page, ref, VIEW_SCHEMAS } from './view-schemas.js';

export const OPENAPI_PATH = '/v1/openapi.json';

export type HttpMethod = 'get' | 'head' | 'post' | 'patch' | 'delete';

interface Parameter {
  name: string;
  in: 'query' | 'path';
  description: string;
  required?: boolean;
  schema: JsonSchema;
  style?: 'form';
  explode?: boolean;
}

interface Success {
  status: number;
  description: string;
  /** JSON body (none: no content, e.g. 204). */
  schema?: JsonSchema;
  /** Other content types and their schemas (e.g. text/calendar). */
  content?: Record<string, JsonSchema>;
  headers?: Record<string, unknown>;
}

interface OperationSpec {
  method: Exclude<HttpMethod, 'head'>;
  /** Canonical form: with the trailing slash (both forms are served). */
  path: string;
  operationId: string;
  tag: string;
  summary: string;
  description?: string;
  /** Served without identity. */
  public?: boolean;
  query?: Parameter[];
  body?: { schema: JsonSchema; description: string };
  ok: Success[];
  /** What else this route answers, by status, beyond what every route of its kind answers. */
  errors?: Partial<Record<number, string[]>>;
}

// ---- query parameters (as src/api/request.ts and the routes parse them) ----

const BOOLEAN_QUERY = 'true, false, 1 or 0, in any case; anything else is a 400';
const DATE_QUERY = '`YYYY-MM-DD` (midnight UTC) or an ISO 8601 datetime with an offset';
const query = (name: string, schema: JsonSchema, description: string, required = false): Parameter => ({
  name,
  in: 'query',
  description,
  schema,
  ...(required ? { required: true } : {}),
});
const filter = (name: string, what: string) =>
  query(name, { type: 'string', maxLength: 255 }, `Only ${what} (exact match; empty: no filter; no NUL character).`);
const bool = (name: string, what: string) => query(name, { type: 'boolean' }, `${what} (${BOOLEAN_QUERY}).`);
const date = (name: string, what: string) => query(name, { type: 'string' }, `${what}: ${DATE_QUERY}.`);
const integer = (name: string, min: number, max: number, what: string, required = false) =>
  query(name, { type: 'integer', minimum: min, maximum: max }, `${what} (digits only; otherwise a 400 naming it).`, required);
/** `?flavor_id=a&flavor_id=b` (src/api/request.ts queryIds). */
const ids = (name: string, what: string): Parameter => ({
  ...query(
    name,
    { type: 'array', items: { type: 'string', format: 'uuid' }, maxItems: 1000 },
    `Only ${what}; repeat it for several (at most 1000).`,
  ),
  style: 'form',
  explode: true,
});

/** src/api/request.ts pageRequest. */
const PAGINATION: Parameter[] = [
  query(
    'limit',
    { type: 'integer' },
    `Page size: 1 to ${API_LIMIT} (larger values are taken as ${API_LIMIT}, smaller as 1; 0 or empty: ${API_LIMIT}).`,
  ),
  query('page', { type: 'integer', minimum: 1, maximum: 1e9 }, 'Page number, from 1.'),
];
const ALL_PROJECTS = (rule: string, what: string) => bool('all_projects', `With \`${rule}\`: ${what}; ignored without it`);

const pathParam = (name: string, what: string): Parameter => ({
  name,
  in: 'path',
  required: true,
  description: `The ${what} id.`,
  schema: { type: 'string' },
});
const PATH_PARAMETERS: Record<string, Parameter> = {
  flavor_id: pathParam('flavor_id', 'flavor'),
  flavorproject_id: pathParam('flavorproject_id', 'grant'),
  window_id: pathParam('window_id', 'maintenance window'),
  reservation_id: pathParam('reservation_id', 'reservation'),
};

// ---- the operations ----

const FLAVORS = '/v1/flavors/';
const FLAVOR = '/v1/flavors/{flavor_id}/';
const GRANTS = '/v1/flavorprojects/';
const GRANT = '/v1/flavorprojects/{flavorproject_id}/';
const WINDOWS = '/v1/maintenancewindows/';
const WINDOW = '/v1/maintenancewindows/{window_id}/';
const RESERVATIONS = '/v1/reservations/';
const RESERVATION = '/v1/reservations/{reservation_id}/';

const NO_BODY = 'No input data provided (no body, or `{}`); the body is not a JSON object';
const NOT_AUTHORISED = 'Not authorised (the policy rule denies it)';
const NO_PROJECT = 'The token has no project (a project-scoped token is needed)';
const CALENDAR_HEADERS = {
  'Content-Disposition': {
    description: '`attachment; filename="…"`',
    required: true,
    schema: { type: 'string', pattern: '^attachment; filename="[^"]+"$' },
  },
};

const OPERATIONS: OperationSpec[] = [
  // Service
  {
    method: 'get',
    path: '/',
    operationId: 'getVersions',
    tag: 'service',
    public: true,
    summary: 'The version document',
    ok: [{ status: 200, description: 'The API versions (only v1).', schema: ref('VersionDocument') }],
  },
  {
    method: 'get',
    path: '/healthcheck',
    operationId: 'getHealth',
    tag: 'service',
    public: true,
    summary: 'Health of the service and its database',
    query: [query('detail', { type: 'string' }, 'Present (any value, or none): answer the JSON report instead of text.')],
    ok: [
      {
        status: 200,
        description: 'Healthy: `OK` as text, or with `detail` the JSON report.',
        content: { 'text/plain': { type: 'string', const: 'OK' }, 'application/json': ref('HealthReport') },
      },
      {
        status: 503,
        description: 'The database does not answer: `Database unreachable` as text, or with `detail` the JSON report.',
        content: { 'text/plain': { type: 'string', const: 'Database unreachable' }, 'application/json': ref('HealthReport') },
      },
    ],
  },
  {
    method: 'get',
    path: OPENAPI_PATH,
    operationId: 'getOpenApiDocument',
    tag: 'service',
    public: true,
    summary: 'This document',
    ok: [
      {
        status: 200,
        description: 'The OpenAPI 3.1 document of the API.',
        schema: {
          type: 'object',
          properties: { openapi: { type: 'string', const: '3.1.0' }, info: { type: 'object' }, paths: { type: 'object' } },
          required: ['openapi', 'info', 'paths'],
        },
      },
    ],
  },

  {
    method: 'get',
    path: METRICS_PATH,
    operationId: 'getMetrics',
    tag: 'service',
    public: true,
    summary: 'Prometheus metrics',
    description:
      'Metrics in the Prometheus text format (version 0.0.4): the counters and histograms of every API process added up, ' +
      "and gauges read from the database (docs/metrics.md in Warre's repository). Not under /v1: it is no part of the " +
      'versioned API, and Prometheus scrapes `/metrics` by default. Served only to the networks of ' +
      "`[api] metrics_allowed_networks` (default: this host), judged by the connection's peer address.",
    ok: [
      {
        status: 200,
        description: 'The metrics (`text/plain; version=0.0.4; charset=utf-8`).',
        content: { 'text/plain': { type: 'string' } },
      },
    ],
    errors: {
      403: ['`Metrics are not served to this address (see [api] metrics_allowed_networks)`'],
      500: ['`Unexpected API Error.`'],
      503: [
        '`The database is unavailable, please try again later`; `The metrics of the API processes could not be collected, please try again later`',
      ],
    },
  },

  // Flavors
  {
    method: 'get',
    path: FLAVORS,
    operationId: 'listFlavors',
    tag: 'flavors',
    summary: 'List flavors',
    description:
      "Active flavors that are public or granted to the caller's project, by name then memory; with `all_projects` and `warre:flavor:list:all`, every flavor.",
    query: [
      ...PAGINATION,
      ALL_PROJECTS('warre:flavor:list:all', 'every flavor, inactive and private ones included'),
      filter('category', 'flavors of this category'),
      filter('availability_zone', 'flavors of this availability zone'),
      bool('active', 'Only active (true) or inactive (false) flavors'),
    ],
    ok: [{ status: 200, description: 'A page of flavors.', schema: page(ref('Flavor')) }],
    errors: { 400: ['A query parameter has a bad value'], 403: [NOT_AUTHORISED, NO_PROJECT] },
  },
  {
    method: 'post',
    path: FLAVORS,
    operationId: 'createFlavor',
    tag: 'flavors',
    summary: 'Add a flavor',
    body: { schema: bodyJsonSchema(FLAVOR_FIELDS), description: 'The new flavor.' },
    ok: [{ status: 202, description: 'The flavor, with the defaults filled in.', schema: ref('Flavor') }],
    errors: {
      400: [NO_BODY],
      403: [NOT_AUTHORISED],
      422: ['Fields refused: each with its messages (e.g. `Missing data for required field.`); `end` not after `start`'],
    },
  },
  {
    method: 'get',
    path: FLAVOR,
    operationId: 'getFlavor',
    tag: 'flavors',
    summary: 'Show a flavor',
    ok: [{ status: 200, description: 'The flavor.', schema: ref('Flavor') }],
    errors: { 403: [NOT_AUTHORISED], 404: ["`Flavor {id} doesn't exist` (also for a private flavor the caller may not see)"] },
  },
  {
    method: 'patch',
    path: FLAVOR,
    operationId: 'updateFlavor',
    tag: 'flavors',
    summary: 'Change a flavor',
    description: `Only the fields given change. ${IMMUTABLE.map((f) => `\`${f}\``).join(', ')} cannot be changed (\`Unknown field.\`).`,
    body: { schema: bodyJsonSchema(FLAVOR_UPDATE_FIELDS, true), description: 'The fields to change.' },
    ok: [{ status: 200, description: 'The changed flavor.', schema: ref('Flavor') }],
    errors: {
      400: [NO_BODY, 'Fields refused, in the field form `{"error_message": {field: [messages]}}`'],
      404: ["`Flavor {id} doesn't exist` (also when the policy rule denies the change)"],
      422: ['`end` not after `start`'],
    },
  },
  {
    method: 'delete',
    path: FLAVOR,
    operationId: 'deleteFlavor',
    tag: 'flavors',
    summary: 'Remove a flavor',
    ok: [{ status: 204, description: 'Removed, with its grants and maintenance window links.' }],
    errors: {
      404: ["`Flavor {id} doesn't exist` (also when the policy rule denies it)"],
      409: ['`Flavor {id} is in use` (a reservation refers to it)'],
    },
  },
  {
    method: 'get',
    path: '/v1/flavors/{flavor_id}/freeslots/',
    operationId: 'getFreeSlots',
    tag: 'flavors',
    summary: 'Free slots of a flavor',
    description: 'The windows in which `instance_count` instances of the flavor fit, between `start` and `end`.',
    query: [
      date('start', 'From (default: now)'),
      date('end', 'Until (default: start + 365 days); not before `start`'),
      integer('instance_count', 1, 999_999_999, 'Instances that must fit (default 1)'),
    ],
    ok: [{ status: 200, description: 'The free windows.', schema: ref('FreeSlots') }],
    errors: { 400: ['A bad date or instance count; `end` before `start`'], 403: [NOT_AUTHORISED], 404: ["`Flavor {id} doesn't exist`"] },
  },

  // Flavor grants
  {
    method: 'get',
    path: GRANTS,
    operationId: 'listFlavorProjects',
    tag: 'flavorprojects',
    summary: 'List grants of private flavors to projects',
    query: [...PAGINATION, filter('project_id', 'grants to this project'), filter('flavor_id', 'grants of this flavor')],
    ok: [{ status: 200, description: 'A page of grants.', schema: page(ref('FlavorProject')) }],
    errors: { 400: ['A query parameter has a bad value'], 403: [NOT_AUTHORISED] },
  },
  {
    method: 'post',
    path: GRANTS,
    operationId: 'createFlavorProject',
    tag: 'flavorprojects',
    summary: 'Grant a project access to a private flavor',
    body: { schema: bodyJsonSchema(GRANT_FIELDS), description: 'The flavor and the project.' },
    ok: [{ status: 200, description: 'The grant.', schema: ref('FlavorProject') }],
    errors: {
      400: [NO_BODY],
      403: [NOT_AUTHORISED],
      404: ['`Flavor does not exist`'],
      409: ['`Already exists`'],
      422: ['Fields refused, each with its messages (a blank `project_id` too)'],
    },
  },
  {
    method: 'delete',
    path: GRANT,
    operationId: 'deleteFlavorProject',
    tag: 'flavorprojects',
    summary: 'Withdraw a grant',
    ok: [{ status: 204, description: 'Withdrawn.' }],
    errors: { 404: ["`FlavorProject {id} doesn't exist` (also when the policy rule denies it)"] },
  },

  // Maintenance windows
  {
    method: 'get',
    path: WINDOWS,
    operationId: 'listMaintenanceWindows',
    tag: 'maintenancewindows',
    summary: 'List maintenance windows',
    query: PAGINATION,
    ok: [{ status: 200, description: 'A page of maintenance windows.', schema: page(ref('MaintenanceWindow')) }],
    errors: { 400: ['A bad `limit` or `page`'], 403: [NOT_AUTHORISED] },
  },
  {
    method: 'post',
    path: WINDOWS,
    operationId: 'createMaintenanceWindow',
    tag: 'maintenancewindows',
    summary: 'Schedule a maintenance window',
    body: { schema: bodyJsonSchema(WINDOW_FIELDS), description: 'The window; `flavor_ids` are the flavors it covers.' },
    ok: [{ status: 201, description: 'The window.', schema: ref('MaintenanceWindow') }],
    errors: {
      400: [NO_BODY, 'The times are refused (e.g. end not after start, start in the past)'],
      403: [NOT_AUTHORISED],
      404: ['`One or more flavors not found`'],
      409: ['`Maintenance window conflicts with existing reservations`'],
      422: ['Fields refused, each with its messages'],
    },
  },
  {
    method: 'get',
    path: WINDOW,
    operationId: 'getMaintenanceWindow',
    tag: 'maintenancewindows',
    summary: 'Show a maintenance window',
    ok: [{ status: 200, description: 'The window.', schema: ref('MaintenanceWindow') }],
    errors: { 403: [NOT_AUTHORISED], 404: ["`MaintenanceWindow {id} doesn't exist`"] },
  },
  {
    method: 'patch',
    path: WINDOW,
    operationId: 'updateMaintenanceWindow',
    tag: 'maintenancewindows',
    summary: 'Change a maintenance window',
    description: 'Only the fields given change; `flavor_ids` replaces the set of flavors.',
    body: { schema: bodyJsonSchema(WINDOW_FIELDS, true), description: 'The fields to change.' },
    ok: [{ status: 200, description: 'The changed window.', schema: ref('MaintenanceWindow') }],
    errors: {
      400: [NO_BODY, 'The times are refused'],
      404: ["`MaintenanceWindow {id} doesn't exist` (also when the policy rule denies it)", '`One or more flavors not found`'],
      409: ['`Maintenance window conflicts with existing reservations`'],
      422: ['Fields refused, each with its messages'],
    },
  },
  {
    method: 'delete',
    path: WINDOW,
    operationId: 'deleteMaintenanceWindow',
    tag: 'maintenancewindows',
    summary: 'Cancel a maintenance window',
    ok: [{ status: 204, description: 'Cancelled.' }],
    errors: { 404: ["`MaintenanceWindow {id} doesn't exist` (also when the policy rule denies it)"] },
  },

  // Reservations
  {
    method: 'get',
    path: RESERVATIONS,
    operationId: 'listReservations',
    tag: 'reservations',
    summary: 'List reservations',
    description:
      "The caller's project's reservations, newest first; with `warre:reservation:list:all`, another project's (`project_id`) or every project's (`all_projects`).",
    query: [
      ...PAGINATION,
      ALL_PROJECTS('warre:reservation:list:all', "every project's reservations"),
      filter('project_id', "this project's reservations (with `warre:reservation:list:all`; ignored without it)"),
      filter('flavor_id', 'reservations of this flavor'),
    ],
    ok: [{ status: 200, description: 'A page of reservations.', schema: page(ref('Reservation')) }],
    errors: { 400: ['A query parameter has a bad value'], 403: [NOT_AUTHORISED, NO_PROJECT] },
  },
  {
    method: 'post',
    path: RESERVATIONS,
    operationId: 'createReservation',
    tag: 'reservations',
    summary: 'Reserve instances of a flavor',
    description:
      'Checks, in this order: the reservation quota (413), the body (422), the flavor (404), the hours quota (413), then the reservation rules ' +
      '(access, length, flavor validity, past start, maintenance, capacity: 400). The reservation starts as PENDING_CREATE; the worker makes its lease. ' +
      'With `dry_run=true` every check runs but nothing is stored (docs/availability.md#dry-run).',
    query: [bool('dry_run', 'true: check only, store nothing, answer the reservation as it would be, with `hours` and `cost`')],
    body: { schema: bodyJsonSchema(RESERVATION_FIELDS), description: 'The flavor, the times, the number of instances (default 1).' },
    ok: [
      {
        status: 200,
        description: 'The reservation (a dry run: as it would be created).',
        schema: { oneOf: [ref('Reservation'), ref('DryRunReservation')] },
      },
    ],
    errors: {
      400: [
        NO_BODY,
        'The reservation rules refuse it (the text says why)',
        'A bad `dry_run`',
        'An unknown project (Keystone unified limits)',
      ],
      403: [NO_PROJECT],
      404: ['`Flavor does not exist`'],
      413: ['Over quota (reservations or hours; the text says which)'],
      422: ['Fields refused, each with its messages'],
    },
  },
  {
    method: 'get',
    path: RESERVATION,
    operationId: 'getReservation',
    tag: 'reservations',
    summary: 'Show a reservation',
    ok: [{ status: 200, description: 'The reservation.', schema: ref('Reservation') }],
    errors: { 404: ["`Reservation {id} doesn't exist` (also when the policy rule denies it)"] },
  },
  {
    method: 'patch',
    path: RESERVATION,
    operationId: 'extendReservation',
    tag: 'reservations',
    summary: 'Extend a reservation',
    description: 'Moves the end of an ACTIVE reservation later, and its lease with it.',
    body: { schema: bodyJsonSchema(EXTEND_FIELDS), description: 'The new end.' },
    ok: [{ status: 200, description: 'The extended reservation.', schema: ref('Reservation') }],
    errors: {
      400: [
        NO_BODY,
        'Fields refused, in the field form',
        '`New end date must be greater then existing`',
        '`Failed to extend reservation: …` (the rules or the lease refuse it)',
        'An unknown project (Keystone unified limits)',
      ],
      404: ["`Reservation {id} doesn't exist` (also when the policy rule denies it)"],
      413: ['Over the hours quota'],
    },
  },
  {
    method: 'delete',
    path: RESERVATION,
    operationId: 'deleteReservation',
    tag: 'reservations',
    summary: 'Cancel a reservation',
    ok: [{ status: 204, description: 'Cancelled: its lease is deleted, then the reservation.' }],
    errors: {
      404: ["`Reservation {id} doesn't exist` (also when the policy rule denies it)"],
      500: ['`Failed to delete reservation, please try again later` (the lease could not be deleted)'],
    },
  },
  {
    method: 'get',
    path: '/v1/reservations/calendar.ics',
    operationId: 'exportReservationsCalendar',
    tag: 'reservations',
    summary: 'Reservations as an iCalendar file',
    description: `The effective reservations of the caller's project (or, with \`all_projects\` and \`warre:reservation:list:all\`, of every project), by start, at most ${CALENDAR_MAX_EVENTS} (docs/calendar.md).`,
    query: [ALL_PROJECTS('warre:reservation:list:all', "every project's reservations")],
    ok: [
      { status: 200, description: 'The calendar.', content: { [CALENDAR_CONTENT_TYPE]: { type: 'string' } }, headers: CALENDAR_HEADERS },
    ],
    errors: { 400: ['A bad `all_projects`'], 403: [NOT_AUTHORISED, NO_PROJECT] },
  },
  {
    method: 'get',
    path: '/v1/reservations/{reservation_id}/calendar.ics',
    operationId: 'exportReservationCalendar',
    tag: 'reservations',
    summary: 'One reservation as an iCalendar file',
    ok: [
      {
        status: 200,
        description: 'The calendar with one event.',
        content: { [CALENDAR_CONTENT_TYPE]: { type: 'string' } },
        headers: CALENDAR_HEADERS,
      },
    ],
    errors: { 403: [NOT_AUTHORISED], 404: ["`Reservation {id} doesn't exist` (also when `warre:reservation:get` denies it)"] },
  },

  // History (docs/api.md#history)
  {
    method: 'get',
    path: '/v1/reservations/{reservation_id}/history/',
    operationId: 'getReservationHistory',
    tag: 'reservations',
    summary: 'The history of a reservation',
    description:
      'Every change of the reservation, oldest first: created, allocated, active, extended, completed, error, deleted; who made it ' +
      '(a user, or `system`), the request id, the status before and after, and a detail (lease id, old and new end, reason).',
    query: PAGINATION,
    ok: [{ status: 200, description: 'A page of history rows.', schema: page(ref('HistoryEntry')) }],
    errors: {
      400: ['A bad `limit` or `page`'],
      404: ["`Reservation {id} doesn't exist` (also when the policy rule denies it, and once the reservation is deleted)"],
    },
  },
  {
    method: 'get',
    path: '/v1/history/',
    operationId: 'listHistory',
    tag: 'reservations',
    summary: 'The history of every reservation',
    description:
      'History rows of every reservation, deleted ones included, oldest first; rows older than `[warre] history_retention_days` are removed.',
    query: [
      ...PAGINATION,
      filter('project_id', "rows of this project's reservations"),
      filter('reservation_id', 'rows of this reservation'),
      date('since', 'Only rows written at or after this time'),
    ],
    ok: [{ status: 200, description: 'A page of history rows.', schema: page(ref('HistoryEntry')) }],
    errors: { 400: ['A query parameter has a bad value'], 403: [NOT_AUTHORISED] },
  },

  // Limits
  {
    method: 'get',
    path: '/v1/limits/',
    operationId: 'getLimits',
    tag: 'limits',
    summary: 'Quota limits and usage',
    description: "The caller's project's; with `project_id` and `warre:limits:list:all`, another project's.",
    query: [query('project_id', { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' }, 'Another project (needs `warre:limits:list:all`).')],
    ok: [{ status: 200, description: 'Limits and usage.', schema: ref('Limits') }],
    errors: { 400: ['`Invalid project_id: …`', 'An unknown project (Keystone unified limits)'], 403: [NOT_AUTHORISED, NO_PROJECT] },
  },

  // Availability and offers (docs/availability.md)
  {
    method: 'get',
    path: '/v1/availability/',
    operationId: 'getAvailability',
    tag: 'availability',
    summary: 'Free slots over time of every flavor the caller may book',
    description: 'docs/availability.md: one step function of free slots per flavor over [start, end).',
    query: [
      date('start', 'First moment of the window (default: the current minute)'),
      date('end', 'End of the window, exclusive (default: start + 90 days; at most 366 days after start)'),
      filter('category', 'flavors of this category'),
      filter('availability_zone', 'flavors of this availability zone'),
      ids('flavor_id', 'these flavors'),
      ALL_PROJECTS('warre:flavor:list:all', 'every flavor, private and inactive ones included'),
    ],
    ok: [{ status: 200, description: 'The free slots of each flavor.', schema: ref('Availability') }],
    errors: { 400: ['A bad date, id or boolean; `end` not after `start`; a window over 366 days'], 403: [NOT_AUTHORISED, NO_PROJECT] },
  },
  {
    method: 'get',
    path: '/v1/offers/',
    operationId: 'listOffers',
    tag: 'availability',
    summary: 'The earliest bookings that fit',
    description:
      "docs/availability.md: for each matching flavor the caller's project may book, the earliest start at which the booking passes every create rule.",
    query: [
      integer('instance_count', 1, 10_000, 'Instances wanted', true),
      integer('hours', 1, 366 * 24, 'How long, in whole hours', true),
      date('earliest_start', 'First acceptable start (default: now)'),
      date(
        'latest_start',
        'Last acceptable start (default: earliest_start, or now if later, + 90 days; at most 366 days after earliest_start)',
      ),
      filter('category', 'flavors of this category'),
      filter('availability_zone', 'flavors of this availability zone'),
      ids('flavor_id', 'these flavors'),
      integer('min_vcpu', 0, 1_000_000, 'Flavors with at least this many vCPUs'),
      integer('min_memory_mb', 0, 1_000_000_000, 'Flavors with at least this much memory'),
      integer('limit', 1, 1_000_000, 'At most this many offers (default 20; above 100 taken as 100)'),
    ],
    ok: [{ status: 200, description: 'The offers, by start then by the smaller flavor.', schema: ref('Offers') }],
    errors: {
      400: ['A missing or bad parameter (named in the text); `latest_start` before `earliest_start` or over 366 days after it'],
      403: [NOT_AUTHORISED, NO_PROJECT],
    },
  },
];

// ---- assembly ----

const REQUEST_ID_HEADER = { $ref: '#/components/headers/RequestId' };
const errorContent = (status: number) => ({ 'application/json': { schema: status === 422 ? ref('ValidationError') : ref('Error') } });

/** What every authenticated route, every route with a path parameter, every route reading a body can answer. */
function commonErrors(op: OperationSpec): Partial<Record<number, string[]>> {
  const out: Partial<Record<number, string[]>> = {};
  const add = (status: number, reason: string) => (out[status] ??= []).push(reason);
  if (op.path.includes('{')) {
    add(400, '`The request path is not a valid URL`');
    add(414, '`The request path is too long`');
  }
  if (op.method !== 'get') {
    add(400, '`Malformed JSON body: …`; `Request body does not match its Content-Length`');
    add(413, '`Request body is too large (the limit is 1 MiB)`');
    add(415, 'A body whose content type or encoding cannot be read as JSON text (e.g. `Unsupported content type: send application/json`)');
  }
  if (op.method === 'post' || op.method === 'patch') {
    add(400, '`The request contains characters the database cannot store` (a MySQL/MariaDB database without utf8mb4)');
  }
  if (!op.public) {
    add(
      401,
      'No identity: under keystone a missing, invalid or expired `X-Auth-Token`; under noauth no `X-Project-Id` (or an id over 64 characters)',
    );
    add(
      500,
      '`Unexpected API Error.`; `Quota limits cannot be read: …` (how Keystone unified limits are set up, e.g. an unknown `[oslo_limit] endpoint_id`)',
    );
    add(503, '`The database is unavailable, please try again later`; Keystone or its unified limits cannot be reached');
  }
  return out;
}

/** The rules src/policy/defaults.ts lists for this operation. */
export function policyRules(method: string, path: string): string[] {
  const m = method.toUpperCase() as PolicyOperation['method'];
  return POLICY_DEFAULTS.filter((d) => (d.operations as readonly PolicyOperation[]).some((o) => o.method === m && o.path === path)).map(
    (d) => d.name,
  );
}

function policyText(rules: string[], op: OperationSpec): string {
  if (op.public) return 'Served without identity.';
  if (rules.length === 0) return 'Policy: no rule; any authenticated caller (with a project).';
  const lines = rules.map((name) => `- \`${name}\`: ${POLICY_DEFAULTS.find((d) => d.name === name)!.description}`);
  return `Policy rules (\`x-policy\`, src/policy/defaults.ts):\n${lines.join('\n')}`;
}

function operationObject(op: OperationSpec, method: HttpMethod): Record<string, unknown> {
  const head = method === 'head';
  const rules = policyRules(method, op.path);
  const responses: Record<string, unknown> = {};
  for (const s of op.ok) {
    const content = s.schema
      ? { 'application/json': { schema: s.schema } }
      : s.content
        ? Object.fromEntries(Object.entries(s.content).map(([t, schema]) => [t, { schema }]))
        : undefined;
    responses[String(s.status)] = {
      description: s.description,
      headers: { 'X-Openstack-Request-Id': REQUEST_ID_HEADER, ...s.headers },
      ...(content && !head ? { content } : {}),
    };
  }
  const errors = commonErrors(op);
  for (const [status, reasons] of Object.entries(op.errors ?? {})) (errors[Number(status)] ??= []).push(...reasons!);
  for (const status of Object.keys(errors)
    .map(Number)
    .sort((a, b) => a - b)) {
    if (responses[String(status)]) continue;
    responses[String(status)] = {
      description: errors[status]!.map((r) => `- ${r}`).join('\n'),
      headers: {
        'X-Openstack-Request-Id': REQUEST_ID_HEADER,
        ...(status === 401 ? { 'WWW-Authenticate': { $ref: '#/components/headers/WwwAuthenticate' } } : {}),
      },
      ...(head ? {} : { content: errorContent(status) }),
    };
  }
  const pathParams = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => PATH_PARAMETERS[m[1]!]!);
  const parameters = [...pathParams, ...(op.query ?? [])];
  return {
    operationId: head ? `${op.operationId}Head` : op.operationId,
    tags: [op.tag],
    summary: head ? `${op.summary} (headers only)` : op.summary,
    description: [op.description, policyText(rules, op)].filter(Boolean).join('\n\n'),
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(op.body
      ? { requestBody: { required: true, description: op.body.description, content: { 'application/json': { schema: op.body.schema } } } }
      : {}),
    responses,
    ...(op.public ? { security: [] } : {}),
    'x-policy': rules,
  };
}

const DESCRIPTION = `Warre: reservations of flavors for a time, on an OpenStack cloud (a drop-in replacement for the Python Warre). The prose contract, with every historical text, is docs/api.md in Warre's repository.

**Paths.** Every path is served with and without its trailing slash (no redirect); this document lists the canonical form.

**Identity.** With \`[DEFAULT] auth_strategy = keystone\` every request but \`/\`, \`/healthcheck\`, \`${METRICS_PATH}\` and \`${OPENAPI_PATH}\` needs a Keystone token in \`X-Auth-Token\`. With \`auth_strategy = noauth\` (tests, all-in-one) the caller is named by headers instead: \`X-Project-Id\` (required), \`X-User-Id\`, \`X-Roles\` (comma-separated roles, e.g. \`admin\`).

**Policy.** Each operation lists, in \`x-policy\`, the oslo.policy rules it consults (their defaults are in src/policy/defaults.ts; operators override them in the policy file). Denied item operations answer 404, as for a missing item, so that foreign ids are not confirmed.

**Errors.** Every error answer is \`{"error_message": text}\`, or for a refused body \`{"error_message": {field: [messages]}}\`, with the historical texts. Every answer carries \`X-Openstack-Request-Id: req-<uuid>\`. Requests refused before routing are answered in the same shape: 400 (malformed request), 408 (not received within \`[api] request_timeout\` / \`headers_timeout\`), 431 (headers over 16 KiB); an unknown path is a 404.

**Queries.** Unknown query parameters are ignored; a parameter given twice takes its first value (except the repeatable \`flavor_id\` of availability and offers). Booleans are true/false/1/0 in any case. Dates in: \`YYYY-MM-DD\` (where noted) or ISO 8601 with an offset; out: \`YYYY-MM-DDTHH:MM:SS+00:00\`.`;

export interface OpenApiOptions {
  /** `[api] public_url`: the server URL; absent: the host serving the document. */
  publicUrl?: string | null;
  version?: string;
}

/** The whole document (a plain JSON value). */
export function buildOpenApiDocument(opts: OpenApiOptions = {}): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) {
    const item = (paths[op.path] ??= {});
    item[op.method] = operationObject(op, op.method);
    if (op.method === 'get') item.head = operationObject(op, 'head');
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Warre reservation API',
      version: opts.version ?? '1',
      description: DESCRIPTION,
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    servers: [{ url: opts.publicUrl ? opts.publicUrl.replace(/\/+$/, '') : '/' }],
    tags: [
      { name: 'service', description: 'Version document, health, metrics, this document (no identity needed).' },
      { name: 'flavors', description: 'Reservable flavors and their free slots.' },
      { name: 'flavorprojects', description: 'Grants of private flavors to projects.' },
      { name: 'maintenancewindows', description: 'Times during which flavors cannot be reserved.' },
      { name: 'reservations', description: 'Reservations, and their iCalendar export (docs/calendar.md).' },
      { name: 'limits', description: 'Quota limits and usage.' },
      { name: 'availability', description: 'Availability and offers (docs/availability.md).' },
    ],
    paths,
    components: {
      schemas: VIEW_SCHEMAS,
      headers: {
        RequestId: {
          description: 'The request id, `req-<uuid4>` (also in the logs).',
          required: true,
          schema: { type: 'string', pattern: '^req-[0-9a-f-]{36}$' },
        },
        WwwAuthenticate: { description: 'Under keystone: where to get a token (`Keystone uri="…"`).', schema: { type: 'string' } },
      },
      securitySchemes: {
        keystone: { type: 'apiKey', in: 'header', name: 'X-Auth-Token', description: 'A Keystone token (`auth_strategy = keystone`).' },
        noauth: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Project-Id',
          description: '`auth_strategy = noauth` only: the project; `X-User-Id` and `X-Roles` (comma-separated) name the user and roles.',
        },
      },
    },
    security: [{ keystone: [] }, { noauth: [] }],
  };
}

/** Every (method, path) the document describes, HEAD included. */
export function documentedOperations(doc: Record<string, unknown>): { method: HttpMethod; path: string }[] {
  const out: { method: HttpMethod; path: string }[] = [];
  for (const [path, item] of Object.entries(doc.paths as Record<string, Record<string, unknown>>)) {
    for (const method of Object.keys(item)) out.push({ method: method as HttpMethod, path });
  }
  return out;
}
