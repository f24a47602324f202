/**
 * Decides whether an upstream's `101 Switching Protocols` may open a tunnel: the status alone is not enough
 * (a proxy that trusts any 101 can be made to tunnel raw HTTP to the upstream). For WebSocket, the accept
 * value must answer the key the gateway sent, and the subprotocol and extensions must be among the client's
 * offers, or the client would be handed a connection it never agreed to.
 */
import { hasToken } from '@wsgate/core';
import type { ResponseHead } from './response-head.js';
import { acceptFor } from './websocket-key.js';

export interface SwitchExpectation {
  /** The client's `Upgrade` value. */
  readonly upgrade: string;
  /** The key sent upstream, for a WebSocket upgrade. */
  readonly key: string | undefined;
  /** The client's `Sec-WebSocket-Protocol` and `-Extensions` values, as received. */
  readonly protocols: string | undefined;
  readonly extensions: string | undefined;
}

/** Why the 101 must not open a tunnel, or undefined when it may. */
export function switchProblem(res: Pick<ResponseHead, 'status' | 'headers'>, expected: SwitchExpectation): string | undefined {
  if (res.status !== 101) return `status ${res.status}`;
  const upgrade = res.headers.upgrade;
  const wanted = expected.upgrade.split(',')[0]!.trim().toLowerCase();
  if (!upgrade || !hasToken(upgrade, wanted)) return `101 without Upgrade: ${wanted}`;
  if (!res.headers.connection || !hasToken(res.headers.connection, 'upgrade')) return '101 without Connection: upgrade';
  if (expected.key === undefined) return undefined;
  const accept = res.headers['sec-websocket-accept'];
  if (accept !== acceptFor(expected.key)) return `101 with a wrong Sec-WebSocket-Accept (${accept === undefined ? 'none' : JSON.stringify(accept)})`;
  const protocol = res.headers['sec-websocket-protocol'];
  if (protocol !== undefined && !listHas(expected.protocols, protocol.trim(), false)) {
    return `101 chose subprotocol ${JSON.stringify(protocol)}, which the client did not offer`;
  }
  const extensions = res.headers['sec-websocket-extensions'];
  if (extensions !== undefined) {
    for (const ext of extensions.split(',')) {
      const name = ext.split(';')[0]!.trim().toLowerCase();
      if (name && !listHas(expected.extensions, name, true)) return `101 chose extension ${JSON.stringify(name)}, which the client did not offer`;
    }
  }
  return undefined;
}

/** Is `item` one of the comma-separated elements (extension names before their `;` parameters)? */
function listHas(list: string | undefined, item: string, extensionNames: boolean): boolean {
  if (!list) return false;
  for (const part of list.split(',')) {
    const element = (extensionNames ? part.split(';')[0]! : part).trim();
    if (extensionNames ? element.toLowerCase() === item : element === item) return true;
  }
  return false;
}
