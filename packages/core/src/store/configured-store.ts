/**
 * The store a gateway's config chose (`gateway.store`): a RedisStore for `store.redis`, with its metrics and
 * its outages logged, or else this process's MemoryStore.
 */
import type { Registry } from 'prom-client';
import type { StoreConfig } from '../config/types.js';
import type { Logger } from '../observe/logger.js';
import { MemoryStore } from './memory-store.js';
import { RedisStore, StoreUnavailableError } from './redis-store.js';
import { registerStoreMetrics } from './store-metrics.js';
import type { Store } from './store.js';

export interface ConfiguredStore {
  readonly store: Store;
  /** Connects it (Redis); resolves at once for memory. Rejects as `RedisStore.connect()` does. Once only. */
  readonly open: () => Promise<void>;
}

export function configuredStore(config: StoreConfig | undefined, logger: Logger, registry: Registry): ConfiguredStore {
  if (!config) return { store: new MemoryStore(), open: async () => undefined };
  const store = new RedisStore({ ...config.redis, logger });
  registerStoreMetrics(registry, store);
  let opened: Promise<void> | undefined;
  return { store, open: () => (opened ??= store.connect()) };
}

/**
 * For `wsgate check`: connects to the configured Redis and lets go. Resolves with what to say (reachable, or
 * out of reach but the gateway would start degraded); rejects as a start would.
 */
export async function checkStoreReachable(config: StoreConfig): Promise<string> {
  const store = new RedisStore({ ...config.redis, onUnavailable: 'fail' });
  try {
    await store.connect();
  } catch (error) {
    if (config.redis.onUnavailable !== 'degraded' || !(error instanceof StoreUnavailableError)) throw error;
    return `store: ${error.problem}; the gateway would start degraded (store.redis.onUnavailable), its store calls failing until Redis is reached`;
  } finally {
    await store.close();
  }
  return `store: Redis at ${store.url} reachable`;
}
