import { isIP } from 'node:net';
import { allOf, digits, HNVCHAR, isAlpha, PARAMCHAR, PASSWORD, SCHEME, URIC, USER } from './chars.js';
import { fault } from './errors.js';
import { formatParams, NO_PARAMS, type Params } from './params.js';

const NO_HEADERS: ReadonlyArray<readonly [string, string]> = Object.freeze([]);

/** A SIP or SIPS URI (RFC 3261 §19.1): parts as written (escapes kept), parameter names lower-cased. */
export interface SipUri {
  readonly type: 'sip';
  readonly scheme: 'sip' | 'sips';
  readonly user: string | undefined;
  readonly password: string | undefined;
  /** hostname, IPv4 address, or IPv6 reference with its brackets */
  readonly host: string;
  readonly port: number | undefined;
  readonly params: Params;
  /** `?name=value&…`, in order */
  readonly headers: ReadonlyArray<readonly [string, string]>;
}

/** Any other absoluteURI (tel:, urn:, http:, …): the scheme lower-cased and the text as written. */
export interface OtherUri {
  readonly type: 'other';
  readonly scheme: string;
  readonly text: string;
}

export type Uri = SipUri | OtherUri;

/** Parses a URI (no surrounding whitespace or angle brackets); throws ParseError on any fault. */
export function parseUri(s: string): Uri {
  const colon = s.indexOf(':');
  if (colon <= 0 || !isAlpha(s.charCodeAt(0)) || !allOf(s, 1, colon, SCHEME, false)) fault('invalid URI scheme');
  const scheme = s.slice(0, colon).toLowerCase();
  if (scheme !== 'sip' && scheme !== 'sips') {
    if (colon + 1 >= s.length || !allOf(s, colon + 1, s.length, URIC, true)) fault(`invalid ${scheme} URI`);
    return { type: 'other', scheme, text: s };
  }
  return parseSipUri(s, scheme, colon + 1);
}

function parseSipUri(s: string, scheme: 'sip' | 'sips', start: number): SipUri {
  let user: string | undefined;
  let password: string | undefined;
  let i = start;
  const at = s.indexOf('@', start);
  if (at >= 0) {
    if (s.indexOf('@', at + 1) >= 0) fault('more than one @ in a SIP URI');
    const pw = s.indexOf(':', start);
    const userEnd = pw >= 0 && pw < at ? pw : at;
    if (userEnd === start || !allOf(s, start, userEnd, USER, true)) fault('invalid user in a SIP URI');
    user = s.slice(start, userEnd);
    if (userEnd < at) {
      if (!allOf(s, userEnd + 1, at, PASSWORD, true)) fault('invalid password in a SIP URI');
      password = s.slice(userEnd + 1, at);
    }
    i = at + 1;
  }
  let end = i;
  while (end < s.length && s.charCodeAt(end) !== 59 && s.charCodeAt(end) !== 63) end++;
  const { host, port } = hostport(s.slice(i, end));
  const params = s.charCodeAt(end) === 59 ? new Map<string, string | null>() : NO_PARAMS;
  i = end;
  while (i < s.length && s.charCodeAt(i) === 59) {
    let stop = i + 1;
    while (stop < s.length && s.charCodeAt(stop) !== 59 && s.charCodeAt(stop) !== 63) stop++;
    const eq = s.indexOf('=', i + 1);
    const nameEnd = eq >= 0 && eq < stop ? eq : stop;
    if (nameEnd === i + 1 || !allOf(s, i + 1, nameEnd, PARAMCHAR, true)) fault('invalid URI parameter name');
    if (nameEnd < stop && (nameEnd + 1 === stop || !allOf(s, nameEnd + 1, stop, PARAMCHAR, true))) {
      fault('invalid URI parameter value');
    }
    const name = s.slice(i + 1, nameEnd).toLowerCase();
    if (params.has(name)) fault(`URI parameter ${name} appears twice`);
    (params as Map<string, string | null>).set(name, nameEnd < stop ? s.slice(nameEnd + 1, stop) : null);
    i = stop;
  }
  let headers: Array<readonly [string, string]> = NO_HEADERS as Array<readonly [string, string]>;
  if (i < s.length) {
    headers = [];
    // s[i] is "?": headers = "?" header *( "&" header ), header = hname "=" hvalue
    for (const pair of s.slice(i + 1).split('&')) {
      const eq = pair.indexOf('=');
      if (eq <= 0 || !allOf(pair, 0, eq, HNVCHAR, true) || !allOf(pair, eq + 1, pair.length, HNVCHAR, true)) {
        fault('invalid URI header');
      }
      headers.push([pair.slice(0, eq), pair.slice(eq + 1)]);
    }
  }
  return { type: 'sip', scheme, user, password, host, port, params, headers };
}

