/** The client's offer as the proxy reads it: the one-token values take a short path that must agree with the list parser. */
import { describe, expect, it } from 'vitest';
import { HeaderSyntaxError } from '@wsgate/handshake';
import { RequestFacts, type RequestHead } from '@wsgate/core';
import { askedProtocol, readClientOffer } from './client-offer.js';

function facts(headers: Record<string, string>): RequestFacts {
  const raw: RequestHead = { method: 'GET', url: '/', httpVersionMajor: 1, httpVersionMinor: 1, headers, rawHeaders: Object.entries(headers).flat(), socket: {} };
  return new RequestFacts(raw, { name: 'test', port: 80, tls: false } as never, {} as never);
}

describe('askedProtocol', () => {
  it.each([
    ['websocket', 'websocket'],
    ['WebSocket', 'websocket'],
    ['h2c', 'h2c'],
    ['TLS/1.0', 'tls'],
    ['h2c/1, WebSocket/13', 'websocket'],
    ['  websocket ', 'websocket'],
    ['IRC/6.9, h2c', 'irc'],
  ])('%j asks for %j', (value, wanted) => {
    expect(askedProtocol(value)).toBe(wanted);
  });

  it.each(['web socket', 'websocket;x', 'h2c/'])('%j is a syntax error naming Upgrade', (value) => {
    expect(() => askedProtocol(value)).toThrow(HeaderSyntaxError);
    expect(() => askedProtocol(value)).toThrow(/Invalid Upgrade header/);
  });
});

describe('readClientOffer: Connection', () => {
  it.each([
    ['Upgrade', undefined],
    ['keep-alive', undefined],
    ['close', undefined],
    ['X-Secret', ['x-secret']],
    ['Upgrade, X-Secret', ['x-secret']],
    ['upgrade ,keep-alive', undefined],
  ])('%j drops %j as hop-by-hop', (connection, dropped) => {
    const offer = readClientOffer(facts({ connection, upgrade: 'websocket' }), true);
    expect(offer.hopByHop === undefined ? undefined : [...offer.hopByHop]).toEqual(dropped);
    expect(offer.upgrade).toBe('websocket');
  });

  it('a Connection that is not a token list is a syntax error', () => {
    expect(() => readClientOffer(facts({ connection: 'keep-alive; x' }), false)).toThrow(/Invalid Connection header at position 10/);
  });
});
