/**
 * Reservation lists are ordered by (created_at, id); without this index an
 * admin's list of every project sorts the whole table for each page.
 */
import type { Migration } from './index.js';

export const reservationOrderIndex: Migration = {
  name: '0004-reservation-order-index',
  description: 'index: reservations by creation time',
  async up(db) {
    await db.kysely.schema.createIndex('warre_ix_reservation_created').on('reservation').columns(['created_at', 'id']).execute();
  },
};
