/**
 * Warre's migrations, applied in order by src/db/migrate.ts. Names sort in
 * application order. Each one is idempotent with respect to a database that
 * the Python service created (the `adopting` flag).
 */
import type { Db } from '../connect.js';
import { baseSchema } from './0001-base-schema.js';
import { hotQueryIndexes } from './0002-indexes.js';
import { warreTables } from './0003-warre-tables.js';
import { reservationOrderIndex } from './0004-reservation-order-index.js';
import { messageDelivery } from './0005-message-delivery.js';
import { reservationHistory } from './0006-reservation-history.js';
import { projectUsageIndex } from './0007-project-usage-index.js';

export const PYTHON_HEAD_REVISION = 'a1b2c3d4e5f6';

export interface Migration {
  name: string;
  description: string;
  up(db: Db, opts: { adopting: boolean }): Promise<void>;
}

export const MIGRATIONS: readonly Migration[] = [
  baseSchema,
  hotQueryIndexes,
  warreTables,
  reservationOrderIndex,
  messageDelivery,
  reservationHistory,
  projectUsageIndex,
];
