import type { IncomingHttpHeaders } from 'node:http';

/** What the handshake needs to know of a request: node's IncomingMessage satisfies it. */
export interface HandshakeRequest {
  readonly method?: string | undefined;
  readonly httpVersionMajor: number;
  readonly httpVersionMinor: number;
  readonly headers: IncomingHttpHeaders;
  /** Alternating names and values, as received; used to find duplicated headers. */
  readonly rawHeaders: readonly string[];
}

/** permessage-deflate parameters (RFC 7692), passed to `ws`. `true` takes ws's defaults. */
export interface PerMessageDeflateOptions {
  serverNoContextTakeover?: boolean;
  clientNoContextTakeover?: boolean;
  serverMaxWindowBits?: number;
  clientMaxWindowBits?: number;
  /** Messages smaller than this (bytes) are not compressed. */
  threshold?: number;
  concurrencyLimit?: number;
}

/**
 * CORS on the 101, like Kamailio's `cors_mode`: `'off'` adds nothing, `'*'` adds
 * `Access-Control-Allow-Origin: *`, a list adds the request's Origin only when it is in the list
 * (never a blind echo), together with `Vary: Origin`.
 */
export type CorsMode = 'off' | '*' | readonly string[];

export interface HandshakeOptions {
  /** Subprotocols this route speaks, most preferred first. */
  protocols?: readonly string[];
  /** Refuse (400) a client that offers no subprotocol. Default false. */
  requireProtocol?: boolean;
  /** permessage-deflate: off (default), on with ws's defaults, or on with these parameters. */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** Largest message accepted, in bytes; a larger one closes the connection with 1009. */
  maxPayload?: number;
  cors?: CorsMode;
  /** Extra headers for the 101 (CRLF and non-token names are refused). */
  headers?: Readonly<Record<string, string>>;
}

/** Which check refused a handshake: a short, fixed vocabulary, fit for a metrics label. */
export type HandshakeCheck =
  | 'method'
  | 'http-version'
  | 'host'
  | 'upgrade'
  | 'connection'
  | 'key'
  | 'version'
  | 'subprotocol'
  | 'extensions'
  | 'shutdown'
  | 'ws';

/** A refusal: written once, by `writeRejection`, then the socket is closed. */
export interface HandshakeRejection {
  readonly ok: false;
  readonly status: number;
  /** Which check failed (absent on rejections built by hand). */
  readonly check?: HandshakeCheck;
  /** Why, in words a client developer understands; sent as the body. */
  readonly reason: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface HandshakeAcceptance {
  readonly ok: true;
  readonly key: string;
  readonly accept: string;
  /** The chosen subprotocol, or undefined when none was offered (and none required). */
  readonly protocol: string | undefined;
  /** The subprotocols the client offered, in its order. */
  readonly offeredProtocols: readonly string[];
  /** Headers to add to the 101 (CORS and the route's own). */
  readonly headers: Readonly<Record<string, string>>;
}

export type HandshakeDecision = HandshakeAcceptance | HandshakeRejection;
