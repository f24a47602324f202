import { describe, expect, it } from 'vitest';
import { HeaderSyntaxError, isToken, parseTokenList } from './token-list.js';

function syntaxError(fn: () => unknown): HeaderSyntaxError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HeaderSyntaxError);
    return err as HeaderSyntaxError;
  }
  throw new Error('expected a HeaderSyntaxError');
}

describe('parseTokenList', () => {
  it('splits on commas with optional whitespace, keeping case', () => {
    expect(parseTokenList('keep-alive, Upgrade', 'Connection')).toEqual(['keep-alive', 'Upgrade']);
    expect(parseTokenList('a,b\t,\tc', 'Connection')).toEqual(['a', 'b', 'c']);
    expect(parseTokenList('Upgrade', 'Connection')).toEqual(['Upgrade']);
  });
  it('tolerates empty elements, as RFC 9110 §5.6.1 asks', () => {
    expect(parseTokenList(', a ,, b,', 'Connection')).toEqual(['a', 'b']);
    expect(parseTokenList('', 'Connection')).toEqual([]);
    expect(parseTokenList(' , ', 'Connection')).toEqual([]);
  });
  it('refuses a non-token character with its position', () => {
    const err = syntaxError(() => parseTokenList('keep-alive; x', 'Connection'));
    expect(err.header).toBe('Connection');
    expect(err.position).toBe(10);
    expect(err.message).toBe('Invalid Connection header at position 10: unexpected ";", expected ","');
    expect(syntaxError(() => parseTokenList('Upgrade;', 'Connection')).message).toBe(
      'Invalid Connection header at position 7: unexpected ";", expected ","',
    );
    expect(syntaxError(() => parseTokenList('a, "b"', 'Connection')).message).toBe(
      'Invalid Connection header at position 3: unexpected "\\""',
    );
  });
  it('refuses two tokens without a comma', () => {
    const err = syntaxError(() => parseTokenList('keep alive', 'Connection'));
    expect(err.position).toBe(5);
    expect(err.detail).toBe('unexpected "a", expected ","');
  });
  it('refuses "/" unless product syntax is asked for', () => {
    expect(syntaxError(() => parseTokenList('websocket, h2c/1', 'Connection')).position).toBe(14);
    expect(parseTokenList('websocket, h2c/1', 'Upgrade', { product: true })).toEqual(['websocket', 'h2c/1']);
    expect(parseTokenList('HTTP/2.0,SHTTP/1.3, IRC/6.9, RTA/x11', 'Upgrade', { product: true })).toEqual([
      'HTTP/2.0',
      'SHTTP/1.3',
      'IRC/6.9',
      'RTA/x11',
    ]);
  });
  it('refuses an empty product version or a second "/"', () => {
    expect(syntaxError(() => parseTokenList('h2c/', 'Upgrade', { product: true })).message).toBe(
      'Invalid Upgrade header at position 4: unexpected end of input, expected a protocol version',
    );
    expect(syntaxError(() => parseTokenList('h2c/, websocket', 'Upgrade', { product: true })).position).toBe(4);
    expect(syntaxError(() => parseTokenList('a/b/c', 'Upgrade', { product: true })).position).toBe(3);
  });
});

describe('isToken', () => {
  it('follows the tchar class', () => {
    expect(isToken("!#$%&'*+-.^_`|~09azAZ")).toBe(true);
    expect(isToken('')).toBe(false);
    expect(isToken('a b')).toBe(false);
    expect(isToken('a:b')).toBe(false);
    expect(isToken('é')).toBe(false);
  });
});
