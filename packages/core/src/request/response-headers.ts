/**
 * The headers a route puts on a reply, and the check that they can be written as given.
 */
import { isFieldValue, isToken } from '@wsgate/handshake';
import { WsgateError } from '../errors.js';
import type { ReplyHeaders } from '../vocabulary.js';



/**
 * Checks headers a route handed to `caller` (`req.reply()`, `req.refuse()`), so that a bad one fails in the
 * route that wrote it, named, rather than as a dropped connection when the reply is written.
 * @throws {WsgateError} `WSGATE_API_MISUSE` naming the header: a name that is not a token, a value that is not
 *   a string or list of strings, or a value with CR, LF or another control character (response splitting).
 */
export function checkReplyHeaders(caller: string, headers: ReplyHeaders): void {
  for (const name in headers) {
    if (!isToken(name)) {
      throw new WsgateError('WSGATE_API_MISUSE', `${caller}: ${JSON.stringify(name)} is not a valid header name: use letters, digits and - only`);
    }
    const value: unknown = headers[name];
    if (typeof value === 'string') checkValue(caller, name, value);
    else if (Array.isArray(value)) for (const one of value as unknown[]) checkValue(caller, name, one);
    else throw misuse(caller, name, `must be a string or a list of strings, got ${typeof value}`);
  }
}

function checkValue(caller: string, name: string, value: unknown): void {
  if (typeof value !== 'string') throw misuse(caller, name, `must be a string or a list of strings, got a list holding a ${typeof value}`);
  if (!isFieldValue(value)) {
    throw misuse(caller, name, 'must not contain CR, LF or other control characters: give each line as its own array element');
  }
}

const misuse = (caller: string, name: string, what: string) => new WsgateError('WSGATE_API_MISUSE', `${caller}: header ${name} ${what}`);
