/**
 * The identity a SIP request claims, which authentication must prove: the To user of a REGISTER (the
 * address-of-record being bound, RFC 3261 §10.2), the From user of anything else (§22: the proxy checks
 * who sends). Kamailio's `auth_check()` makes the same comparison with its "check identity" flag.
 */
import { SipSyntaxError } from '../errors.js';
import type { SipRequest } from '../message.js';

/** The user part, unescaped (RFC 3261 §19.1.4 compares userinfo unescaped), or a 400/403 refusal. */
export function assertedUser(request: SipRequest): string | { status: 400 | 403; reason: string } {
  const header = request.method === 'REGISTER' ? 'To' : 'From';
  let uri;
  try {
    uri = (request.method === 'REGISTER' ? request.to : request.from).uri;
  } catch (e) {
    if (e instanceof SipSyntaxError) return { status: 400, reason: e.reason };
    throw e;
  }
  if (uri.type !== 'sip' || uri.user === undefined) return { status: 403, reason: `${header} names no SIP user to authenticate` };
  if (!uri.user.includes('%')) return uri.user; // nothing escaped: no copy to unescape
  try {
    return decodeURIComponent(uri.user);
  } catch {
    return { status: 400, reason: `${header} user has a malformed %-escape` };
  }
}
