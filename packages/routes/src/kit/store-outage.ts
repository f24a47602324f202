/**
 * What a route module does when its store (Redis) cannot be reached: admit without the store's answer
 * (`open`) or refuse with 503 (`closed`), as the module's `onStoreUnavailable` option says. One warning per
 * outage per module and one line when the store answers again (not one per request), and, when the module was
 * given the gateway, a count per decision in `wsgate_route_store_unavailable_total`.
 *
 * An outage is recognised by the error's code, `WSGATE_STORE_UNAVAILABLE` (core's `StoreUnavailableError`):
 * any other store error is a bug and goes on being thrown (the gateway answers 500).
 */
import type { CounterSeries, Logger, RouteCounter } from '@wsgate/core';
import { oneOf } from './option-checks.js';

export type StoreUnavailablePolicy = 'open' | 'closed';

/** `Retry-After` seconds sent with a 503 while the store is out of reach: the store reconnects within ~1 s of Redis's return. */
export const STORE_RETRY_AFTER = 5;

/** The `onStoreUnavailable` option: `open` or `closed`, or the module's default. */
export function storePolicyOption(where: string, value: unknown, fallback: StoreUnavailablePolicy): StoreUnavailablePolicy {
  return oneOf(where, value, ['open', 'closed'] as const, fallback);
}

/** Is this the store saying it cannot be reached (rather than a wrong call)? */
export function isStoreUnavailable(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'WSGATE_STORE_UNAVAILABLE';
}

/** The metrics seam a module may have (`gateway.metrics`). */
export interface CounterSource {
  counter(def: { name: string; help: string; labelNames?: readonly string[] }): RouteCounter;
}

export class StoreOutage {
  private down = false;
  private readonly admitted: CounterSeries | undefined;
  private readonly refused: CounterSeries | undefined;

  /**
   * @param module what logs and the counter's `module` label name (`digest`, `cookie-token`, `rate-limit`, `sip-digest`)
   * @param what the store's part in the module, for log lines ("nonce counts", "tokens", "handshake counts")
   */
  constructor(
    private readonly module: string,
    private readonly what: string,
    readonly policy: StoreUnavailablePolicy,
    metrics?: CounterSource,
  ) {
    const counter = metrics?.counter({
      name: 'wsgate_route_store_unavailable_total',
      help: 'Requests a route module decided without its store (Redis out of reach): admitted (onStoreUnavailable: open) or refused (closed)',
      labelNames: ['module', 'outcome'],
    });
    this.admitted = counter?.labels(module, 'admitted');
    this.refused = counter?.labels(module, 'refused');
  }

  /**
   * A store call failed. For an outage, logs it once per outage, counts the decision and answers whether to
   * admit (`open`); any other error is thrown back.
   */
  failed(err: unknown, log: Logger): boolean {
    if (!isStoreUnavailable(err)) throw err;
    if (!this.down) {
      this.down = true;
      const doing = this.policy === 'open' ? 'admitting without them' : 'refusing with 503';
      log.warn({ module: this.module, err: (err as Error).message }, `${this.module}: store unavailable, ${this.what} cannot be checked; ${doing} (onStoreUnavailable: ${this.policy}) until it answers`);
    }
    (this.policy === 'open' ? this.admitted : this.refused)?.inc();
    return this.policy === 'open';
  }

  /** A store call succeeded: ends the outage, if there was one, with one line. */
  answered(log: Logger): void {
    if (!this.down) return;
    this.down = false;
    log.info({ module: this.module }, `${this.module}: store available again, ${this.what} checked again`);
  }
}
