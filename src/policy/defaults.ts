/**
 * Warre's registered policy defaults (docs/api.md#policy): the base rules operators build on, and one
 * rule per guarded operation. Only these names can be passed to `PolicyEnforcer.authorize`.
 */

export interface PolicyOperation {
  readonly method: 'GET' | 'HEAD' | 'POST' | 'PATCH' | 'DELETE';
  readonly path: string;
}

export interface PolicyDefault {
  readonly name: string;
  /** oslo.policy check string; empty means anyone authenticated. */
  readonly check: string;
  readonly description: string;
  /** The API calls this rule guards (empty for base rules). */
  readonly operations: readonly PolicyOperation[];
}

const get = (path: string): PolicyOperation[] => [
  { method: 'GET', path },
  { method: 'HEAD', path },
];
const op = (method: PolicyOperation['method'], path: string): PolicyOperation[] => [{ method, path }];

const FLAVORS = '/v1/flavors/';
const FLAVOR = '/v1/flavors/{flavor_id}/';
const FLAVORPROJECTS = '/v1/flavorprojects/';
const FLAVORPROJECT = '/v1/flavorprojects/{flavorproject_id}/';
const WINDOWS = '/v1/maintenancewindows/';
const WINDOW = '/v1/maintenancewindows/{window_id}/';
const RESERVATIONS = '/v1/reservations/';
const RESERVATION = '/v1/reservations/{reservation_id}/';
const AVAILABILITY = '/v1/availability/';
const OFFERS = '/v1/offers/';
const HISTORY = '/v1/history/';

