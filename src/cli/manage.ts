/** `warre-manage`: database, policy and configuration commands for operators. */

import { maskUrl } from '../config/database-url.js';
import type { WarreConfig } from '../config/load.js';
import { renderConfigSample } from '../config/sample.js';
import { dbVersion, upgrade } from '../db/migrate.js';
import { renderPolicySample } from '../policy/sample.js';
import { openConfiguredDatabase } from './runtime.js';

export const MANAGE_USAGE = `usage: warre-manage [--config-file FILE] [--config-dir DIR] <command>

commands:
  db upgrade        create the tables, or adopt a Python Warre database (Alembic a1b2c3d4e5f6), and apply Warre's migrations
  db version        show the Alembic revision and Warre's applied and pending migrations
  policy defaults   print the default policy rules as a commented YAML sample
  config sample     print a sample warre.conf with every option, its default and help
`;

export async function runManage(config: WarreConfig, args: string[]): Promise<number> {
  const cmd = args.filter((a) => !a.startsWith('-')).join(' ');
  switch (cmd) {
    case 'db upgrade':
    case 'db sync': {
      const db = openConfiguredDatabase(config);
      try {
        const ran = await upgrade(db, (m) => console.log(m));
        console.log(
          ran.length > 0
            ? `Database ${maskUrl(config.database.connection)} upgraded (${ran.length} migration(s)).`
            : `Database ${maskUrl(config.database.connection)} is up to date.`,
        );
        return 0;
      } finally {
        await db.close();
      }
    }
    case 'db version': {
      const db = openConfiguredDatabase(config);
      try {
        const v = await dbVersion(db);
        console.log(`database:        ${maskUrl(config.database.connection)}`);
        console.log(`alembic version: ${v.alembic ?? '(none)'}`);
        console.log(`applied:         ${v.applied.join(', ') || '(none)'}`);
        console.log(`pending:         ${v.pending.join(', ') || '(none)'}`);
        return 0;
      } finally {
        await db.close();
      }
    }
    case 'policy defaults':
      process.stdout.write(renderPolicySample());
      return 0;
    case 'config sample':
      process.stdout.write(renderConfigSample());
      return 0;
    default:
      process.stderr.write(cmd ? `warre-manage: unknown command "${cmd}"\n\n${MANAGE_USAGE}` : MANAGE_USAGE);
      return 2;
  }
}
