import { describe, expect, it } from 'vitest';
import { parseExtensions } from './extension.js';
import { HeaderSyntaxError } from './token-list.js';

function errorOf(value: string): HeaderSyntaxError {
  try {
    parseExtensions(value);
  } catch (err) {
    expect(err).toBeInstanceOf(HeaderSyntaxError);
    return err as HeaderSyntaxError;
  }
  throw new Error(`expected ${JSON.stringify(value)} to be refused`);
}

describe('parseExtensions', () => {
  it('parses what browsers send', () => {
    expect(parseExtensions('permessage-deflate; client_max_window_bits')).toEqual([
      { name: 'permessage-deflate', params: { client_max_window_bits: [true] } },
    ]);
  });
  it('parses several offers, token and quoted values, repeated parameters', () => {
    expect(
      parseExtensions(
        'permessage-deflate; server_max_window_bits=10; client_max_window_bits="12", x-foo;a;a=1 , permessage-deflate',
      ),
    ).toEqual([
      { name: 'permessage-deflate', params: { server_max_window_bits: ['10'], client_max_window_bits: ['12'] } },
      { name: 'x-foo', params: { a: [true, '1'] } },
      { name: 'permessage-deflate', params: {} },
    ]);
  });
  it('accepts optional whitespace around ; and =', () => {
    expect(parseExtensions('foo ;bar = 1\t; baz = "q"')).toEqual([{ name: 'foo', params: { bar: ['1'], baz: ['q'] } }]);
  });
  it('unescapes quoted-pairs', () => {
    expect(parseExtensions('foo; a="b\\c"')).toEqual([{ name: 'foo', params: { a: ['bc'] } }]);
  });
  it('keeps a parameter called __proto__ as a parameter', () => {
    const [offer] = parseExtensions('foo; __proto__=1');
    expect(Object.getPrototypeOf(offer!.params)).toBeNull();
    expect(offer!.params['__proto__']).toEqual(['1']);
  });
  it('refuses empty elements and a trailing comma', () => {
    expect(errorOf('foo,,bar').message).toBe('Invalid Sec-WebSocket-Extensions header at position 4: empty element');
    expect(errorOf('foo,').detail).toBe('unexpected end of input, expected an extension token');
    expect(errorOf('').position).toBe(0);
  });
  it('refuses a missing parameter name or value', () => {
    expect(errorOf('foo;').detail).toBe('unexpected end of input, expected a parameter name');
    expect(errorOf('foo; ;a').position).toBe(5);
    expect(errorOf('foo; a=').detail).toBe('unexpected end of input, expected a parameter value');
    expect(errorOf('foo; a=;b').position).toBe(7);
  });
  it('refuses non-token characters where they are', () => {
    expect(errorOf('foo; a=1 2').message).toBe(
      'Invalid Sec-WebSocket-Extensions header at position 9: unexpected "2", expected "," or ";"',
    );
    expect(errorOf('foo bar').position).toBe(4);
    expect(errorOf('fo@o').position).toBe(2);
    expect(errorOf('foo; a:1').position).toBe(6);
  });
  it('requires a quoted value to be a non-empty token once unescaped (RFC 6455 §9.1)', () => {
    expect(errorOf('foo; a="1 2"').message).toBe(
      'Invalid Sec-WebSocket-Extensions header at position 9: " " in a quoted value, which must be a token',
    );
    expect(errorOf('foo; a=""').detail).toBe('empty quoted value');
    expect(errorOf('foo; a=""').position).toBe(7);
  });
  it('refuses an unterminated quoted-string, pointing at its opening quote', () => {
    expect(errorOf('foo; a="12').message).toBe(
      'Invalid Sec-WebSocket-Extensions header at position 7: unterminated quoted-string',
    );
    expect(errorOf('foo; a="12\\"').position).toBe(7);
  });
});