/** hostport = host [ ":" port ]: a hostname, an IPv4 address or "[" IPv6 "]". */
export function hostport(s: string): { host: string; port: number | undefined } {
  let hostEnd: number;
  if (s.charCodeAt(0) === 91) {
    hostEnd = s.indexOf(']') + 1;
    if (hostEnd === 0 || isIP(s.slice(1, hostEnd - 1)) !== 6) fault('invalid IPv6 reference');
  } else {
    hostEnd = s.indexOf(':');
    if (hostEnd < 0) hostEnd = s.length;
    if (!isHost(s, hostEnd)) fault(hostEnd === 0 ? 'missing host' : `invalid host ${s.slice(0, hostEnd)}`);
  }
  if (hostEnd === s.length) return { host: s, port: undefined };
  if (s.charCodeAt(hostEnd) !== 58) fault('invalid host');
  const port = digits(s.slice(hostEnd + 1), 5);
  if (port < 0 || port > 65535) fault('invalid port');
  return { host: s.slice(0, hostEnd), port };
}

/** hostname = *( domainlabel "." ) toplabel [ "." ] (toplabel starts with a letter), or IPv4address. */
function isHost(s: string, end: number): boolean {
  if (end === 0) return false;
  const last = s.charCodeAt(end - 1) === 46 ? end - 1 : end; // a fully qualified name's final dot
  let labelStart = 0;
  let labels = 0;
  let topAlpha = false;
  let octet = 0;
  let octetsOk = true;
  for (let i = 0; i <= last; i++) {
    const c = i < last ? s.charCodeAt(i) : 46;
    if (c === 46) {
      if (i === labelStart || s.charCodeAt(i - 1) === 45) return false;
      topAlpha = isAlpha(s.charCodeAt(labelStart));
      if (i - labelStart > 3 || octet > 255) octetsOk = false;
      labels++;
      labelStart = i + 1;
      octet = 0;
      continue;
    }
    if (c === 45) {
      if (i === labelStart) return false;
      octetsOk = false;
    } else if (c >= 48 && c <= 57) octet = octet * 10 + (c - 48);
    else if (isAlpha(c)) octetsOk = false;
    else return false;
  }
  if (topAlpha) return true;
  // a numeric top label: an IPv4 address, four labels of 1-3 digits each at most 255, no final dot
  return octetsOk && labels === 4 && last === end;
}

/** The URI as text: a SipUri from its parts, another as written. */
export function formatUri(uri: Uri): string {
  if (uri.type === 'other') return uri.text;
  let s = `${uri.scheme}:`;
  if (uri.user !== undefined) s += uri.password !== undefined ? `${uri.user}:${uri.password}@` : `${uri.user}@`;
  s += uri.host;
  if (uri.port !== undefined) s += `:${uri.port}`;
  s += formatParams(uri.params);
  if (uri.headers.length > 0) s += `?${uri.headers.map(([n, v]) => `${n}=${v}`).join('&')}`;
  return s;
}
