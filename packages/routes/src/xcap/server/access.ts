/**
 * Who may do what (RFC 4825 §5.7, RFC 4826 §3.4.8): a user reads and writes only the documents under their own
 * XUIs; global documents are read by anyone and written by administrators only; administrators may do anything.
 */
import type { RequestContext } from '@wsgate/core';
import { isThenable } from '@wsgate/core';
import type { XcapUri } from '../uri.js';
import { XcapError } from '../xcap-error.js';
import type { XcapSettings } from './options.js';

/** The guard took its refusal action (401 with a challenge): the route only returns. */
export const REFUSED = Symbol('refused');

/**
 * Checks the request against `uri`; resolves with the authenticated user (undefined for an anonymous read of a
 * global document), or REFUSED when the auth guard refused.
 * @throws XcapError 403 for a request nobody authenticated (no `auth` guard) or that reaches another user's or a
 *   global document it may not write
 */
export async function authorize(req: RequestContext<any>, uri: XcapUri, write: boolean, s: XcapSettings): Promise<string | undefined | typeof REFUSED> {
  if (uri.scope === 'global' && !write) return undefined;
  let user = req.get(s.attribute) as unknown;
  if (user === undefined && s.auth !== undefined) {
    const answer = s.auth.check(req);
    if (!(isThenable(answer) ? await answer : answer)) return REFUSED;
    user = req.get(s.attribute);
  }
  if (typeof user !== 'string' || user === '') throw new XcapError(403, 'no authenticated user for this XCAP request');
  if (s.admins.has(user)) return user;
  if (uri.scope === 'global') throw new XcapError(403, `global documents are read-only; "${user}" is not an administrator`);
  if (!s.xuis(user).includes(uri.xui!)) throw new XcapError(403, `"${user}" may not access the documents of ${JSON.stringify(uri.xui)}`);
  return user;
}
