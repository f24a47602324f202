/**
 * The request target (RFC 9112 §3.2), parsed, and its path normalised the way nginx does before it matches
 * locations (docs/design.md convention 1: pure, and an error says where the target went wrong). Routes match
 * on the normalised path and a proxy sends that same path upstream, so that no `//`, dot segment or
 * percent-encoding can make the gateway and the upstream see two different paths:
 * - empty segments are merged (`merge_slashes`) and `.` and `..` segments resolved, percent-encoded ones too;
 *   `..` above the root is refused;
 * - unreserved characters are decoded (`%61` → `a`, RFC 3986 §6.2.2.2); every other escape stays encoded, in
 *   upper case, so that `%2F` is never a separator and `%3F` never a query;
 * - characters a path may not hold (`\`, `"`, `{`…) are percent-encoded; spaces, controls, a fragment, `%00`,
 *   bad escapes and characters outside ASCII are refused (node's parser refuses most of them already).
 * An absolute-form target (`http://host/path`) gives its authority, which stands for the Host header
 * (RFC 9112 §3.2.2), and is sent upstream in origin-form.
 */

/** Why a request target is refused: the gateway answers 400 with this message. */
export class TargetSyntaxError extends Error {
  override readonly name = 'TargetSyntaxError';
  constructor(
    readonly problem: string,
    /** Index in the request target where the problem is. */
    readonly position: number,
  ) {
    super(`${problem} (character ${position} of the request target)`);
  }
}

export interface RequestTarget {
  /** `host[:port]` of an absolute-form target; undefined for origin-form. */
  readonly authority: string | undefined;
  /** The path, normalised (`/`-rooted); `*` for `OPTIONS *`. */
  readonly path: string;
  /** The query with its `?`, as received; empty when there is none. */
  readonly search: string;
  /** Path and query: the origin-form target a proxy sends upstream. */
  readonly originForm: string;
}

/** Not a plain path: anything but unreserved characters other than `.`, sub-delims, `:`, `@` and `/`, or a `//`. */
const NOT_PLAIN = /[^\w\-~!$&'()*+,;=:@/]|\/\//;
/** scheme "://" authority, then the rest (RFC 3986 §3). */
const ABSOLUTE = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)/;
/** A host name or an IP literal, and an optional port: what may stand for a Host header. */
const AUTHORITY = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~-]+)(?::[0-9]{0,5})?$/;
const SCHEMES = new Set(['http', 'https', 'ws', 'wss']);
const HEX = '0123456789ABCDEF';

/** 1: an unreserved character (decoded from an escape); 2: another character a path may hold as it is. */
const PCHAR = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~') PCHAR[c.charCodeAt(0)] = 1;
for (const c of "!$&'()*+,;=:@") PCHAR[c.charCodeAt(0)] = 2;

/**
 * Parses a request target as the request line gave it.
 * @throws {TargetSyntaxError} for a target the gateway does not take, with where it went wrong.
 */
export function parseRequestTarget(target: string, method: string): RequestTarget {
  if (target.charCodeAt(0) === 47) return originForm(target, 0, undefined);
  const absolute = ABSOLUTE.exec(target);
  if (absolute) {
    const scheme = absolute[1]!.toLowerCase();
    if (!SCHEMES.has(scheme)) throw new TargetSyntaxError(`the scheme "${absolute[1]}" is not served here: use http or https`, 0);
    const authority = absolute[2]!;
    const at = absolute[0].length - authority.length;
    if (authority.includes('@')) throw new TargetSyntaxError('userinfo (user@) has no place in a request target', at);
    if (!AUTHORITY.test(authority)) throw new TargetSyntaxError('the absolute-form target names no valid host[:port]', at);
    const rest = absolute[0].length;
    const next = target.charCodeAt(rest);
    // An empty path is sent as "/" (RFC 9112 §3.2.1); the authority ends at "/", "?", "#" or the end.
    if (next === 47) return originForm(target.slice(rest), rest, authority);
    if (next === 35) throw charProblem(next, rest);
    return originForm(`/${target.slice(rest)}`, rest - 1, authority);
  }
  if (target === '*') {
    if (method !== 'OPTIONS') throw new TargetSyntaxError('the asterisk-form (*) is for OPTIONS only', 0);
    return { authority: undefined, path: '*', search: '', originForm: '*' };
  }
  throw new TargetSyntaxError('a request target is a path (/…), an absolute URL (http://host/…) or *', 0);
}

/** `target` is `/`-rooted path and query; `at` is where it starts in the request target, for error positions. */
function originForm(target: string, at: number, authority: string | undefined): RequestTarget {
  const q = target.indexOf('?');
  const raw = q < 0 ? target : target.slice(0, q);
  const search = q < 0 ? '' : target.slice(q);
  // The query is passed on as it came; node's parser has refused spaces, controls and non-ASCII in it already.
  const hash = search.indexOf('#');
  if (hash >= 0) throw charProblem(35, at + q + hash);
  // The common plain path costs one regex test, as before normalisation.
  if (!NOT_PLAIN.test(raw)) return { authority, path: raw, search, originForm: target };
  const path = normalizePath(raw, at);
  return { authority, path, search, originForm: path + search };
}

/** The path normalised (see the file's comment); `path` starts with `/`. */
function normalizePath(path: string, at: number): string {
  const segments: string[] = [];
  let segment = '';
  let start = 1;
  let directory = true;
  for (let i = 1; i <= path.length; i++) {
    const code = i < path.length ? path.charCodeAt(i) : 47;
    if (code === 47) {
      directory = addSegment(segments, segment, at + start);
      segment = '';
      start = i + 1;
    } else if (code === 37) {
      const byte = (hexValue(path.charCodeAt(i + 1)) << 4) | hexValue(path.charCodeAt(i + 2));
      if (byte < 0) throw new TargetSyntaxError('invalid percent-encoding: "%" must be followed by two hex digits', at + i);
      if (byte === 0) throw new TargetSyntaxError('an encoded NUL (%00) in the path', at + i);
      segment += PCHAR[byte] === 1 ? String.fromCharCode(byte) : `%${HEX[byte >> 4]}${HEX[byte & 15]}`;
      i += 2;
    } else if (code < 128 && PCHAR[code] !== 0) {
      segment += path[i];
    } else if (code > 32 && code < 127 && code !== 35) {
      segment += `%${HEX[code >> 4]}${HEX[code & 15]}`;
    } else {
      throw charProblem(code, at + i);
    }
  }
  return segments.length === 0 ? '/' : `/${segments.join('/')}${directory ? '/' : ''}`;
}

/** Adds one decoded segment; true when the path so far names a directory (ends in `/`, `.` or `..`). */
function addSegment(segments: string[], segment: string, position: number): boolean {
  if (segment === '' || segment === '.') return true;
  if (segment === '..') {
    if (segments.pop() === undefined) throw new TargetSyntaxError('the path climbs above the root with ".."', position);
    return true;
  }
  segments.push(segment);
  return false;
}

/** 0–15, or a negative number that makes the decoded byte negative. */
function hexValue(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  const lower = code | 32;
  return lower >= 97 && lower <= 102 ? lower - 87 : -256;
}

function charProblem(code: number, position: number): TargetSyntaxError {
  if (code === 35) return new TargetSyntaxError('a fragment (#) has no place in a request target', position);
  if (code > 127) return new TargetSyntaxError('a character outside ASCII: percent-encode it', position);
  return new TargetSyntaxError('a space or control character in the request target', position);
}
