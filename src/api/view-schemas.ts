/**
 * JSON Schemas (2020-12, as OpenAPI 3.1 uses them) of the answers of src/api/views.ts and of
 * the other JSON bodies the v1 API sends: one schema per view, strict (every field required,
 * no other field), so that the conformance suite notices a view and its schema drifting apart
 * (every answer of test/api/ is checked against the OpenAPI document, ARCHITECTURE.md).
 * The document itself is assembled in src/api/openapi.ts.
 */
import { HISTORY_EVENTS } from '../domain/history.js';
import { RESERVATION_STATUSES } from '../domain/types.js';

export type JsonSchema = { [keyword: string]: unknown };

/** Where these schemas live in the OpenAPI document. */
export const SCHEMA_REF_PREFIX = '#/components/schemas/';
export const ref = (name: SchemaName): JsonSchema => ({ $ref: `${SCHEMA_REF_PREFIX}${name}` });

/** A datetime as the API writes it (src/domain/time.ts formatApi): UTC, whole seconds, `+00:00`. */
const DATETIME: JsonSchema = {
  type: 'string',
  format: 'date-time',
  pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\+00:00$',
  description: 'UTC, `YYYY-MM-DDTHH:MM:SS+00:00`.',
  examples: ['2030-01-10T10:00:00+00:00'],
};
const nullable = (s: JsonSchema): JsonSchema => ({ ...s, type: [s.type as string, 'null'] });
const UUID: JsonSchema = { type: 'string', format: 'uuid' };
const INTEGER: JsonSchema = { type: 'integer' };
const STRING: JsonSchema = { type: 'string' };

/** An object with exactly these fields, all of them present. */
function record(properties: Record<string, JsonSchema>, description?: string): JsonSchema {
  return {
    type: 'object',
    ...(description ? { description } : {}),
    properties,
    required: Object.keys(properties),
    additionalProperties: false,
  };
}

/** `flavorView` */
const Flavor = record(
  {
    id: UUID,
    name: STRING,
    description: nullable(STRING),
    vcpu: INTEGER,
    memory_mb: INTEGER,
    disk_gb: INTEGER,
    ephemeral_gb: INTEGER,
    active: { type: 'boolean' },
    properties: { ...nullable(STRING), description: 'Blazar host properties (a JSON text), as given.' },
    max_length_hours: INTEGER,
    slots: { ...INTEGER, description: 'Instances of this flavor that can run at once.' },
    is_public: { type: 'boolean' },
    extra_specs: { type: 'object', description: 'Nova extra specs (any JSON object); `{}` when none.' },
    start: { ...nullable(DATETIME), description: 'First moment the flavor may be reserved (null: no limit).' },
    end: { ...nullable(DATETIME), description: 'Last moment the flavor may be reserved (null: no limit).' },
    category: nullable(STRING),
    availability_zone: nullable(STRING),
  },
  'A reservable flavor.',
);

/** `bookableFlavorView` */
const BookableFlavor = record(
  {
    id: UUID,
    name: STRING,
    description: nullable(STRING),
    category: nullable(STRING),
    availability_zone: nullable(STRING),
    vcpu: INTEGER,
    memory_mb: INTEGER,
    disk_gb: INTEGER,
    slots: INTEGER,
    max_length_hours: INTEGER,
    extra_specs: { type: 'object' },
  },
  'A flavor as availability and offers show it (docs/availability.md).',
);

const reservationFields: Record<string, JsonSchema> = {
  id: UUID,
  created_at: DATETIME,
  user_id: STRING,
  project_id: STRING,
  flavor: ref('Flavor'),
  lease_id: { ...nullable(STRING), description: 'The Blazar lease, once the worker made it.' },
  compute_flavor: { ...nullable(STRING), description: "The Nova flavor of the lease's instances." },
  status: { type: 'string', enum: [...RESERVATION_STATUSES] },
  status_reason: { ...nullable(STRING), description: 'Why the reservation is in ERROR.' },
  start: DATETIME,
  end: DATETIME,
  instance_count: INTEGER,
};

/** `reservationView` */
const Reservation = record(reservationFields, 'A reservation of instances of a flavor for a time.');

const PRICE: Record<string, JsonSchema> = {
  hours: { type: 'number', description: "What the booking takes from the project's `hours` quota: duration in hours × instance count." },
  cost: {
    type: ['number', 'null'],
    description: "`hours` × the flavor's service-unit rate; null when the flavor has no rate (docs/availability.md#cost).",
  },
};

/** `reservationView` + `bookingPrice`, `id: null` (the dry run of docs/availability.md). */
const DryRunReservation = record(
  { ...reservationFields, id: { type: 'null' }, status: { type: 'string', const: 'PENDING_CREATE' }, ...PRICE },
  'The reservation a create would make (`?dry_run=true`): nothing is stored.',
);

