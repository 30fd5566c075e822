// The configured history store. PostgreSQL is loaded only when configured (npm `pg` is optional).
import { resolve } from 'node:path';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { HostConfig } from '../config/sections/host.js';
import type { Logger } from '../observe/logger.js';
import type { HistoryStore } from './history-store.js';
import { SqliteHistory } from './sqlite-history.js';

export async function openHistory(cfg: HostConfig, logger?: Logger): Promise<HistoryStore> {
  if ('postgres' in cfg.store) {
    const { PgHistory } = await import('./pg-history.js');
    return PgHistory.open(cfg.store.postgres.url);
  }
  const path = resolve(cfg.store.path);
  mkdirSync(dirname(path), { recursive: true });
  return new SqliteHistory(path, logger);
}
