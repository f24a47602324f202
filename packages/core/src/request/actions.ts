import type { IncomingMessage } from 'node:http';
import type { HandshakeOptions } from '@wsgate/handshake';
import type { ProxiedConnection, TunnelControls } from '../connections/proxied-connection.js';
import type { Carrier } from './replies.js';
import type { RequestFacts } from './request-facts.js';
import type { Attributes, ReplyHeaders } from '../vocabulary.js';

/**
 * How a route ends a request. Values are made by `req.reply()`, `req.handshake()` and `req.next()`;
 * the pipeline carries out the one a route took, after the route returns (decide, then commit).
 */
export type Action = ReplyAction | HandshakeAction | ProxyAction | NextAction;

export interface ReplyAction {
  readonly kind: 'reply';
  readonly status: number;
  /** The status line's reason phrase, as Kamailio's `xhttp_reply()` sets it. */
  readonly reason: string;
  readonly contentType: string;
  readonly body: string | Buffer;
  /** An array value is written as one header line per value. */
  readonly headers: ReplyHeaders;
  /** Set by `req.refuse()`: the reply refuses access; logged with the client's real IP and counted. */
  readonly refusal?: Refusal;
}

/** Why a request was refused, for the log line and the metrics. */
export interface Refusal {
  /** What refused it: `origin`, `host`, `basic`, `digest`, `cookie-token`, `auth-hook`, `rate-limit`, … */
  readonly by: string;
  readonly reason: string;
}

export interface HandshakeAction {
  readonly kind: 'handshake';
  readonly options: HandshakeOptions;
}

export interface NextAction {
  readonly kind: 'next';
}

export const NEXT: NextAction = Object.freeze({ kind: 'next' });

export interface ProxyAction {
  readonly kind: 'proxy';
  readonly target: ProxyTarget;
}

/**
 * Where `req.proxy()` sends a request: an upstream or a pool of them (made by `@wsgate/routes`' proxy
 * module). The gateway hands over the request, its node message (for the body) and its carrier; from then
 * on the target owns the answer, including every failure (502, 504), and must leave no socket open.
 */
export interface ProxyTarget {
  /** Resolves once the exchange is over, with what the client was answered (for metrics and the access log). */
  forward(req: ProxiedRequest<any>, message: IncomingMessage, carrier: Carrier): Promise<ForwardResult | void>;
}

/**
 * What a proxy target gets of the request: its facts, whether the route asked to close after the reply,
 * and `track()` to list the tunnel it opens.
 */
export interface ProxiedRequest<A extends Attributes = Attributes> extends RequestFacts<A> {
  readonly replyClose: boolean;
  track(controls: TunnelControls): ProxiedConnection<A>;
}

/** How a relayed request ended: the status the client got (101 for a tunnel) and the bytes sent to it. */
export interface ForwardResult {
  readonly status: number;
  readonly bytes?: number;
  /** Upstreams that failed on the way (a refused connect before the next node answered, say): counted. */
  readonly upstreamErrors?: ReadonlyArray<{ readonly upstream: string; readonly cause: string }>;
}
