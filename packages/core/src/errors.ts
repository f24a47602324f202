import { type ReplyHeaders } from './vocabulary.js';
/**
 * The two error channels (docs/design.md convention 3).
 * - `WsgateError`: misconfiguration or API misuse, raised at start-up with a stable code and a message that
 *   says how to fix it.
 * - `HttpError`: a request failure; the pipeline turns it into a reply with its status and reason.
 */

/** Stable codes: tests and operators match on these, never on message text. */
export type WsgateErrorCode =
  | 'WSGATE_CONFIG_INVALID'
  | 'WSGATE_CONFIG_UNREADABLE'
  | 'WSGATE_TLS_FILE'
  | 'WSGATE_SCRIPT_UNREADABLE'
  | 'WSGATE_SCRIPT_INVALID'
  | 'WSGATE_LISTEN'
  | 'WSGATE_ACTION_TWICE'
  | 'WSGATE_API_MISUSE'
  /** A credentials file (htpasswd, htdigest) cannot be read or has bad lines. */
  | 'WSGATE_CREDENTIALS_FILE'
  /** A log file (the access log) cannot be opened. */
  | 'WSGATE_LOG_FILE'
  /** The shared store (Redis) cannot be reached, or did not answer in time: at start, or on a call. */
  | 'WSGATE_STORE_UNAVAILABLE'
  /** Another gateway of the shared connection directory did not answer a command (close, ping, send) in time. */
  | 'WSGATE_NODE_UNANSWERED';

export class WsgateError extends Error {
  override readonly name = 'WsgateError';
  constructor(
    readonly code: WsgateErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** A request failure that becomes a reply: `throw new HttpError(413, 'Body larger than 1 MiB')`. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    readonly reason: string,
    /** An array value is written as one header line per value. */
    readonly headers: ReplyHeaders = {},
  ) {
    super(`${status} ${reason}`);
  }
}
