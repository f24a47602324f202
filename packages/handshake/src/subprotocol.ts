import { COMMA, expectToken, HeaderSyntaxError, quote, skipOws, unexpected } from './token-list.js';

const HEADER = 'Sec-WebSocket-Protocol';

/**
 * Parses `Sec-WebSocket-Protocol` (RFC 6455 §4.1, §11.3.4: `1#token`), strictly: tokens separated by commas
 * with optional whitespace, no empty element, no duplicate. Pass node's value as is: repeated fields arrive
 * joined with ", ", which is the same list.
 *
 * Strict where the list rule is lenient because `ws` is too: a header it would refuse later must be refused
 * here, with the position, rather than as a vague failure after the route said yes.
 *
 * @returns the offered subprotocols, in the client's order
 * @throws {@link HeaderSyntaxError} with the position of the first offending character
 */
export function parseSubprotocols(value: string): string[] {
  const out: string[] = [];
  let seen: Set<string> | undefined;
  const n = value.length;
  let i = skipOws(value, 0);
  for (;;) {
    const start = i;
    i = expectToken(HEADER, value, i, 'a subprotocol token');
    const protocol = value.slice(start, i);
    // A linear scan is cheaper for the usual one or two offers; a Set keeps a hostile list from going quadratic.
    if (out.length < 8 ? out.includes(protocol) : (seen ??= new Set(out)).has(protocol)) {
      throw new HeaderSyntaxError(HEADER, start, `duplicate subprotocol ${JSON.stringify(protocol)}`);
    }
    out.push(protocol);
    seen?.add(protocol);
    i = skipOws(value, i);
    if (i === n) return out;
    if (value.charCodeAt(i) !== COMMA) throw unexpected(HEADER, value, i, '","');
    i = skipOws(value, i + 1);
  }
}

/** The outcome of {@link negotiateSubprotocol}. */
export type SubprotocolChoice =
  | { readonly ok: true; /** undefined: the 101 carries no `Sec-WebSocket-Protocol`. */ readonly protocol: string | undefined }
  | { readonly ok: false; readonly reason: string };

/**
 * Chooses the subprotocol for the 101: the first of `supported` (the route's order of preference) that the
 * client offered, compared exactly (tokens are case-sensitive; `sipx` is not `sip`).
 *
 * - Offers but no match: refused, naming what the route speaks (Kamailio refuses too; a browser would
 *   otherwise fail the connection with a far vaguer message).
 * - No offer: accepted without a subprotocol, unless `requireProtocol`.
 * - A route that lists no subprotocol does not negotiate: whatever the offer, no subprotocol is chosen, as
 *   RFC 6455 §4.2.2 allows (the client decides whether that is acceptable).
 */
export function negotiateSubprotocol(
  offered: readonly string[],
  supported: readonly string[] | undefined,
  requireProtocol = false,
): SubprotocolChoice {
  const routeSpeaks = supported !== undefined && supported.length > 0;
  if (offered.length === 0) {
    if (!requireProtocol) return NONE;
    return {
      ok: false,
      reason: routeSpeaks
        ? `Sec-WebSocket-Protocol required, supported: ${supported.join(', ')}`
        : 'Sec-WebSocket-Protocol required',
    };
  }
  if (!routeSpeaks) return NONE;
  for (const protocol of supported) {
    if (offered.includes(protocol)) return { ok: true, protocol };
  }
  return {
    ok: false,
    reason: `No supported subprotocol in ${quote(offered.join(', '))}, supported: ${supported.join(', ')}`,
  };
}

const NONE: SubprotocolChoice = Object.freeze({ ok: true, protocol: undefined });
