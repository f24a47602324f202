/**
 * Which stream relay of this process holds which port, so that a reload hands a bound port to the relay the
 * new route set made for the same address, with no moment where datagrams are lost or connections refused.
 *
 * The new relay is made (by the new script) while the old one still holds the port, and the old one is told
 * to go only once the new route set is mounted (core's `routes:close` with `'reload'`). So the new relay
 * waits as the port's heir, and the old one passes the bound socket on when it is retired.
 *
 * Process-wide, on `globalThis` under a registered symbol: a reload shares one copy of this package (core's
 * script/gateway-packages.ts), but a project may bring its own copy, or two versions may meet across a
 * reload. What crosses between copies is the small {@link PortHolder} interface, versioned in the symbol's name.
 */

/** A relay as the ledger sees it; `T` is what its predecessor hands it (its socket or server, and more). */
export interface PortHolder<T = unknown> {
  /** Takes over the predecessor's bound port. */
  adopt(handOver: T): void;
}

interface Entry {
  holder: PortHolder | undefined;
  /** The relay waiting for the port: the latest one made for this address. */
  heir: PortHolder | undefined;
}

const LEDGER = Symbol.for('wsgate.streamRelay.ports.v1');
const ledger = ((globalThis as Record<symbol, unknown>)[LEDGER] ??= new Map<string, Entry>()) as Map<string, Entry>;

/** The ledger's key for an address; undefined for port 0, which is never shared. */
export function portKey(protocol: 'udp' | 'tcp', host: string, port: number): string | undefined {
  return port === 0 ? undefined : `${protocol} ${host} ${port}`;
}

/**
 * Asks for the port: `'bind'` when no relay of this process holds it (bind it, then {@link holdPort}),
 * `'wait'` when one does — `relay` is then its heir and is handed the port when the holder retires for a reload.
 */
export function claimPort(key: string, relay: PortHolder): 'bind' | 'wait' {
  const entry = ledger.get(key);
  if (entry?.holder === undefined) return 'bind';
  entry.heir = relay;
  return 'wait';
}

/** `relay` has bound the port itself. */
export function holdPort(key: string, relay: PortHolder): void {
  ledger.set(key, { holder: relay, heir: undefined });
}

/** The holder retires for a reload: returns its heir, now the holder, or undefined when none waits. */
export function passOn(key: string, holder: PortHolder): PortHolder | undefined {
  const entry = ledger.get(key);
  if (entry?.holder !== holder) return undefined;
  const heir = entry.heir;
  if (heir === undefined) ledger.delete(key);
  else ledger.set(key, { holder: heir, heir: undefined });
  return heir;
}

/** `relay` is gone (closed, or retired with no heir): it no longer holds the port nor waits for it. */
export function releasePort(key: string, relay: PortHolder): void {
  const entry = ledger.get(key);
  if (entry === undefined) return;
  if (entry.heir === relay) entry.heir = undefined;
  if (entry.holder === relay) ledger.delete(key);
}
