/** The script's view of a proxied WebSocket in message mode (`pool.with({ onMessage })`). */

/** One whole message crossing the gateway. */
export interface ProxiedMessage {
  /** Who sent it: the client (towards the upstream) or the upstream (towards the client). */
  readonly from: 'client' | 'upstream';
  readonly data: Buffer;
  readonly isBinary: boolean;
}

/** Facts about the tunnel a message crosses. */
export interface TunnelInfo {
  readonly clientIp: string;
  readonly clientPort: number;
  /** The request target sent upstream. */
  readonly url: string;
  /** The node's name. */
  readonly upstream: string;
  /** The subprotocol the upstream chose, or ''. */
  readonly protocol: string;
  /** The request's attributes, as the route left them. */
  readonly attributes: Readonly<Record<string, unknown>>;
}

/**
 * What the hook decides: `undefined` (or `true`) passes the message unchanged; `false` or `null` drops it;
 * a string replaces it with a text message, a Buffer with a binary one; `{ data, binary }` says which.
 */
export type MessageVerdict = undefined | void | boolean | null | string | Buffer | { readonly data: string | Buffer; readonly binary?: boolean };

/**
 * Sees every message of a tunnel, both ways, in order. May be async: the direction then waits for it
 * (messages behind it are held, and reading stops once they pile up). A hook that throws closes both sides
 * with 1011.
 */
export type MessageHook = (message: ProxiedMessage, tunnel: TunnelInfo) => MessageVerdict | Promise<MessageVerdict>;

/** The message to send for a verdict, or undefined to drop it. */
export function applyVerdict(message: ProxiedMessage, verdict: MessageVerdict): { data: Buffer | string; binary: boolean } | undefined {
  if (verdict === undefined || verdict === true) return { data: message.data, binary: message.isBinary };
  if (verdict === false || verdict === null) return undefined;
  if (typeof verdict === 'string') return { data: verdict, binary: false };
  if (Buffer.isBuffer(verdict)) return { data: verdict, binary: true };
  if (typeof verdict === 'object' && (typeof verdict.data === 'string' || Buffer.isBuffer(verdict.data))) {
    return { data: verdict.data, binary: verdict.binary ?? Buffer.isBuffer(verdict.data) };
  }
  throw new TypeError('onMessage returned something that is not a verdict: return undefined, false, a string, a Buffer or { data, binary }');
}
