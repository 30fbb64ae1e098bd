/**
 * Indexes for the hot queries. They add no column and change no data, so the
 * Python service reads the tables as before.
 * - free slots / capacity: reservations of a flavor overlapping a window
 *   (covering: status, end, instance_count read from the index);
 * - a project's reservations and quota usage: by project and status;
 * - lease events: by lease id.
 */
import type { Migration } from './index.js';

export const hotQueryIndexes: Migration = {
  name: '0002-indexes',
  description: 'indexes: reservations by flavor and time, by project and status, by lease id; windows by time',
  async up(db) {
    const s = db.kysely.schema;
    await s
      .createIndex('warre_ix_reservation_flavor_time')
      .on('reservation')
      .columns(['flavor_id', 'start', 'end', 'status', 'instance_count'])
      .execute();
    await s.createIndex('warre_ix_reservation_project_status').on('reservation').columns(['project_id', 'status']).execute();
    await s.createIndex('warre_ix_reservation_lease').on('reservation').column('lease_id').execute();
    await s.createIndex('warre_ix_reservation_status_end').on('reservation').columns(['status', 'end']).execute();
    await s.createIndex('warre_ix_maintenance_window_time').on('maintenance_window').columns(['start', 'end']).execute();
    await s.createIndex('warre_ix_mwf_flavor').on('maintenance_window_flavor').column('flavor_id').execute();
  },
};