/** `historyView` (docs/api.md#history) */
const HistoryEntry = record(
  {
    id: { ...INTEGER, description: "Orders one reservation's rows as they were written." },
    reservation_id: UUID,
    project_id: STRING,
    event: { type: 'string', enum: [...HISTORY_EVENTS] },
    time: DATETIME,
    user_id: { ...nullable(STRING), description: 'Who made the change: the user, or `system` (the worker, lease events, periodic tasks).' },
    request_id: {
      ...nullable(STRING),
      description: 'The API request that made the change (`X-Openstack-Request-Id`); null for the system.',
    },
    status_before: { type: ['string', 'null'], enum: [...RESERVATION_STATUSES, null], description: 'null for `created`.' },
    status_after: { type: ['string', 'null'], enum: [...RESERVATION_STATUSES, null], description: 'null for `deleted`.' },
    detail: {
      type: ['object', 'null'],
      additionalProperties: { type: ['string', 'integer', 'null'] },
      description: 'What else the change says: the lease id, the old and new end, the reason of an error (docs/api.md#history).',
    },
  },
  'One change of a reservation.',
);

/** `flavorProjectView` */
const FlavorProject = record(
  { id: UUID, project_id: STRING, flavor: { ...UUID, description: 'The flavor id.' } },
  'A grant of a private flavor to a project.',
);

/** `maintenanceWindowView` */
const MaintenanceWindow = record(
  {
    id: UUID,
    start: DATETIME,
    end: DATETIME,
    note: nullable(STRING),
    flavors: { type: 'array', items: record({ id: UUID, name: STRING }) },
  },
  'A time during which its flavors cannot be reserved.',
);

/** The availability answer (`availabilityJson`, src/api/availability-json.ts). */
const Availability = record({
  start: DATETIME,
  end: DATETIME,
  results: {
    type: 'array',
    items: record({
      flavor: ref('BookableFlavor'),
      slots: INTEGER,
      intervals: {
        type: 'array',
        description: 'The free slots over [start, end) as a step function: consecutive, merged.',
        items: record({ start: DATETIME, end: DATETIME, free: { type: 'integer', minimum: 0 } }),
      },
    }),
  },
});

/** The offers answer (routes/v1/availability.ts). */
const Offers = record({
  results: {
    type: 'array',
    items: record({
      flavor: ref('BookableFlavor'),
      start: DATETIME,
      end: DATETIME,
      instance_count: INTEGER,
      ...PRICE,
      within_quota: { type: 'boolean' },
      quota_reason: { ...nullable(STRING), description: 'The 413 text a create would answer now, when not within quota.' },
    }),
  },
});

/** The free slots answer (routes/v1/flavors.ts). */
const FreeSlots: JsonSchema = {
  type: 'array',
  description: 'Windows in which the instances fit, in order.',
  items: record({ start: DATETIME, end: DATETIME }),
};

/** The limits answer (routes/v1/limits.ts), as python-warreclient reads it. */
const Limits = record({
  absolute: record({
    maxHours: { type: 'number' },
    maxReservations: INTEGER,
    totalHoursUsed: { type: 'number' },
    totalReservationsUsed: INTEGER,
  }),
});

/** `GET /` (routes/root.ts). */
const VersionDocument = record({
  versions: {
    type: 'array',
    items: record({
      id: { type: 'string', const: 'v1' },
      status: { type: 'string', const: 'CURRENT' },
      links: { type: 'array', items: record({ href: { type: 'string', format: 'uri' }, rel: STRING }) },
    }),
  },
});

/** `GET /healthcheck?detail` (routes/index.ts HealthReport). */
const HealthReport: JsonSchema = {
  type: 'object',
  properties: {
    database: {
      type: 'object',
      properties: { ok: { type: 'boolean' }, dialect: STRING, error: STRING },
      required: ['ok', 'dialect'],
      additionalProperties: false,
    },
    broker: {
      type: ['object', 'null'],
      description: 'null when no message broker is used.',
      properties: { ok: { type: 'boolean' }, error: STRING },
      required: ['ok'],
      additionalProperties: false,
    },
  },
  required: ['database', 'broker'],
  additionalProperties: false,
};

/** The field errors of a body (src/api/validate.ts): each field, its messages. */
const FieldErrors: JsonSchema = {
  type: 'object',
  description: 'Each refused field with its messages, e.g. `{"vcpu": ["Missing data for required field."]}`.',
  additionalProperties: { type: 'array', items: STRING, minItems: 1 },
  minProperties: 1,
};

/** The one error shape (src/api/errors.ts). */
const ErrorShape: JsonSchema = record(
  { error_message: { oneOf: [{ type: 'string' }, ref('FieldErrors')] } },
  'Every error answer: `{"error_message": text}`, or for a refused body `{"error_message": {field: [messages]}}`.',
);

/** A 422: always the field form. */
const ValidationError: JsonSchema = record({ error_message: ref('FieldErrors') }, 'A body refused field by field.');

/** A page of a list (src/api/request.ts pageResponse). */
export function page(item: JsonSchema): JsonSchema {
  return {
    type: 'object',
    properties: {
      results: { type: 'array', items: item },
      total: { type: 'integer', minimum: 0, description: 'How many match, on every page.' },
      next: { type: 'string', format: 'uri', description: 'The next page (same query, `page` + 1); absent on the last page.' },
    },
    required: ['results', 'total'],
    additionalProperties: false,
  };
}

export const VIEW_SCHEMAS = {
  Flavor,
  BookableFlavor,
  Reservation,
  DryRunReservation,
  HistoryEntry,
  FlavorProject,
  MaintenanceWindow,
  Availability,
  Offers,
  FreeSlots,
  Limits,
  VersionDocument,
  HealthReport,
  FieldErrors,
  Error: ErrorShape,
  ValidationError,
} satisfies Record<string, JsonSchema>;

export type SchemaName = keyof typeof VIEW_SCHEMAS;
