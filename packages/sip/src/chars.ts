/**
 * Character classes of RFC 3261 §25.1 as lookup tables, so that every check is one array read per character
 * (no regular expression runs over a whole message, none can backtrack).
 */

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function table(chars: string): Uint8Array {
  const t = new Uint8Array(128);
  for (let i = 0; i < chars.length; i++) t[chars.charCodeAt(i)] = 1;
  return t;
}

/** token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") */
export const TOKEN = table(ALNUM + "-.!%*_+`'~");
/** word: token's characters and ( ) < > : \ " / [ ] ? { } (Call-ID) */
export const WORD = table(ALNUM + "-.!%*_+`'~()<>:\\\"/[]?{}");
/** unreserved = alphanum / mark */
const UNRESERVED = ALNUM + "-_.!~*'()";
/** user = 1*( unreserved / escaped / user-unreserved ) */
export const USER = table(UNRESERVED + '&=+$,;?/');
/** password = *( unreserved / escaped / "&" / "=" / "+" / "$" / "," ) */
export const PASSWORD = table(UNRESERVED + '&=+$,');
/** paramchar = param-unreserved / unreserved / escaped */
export const PARAMCHAR = table(UNRESERVED + '[]/:&+$');
/** hname, hvalue: hnv-unreserved / unreserved / escaped */
export const HNVCHAR = table(UNRESERVED + '[]/?:+$');
/** uric = reserved / unreserved / escaped (absoluteURI of other schemes) */
export const URIC = table(UNRESERVED + ';/?:@&=+$,');
/** scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) */
export const SCHEME = table(ALNUM + '+-.');
/** Reason-Phrase's ASCII: reserved / unreserved / escaped / SP / HTAB (UTF-8 beyond ASCII is allowed too). */
export const REASON = table(UNRESERVED + ';/?:@&=+$,% \t');
/** token68 (RFC 7235 §2.1, the Bearer credentials of RFC 8898) */
export const TOKEN68 = table(ALNUM + '-._~+/');

export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

export function isAlpha(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

export function isAlnum(c: number): boolean {
  return isDigit(c) || isAlpha(c);
}

function isHex(c: number): boolean {
  return isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/** True when s[start, end) is made of the table's characters (escaped = "%" HEX HEX allowed when `escapes`). */
export function allOf(s: string, start: number, end: number, t: Uint8Array, escapes: boolean): boolean {
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 37 && escapes) {
      if (i + 2 >= end || !isHex(s.charCodeAt(i + 1)) || !isHex(s.charCodeAt(i + 2))) return false;
      i += 2;
    } else if (c >= 128 || t[c] !== 1) return false;
  }
  return true;
}

/** 1*DIGIT with at most `maxDigits` after any leading zeros, as a number; -1 when it is not one. */
export function digits(s: string, maxDigits: number): number {
  let start = 0;
  while (start < s.length - 1 && s.charCodeAt(start) === 48) start++;
  if (s.length === 0 || s.length - start > maxDigits) return -1;
  let n = 0;
  for (let i = start; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!isDigit(c)) return -1;
    n = n * 10 + (c - 48);
  }
  return n;
}

/**
 * A header line's control characters: CR and LF never (they end lines), the others (NUL…, DEL) only as a
 * quoted-pair inside a quoted-string (`\` then the character), which RFC 3261 allows. HTAB is whitespace.
 */
export function controlCharsAllowed(line: string): boolean {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (quoted && c === 92) {
      const next = line.charCodeAt(i + 1);
      if (next === 10 || next === 13 || Number.isNaN(next)) return false;
      i++;
    } else if (c === 34) quoted = !quoted;
    else if ((c < 32 && c !== 9) || c === 127) return false;
  }
  return true;
}

/** Any C0 control character but HTAB, or DEL: a cheap test before the exact one above. */
export const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;
