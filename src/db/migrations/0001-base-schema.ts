/**
 * The Python Warre tables exactly as its Alembic history leaves them at
 * revision a1b2c3d4e5f6 (column names, types, nullability, keys). Skipped when
 * adopting a database the Python service made; on an empty database the
 * tables are created and `alembic_version` is stamped so the Python service
 * can still open it.
 */
import { sql } from 'kysely';
import type { DialectAdapter } from '../dialect.js';
import type { Migration } from './index.js';

function ddl(dialect: DialectAdapter): string[] {
  const dt = dialect.ddl.timestampSql;
  const bool = dialect.ddl.booleanSql;
  const json = 'JSON';
  const q = dialect.ddl.quote;
  const engine = dialect.ddl.tableOptions;
  return [
    `CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))${engine}`,
    `CREATE TABLE flavor (
      id VARCHAR(64) NOT NULL,
      name VARCHAR(64) NOT NULL,
      description VARCHAR(255),
      vcpu INTEGER NOT NULL,
      memory_mb INTEGER NOT NULL,
      disk_gb INTEGER NOT NULL,
      active ${bool},
      properties VARCHAR(255),
      max_length_hours INTEGER NOT NULL,
      slots INTEGER NOT NULL,
      is_public ${bool},
      extra_specs ${json},
      ${q('end')} ${dt},
      ${q('start')} ${dt},
      category VARCHAR(64),
      availability_zone VARCHAR(64),
      ephemeral_gb INTEGER NOT NULL,
      PRIMARY KEY (id)
    )${engine}`,
    `CREATE TABLE flavor_project (
      id VARCHAR(64) NOT NULL,
      project_id VARCHAR(64) NOT NULL,
      flavor_id VARCHAR(64) NOT NULL,
      PRIMARY KEY (id),
      FOREIGN KEY(flavor_id) REFERENCES flavor (id),
      UNIQUE (project_id, flavor_id)
    )${engine}`,
    `CREATE TABLE reservation (
      id VARCHAR(64) NOT NULL,
      user_id VARCHAR(64) NOT NULL,
      project_id VARCHAR(64) NOT NULL,
      flavor_id VARCHAR(64) NOT NULL,
      lease_id VARCHAR(64),
      status VARCHAR(16) NOT NULL,
      ${q('start')} ${dt} NOT NULL,
      ${q('end')} ${dt} NOT NULL,
      instance_count INTEGER NOT NULL,
      status_reason VARCHAR(255),
      compute_flavor VARCHAR(64),
      created_at ${dt} NOT NULL,
      PRIMARY KEY (id),
      FOREIGN KEY(flavor_id) REFERENCES flavor (id)
    )${engine}`,
    `CREATE TABLE maintenance_window (
      id VARCHAR(64) NOT NULL,
      ${q('start')} ${dt} NOT NULL,
      ${q('end')} ${dt} NOT NULL,
      note VARCHAR(255),
      PRIMARY KEY (id)
    )${engine}`,
    `CREATE TABLE maintenance_window_flavor (
      maintenance_window_id VARCHAR(64) NOT NULL,
      flavor_id VARCHAR(64) NOT NULL,
      PRIMARY KEY (maintenance_window_id, flavor_id),
      FOREIGN KEY(maintenance_window_id) REFERENCES maintenance_window (id),
      FOREIGN KEY(flavor_id) REFERENCES flavor (id) ON DELETE CASCADE
    )${engine}`,
    `INSERT INTO alembic_version (version_num) VALUES ('a1b2c3d4e5f6')`,
  ];
}

export const baseSchema: Migration = {
  name: '0001-base-schema',
  description: 'Python Warre tables at Alembic revision a1b2c3d4e5f6 (skipped when adopting)',
  async up(db, { adopting }) {
    if (adopting) return;
    await db.kysely.transaction().execute(async (trx) => {
      for (const stmt of ddl(db.dialect)) await sql.raw(stmt).execute(trx);
    });
  },
};
