/**
 * `warre_reservation_history` (docs/api.md#history): one row per change of a reservation.
 * A table of Warre's own; the Python service's tables are not touched, so adopting a Python
 * database still changes none of them. On MariaDB the table is utf8mb4 whatever the
 * database's default, so that no text a change records (an error as a service wrote it)
 * can make the change itself fail.
 */
import { sql } from 'kysely';
import type { Migration } from './index.js';

export const reservationHistory: Migration = {
  name: '0006-reservation-history',
  description: 'warre_reservation_history (who changed a reservation, when, from which status to which)',
  async up(db) {
    const s = db.kysely.schema;
    const { datetime, serialKey, tableOptions } = db.dialect.ddl;
    await s
      .createTable('warre_reservation_history')
      .addColumn('id', serialKey.type, (c) => (serialKey.autoIncrement ? c.primaryKey().autoIncrement() : c.primaryKey()))
      .addColumn('reservation_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('project_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('event', 'varchar(32)', (c) => c.notNull())
      .addColumn('time', datetime, (c) => c.notNull())
      .addColumn('user_id', 'varchar(255)')
      .addColumn('request_id', 'varchar(64)')
      .addColumn('status_before', 'varchar(16)')
      .addColumn('status_after', 'varchar(16)')
      .addColumn('detail', 'text')
      .modifyEnd(sql.raw(tableOptions))
      .execute();
    // A reservation's rows, a project's rows (both in write order), and the retention clean-up.
    await s.createIndex('warre_ix_history_reservation').on('warre_reservation_history').columns(['reservation_id', 'id']).execute();
    await s.createIndex('warre_ix_history_project').on('warre_reservation_history').columns(['project_id', 'id']).execute();
    await s.createIndex('warre_ix_history_time').on('warre_reservation_history').column('time').execute();
  },
};
