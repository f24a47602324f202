import { isIP } from 'node:net';
import { fault } from './errors.js';
import type { Scanner } from './scanner.js';

/**
 * Parameters (`;name=value`): names lower-cased (they compare case-insensitively), values as written (a
 * quoted-string keeps its quotes: `unquote()` reads it), `null` for a name without `=`. Insertion order is the
 * message's order. A name that appears twice is a fault (RFC 3261 §19.1.1 for URIs; the same rule here).
 */
export type Params = ReadonlyMap<string, string | null>;

/** The (read-only) parameters of whatever has none, shared. */
export const NO_PARAMS: Params = new Map();

const IPV6CHARS = new Uint8Array(128);
for (const c of '0123456789abcdefABCDEF:.') IPV6CHARS[c.charCodeAt(0)] = 1;

/** An IPv6 address without brackets, as `received` may carry one (RFC 3261 via-received). */
export function readIpv6(sc: Scanner): string {
  const v = sc.run(IPV6CHARS, 'an IPv6 address');
  if (isIP(v) !== 6) fault(`invalid IPv6 address ${v}`);
  return v;
}

/** gen-value = token / host / quoted-string (host adds IPv6reference, "[" IPv6address "]"). */
function genValue(sc: Scanner, name: string): string {
  const c = sc.peek();
  if (c === 34) return sc.quoted();
  if (c === 91) {
    const from = sc.i;
    sc.i++;
    readIpv6(sc);
    sc.expect(93, '] after an IPv6 address');
    return sc.s.slice(from, sc.i);
  }
  if (name === 'received') return readIpv6OrToken(sc);
  return sc.token(`a value for ${name}`);
}

function readIpv6OrToken(sc: Scanner): string {
  const from = sc.i;
  while (sc.i < sc.s.length && IPV6CHARS[sc.s.charCodeAt(sc.i)] === 1) sc.i++;
  const run = sc.s.slice(from, sc.i);
  sc.i = from;
  return run.includes(':') ? readIpv6(sc) : sc.token('a value for received');
}

/** `*( SEMI generic-param )` from the scanner's position; stops before anything that is not a SEMI. */
export function readParams(sc: Scanner): Params {
  if (!sc.sep(59)) return NO_PARAMS;
  const params = new Map<string, string | null>();
  do {
    const name = sc.token('a parameter name').toLowerCase();
    const value = sc.sep(61) ? genValue(sc, name) : null;
    if (params.has(name)) fault(`parameter ${name} appears twice`);
    params.set(name, value);
  } while (sc.sep(59));
  return params;
}

/** `;name=value…` as written in a message. */
export function formatParams(params: Params | undefined): string {
  if (!params) return '';
  let s = '';
  for (const [name, value] of params) s += value === null ? `;${name}` : `;${name}=${value}`;
  return s;
}
