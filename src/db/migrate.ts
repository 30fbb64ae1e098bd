/**
 * `warre-manage db upgrade` / `db version`.
 *
 * Warre keeps its own history in `warre_migration`; Alembic's
 * `alembic_version` belongs to the Python service and is only read (or, on an
 * empty database, created at the revision our tables match, so the Python
 * service can still open it).
 */
import type { Db } from './connect.js';
import { MIGRATIONS, PYTHON_HEAD_REVISION } from './migrations/index.js';
import type { Database } from './schema.js';

export class MigrationError extends Error {}

function tableExists(db: Db, name: string): Promise<boolean> {
  return db.dialect.tableExists(db.kysely, name);
}

export interface DbVersion {
  alembic: string | null;
  applied: string[];
  pending: string[];
}

export async function dbVersion(db: Db): Promise<DbVersion> {
  const alembic = (await tableExists(db, 'alembic_version'))
    ? ((await db.kysely.selectFrom('alembic_version').select('version_num').executeTakeFirst())?.version_num ?? null)
    : null;
  const applied = (await tableExists(db, 'warre_migration'))
    ? (await db.kysely.selectFrom('warre_migration').select('name').orderBy('name').execute()).map((r) => r.name)
    : [];
  const pending = MIGRATIONS.map((m) => m.name).filter((n) => !applied.includes(n));
  return { alembic, applied, pending };
}

/**
 * Bring the database to the newest schema. Adopts a Python Warre database at
 * Alembic revision {@link PYTHON_HEAD_REVISION} without touching its data;
 * refuses an older revision with a message saying what to do.
 */
export async function upgrade(db: Db, log: (msg: string) => void = () => {}): Promise<string[]> {
  const hasFlavor = await tableExists(db, 'flavor');
  const hasAlembic = await tableExists(db, 'alembic_version');
  if (hasAlembic) {
    const rev = (await db.kysely.selectFrom('alembic_version').select('version_num').executeTakeFirst())?.version_num ?? null;
    if (rev === null) {
      throw new MigrationError(
        'This database has an alembic_version table with no revision in it: its schema is unknown. Refusing to change it.',
      );
    }
    if (rev !== PYTHON_HEAD_REVISION) {
      throw new MigrationError(
        `This database is at Python Warre Alembic revision ${rev}; Warre adopts databases at revision ${PYTHON_HEAD_REVISION}. ` +
          `Run the Python service's "warre-manage db upgrade" first, then run this command again.`,
      );
    }
  } else if (hasFlavor) {
    throw new MigrationError(
      'This database has a "flavor" table but no alembic_version table: it was not made by Warre. Refusing to change it.',
    );
  }
  if (!(await tableExists(db, 'warre_migration'))) {
    await db.kysely.schema
      .createTable('warre_migration')
      .addColumn('name', 'varchar(128)', (c) => c.primaryKey())
      .addColumn('applied_at', db.dialect.ddl.datetime, (c) => c.notNull())
      .execute();
  }
  const done = new Set((await db.kysely.selectFrom('warre_migration').select('name').execute()).map((r) => r.name));
  const ran: string[] = [];
  for (const m of MIGRATIONS) {
    if (done.has(m.name)) continue;
    log(`applying ${m.name}: ${m.description}`);
    await m.up(db, { adopting: hasFlavor });
    await db.kysely
      .insertInto('warre_migration')
      .values({ name: m.name, applied_at: db.codec.dt(Date.now()) })
      .execute();
    ran.push(m.name);
  }
  return ran;
}

export type { Database };
