/**
 * What the registrar and the proxy ask of an authenticator (the SIP service contract, issue 14): who sent
 * this request, or the answer to send instead. `sipDigest()` is one; an application may write its own.
 */
import type { Connection } from '@wsgate/core';
import type { SipRequest } from '../message.js';

/** The authenticated user, or the refusal to answer with (401/407 with challenges, 400, 403, 500). */
export type SipAuthResult =
  | { readonly user: string }
  | { readonly status: number; readonly reason: string; readonly headers: ReadonlyArray<readonly [string, string]> };

export interface SipAuthenticator {
  /**
   * Authenticates `request`, received on `conn`. Never rejects: a failure is a result to answer with.
   * 'www': REGISTER at the registrar (401, WWW-Authenticate/Authorization);
   * 'proxy': requests the proxy forwards (407, Proxy-Authenticate/Proxy-Authorization). ACK and CANCEL
   * cannot be challenged (RFC 3261 §22.1): the proxy does not ask for them.
   */
  authenticate(conn: Connection, request: SipRequest, as: 'www' | 'proxy'): Promise<SipAuthResult>;
  /**
   * Whether `user` has credentials here at all: the proxy answers a call to an unregistered user 404 when it
   * does not, 480 when it does (RFC 3261 §21.4.5, §21.4.18). Optional: without it every user counts as known.
   */
  knows?(user: string): Promise<boolean>;
  /** Lets go of what it holds (the store it made for itself). */
  close(): void;
}
