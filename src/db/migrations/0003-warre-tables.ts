/**
 * Warre's own tables (never touched by the Python service): per-project lock
 * rows for quota serialisation, the worker's lease-job claims, the record of
 * messages already sent, and periodic-task locks.
 */
import type { Migration } from './index.js';

export const warreTables: Migration = {
  name: '0003-warre-tables',
  description: 'warre_project_lock, warre_lease_job, warre_sent_message, warre_task_lock',
  async up(db) {
    const s = db.kysely.schema;
    const dt = db.dialect.ddl.datetime;
    await s
      .createTable('warre_project_lock')
      .addColumn('project_id', 'varchar(64)', (c) => c.primaryKey())
      .execute();
    await s
      .createTable('warre_lease_job')
      .addColumn('reservation_id', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('claimed_by', 'varchar(255)')
      .addColumn('claimed_until', dt)
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('first_attempt_at', dt)
      .addColumn('next_attempt_at', dt)
      .addColumn('last_error', 'varchar(1024)')
      .execute();
    await s
      .createTable('warre_sent_message')
      .addColumn('reservation_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('event', 'varchar(32)', (c) => c.notNull())
      .addColumn('sent_at', dt, (c) => c.notNull())
      .addPrimaryKeyConstraint('warre_sent_message_pk', ['reservation_id', 'event'])
      .execute();
    await s
      .createTable('warre_task_lock')
      .addColumn('name', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('holder', 'varchar(255)')
      .addColumn('held_until', dt)
      .execute();
  },
};
