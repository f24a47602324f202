/**
 * The Redis store's faults as Prometheus metrics: plain numbers kept by the store (./redis-store.ts), read at
 * scrape time, so a failing call costs an increment and no more. Summed over cluster workers, except
 * `wsgate_store_up`, which is 1 only while every worker reaches Redis.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { RedisStore } from './redis-store.js';

export function registerStoreMetrics(registry: Registry, store: Pick<RedisStore, 'available' | 'unavailableCalls' | 'outages'>): void {
  const registers = [registry];
  new Gauge({
    name: 'wsgate_store_up',
    help: 'Whether the shared store (Redis) answers: 1, or 0 during an outage',
    registers,
    aggregator: 'min',
    collect() {
      this.set(store.available ? 1 : 0);
    },
  });
  new Counter({
    name: 'wsgate_store_unavailable_total',
    help: 'Store calls that failed because Redis could not be reached or did not answer within the command timeout',
    registers,
    collect() {
      this.reset();
      this.inc(store.unavailableCalls);
    },
  });
  new Counter({
    name: 'wsgate_store_outages_total',
    help: 'Times the shared store (Redis) went out of reach (an unreachable start counts as one)',
    registers,
    collect() {
      this.reset();
      this.inc(store.outages);
    },
  });
}
