import { allOf, digits, TOKEN68, WORD } from './chars.js';
import { fault } from './errors.js';
import { type Params, readParams } from './params.js';
import { Scanner, unquote } from './scanner.js';

/** The smaller header values: CSeq, Call-ID, numbers, Content-Type, credentials and challenges. */

export interface CSeq {
  readonly seq: number;
  readonly method: string;
}

/** CSeq = 1*DIGIT LWS Method, the number below 2^31 (RFC 3261 §8.1.1.5). */
export function parseCSeq(value: string): CSeq {
  const sc = new Scanner(value);
  const from = sc.i;
  while (sc.peek() >= 48 && sc.peek() <= 57) sc.i++;
  const seq = digits(value.slice(from, sc.i), 10);
  if (seq < 0 || seq >= 2 ** 31) fault('invalid sequence number');
  if (!sc.ws()) fault('expected a space before the method');
  const method = sc.token('the method');
  if (!sc.done) fault(`unexpected text at column ${sc.i + 1}`);
  return { seq, method };
}

/** Call-ID = word [ "@" word ] */
export function checkCallId(value: string): void {
  const at = value.indexOf('@');
  const end = at < 0 ? value.length : at;
  if (end === 0 || !allOf(value, 0, end, WORD, false)) fault('invalid Call-ID');
  if (at >= 0 && (at + 1 === value.length || !allOf(value, at + 1, value.length, WORD, false))) {
    fault('invalid Call-ID');
  }
}

/** A decimal field of at most `maxDigits` digits and at most `max`. */
export function parseNumber(value: string, max: number, maxDigits: number, what: string): number {
  const n = digits(value, maxDigits);
  if (n < 0 || n > max) fault(`invalid ${what}`);
  return n;
}

/** media-type = m-type SLASH m-subtype *( SEMI m-parameter ); type and subtype lower-cased. */
export interface MediaType {
  readonly type: string;
  readonly subtype: string;
  readonly params: Params;
}

export function parseMediaType(value: string): MediaType {
  const sc = new Scanner(value);
  const type = sc.token('the media type').toLowerCase();
  if (!sc.sep(47)) fault('expected / in the media type');
  const subtype = sc.token('the media subtype').toLowerCase();
  const params = readParams(sc);
  sc.ws();
  if (!sc.done) fault(`unexpected text at column ${sc.i + 1}`);
  return { type, subtype, params };
}

/**
 * Authorization / Proxy-Authorization credentials and WWW-Authenticate / Proxy-Authenticate challenges
 * (RFC 3261 §25.1): a scheme, then `name=value` pairs separated by commas (names lower-cased, values
 * unquoted), or a token68 (RFC 8898 Bearer).
 */
export interface AuthValue {
  readonly scheme: string;
  readonly params: ReadonlyMap<string, string>;
  readonly token68: string | undefined;
}

export function parseAuth(value: string): AuthValue {
  const sc = new Scanner(value);
  const scheme = sc.token('the auth scheme');
  const params = new Map<string, string>();
  if (!sc.ws()) fault('expected a space after the auth scheme');
  const from = sc.i;
  const token68 = tryToken68(sc);
  if (token68 !== undefined) return { scheme, params, token68 };
  sc.i = from;
  do {
    const name = sc.token('an auth parameter').toLowerCase();
    if (!sc.sep(61)) fault(`expected = after ${name}`);
    const v = sc.peek() === 34 ? unquote(sc.quoted()) : sc.token(`a value for ${name}`);
    if (params.has(name)) fault(`auth parameter ${name} appears twice`);
    params.set(name, v);
  } while (sc.sep(44));
  sc.ws();
  if (!sc.done) fault(`unexpected text at column ${sc.i + 1}`);
  return { scheme, params, token68: undefined };
}

/** token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=", and nothing after it. */
function tryToken68(sc: Scanner): string | undefined {
  const from = sc.i;
  while (sc.i < sc.s.length && TOKEN68[sc.s.charCodeAt(sc.i)] === 1) sc.i++;
  if (sc.i === from) return undefined;
  while (sc.peek() === 61) sc.i++;
  const end = sc.i;
  sc.ws();
  return sc.done ? sc.s.slice(from, end) : undefined;
}

/** A header value that is a list of tokens (Allow, Supported, Require …), split at commas. */
export function parseTokenList(value: string): string[] {
  if (value === '') return [];
  const sc = new Scanner(value);
  const list: string[] = [];
  do {
    sc.ws();
    list.push(sc.token('a token'));
  } while (sc.sep(44));
  sc.ws();
  if (!sc.done) fault(`unexpected text at column ${sc.i + 1}`);
  return list;
}
