/**
 * HTTP list syntax (RFC 9110 §5.6): the `tchar` class, the `#token` list, and the error every header parser
 * in this package throws. Positions are 0-based indexes into the header value as node delivered it (trimmed,
 * repeated fields joined with ", ").
 */

/**
 * A header value that does not follow its grammar. `position` is the 0-based index of the offending
 * character (the value's length for an unexpected end).
 */
export class HeaderSyntaxError extends SyntaxError {
  override readonly name = 'HeaderSyntaxError';
  constructor(
    /** The header's name, as it should appear in a reason: `Sec-WebSocket-Protocol`. */
    readonly header: string,
    readonly position: number,
    /** What went wrong at `position`, e.g. `unexpected ";"`. */
    readonly detail: string,
  ) {
    super(`Invalid ${header} header at position ${position}: ${detail}`);
  }
}

// RFC 9110 §5.6.2: tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" /
// "~" / DIGIT / ALPHA. A lookup table because this runs on every handshake.
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") {
  TCHAR[c.charCodeAt(0)] = 1;
}

export const SP = 0x20;
export const HTAB = 0x09;
export const COMMA = 0x2c;

/** True for a character allowed in an RFC 9110 token. */
export function isTchar(code: number): boolean {
  return code < 128 && TCHAR[code] === 1;
}

/** True when the whole string is a non-empty RFC 9110 token. */
// RFC 9110 §5.5 field-value characters (node's own check): no CR, LF or other control but HTAB.
const INVALID_FIELD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;

/** Can `value` be sent as a header field value as it is (no CR, LF or other control character but HTAB)? */
export function isFieldValue(value: string): boolean {
  return !INVALID_FIELD_VALUE.test(value);
}

export function isToken(value: string): boolean {
  if (value.length === 0) return false;
  for (let i = 0; i < value.length; i++) if (!isTchar(value.charCodeAt(i))) return false;
  return true;
}

/** Index of the first character at or after `i` that is not optional whitespace. */
export function skipOws(value: string, i: number): number {
  while (i < value.length) {
    const c = value.charCodeAt(i);
    if (c !== SP && c !== HTAB) break;
    i++;
  }
  return i;
}

/** Index just past the run of token characters starting at `i` (`i` itself when there is none). */
export function scanToken(value: string, i: number): number {
  while (i < value.length && isTchar(value.charCodeAt(i))) i++;
  return i;
}

/** The error for the character at `i` (or the end of input), with an optional hint of what was expected. */
/**
 * Scans the token that must start at `i` in a list element; returns where it ends. An element with no token
 * throws: "empty element" before a comma, otherwise what was found instead of `expected`.
 */
export function expectToken(header: string, value: string, i: number, expected: string): number {
  const end = scanToken(value, i);
  if (end > i) return end;
  if (i < value.length && value.charCodeAt(i) === COMMA) throw new HeaderSyntaxError(header, i, 'empty element');
  throw unexpected(header, value, i, expected);
}

export function unexpected(header: string, value: string, i: number, expected?: string): HeaderSyntaxError {
  const found = i >= value.length ? 'unexpected end of input' : `unexpected ${JSON.stringify(value[i])}`;
  return new HeaderSyntaxError(header, i, expected === undefined ? found : `${found}, expected ${expected}`);
}

/** Options of {@link parseTokenList}. */
export interface TokenListOptions {
  /**
   * Accept `token "/" token` elements (RFC 9110 §7.8 `protocol = protocol-name ["/" protocol-version]`),
   * as the `Upgrade` header carries: `websocket, h2c/1`. Elements are returned whole (`h2c/1`).
   */
  readonly product?: boolean;
}

/**
 * Parses an HTTP `#token` list such as `Connection: keep-alive, Upgrade`.
 *
 * Empty elements (`a,,b`, a leading or trailing comma) are ignored, as RFC 9110 §5.6.1 asks of recipients;
 * anything that is not a token, optional whitespace or a comma is refused. Case is preserved: compare
 * case-insensitively where the header's semantics say so.
 *
 * @param value - the header value
 * @param what - the header's name, used in the error message
 * @throws {@link HeaderSyntaxError} with the position of the first offending character
 */
export function parseTokenList(value: string, what: string, options?: TokenListOptions): string[] {
  const product = options?.product === true;
  const out: string[] = [];
  const n = value.length;
  let i = 0;
  while (i < n) {
    const c = value.charCodeAt(i);
    if (c === SP || c === HTAB || c === COMMA) {
      i++;
      continue;
    }
    const start = i;
    i = scanToken(value, i);
    if (i === start) throw unexpected(what, value, i);
    if (product && i < n && value.charCodeAt(i) === 0x2f /* / */) {
      const version = i + 1;
      i = scanToken(value, version);
      if (i === version) throw unexpected(what, value, i, 'a protocol version');
    }
    out.push(value.slice(start, i));
    i = skipOws(value, i);
    if (i < n) {
      if (value.charCodeAt(i) !== COMMA) throw unexpected(what, value, i, '","');
      i++;
    }
  }
  return out;
}

/** A received value quoted for a reason text: JSON-escaped and cut short, since it echoes client input. */
export function quote(value: string, max = 64): string {
  return JSON.stringify(value.length > max ? `${value.slice(0, max)}…` : value);
}
