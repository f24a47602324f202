/**
 * Decides whether an upstream's `101 Switching Protocols` may open a tunnel: the status alone is not enough
 * (a proxy that trusts any 101 can be made to tunnel raw HTTP to the upstream). For WebSocket, the accept
 * value must answer the key the gateway sent, and the subprotocol and extensions must be among the client's
 * offers, or the client would be handed a connection it never agreed to.
 */
import { hasToken } from '@wsgate/core';
import { acceptKey, isToken, parseExtensions, parseSubprotocols } from '@wsgate/handshake';
import type { ClientOffer } from './client-offer.js';
import type { ResponseHead } from './response-head.js';

export interface SwitchExpectation {
  /** What the client offered: the protocol to switch to, subprotocols, extensions. */
  readonly offer: Pick<ClientOffer, 'upgrade' | 'protocols' | 'extensions'>;
  /** The key sent upstream, for a WebSocket upgrade. */
  readonly key: string | undefined;
}

/** Why the 101 must not open a tunnel, or undefined when it may. */
export function switchProblem(res: Pick<ResponseHead, 'status' | 'headers'>, expected: SwitchExpectation): string | undefined {
  if (res.status !== 101) return `status ${res.status}`;
  const wanted = expected.offer.upgrade;
  const upgrade = res.headers.upgrade;
  if (!upgrade || !hasToken(upgrade, wanted)) return `101 without Upgrade: ${wanted}`;
  if (!res.headers.connection || !hasToken(res.headers.connection, 'upgrade')) return '101 without Connection: upgrade';
  if (expected.key === undefined) return undefined;
  const accept = res.headers['sec-websocket-accept'];
  if (accept !== acceptKey(expected.key)) return `101 with a wrong Sec-WebSocket-Accept (${accept === undefined ? 'none' : JSON.stringify(accept)})`;
  try {
    return choiceProblem(res.headers['sec-websocket-protocol'], res.headers['sec-websocket-extensions'], expected.offer);
  } catch (err) {
    return `101 with ${(err as Error).message}`;
  }
}

/** The 101's subprotocol (one token) and extensions must be among the client's offers. */
function choiceProblem(protocol: string | undefined, extensions: string | undefined, offer: SwitchExpectation['offer']): string | undefined {
  if (protocol !== undefined) {
    // The usual answer is one token: that is the list, without parsing one.
    const chosen = isToken(protocol) ? protocol : onlyOne(parseSubprotocols(protocol));
    if (chosen === undefined || !offer.protocols.includes(chosen)) return `101 chose subprotocol ${JSON.stringify(protocol)}, which the client did not offer`;
  }
  if (extensions !== undefined) {
    for (const { name } of parseExtensions(extensions)) {
      if (!offer.extensions?.has(name.toLowerCase())) return `101 chose extension ${JSON.stringify(name)}, which the client did not offer`;
    }
  }
  return undefined;
}

function onlyOne(list: readonly string[]): string | undefined {
  return list.length === 1 ? list[0] : undefined;
}
