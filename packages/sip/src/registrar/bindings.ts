import type { Store } from '@wsgate/core';
import type { Readings } from './readings.js';

/**
 * One registered contact of an address-of-record (RFC 3261 §10), tied to the WebSocket flow it came over
 * (RFC 5626 §6, RFC 7118 §5): a contact behind a WebSocket is reachable through that connection only.
 */
export interface Binding {
  /** the Contact value to list and to route to: `<uri>;params`, without `expires` */
  readonly contact: string;
  /** the Contact URI as written: the binding's key when there is no `+sip.instance` */
  readonly uri: string;
  /** `+sip.instance` unquoted (`<urn:uuid:…>`) */
  readonly instance?: string;
  /** RFC 5626 `reg-id`: with `instance`, the binding's key (one per flow a UA keeps) */
  readonly regId?: number;
  readonly q?: number;
  readonly callId: string;
  readonly cseq: number;
  /** when the binding lapses, ms since the epoch */
  readonly expiresAt: number;
  /** the flow: `<node>/<connection id>` of the WebSocket connection that registered it */
  readonly flow: string;
}

/** The connection id in a flow id (`<node>/<connection id>`); NaN when there is none. */
export function flowConnectionId(flow: string): number {
  return Number(flow.slice(flow.lastIndexOf('/') + 1));
}

/**
 * Whether two bindings have the same key, by which one replaces the other: instance + reg-id (RFC 5626 §6),
 * instance alone, else the URI. Compared in place: no key string per binding.
 */
export function sameBindingKey(a: Pick<Binding, 'uri' | 'instance' | 'regId'>, b: Pick<Binding, 'uri' | 'instance' | 'regId'>): boolean {
  if (a.instance !== undefined) return a.instance === b.instance && a.regId === b.regId;
  return b.instance === undefined && a.uri === b.uri;
}

/** The Store key of an AOR's bindings: one JSON list per AOR, so a REGISTER reads and writes one key. */
export function aorKey(prefix: string, aor: string): string {
  return `${prefix}${aor}`;
}

/** An AOR's live bindings (lapsed ones left out). */
export async function loadBindings(store: Store, key: string, now: number): Promise<Binding[]> {
  const text = await store.get(key);
  if (text === undefined) return [];
  const all = JSON.parse(text) as Binding[];
  return all.filter((b) => b.expiresAt > now);
}

/** What a change of an AOR's bindings decides: the bindings after it, and whether they must be written. */
export interface BindingsChange {
  readonly bindings: readonly Binding[];
  readonly write: boolean;
}

const NONE: readonly Binding[] = Object.freeze([]);

/** Read-change-write attempts before giving up on an AOR many gateways are writing at once. */
const ATTEMPTS = 16;

/**
 * Changes an AOR's bindings atomically across every gateway sharing the store: reads them, lets `change`
 * decide (from the live ones), and writes the result back with a compare-and-set on the value read, so that a
 * write by another gateway in between makes this one read again rather than undo it. Lapsed bindings found on
 * the way are written out too. `change` may instead return a refusal (anything without `bindings`), which is
 * passed back and nothing is written. `readings` keeps what was read and written, so that reading it back costs no parse.
 */
export async function updateBindings<R extends object>(
  store: Store,
  key: string,
  readings: Readings<readonly Binding[]>,
  change: (live: readonly Binding[], now: number) => BindingsChange | R,
): Promise<{ bindings: readonly Binding[]; now: number; lapsed: number } | Exclude<R, BindingsChange>> {
  for (let attempt = 1; ; attempt++) {
    const raw = await store.get(key);
    const now = Date.now();
    const all = raw === undefined ? NONE : readings.read(key, raw);
    // the reading itself when nothing lapsed (the usual case): no copy
    let live = all;
    for (const b of all) {
      if (b.expiresAt > now) continue;
      live = all.filter((x) => x.expiresAt > now);
      break;
    }
    const decided = change(live, now);
    if (!('bindings' in decided && 'write' in decided)) return decided as Exclude<R, BindingsChange>;
    const lapsed = all.length - live.length;
    if (!decided.write && lapsed === 0) return { bindings: decided.bindings, now, lapsed };
    const next = decided.bindings;
    const text = next.length === 0 ? undefined : JSON.stringify(next);
    // the key lapses with the last binding
    let last = 0;
    for (const b of next) if (b.expiresAt > last) last = b.expiresAt;
    const ttl = text === undefined ? undefined : Math.max(0.001, (last - now) / 1000);
    if (await store.compareAndSet(key, raw, text, ttl)) {
      if (text === undefined) readings.forget(key);
      else readings.keep(key, text, freezeBindings(next));
      return { bindings: next, now, lapsed };
    }
    if (attempt >= ATTEMPTS) throw new Error(`the bindings under ${key} changed ${ATTEMPTS} times while being written`);
    // Lost the race: wait a random while, doubling up to 64 ms, so that a gateway with a queue of writes to this
    // AOR cannot win every round against another one's single write.
    await new Promise((wake) => setTimeout(wake, Math.random() * Math.min(64, 2 ** attempt)));
  }
}

/** The bindings of a stored list, frozen (a reading is shared with every later reader: ./readings.ts). */
export function parseBindings(text: string): readonly Binding[] {
  return freezeBindings(JSON.parse(text) as Binding[]);
}

function freezeBindings(list: Binding[] | readonly Binding[]): readonly Binding[] {
  for (const b of list) Object.freeze(b);
  return Object.freeze(list);
}
