import { TOKEN } from './chars.js';
import { fault } from './errors.js';

/**
 * A cursor over one header value whose folds are already undone, so that LWS is plain SP / HTAB. Each step
 * moves forward or fails: no step can loop on the same character.
 */
export class Scanner {
  i: number;
  constructor(
    readonly s: string,
    start = 0,
  ) {
    this.i = start;
  }

  get done(): boolean {
    return this.i >= this.s.length;
  }

  /** The current character code, or -1 at the end. */
  peek(): number {
    return this.i < this.s.length ? this.s.charCodeAt(this.i) : -1;
  }

  /** SWS: skips SP and HTAB; true when it skipped any. */
  ws(): boolean {
    const from = this.i;
    while (this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i);
      if (c !== 32 && c !== 9) break;
      this.i++;
    }
    return this.i > from;
  }

  /** SWS c SWS (SEMI, COMMA, EQUAL, SLASH): true and past it when the next non-space is `c`. */
  sep(c: number): boolean {
    const at = this.i;
    this.ws();
    if (this.peek() !== c) {
      this.i = at;
      return false;
    }
    this.i++;
    this.ws();
    return true;
  }

  expect(c: number, what: string): void {
    if (this.peek() !== c) fault(`expected ${what} at column ${this.i + 1}`);
    this.i++;
  }

  /** 1*token characters. */
  token(what: string): string {
    const from = this.i;
    while (this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i);
      if (c >= 128 || TOKEN[c] !== 1) break;
      this.i++;
    }
    if (this.i === from) fault(`expected ${what} at column ${from + 1}`);
    return this.s.slice(from, this.i);
  }

  /** 1* characters of a table (no escapes), e.g. an IPv6 address's hex digits and colons. */
  run(t: Uint8Array, what: string): string {
    const from = this.i;
    while (this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i);
      if (c >= 128 || t[c] !== 1) break;
      this.i++;
    }
    if (this.i === from) fault(`expected ${what} at column ${from + 1}`);
    return this.s.slice(from, this.i);
  }

  /** quoted-string, returned as written (quotes included): qdtext and quoted-pairs up to the closing DQUOTE. */
  quoted(): string {
    const from = this.i;
    this.expect(34, 'a quoted string');
    while (this.i < this.s.length) {
      const c = this.s.charCodeAt(this.i);
      if (c === 34) {
        this.i++;
        return this.s.slice(from, this.i);
      }
      if (c === 92) {
        const next = this.s.charCodeAt(this.i + 1);
        // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)
        if (!(next <= 0x7f) || next === 10 || next === 13) fault('invalid escape in a quoted string');
        this.i += 2;
      } else {
        if ((c < 32 && c !== 9) || c === 127) fault('control character in a quoted string');
        this.i++;
      }
    }
    return fault('unterminated quoted string');
  }
}

/** The text of a quoted-string without its quotes and backslashes; any other text as it is. */
export function unquote(value: string): string {
  if (value.length < 2 || value.charCodeAt(0) !== 34 || value.charCodeAt(value.length - 1) !== 34) return value;
  const inner = value.slice(1, -1);
  return inner.indexOf('\\') === -1 ? inner : inner.replace(/\\(.)/gs, '$1');
}

/** `text` as a quoted-string: quotes and backslashes escaped. */
export function quote(text: string): string {
  return `"${text.replace(/["\\]/g, '\\$&')}"`;
}
