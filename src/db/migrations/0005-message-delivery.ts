/**
 * `warre_sent_message.delivered_at`: a message is recorded in the same
 * transaction as the state change that causes it and marked delivered once
 * sent, so one lost to a crash in between is sent by the periodic task.
 */
import { sql } from 'kysely';
import type { Migration } from './index.js';

export const messageDelivery: Migration = {
  name: '0005-message-delivery',
  description: 'warre_sent_message.delivered_at (messages survive a crash between commit and send)',
  async up(db) {
    const dt = db.dialect.ddl.datetime;
    await db.kysely.schema.alterTable('warre_sent_message').addColumn('delivered_at', dt).execute();
    await sql`update warre_sent_message set delivered_at = sent_at`.execute(db.kysely);
  },
};
