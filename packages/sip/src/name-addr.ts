import { digits, TOKEN } from './chars.js';
import { fault } from './errors.js';
import { formatParams, type Params, readParams } from './params.js';
import { Scanner, unquote } from './scanner.js';
import { formatUri, parseUri, type Uri } from './uri.js';

/**
 * name-addr or addr-spec with its header parameters (From, To, Contact, Route, Record-Route, Path …).
 * `displayName` is as written (a quoted one keeps its quotes; `unquote()` reads it); `bracketed` tells whether
 * the URI was in angle brackets.
 */
export interface NameAddr {
  readonly displayName: string | undefined;
  readonly uri: Uri;
  readonly bracketed: boolean;
  readonly params: Params;
}

/** A Contact value: a NameAddr with its registration parameters read (RFC 3261 §20.10, RFC 5626). */
export interface Contact extends NameAddr {
  /** expires=delta-seconds */
  readonly expires: number | undefined;
  /** q=qvalue, 0 to 1 */
  readonly q: number | undefined;
  /** +sip.instance, unquoted (e.g. `<urn:uuid:…>`) */
  readonly instance: string | undefined;
  /** reg-id, 1 to 2^31-1 */
  readonly regId: number | undefined;
}

/** The tag parameter of a From or To value. */
export function tagOf(value: NameAddr): string | undefined {
  return value.params.get('tag') ?? undefined;
}

function isTokenChar(c: number): boolean {
  return c < 128 && TOKEN[c] === 1;
}

/** One name-addr / addr-spec and its parameters, from the scanner's position. */
export function readNameAddr(sc: Scanner, needBrackets: boolean): NameAddr {
  sc.ws();
  let displayName: string | undefined;
  const from = sc.i;
  if (sc.peek() === 34) {
    displayName = sc.quoted();
    sc.ws();
  } else if (sc.peek() !== 60) {
    // *(token LWS) before "<", or an addr-spec: tokens stop at the scheme's ":"
    while (isTokenChar(sc.peek()) || sc.peek() === 32 || sc.peek() === 9) sc.i++;
    if (sc.peek() === 60) displayName = sc.s.slice(from, sc.i).trimEnd() || undefined;
    else sc.i = from;
  }
  let uri: Uri;
  let bracketed = false;
  if (sc.peek() === 60) {
    const close = sc.s.indexOf('>', sc.i);
    if (close < 0) fault('missing > after a URI');
    uri = parseUri(sc.s.slice(sc.i + 1, close));
    sc.i = close + 1;
    bracketed = true;
  } else {
    if (displayName !== undefined) fault('expected < after the display name');
    if (needBrackets) fault('expected a URI in angle brackets');
    // addr-spec: a URI with ",", "?" or ";" must be in brackets (RFC 3261 §20), so it ends at them
    let end = sc.i;
    while (end < sc.s.length) {
      const c = sc.s.charCodeAt(end);
      if (c === 59 || c === 44 || c === 32 || c === 9) break;
      end++;
    }
    const text = sc.s.slice(sc.i, end);
    if (text.includes('?')) fault('a URI with headers must be in angle brackets');
    uri = parseUri(text);
    sc.i = end;
  }
  return { displayName, uri, bracketed, params: readParams(sc) };
}

/** A header value holding exactly one name-addr (From, To, Refer-To …). */
export function parseNameAddr(value: string): NameAddr {
  const sc = new Scanner(value);
  const v = readNameAddr(sc, false);
  sc.ws();
  if (!sc.done) fault(`unexpected text at column ${sc.i + 1}`);
  return v;
}

/** A comma-separated list of name-addrs (Route, Record-Route, Path: brackets required when `needBrackets`). */
export function parseNameAddrList(value: string, needBrackets: boolean): NameAddr[] {
  const sc = new Scanner(value);
  const list: NameAddr[] = [];
  do list.push(readNameAddr(sc, needBrackets));
  while (sc.sep(44));
  sc.ws();
  if (!sc.done) fault(`unexpected text at column ${sc.i + 1}`);
  return list;
}

/** qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) */
function qvalue(v: string): number {
  const n = Number(v);
  if (!/^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(v) || !(n >= 0 && n <= 1)) fault(`invalid q ${v}`);
  return n;
}

/** Contact values: `*`, or name-addrs with expires, q, +sip.instance and reg-id checked. */
export function parseContacts(value: string): Contact[] | '*' {
  if (value === '*') return '*';
  return parseNameAddrList(value, false).map((v) => {
    const expires = v.params.get('expires');
    const q = v.params.get('q');
    const instance = v.params.get('+sip.instance');
    const regId = v.params.get('reg-id');
    return {
      displayName: v.displayName,
      uri: v.uri,
      bracketed: v.bracketed,
      params: v.params,
      expires: expires === undefined ? undefined : deltaSeconds(expires, 'expires'),
      q: q === undefined ? undefined : qvalue(q ?? ''),
      instance: instance === undefined || instance === null ? undefined : unquote(instance),
      regId: regId === undefined ? undefined : regIdOf(regId),
    };
  });
}

function regIdOf(v: string | null): number {
  const n = digits(v ?? '', 10);
  if (n < 1 || n > 2 ** 31 - 1) fault(`invalid reg-id ${v}`);
  return n;
}

/** delta-seconds = 1*DIGIT, at most 2^32-1 (RFC 3261 §20.19). */
export function deltaSeconds(v: string | null, what: string): number {
  const n = digits(v ?? '', 10);
  if (n < 0 || n > 2 ** 32 - 1) fault(`invalid ${what} ${v}`);
  return n;
}

/** `"name" <uri>;params` from parts: brackets always, so any URI is safe in any header. */
export function formatNameAddr(v: { displayName?: string | undefined; uri: Uri; params?: Params }): string {
  const name = v.displayName === undefined ? '' : `${v.displayName} `;
  return `${name}<${formatUri(v.uri)}>${formatParams(v.params)}`;
}
