import { COMMA, expectToken, HeaderSyntaxError, isTchar, scanToken, skipOws, unexpected } from './token-list.js';

const HEADER = 'Sec-WebSocket-Extensions';
const SEMICOLON = 0x3b;
const EQUALS = 0x3d;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;

/** One offer of `Sec-WebSocket-Extensions`, in the client's order. */
export interface ExtensionOffer {
  readonly name: string;
  /**
   * Parameters by name; each occurrence in order, `true` for a parameter without a value. A prototype-less
   * object, so a parameter called `__proto__` is just a parameter.
   */
  readonly params: Record<string, Array<string | true>>;
}

/**
 * Parses `Sec-WebSocket-Extensions` by RFC 6455 §9.1, strictly:
 *
 * ```
 * extension-list  = 1#extension
 * extension       = extension-token *( ";" extension-param )
 * extension-param = token [ "=" (token | quoted-string) ]
 * ```
 *
 * with optional whitespace around `,` `;` `=`. A quoted value must, once unescaped, be a token (§9.1).
 * Empty list elements are refused, as `ws` refuses them. The same extension may be offered several times
 * (with different parameters, as fallbacks); each offer is kept.
 *
 * @throws {@link HeaderSyntaxError} with the position of the first offending character
 */
export function parseExtensions(value: string): ExtensionOffer[] {
  const offers: ExtensionOffer[] = [];
  const n = value.length;
  let i = skipOws(value, 0);
  for (;;) {
    const start = i;
    i = expectToken(HEADER, value, i, 'an extension token');
    const params: Record<string, Array<string | true>> = Object.create(null);
    offers.push({ name: value.slice(start, i), params });
    i = skipOws(value, i);
    while (i < n && value.charCodeAt(i) === SEMICOLON) {
      i = skipOws(value, i + 1);
      const nameStart = i;
      i = scanToken(value, i);
      if (i === nameStart) throw unexpected(HEADER, value, i, 'a parameter name');
      const name = value.slice(nameStart, i);
      let paramValue: string | true = true;
      i = skipOws(value, i);
      if (i < n && value.charCodeAt(i) === EQUALS) {
        i = skipOws(value, i + 1);
        if (i < n && value.charCodeAt(i) === DQUOTE) {
          const end = quotedStringEnd(value, i);
          paramValue = unquote(value, i, end);
          i = end;
        } else {
          const valueStart = i;
          i = scanToken(value, i);
          if (i === valueStart) throw unexpected(HEADER, value, i, 'a parameter value');
          paramValue = value.slice(valueStart, i);
        }
        i = skipOws(value, i);
      }
      (params[name] ??= []).push(paramValue);
    }
    if (i === n) return offers;
    if (value.charCodeAt(i) !== COMMA) throw unexpected(HEADER, value, i, '"," or ";"');
    i = skipOws(value, i + 1);
  }
}

/** Index just past the closing quote of the quoted-string opening at `open`. */
function quotedStringEnd(value: string, open: number): number {
  for (let i = open + 1; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === DQUOTE) return i + 1;
    if (c === BACKSLASH) i++;
  }
  throw new HeaderSyntaxError(HEADER, open, 'unterminated quoted-string');
}

/** The unescaped content of the quoted-string `value[open, end)`, which §9.1 requires to be a token. */
function unquote(value: string, open: number, end: number): string {
  let out = '';
  for (let i = open + 1; i < end - 1; i++) {
    if (value.charCodeAt(i) === BACKSLASH) i++;
    if (!isTchar(value.charCodeAt(i))) {
      throw new HeaderSyntaxError(HEADER, i, `${JSON.stringify(value[i])} in a quoted value, which must be a token`);
    }
    out += value[i];
  }
  if (out === '') throw new HeaderSyntaxError(HEADER, open, 'empty quoted value');
  return out;
}
