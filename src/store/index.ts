// What the rest of fieldgate uses from the store. The gateway opens it with
// `openStore(storeOptionsFromConfig(config.store))`; producers append through an AppendQueue.
export { openStore, STORE_FIXED_BYTES, type Store, type StoreOptions } from './open-store.js';
export { storeOptionsFromConfig } from './from-config.js';
export { AppendQueue, type AppendQueueOptions } from './append-queue.js';
export { MemoryOutbox } from './memory-outbox.js';
export { recordBytes, toRanges } from './outbox.js';
export type { Outbox, OutboxRecord, OutboxRecordInput, OutboxStats, AppendResult, DropCounters, OnFull, QoS } from './outbox.js';
export type { Migration, MigrationSet, SqliteDatabase, SynchronousLevel } from './database.js';
