/**
 * The request headers the proxy acts on, parsed strictly once with `@wsgate/handshake`'s parsers: `Connection`
 * (which headers are hop-by-hop), and for upgrades `Upgrade`, `Sec-WebSocket-Protocol` and
 * `Sec-WebSocket-Extensions` (what an upstream's 101 may choose). A malformed one is the client's 400, with the
 * parser's position and reason, before any upstream is asked.
 */
import { HeaderSyntaxError, isToken, parseExtensions, parseSubprotocols, parseTokenList } from '@wsgate/handshake';
import type { RequestFacts } from '@wsgate/core';

export interface ClientOffer {
  /** Names the client's `Connection` lists besides close, keep-alive and upgrade (lower case): not relayed. */
  readonly hopByHop: ReadonlySet<string> | undefined;
  /**
   * The protocol a 101 must switch to, lower case, without its version: `websocket` when `Upgrade` lists it (the
   * request is proxied as the WebSocket upgrade it is), else the first one ('' when there is none).
   */
  readonly upgrade: string;
  /** The client's `Upgrade` value as received, relayed upstream. */
  readonly upgradeValue: string | undefined;
  /** Offered subprotocols, in the client's order. */
  readonly protocols: readonly string[];
  /** Offered extension names, lower case. */
  readonly extensions: ReadonlySet<string> | undefined;
}

const CONNECTION_OWN = new Set(['close', 'keep-alive', 'upgrade']);

/**
 * @param upgrade whether the request came as an upgrade (its raw socket is the carrier)
 * @throws {HeaderSyntaxError} naming the header and the position
 */
export function readClientOffer(req: RequestFacts<any>, upgrade: boolean): ClientOffer {
  let hopByHop: Set<string> | undefined;
  const connection = req.header('connection');
  // The usual value is one token (`Upgrade`, `keep-alive`): no list to parse, no array made.
  if (connection && !(isToken(connection) && CONNECTION_OWN.has(connection.toLowerCase()))) {
    for (const token of parseTokenList(connection, 'Connection')) {
      const t = token.toLowerCase();
      if (!CONNECTION_OWN.has(t)) (hopByHop ??= new Set()).add(t);
    }
  }
  if (!upgrade) return { hopByHop, upgrade: '', upgradeValue: undefined, protocols: NONE, extensions: undefined };
  const upgradeValue = req.header('upgrade');
  const offered = req.header('sec-websocket-protocol');
  const ext = req.header('sec-websocket-extensions');
  return {
    hopByHop,
    upgrade: upgradeValue ? askedProtocol(upgradeValue) : '',
    upgradeValue,
    // One offer, the usual case, is a token: the list without parsing one.
    protocols: offered ? (isToken(offered) ? [offered] : parseSubprotocols(offered)) : NONE,
    extensions: ext ? new Set(parseExtensions(ext).map((e) => e.name.toLowerCase())) : undefined,
  };
}

const NONE: readonly string[] = Object.freeze([]);

/**
 * The protocol a 101 must switch to, from the client's `Upgrade`: `websocket` when it is listed, else the first
 * one's name (lower case, without its version).
 * @throws {HeaderSyntaxError} for a value that is not a list of protocols
 */
export function askedProtocol(upgradeValue: string): string {
  // The usual value is one name without a version (`websocket`): a token, since "/" is not a token character.
  if (isToken(upgradeValue)) return upgradeValue.toLowerCase();
  const asked = parseTokenList(upgradeValue, 'Upgrade', { product: true }).map((p) => p.split('/')[0]!.toLowerCase());
  return asked.includes('websocket') ? 'websocket' : (asked[0] ?? '');
}

export { HeaderSyntaxError };
