import { describe, expect, it } from 'vitest';
import { negotiateSubprotocol, parseSubprotocols } from './subprotocol.js';
import { HeaderSyntaxError } from './token-list.js';

function errorOf(value: string): HeaderSyntaxError {
  try {
    parseSubprotocols(value);
  } catch (err) {
    expect(err).toBeInstanceOf(HeaderSyntaxError);
    return err as HeaderSyntaxError;
  }
  throw new Error(`expected ${JSON.stringify(value)} to be refused`);
}

describe('parseSubprotocols', () => {
  it('parses a token list in the client order', () => {
    expect(parseSubprotocols('sip')).toEqual(['sip']);
    expect(parseSubprotocols('echo, sip')).toEqual(['echo', 'sip']);
    expect(parseSubprotocols('echo,sip ,\tmsrp')).toEqual(['echo', 'sip', 'msrp']);
  });
  it('keeps case: subprotocol tokens are case-sensitive', () => {
    expect(parseSubprotocols('SIP, sip')).toEqual(['SIP', 'sip']);
  });
  it('refuses empty elements with their position', () => {
    expect(errorOf('sip,,echo').message).toBe('Invalid Sec-WebSocket-Protocol header at position 4: empty element');
    expect(errorOf(',sip').position).toBe(0);
    expect(errorOf('sip,').message).toBe(
      'Invalid Sec-WebSocket-Protocol header at position 4: unexpected end of input, expected a subprotocol token',
    );
    expect(errorOf('').position).toBe(0);
  });
  it('refuses tokens separated by a space', () => {
    expect(errorOf('sip echo').message).toBe(
      'Invalid Sec-WebSocket-Protocol header at position 4: unexpected "e", expected ","',
    );
  });
  it('refuses a quoted protocol', () => {
    const err = errorOf('"sip"');
    expect(err.position).toBe(0);
    expect(err.detail).toBe('unexpected "\\"", expected a subprotocol token');
  });
  it('refuses a duplicate, pointing at the second one', () => {
    const err = errorOf('sip, echo, sip');
    expect(err.position).toBe(11);
    expect(err.detail).toBe('duplicate subprotocol "sip"');
  });
  it('finds duplicates in long lists too', () => {
    const many = Array.from({ length: 20 }, (_, i) => `p${i}`);
    expect(parseSubprotocols(many.join(','))).toEqual(many);
    expect(errorOf([...many, 'p3'].join(',')).detail).toBe('duplicate subprotocol "p3"');
    expect(errorOf([...many, 'p19'].join(',')).detail).toBe('duplicate subprotocol "p19"');
  });
});

describe('negotiateSubprotocol', () => {
  it("chooses in the route's order of preference, not the client's", () => {
    expect(negotiateSubprotocol(['echo', 'sip'], ['sip', 'echo'])).toEqual({ ok: true, protocol: 'sip' });
    expect(negotiateSubprotocol(['echo', 'sip'], ['echo', 'sip'])).toEqual({ ok: true, protocol: 'echo' });
  });
  it('compares exactly: no substring, no case folding', () => {
    expect(negotiateSubprotocol(['sipx'], ['sip']).ok).toBe(false);
    expect(negotiateSubprotocol(['si'], ['sip']).ok).toBe(false);
    expect(negotiateSubprotocol(['SIP'], ['sip']).ok).toBe(false);
  });
  it('refuses offers with no match, naming what is supported', () => {
    expect(negotiateSubprotocol(['chat', 'mqtt'], ['sip', 'msrp'])).toEqual({
      ok: false,
      reason: 'No supported subprotocol in "chat, mqtt", supported: sip, msrp',
    });
  });
  it('accepts no offer without a subprotocol unless one is required', () => {
    expect(negotiateSubprotocol([], ['sip'])).toEqual({ ok: true, protocol: undefined });
    expect(negotiateSubprotocol([], ['sip'], true)).toEqual({
      ok: false,
      reason: 'Sec-WebSocket-Protocol required, supported: sip',
    });
  });
  it('does not negotiate for a route that lists no subprotocol', () => {
    expect(negotiateSubprotocol(['chat'], undefined)).toEqual({ ok: true, protocol: undefined });
    expect(negotiateSubprotocol(['chat'], [])).toEqual({ ok: true, protocol: undefined });
  });
});
