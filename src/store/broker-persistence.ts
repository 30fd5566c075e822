// The local broker's retained messages and persistent sessions in the store's SQLite file
// (issue 3: they survive a gateway restart). Implements BrokerPersistence and passes its
// contract suite (test/contracts/broker-persistence-suite.ts). The tables come as a migration set under
// the owner `broker`, in the shape the store's openStore({ extraMigrations }) takes, so the
// broker's tables join the outbox's file without touching the outbox's migrations.
import type Database from 'better-sqlite3';
import type { BrokerPersistence, SessionSnapshot } from '../broker/persistence.js';
import type { Message } from '../broker/types.js';
import type { StoreFaults } from './store-faults.js';

type Db = Database.Database;

export const BROKER_MIGRATIONS = {
  owner: 'broker',
  migrations: [
    {
      version: 1,
      description: 'broker retained messages and persistent sessions',
      up(db: Db): void {
        db.exec(`
          CREATE TABLE IF NOT EXISTS broker_retained (topic TEXT PRIMARY KEY, message TEXT NOT NULL) WITHOUT ROWID;
          CREATE TABLE IF NOT EXISTS broker_sessions (client_id TEXT PRIMARY KEY, snapshot TEXT NOT NULL) WITHOUT ROWID;
        `);
      },
    },
  ],
} as const;

// JSON with Buffers as {"$b": base64}: payloads and correlation data are binary.
function encode(value: unknown): string {
  return JSON.stringify(value, function replacer(this: Record<string, unknown>, key: string, v: unknown) {
    const original = key === '' ? value : this[key];
    return Buffer.isBuffer(original) ? { $b: original.toString('base64') } : v;
  });
}

function decode<T>(text: string): T {
  return JSON.parse(text, (_key, v: unknown) => {
    if (v !== null && typeof v === 'object' && typeof (v as { $b?: unknown }).$b === 'string' && Object.keys(v).length === 1) {
      return Buffer.from((v as { $b: string }).$b, 'base64');
    }
    return v;
  }) as T;
}

export interface SqliteBrokerPersistenceOptions {
  /** Close the database in close(): only when this object opened it (tests); the store owns its own. */
  ownsDatabase?: boolean;
  /**
   * The store's answer to a full disk or a damaged file (issue 19): a failed write is reported,
   * kept and retried, and the broker carries on from memory. Without it, writes throw.
   */
  faults?: StoreFaults;
}

export class SqliteBrokerPersistence implements BrokerPersistence {
  private readonly putRetainedStmt: Database.Statement;
  private readonly deleteRetainedStmt: Database.Statement;
  private readonly listRetainedStmt: Database.Statement;
  private readonly saveSessionStmt: Database.Statement;
  private readonly loadSessionStmt: Database.Statement;
  private readonly deleteSessionStmt: Database.Statement;
  private readonly listSessionsStmt: Database.Statement;

  /** `db` must have BROKER_MIGRATIONS applied (openStore does it; `applyBrokerMigrations` for a bare file). */
  constructor(private readonly db: Db, private readonly options: SqliteBrokerPersistenceOptions = {}) {
    this.putRetainedStmt = db.prepare('INSERT INTO broker_retained (topic, message) VALUES (?, ?) ON CONFLICT(topic) DO UPDATE SET message = excluded.message');
    this.deleteRetainedStmt = db.prepare('DELETE FROM broker_retained WHERE topic = ?');
    this.listRetainedStmt = db.prepare('SELECT message FROM broker_retained ORDER BY topic');
    this.saveSessionStmt = db.prepare('INSERT INTO broker_sessions (client_id, snapshot) VALUES (?, ?) ON CONFLICT(client_id) DO UPDATE SET snapshot = excluded.snapshot');
    this.loadSessionStmt = db.prepare('SELECT snapshot FROM broker_sessions WHERE client_id = ?');
    this.deleteSessionStmt = db.prepare('DELETE FROM broker_sessions WHERE client_id = ?');
    this.listSessionsStmt = db.prepare('SELECT snapshot FROM broker_sessions ORDER BY client_id');
  }

  putRetained(message: Message): void {
    const run = message.payload.length === 0 ? () => this.deleteRetainedStmt.run(message.topic) : () => this.putRetainedStmt.run(message.topic, encode(message));
    this.guarded('broker-retained', 'retained message write', message.topic, run);
  }

  listRetained(): Message[] {
    return (this.listRetainedStmt.all() as Array<{ message: string }>).map((r) => decode<Message>(r.message));
  }

  saveSession(session: SessionSnapshot): void {
    const text = encode(session);
    this.guarded('broker-sessions', 'session save', session.clientId, () => this.saveSessionStmt.run(session.clientId, text));
  }

  loadSession(clientId: string): SessionSnapshot | undefined {
    const row = this.loadSessionStmt.get(clientId) as { snapshot: string } | undefined;
    return row === undefined ? undefined : decode<SessionSnapshot>(row.snapshot);
  }

  deleteSession(clientId: string): void {
    this.guarded('broker-sessions', 'session delete', clientId, () => this.deleteSessionStmt.run(clientId));
  }

  private guarded(part: 'broker-retained' | 'broker-sessions', op: string, key: string, run: () => void): void {
    if (this.options.faults === undefined) run();
    else this.options.faults.write(part, op, key, run);
  }

  listSessions(): SessionSnapshot[] {
    return (this.listSessionsStmt.all() as Array<{ snapshot: string }>).map((r) => decode<SessionSnapshot>(r.snapshot));
  }

  close(): void {
    if (this.options.ownsDatabase === true && this.db.open) this.db.close();
  }
}

/** For a database the store did not open: applies BROKER_MIGRATIONS idempotently. */
export function applyBrokerMigrations(db: Db): void {
  for (const m of BROKER_MIGRATIONS.migrations) m.up(db);
}
