/**
 * Where cookie tokens are checked: a directory of token files (the source documents' nginx setup), memory
 * with a TTL (on a core `Store`, so Redis later), or signed tokens that carry their own expiry.
 */
import { sha256 } from '../../kit/secure-compare.js';

/** What a valid token stands for. */
export interface TokenInfo {
  /**
   * A stable id for the token, recorded as a request (and connection) attribute so that revoking the token
   * can find the connections it opened. Never the token itself: attributes show up in listings and hooks.
   */
  readonly id: string;
  /** Whom the token was issued to, when the store knows. */
  readonly subject?: string;
  /** When it stops being valid (ms since the epoch), when the store knows. */
  readonly expiresAt?: number;
}

export interface TokenStore {
  /**
   * The token's info when it is valid now; undefined otherwise. Never throws for a bad token. At once when no
   * I/O is needed (a malformed token, one the store remembers), through a promise otherwise; that promise
   * rejects with `WSGATE_STORE_UNAVAILABLE` while a shared store is out of reach.
   */
  verify(token: string): TokenInfo | undefined | Promise<TokenInfo | undefined>;
  /**
   * What can be told of the token without the store it keeps its state in, for a `cookieToken()` with
   * `onStoreUnavailable: 'open'` while that store is out of reach: signed tokens check their signature and
   * expiry (only a revocation goes unseen), opaque tokens only their form. Absent: such a cookieToken refuses.
   */
  unchecked?(token: string): TokenInfo | undefined;
  /**
   * Makes the token invalid from now on. Resolves with its id (also when it was already invalid, so that
   * the connections it opened can still be found), or undefined when it is not a well-formed token. Rejects
   * with `WSGATE_STORE_UNAVAILABLE` while a shared store is out of reach: nothing is revoked; try again.
   */
  revoke(token: string): Promise<string | undefined>;
  /** Frees what the store holds. */
  close(): Promise<void>;
}

/**
 * Opaque tokens, as stores keep them: 16 to 128 characters of `A–Z a–z 0–9 _ -` (base64url). Anything else
 * (`/`, `..`, NUL, `%`, spaces) is refused before it reaches a file name or a store key.
 */
export const OPAQUE_TOKEN = /^[A-Za-z0-9_-]{16,128}$/;

/** The id of an opaque token: a hash, so that the token cannot be read back from where the id is shown. */
export function opaqueTokenId(token: string): string {
  return sha256(`wsgate-token\0${token}`).subarray(0, 16).toString('base64url');
}
