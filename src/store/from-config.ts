// From the validated `store:` section to openStore's options.
import type { StoreConfig } from '../config/sections/store.js';
import type { StoreOptions } from './open-store.js';

export function storeOptionsFromConfig(cfg: StoreConfig): StoreOptions {
  return { path: cfg.path, maxBytes: cfg.maxBytes, maxAgeMs: cfg.maxAge, onFull: cfg.onFull, synchronous: cfg.synchronous };
}
