// The outbox's on-disk format (issue 16: apart from the code that uses it): a change here is a
// new migration, never an edit of a released one, since stores from older releases are opened
// and upgraded in place (test/store-upgrade.test.ts).
import type { Migration } from './database.js';

export const OUTBOX_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'outbox rows and state',
    up(db) {
      db.exec(`
        CREATE TABLE outbox (
          seq INTEGER PRIMARY KEY,
          kind TEXT NOT NULL,
          topic TEXT NOT NULL,
          payload BLOB NOT NULL,
          qos INTEGER NOT NULL,
          retain INTEGER NOT NULL,
          created_at INTEGER NOT NULL,
          bytes INTEGER NOT NULL
        ) STRICT;
        CREATE TABLE outbox_state (
          id INTEGER PRIMARY KEY CHECK (id = 1),
          last_seq INTEGER NOT NULL,
          acked_through INTEGER NOT NULL,
          dropped_budget INTEGER NOT NULL,
          dropped_age INTEGER NOT NULL,
          rejected INTEGER NOT NULL
        ) STRICT;
        INSERT INTO outbox_state VALUES (1, 0, 0, 0, 0, 0);
      `);
    },
  },
];

export const OUTBOX_OWNER = 'outbox';
