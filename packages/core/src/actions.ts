import type { HandshakeOptions } from '@wsgate/handshake';

/**
 * How a route ends a request. Values are made by `req.reply()`, `req.handshake()` and `req.next()`;
 * the pipeline carries out the one a route took, after the route returns (decide, then commit).
 */
export type Action = ReplyAction | HandshakeAction | NextAction;

export interface ReplyAction {
  readonly kind: 'reply';
  readonly status: number;
  /** The status line's reason phrase, as Kamailio's `xhttp_reply()` sets it. */
  readonly reason: string;
  readonly contentType: string;
  readonly body: string | Buffer;
  readonly headers: Readonly<Record<string, string>>;
}

export interface HandshakeAction {
  readonly kind: 'handshake';
  readonly options: HandshakeOptions;
}

export interface NextAction {
  readonly kind: 'next';
}

export const NEXT: NextAction = Object.freeze({ kind: 'next' });