export const POLICY_DEFAULTS = [
  // Base rules
  {
    name: 'admin_required',
    check: 'role:admin or is_admin:1',
    description: 'Cloud administrator (holds the admin role).',
    operations: [],
  },
  {
    name: 'reader',
    check: 'role:read_only or role:cloud_admin or role:helpdesk',
    description: 'Operator staff who may look at the data of every project.',
    operations: [],
  },
  {
    name: 'writer',
    check: 'role:cloud_admin or role:helpdesk',
    description: 'Operator staff who may manage flavors, flavor access and maintenance windows.',
    operations: [],
  },
  {
    name: 'owner',
    check: 'project_id:%(project_id)s',
    description: "The caller's project is the project the target belongs to.",
    operations: [],
  },
  {
    name: 'admin_or_owner',
    check: 'rule:admin_required or rule:owner',
    description: 'A cloud administrator, or a member of the owning project.',
    operations: [],
  },
  {
    name: 'admin_or_owner_or_reader',
    check: 'rule:admin_or_owner or rule:reader',
    description: 'A cloud administrator, the owning project, or a reader.',
    operations: [],
  },
  {
    name: 'admin_or_owner_or_writer',
    check: 'rule:admin_or_owner or rule:writer',
    description: 'A cloud administrator, the owning project, or a writer.',
    operations: [],
  },
  {
    name: 'admin_or_reader',
    check: 'rule:admin_required or rule:reader',
    description: 'A cloud administrator or a reader.',
    operations: [],
  },
  {
    name: 'admin_or_writer',
    check: 'rule:admin_required or rule:writer',
    description: 'A cloud administrator or a writer.',
    operations: [],
  },

  // Flavors
  {
    name: 'warre:flavor:get',
    check: '',
    description: 'Show one flavor, or its free slots.',
    operations: [...get(FLAVOR), ...get(`${FLAVOR}freeslots/`)],
  },
  {
    name: 'warre:flavor:list',
    check: '',
    description: "List the active flavors that are public or granted to the caller's project.",
    operations: get(FLAVORS),
  },
  {
    name: 'warre:flavor:list:all',
    check: 'rule:admin_or_reader',
    description:
      'See every flavor, including inactive and private ones: all_projects=true in the flavor list and ' +
      'availability; private flavors by id.',
    operations: [
      ...get(FLAVORS),
      ...get(FLAVOR),
      ...op('PATCH', FLAVOR),
      ...op('DELETE', FLAVOR),
      ...get(`${FLAVOR}freeslots/`),
      ...get(AVAILABILITY),
    ],
  },
  {
    name: 'warre:flavor:create',
    check: 'rule:admin_or_writer',
    description: 'Add a flavor.',
    operations: op('POST', FLAVORS),
  },
  {
    name: 'warre:flavor:update',
    check: 'rule:admin_or_writer',
    description: 'Change the attributes of a flavor.',
    operations: op('PATCH', FLAVOR),
  },
  {
    name: 'warre:flavor:delete',
    check: 'rule:admin_or_writer',
    description: 'Remove a flavor that no reservation refers to.',
    operations: op('DELETE', FLAVOR),
  },

  // Flavor access grants
  {
    name: 'warre:flavorproject:get',
    check: 'rule:admin_or_reader',
    description: 'Show one grant of a private flavor to a project.',
    operations: get(FLAVORPROJECT),
  },
  {
    name: 'warre:flavorproject:list',
    check: 'rule:admin_or_reader',
    description: 'List the grants of private flavors to projects.',
    operations: get(FLAVORPROJECTS),
  },
  {
    name: 'warre:flavorproject:create',
    check: 'rule:admin_or_writer',
    description: 'Grant a project access to a private flavor.',
    operations: op('POST', FLAVORPROJECTS),
  },
  {
    name: 'warre:flavorproject:delete',
    check: 'rule:admin_or_writer',
    description: "Withdraw a project's access to a private flavor.",
    operations: op('DELETE', FLAVORPROJECT),
  },

  // Maintenance windows
  {
    name: 'warre:maintenancewindow:get',
    check: '',
    description: 'Show one maintenance window.',
    operations: get(WINDOW),
  },
  {
    name: 'warre:maintenancewindow:list',
    check: '',
    description: 'List maintenance windows.',
    operations: get(WINDOWS),
  },
  {
    name: 'warre:maintenancewindow:create',
    check: 'rule:admin_or_writer',
    description: 'Schedule a maintenance window, during which its flavors cannot be reserved.',
    operations: op('POST', WINDOWS),
  },
  {
    name: 'warre:maintenancewindow:update',
    check: 'rule:admin_or_writer',
    description: 'Change the times, note or flavors of a maintenance window.',
    operations: op('PATCH', WINDOW),
  },
  {
    name: 'warre:maintenancewindow:delete',
    check: 'rule:admin_or_writer',
    description: 'Cancel a maintenance window.',
    operations: op('DELETE', WINDOW),
  },

  // Limits
  {
    name: 'warre:limits:list:all',
    check: 'rule:admin_or_reader',
    description: 'Show the quota limits and usage of any project (project_id=...).',
    operations: get('/v1/limits/'),
  },

  // Reservations
  {
    name: 'warre:reservation:get',
    check: 'rule:admin_or_owner_or_reader',
    description: 'Show one reservation, or export it as an iCalendar file.',
    operations: [...get(RESERVATION), ...get(`${RESERVATION}calendar.ics`)],
  },
  {
    name: 'warre:reservation:list',
    check: '',
    description: "List the reservations of the caller's project.",
    operations: get(RESERVATIONS),
  },
  {
    name: 'warre:reservation:list:all',
    check: 'rule:admin_or_reader',
    description: 'List (or export as an iCalendar file) the reservations of another project or of all projects.',
    operations: [...get(RESERVATIONS), ...get('/v1/reservations/calendar.ics')],
  },
  {
    name: 'warre:reservation:create:bypass_maintenance',
    check: 'rule:admin_required',
    description: 'Reserve a flavor even while a maintenance window covers it (e.g. to test during maintenance).',
    operations: op('POST', RESERVATIONS),
  },
  {
    name: 'warre:reservation:update',
    check: 'rule:admin_or_owner',
    description: 'Extend the end of a reservation.',
    operations: op('PATCH', RESERVATION),
  },
  {
    name: 'warre:reservation:delete',
    check: 'rule:admin_or_owner',
    description: 'Cancel a reservation and delete its lease.',
    operations: op('DELETE', RESERVATION),
  },
  {
    name: 'warre:reservation:history',
    check: 'rule:admin_or_owner_or_reader',
    description: 'Show the history of one reservation (who changed it, when, from which status to which).',
    operations: get(`${RESERVATION}history/`),
  },
  {
    name: 'warre:history:list',
    check: 'rule:admin_required',
    description: 'List the history of every reservation, deleted ones included (filters project_id, reservation_id, since).',
    operations: get(HISTORY),
  },
  {
    name: 'warre:reservation:calendar',
    check: '',
    description:
      'Export reservations as an iCalendar file (one reservation needs warre:reservation:get too; ' +
      'all_projects needs warre:reservation:list:all).',
    operations: [...get('/v1/reservations/calendar.ics'), ...get('/v1/reservations/{reservation_id}/calendar.ics')],
  },
  {
    name: 'warre:availability:get',
    check: '',
    description:
      'See the free slots over time of every flavor the caller may book (all_projects: every ' + 'flavor, with warre:flavor:list:all).',
    operations: get(AVAILABILITY),
  },
  {
    name: 'warre:offer:list',
    check: '',
    description: 'List the earliest bookings that fit a number of instances for a number of hours.',
    operations: get(OFFERS),
  },
] as const satisfies readonly PolicyDefault[];

/** A registered policy name, e.g. `'warre:reservation:get'`. */
export type PolicyName = (typeof POLICY_DEFAULTS)[number]['name'];

/** The registered names, for `authorize`. */
export const REGISTERED_POLICIES: ReadonlySet<string> = new Set(POLICY_DEFAULTS.map((d) => d.name));
