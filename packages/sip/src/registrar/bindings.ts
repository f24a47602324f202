import type { Store } from '@wsgate/core';

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

/** The key a binding replaces others by: instance + reg-id (RFC 5626 §6), instance alone, else the URI. */
export function bindingKey(b: Pick<Binding, 'uri' | 'instance' | 'regId'>): string {
  if (b.instance !== undefined) return b.regId === undefined ? `i ${b.instance}` : `o ${b.instance} ${b.regId}`;
  return `u ${b.uri}`;
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

/** Writes an AOR's bindings, the key lapsing with the last of them; no bindings deletes the key. */
export async function saveBindings(store: Store, key: string, bindings: readonly Binding[], now: number): Promise<void> {
  if (bindings.length === 0) {
    await store.delete(key);
    return;
  }
  const last = Math.max(...bindings.map((b) => b.expiresAt));
  await store.set(key, JSON.stringify(bindings), Math.max(0.001, (last - now) / 1000));
}
