/**
 * Authentication parameters (RFC 9110 §11): `Digest username="alice", nc=00000001, …` in `Authorization`,
 * and the quoted values of challenges. Pure.
 */
import { isTchar } from '@wsgate/handshake';

/** A parsed `Authorization` header: the scheme (lower case) and its parameters (names in lower case). */
export interface AuthParams {
  readonly scheme: string;
  readonly params: ReadonlyMap<string, string>;
}

const SP = 32;
const HTAB = 9;
const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const EQUALS = 61;

/** The end of the token at `i` (`i` itself when there is none). */
function tokenEnd(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (!isTchar(c)) break;
    i++;
  }
  return i;
}

function skipSpace(s: string, i: number): number {
  while (i < s.length) {
    const c = s.charCodeAt(i);
    if (c !== SP && c !== HTAB) break;
    i++;
  }
  return i;
}

/**
 * Parses `scheme name=value, name="quoted \"value\"", …`. Undefined when it is not well formed, or when a
 * parameter is repeated (two `nc` values must not let one part of the code check one and another use the other).
 * One pass over the value, without a regular-expression match per token or a string per character of a quoted
 * value: it runs on every request a digest module checks (HTTP and SIP), where it was the largest allocator.
 */
export function parseAuthParams(header: string): AuthParams | undefined {
  const n = header.length;
  let i = tokenEnd(header, 0);
  if (i === 0 || (i !== n && header.charCodeAt(i) !== SP)) return undefined;
  const scheme = header.slice(0, i).toLowerCase();
  const params = new Map<string, string>();
  i = skipSpace(header, i);
  while (i < n) {
    const nameEnd = tokenEnd(header, i);
    if (nameEnd === i) return undefined;
    const name = header.slice(i, nameEnd).toLowerCase();
    i = skipSpace(header, nameEnd);
    if (header.charCodeAt(i++) !== EQUALS) return undefined;
    i = skipSpace(header, i);
    let value: string;
    if (header.charCodeAt(i) === QUOTE) {
      // one slice when nothing is escaped (every digest value a UA sends); pieces joined around each quoted-pair
      let start = ++i;
      let out = '';
      for (;;) {
        if (i >= n) return undefined;
        const c = header.charCodeAt(i);
        if (c === QUOTE) break;
        if (c === BACKSLASH) {
          if (i + 1 >= n) return undefined;
          out += header.slice(start, i) + header[i + 1];
          i += 2;
          start = i;
        } else if (c < SP && c !== HTAB) {
          return undefined;
        } else {
          i++;
        }
      }
      value = out + header.slice(start, i);
      i++;
    } else {
      const end = tokenEnd(header, i);
      if (end === i) return undefined;
      value = header.slice(i, end);
      i = end;
    }
    if (params.has(name)) return undefined;
    params.set(name, value);
    i = skipSpace(header, i);
    if (i === n) break;
    if (header.charCodeAt(i++) !== COMMA) return undefined;
    // Empty list elements are allowed (RFC 9110 §5.6.1): `a=1, , b=2`.
    while (i < n) {
      const c = header.charCodeAt(i);
      if (c !== COMMA && c !== SP && c !== HTAB) break;
      i++;
    }
  }
  return { scheme, params };
}

/** `name="value"`, with `"` and `\` escaped. */
export function authParam(name: string, value: string): string {
  return `${name}="${value.replace(/["\\]/g, '\\$&')}"`;
}
