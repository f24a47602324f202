/**
 * Authentication parameters (RFC 9110 §11): `Digest username="alice", nc=00000001, …` in `Authorization`,
 * and the quoted values of challenges. Pure.
 */

/** A parsed `Authorization` header: the scheme (lower case) and its parameters (names in lower case). */
export interface AuthParams {
  readonly scheme: string;
  readonly params: ReadonlyMap<string, string>;
}

const TOKEN = /[!#$%&'*+.^_`|~0-9A-Za-z-]+/y;
const SPACE = /[ \t]*/y;

/**
 * Parses `scheme name=value, name="quoted \"value\"", …`. Undefined when it is not well formed, or when a
 * parameter is repeated (two `nc` values must not let one part of the code check one and another use the other).
 */
export function parseAuthParams(header: string): AuthParams | undefined {
  let i = 0;
  const token = (): string | undefined => {
    TOKEN.lastIndex = i;
    const m = TOKEN.exec(header);
    if (!m) return undefined;
    i = TOKEN.lastIndex;
    return m[0];
  };
  const space = () => {
    SPACE.lastIndex = i;
    SPACE.exec(header);
    i = SPACE.lastIndex;
  };
  const scheme = token();
  if (!scheme || (header[i] !== ' ' && i !== header.length)) return undefined;
  const params = new Map<string, string>();
  space();
  while (i < header.length) {
    const name = token()?.toLowerCase();
    if (!name) return undefined;
    space();
    if (header[i++] !== '=') return undefined;
    space();
    const value = header[i] === '"' ? quotedString() : token();
    if (value === undefined || params.has(name)) return undefined;
    params.set(name, value);
    space();
    if (i === header.length) break;
    if (header[i++] !== ',') return undefined;
    // Empty list elements are allowed (RFC 9110 §5.6.1): `a=1, , b=2`.
    while (header[i] === ',' || header[i] === ' ' || header[i] === '\t') i++;
  }
  return { scheme: scheme.toLowerCase(), params };

  function quotedString(): string | undefined {
    let out = '';
    for (i++; i < header.length; i++) {
      const c = header[i]!;
      if (c === '"') {
        i++;
        return out;
      }
      if (c === '\\') {
        i++;
        if (i >= header.length) return undefined;
        out += header[i];
      } else if (c < ' ' && c !== '\t') {
        return undefined;
      } else {
        out += c;
      }
    }
    return undefined;
  }
}

/** `name="value"`, with `"` and `\` escaped. */
export function authParam(name: string, value: string): string {
  return `${name}="${value.replace(/["\\]/g, '\\$&')}"`;
}
