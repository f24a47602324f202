/**
 * Per-host certificates on one HTTPS listener, chosen by the name the client asks for in its TLS handshake
 * (SNI, RFC 6066): nginx's several `server` blocks with their own `ssl_certificate` on one port.
 */
import { createSecureContext, type SecureContext } from 'node:tls';
import { normalizeHostName, wildcardDomainOf } from '../../request/host-matcher.js';
import type { TlsCredentials } from './self-signed.js';

/** The secure contexts of one listener's `tls.sni` entries. */
export interface SniTable {
  /** By exact lower-case host name. */
  readonly exact: ReadonlyMap<string, SecureContext>;
  /** `*.domain` entries, by their `domain`. */
  readonly wildcard: ReadonlyMap<string, SecureContext>;
}

export const EMPTY_SNI_TABLE: SniTable = { exact: new Map(), wildcard: new Map() };

/**
 * Makes one secure context per entry (keys: lower-case host names or `*.domain`). Throws as
 * `tls.createSecureContext()` does on a pair it cannot use, so a reload calls it before committing anything.
 */
export function createSniTable(entries: ReadonlyMap<string, TlsCredentials>): SniTable {
  if (entries.size === 0) return EMPTY_SNI_TABLE;
  const exact = new Map<string, SecureContext>();
  const wildcard = new Map<string, SecureContext>();
  for (const [name, pair] of entries) {
    const context = createSecureContext({ cert: pair.cert, key: pair.key });
    if (name.startsWith('*.')) wildcard.set(name.slice(2), context);
    else exact.set(name, context);
  }
  return { exact, wildcard };
}

/** Node's `SNICallback`: an error, or the context to use (none: the server's default one). */
export type SniCallback = (servername: string, done: (err: Error | null, context?: SecureContext) => void) => void;

/**
 * Chooses the certificate for each TLS handshake of a listener by the client's SNI name: an exact entry, else
 * a `*.domain` entry for one label, else the listener's default certificate. Installed once as the server's
 * `SNICallback`; a reload replaces the table behind it, so the next handshakes see the new certificates and
 * connections already open keep theirs.
 */
export class SniSelector {
  constructor(private table: SniTable = EMPTY_SNI_TABLE) {}

  /** Swaps in another table (a reload); cannot fail. */
  replace(table: SniTable): void {
    this.table = table;
  }

  /**
   * The context for `servername`, or undefined for the default one: node then uses the server's own context,
   * the one `setSecureContext()` replaces, so the default needs no copy here to keep in step.
   */
  select(servername: string): SecureContext | undefined {
    const { exact, wildcard } = this.table;
    if (exact.size === 0 && wildcard.size === 0) return undefined;
    const name = normalizeHostName(servername);
    const found = exact.get(name);
    if (found !== undefined || wildcard.size === 0) return found;
    const domain = wildcardDomainOf(name);
    return domain === undefined ? undefined : wildcard.get(domain);
  }

  readonly callback: SniCallback = (servername, done) => done(null, this.select(servername));
}
