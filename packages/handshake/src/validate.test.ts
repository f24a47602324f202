import { describe, expect, it } from 'vitest';
import type { HandshakeAcceptance, HandshakeOptions, HandshakeRejection, HandshakeRequest } from './types.js';
import { validateHandshake } from './validate.js';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
const BASE: Array<[string, string]> = [
  ['Host', 'gw.example.com'],
  ['Upgrade', 'websocket'],
  ['Connection', 'Upgrade'],
  ['Sec-WebSocket-Key', KEY],
  ['Sec-WebSocket-Version', '13'],
];

interface Shape {
  method?: string;
  version?: [number, number];
  /** Replaces the base fields of the same name (all of them); `null` removes them. */
  set?: Record<string, string | null>;
  /** Extra fields appended as received, duplicates included. */
  add?: Array<[string, string]>;
}

/** A request as node's parser would deliver it: repeated fields joined with ", ", the first Host kept. */
function request({ method = 'GET', version = [1, 1], set = {}, add = [] }: Shape = {}): HandshakeRequest {
  const lower = Object.fromEntries(Object.entries(set).map(([k, v]) => [k.toLowerCase(), v]));
  const fields: Array<[string, string]> = BASE.filter(([name]) => !(name.toLowerCase() in lower));
  for (const [name, value] of Object.entries(set)) if (value !== null) fields.push([name, value]);
  fields.push(...add);
  const headers: Record<string, string> = {};
  for (const [name, value] of fields) {
    const k = name.toLowerCase();
    if (headers[k] === undefined) headers[k] = value;
    else if (k !== 'host') headers[k] = `${headers[k]}, ${value}`;
  }
  return {
    method,
    httpVersionMajor: version[0],
    httpVersionMinor: version[1],
    headers,
    rawHeaders: fields.flat(),
  };
}

function rejected(shape: Shape, options: HandshakeOptions = {}): HandshakeRejection {
  const decision = validateHandshake(request(shape), options);
  if (decision.ok) throw new Error('expected a rejection');
  return decision;
}

function accepted(shape: Shape, options: HandshakeOptions = {}): HandshakeAcceptance {
  const decision = validateHandshake(request(shape), options);
  if (!decision.ok) throw new Error(`expected an acceptance, got ${decision.status} ${decision.reason}`);
  return decision;
}

describe('validateHandshake: acceptance', () => {
  it('accepts a minimal RFC 6455 request and computes the accept value', () => {
    const decision = accepted({});
    // `accept` is a getter, computed when read: spread the fields and read it.
    expect({ ...decision, accept: decision.accept }).toEqual({
      ok: true,
      key: KEY,
      accept: 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=',
      protocol: undefined,
      offeredProtocols: [],
      headers: {},
    });
  });
  it('accepts HTTP/2-or-later version numbers and case-insensitive Upgrade/Connection', () => {
    expect(accepted({ version: [2, 0], set: { Upgrade: 'WebSocket', Connection: 'upgrade' } }).ok).toBe(true);
  });
});

describe('validateHandshake: method and HTTP version', () => {
  it('refuses POST with 405 and Allow: GET', () => {
    expect(rejected({ method: 'POST' })).toEqual({
      ok: false,
      status: 405,
      reason: 'Method POST not allowed, a WebSocket handshake uses GET',
      headers: { Allow: 'GET' },
      check: 'method',
    });
  });
  it('refuses HTTP/1.0 with 400', () => {
    const r = rejected({ version: [1, 0] });
    expect(r.status).toBe(400);
    expect(r.reason).toBe('HTTP/1.1 or later required, got HTTP/1.0');
  });
});

describe('validateHandshake: Host', () => {
  it('refuses a missing Host', () => {
    expect(rejected({ set: { Host: null } })).toMatchObject({ status: 400, reason: 'Missing Host header' });
  });
  it('refuses an empty Host', () => {
    expect(rejected({ set: { Host: '' } })).toMatchObject({ status: 400, reason: 'Empty Host header' });
  });
  it('refuses a repeated Host, which node would silently drop', () => {
    expect(rejected({ add: [['host', 'evil.example.com']] })).toMatchObject({
      status: 400,
      reason: 'Host header must appear once, got 2',
    });
  });
});

describe('validateHandshake: Upgrade and Connection', () => {
  it('refuses Upgrade: h2c, naming what was received', () => {
    expect(rejected({ set: { Upgrade: 'h2c' } })).toMatchObject({
      status: 400,
      reason: 'Upgrade header must contain websocket, got "h2c"',
    });
  });
  it('refuses a missing Upgrade', () => {
    expect(rejected({ set: { Upgrade: null } }).reason).toBe('Missing Upgrade header, expected websocket');
  });
  it('accepts websocket among other protocols, with product versions', () => {
    expect(accepted({ set: { Upgrade: 'h2c/1, websocket' } }).ok).toBe(true);
  });
  it('does not take a substring of a token for websocket', () => {
    expect(rejected({ set: { Upgrade: 'websocketx' } }).status).toBe(400);
    expect(rejected({ set: { Upgrade: 'websocket/13' } }).status).toBe(400);
  });
  it('refuses a malformed Upgrade list with the position', () => {
    expect(rejected({ set: { Upgrade: 'websocket; q=1' } }).reason).toBe(
      'Invalid Upgrade header at position 9: unexpected ";", expected ","',
    );
  });
  it('refuses Connection: keep-alive', () => {
    expect(rejected({ set: { Connection: 'keep-alive' } })).toMatchObject({
      status: 400,
      reason: 'Connection header must contain Upgrade, got "keep-alive"',
    });
  });
  it('accepts Connection: keep-alive, Upgrade', () => {
    expect(accepted({ set: { Connection: 'keep-alive, Upgrade' } }).ok).toBe(true);
  });
  it('refuses a missing Connection', () => {
    expect(rejected({ set: { Connection: null } }).reason).toBe('Missing Connection header, expected Upgrade');
  });
  it('refuses a malformed Connection list with the position', () => {
    expect(rejected({ set: { Connection: 'Upgrade;x' } }).reason).toBe(
      'Invalid Connection header at position 7: unexpected ";", expected ","',
    );
  });
});

describe('validateHandshake: Sec-WebSocket-Key', () => {
  const keyReason = (key: string | null) => rejected({ set: { 'Sec-WebSocket-Key': key } }).reason;
  it('refuses a missing key', () => {
    expect(rejected({ set: { 'Sec-WebSocket-Key': null } })).toMatchObject({
      status: 400,
      reason: 'Missing Sec-WebSocket-Key header',
    });
  });
  it('refuses a short, long or non-base64 key', () => {
    expect(keyReason('dGhlIHNhbXBsZQ==')).toBe('Sec-WebSocket-Key must be base64 of 16 bytes: got 16 characters, expected 24');
    expect(keyReason(`${KEY}AAAA`)).toBe('Sec-WebSocket-Key must be base64 of 16 bytes: got 28 characters, expected 24');
    expect(keyReason('dGhlIHNhbXBsZSBub25jZ?==')).toBe(
      'Sec-WebSocket-Key must be base64 of 16 bytes: invalid character "?" at position 21',
    );
  });
  it('refuses 24 characters decoding to 17 bytes, and bad padding', () => {
    expect(keyReason(Buffer.alloc(17, 7).toString('base64'))).toBe(
      'Sec-WebSocket-Key must be base64 of 16 bytes: decodes to 17 bytes',
    );
    expect(keyReason('dGhlIHNhbXBsZSBub25jZQ=x')).toBe(
      'Sec-WebSocket-Key must be base64 of 16 bytes: invalid padding "=x" at position 22',
    );
  });
  it('refuses a duplicated key, even when node joined the values', () => {
    const r = rejected({ add: [['Sec-WebSocket-Key', KEY]] });
    expect(r).toMatchObject({ status: 400, reason: 'Sec-WebSocket-Key must appear once, got 2' });
  });
});

describe('validateHandshake: Sec-WebSocket-Version', () => {
  it.each(['8', '14', '013'])('refuses version %s with 426 and the supported version', (version) => {
    expect(rejected({ set: { 'Sec-WebSocket-Version': version } })).toEqual({
      ok: false,
      status: 426,
      reason: `Unsupported Sec-WebSocket-Version "${version}", expected 13`,
      headers: { 'Sec-WebSocket-Version': '13' },
      check: 'version',
    });
  });
  it('refuses a missing version with 426', () => {
    expect(rejected({ set: { 'Sec-WebSocket-Version': null } })).toEqual({
      ok: false,
      status: 426,
      reason: 'Missing Sec-WebSocket-Version header, expected 13',
      headers: { 'Sec-WebSocket-Version': '13' },
      check: 'version',
    });
  });
  it('refuses a duplicated version with 400', () => {
    const r = rejected({ add: [['sec-websocket-version', '13']] });
    expect(r).toMatchObject({ status: 400, reason: 'Sec-WebSocket-Version must appear once, got 2', headers: {} });
  });
});

describe('validateHandshake: subprotocols', () => {
  const offer = (value: string): Shape => ({ add: [['Sec-WebSocket-Protocol', value]] });
  it("chooses in the route's order of preference", () => {
    const a = accepted(offer('echo, sip'), { protocols: ['sip', 'echo'] });
    expect(a.protocol).toBe('sip');
    expect(a.offeredProtocols).toEqual(['echo', 'sip']);
  });
  it('parses repeated fields as one list', () => {
    const a = accepted({ add: [['Sec-WebSocket-Protocol', 'echo'], ['Sec-WebSocket-Protocol', 'sip']] }, { protocols: ['sip'] });
    expect(a.offeredProtocols).toEqual(['echo', 'sip']);
    expect(a.protocol).toBe('sip');
  });
  it('refuses when nothing offered is supported, naming the supported ones in reason and header', () => {
    expect(rejected(offer('sipx, chat'), { protocols: ['sip', 'msrp'] })).toEqual({
      ok: false,
      status: 400,
      reason: 'No supported subprotocol in "sipx, chat", supported: sip, msrp',
      headers: { 'Sec-WebSocket-Protocol': 'sip, msrp' },
      check: 'subprotocol',
    });
  });
  it('refuses a client offering none when the route requires one', () => {
    expect(rejected({}, { protocols: ['sip'], requireProtocol: true })).toEqual({
      ok: false,
      status: 400,
      reason: 'Sec-WebSocket-Protocol required, supported: sip',
      headers: { 'Sec-WebSocket-Protocol': 'sip' },
      check: 'subprotocol',
    });
    expect(accepted({}, { protocols: ['sip'] }).protocol).toBeUndefined();
  });
  it.each([
    ['sip,,echo', 'Invalid Sec-WebSocket-Protocol header at position 4: empty element'],
    ['sip echo', 'Invalid Sec-WebSocket-Protocol header at position 4: unexpected "e", expected ","'],
    ['"sip"', 'Invalid Sec-WebSocket-Protocol header at position 0: unexpected "\\"", expected a subprotocol token'],
  ])('refuses the malformed header %s with 400', (value, reason) => {
    expect(rejected(offer(value), { protocols: ['sip'] })).toEqual({ ok: false, status: 400, reason, headers: {}, check: 'subprotocol' });
  });
});

describe('validateHandshake: extensions', () => {
  it('accepts a well-formed offer', () => {
    expect(accepted({ add: [['Sec-WebSocket-Extensions', 'permessage-deflate; client_max_window_bits']] }).ok).toBe(true);
  });
  it('refuses a malformed one with the position', () => {
    expect(rejected({ add: [['Sec-WebSocket-Extensions', 'permessage-deflate; a="x y"']] })).toMatchObject({
      status: 400,
      reason: 'Invalid Sec-WebSocket-Extensions header at position 24: " " in a quoted value, which must be a token',
    });
  });
});

describe('validateHandshake: CORS', () => {
  const origin = (value: string): Shape => ({ add: [['Origin', value]] });
  it('adds the Origin and Vary when it is exactly in the list', () => {
    expect(accepted(origin('https://a.example'), { cors: ['https://b.example', 'https://a.example'] }).headers).toEqual({
      'Access-Control-Allow-Origin': 'https://a.example',
      Vary: 'Origin',
    });
  });
  it('adds nothing (and still accepts) for an Origin not in the list', () => {
    expect(accepted(origin('https://a.example.evil'), { cors: ['https://a.example'] }).headers).toEqual({});
    expect(accepted(origin('HTTPS://A.EXAMPLE'), { cors: ['https://a.example'] }).headers).toEqual({});
    expect(accepted({}, { cors: ['https://a.example'] }).headers).toEqual({});
  });
  it("adds * for '*'", () => {
    expect(accepted(origin('https://a.example'), { cors: '*' }).headers).toEqual({ 'Access-Control-Allow-Origin': '*' });
  });
  it("adds nothing when off or unset", () => {
    expect(accepted(origin('https://a.example'), { cors: 'off' }).headers).toEqual({});
    expect(accepted(origin('https://a.example')).headers).toEqual({});
  });
});

describe('validateHandshake: route headers and other API misuse', () => {
  it('passes valid extra headers through, after CORS, the route winning a clash', () => {
    expect(accepted({}, { headers: { 'X-Served-By': 'gw1' } }).headers).toEqual({ 'X-Served-By': 'gw1' });
    expect(accepted({}, { cors: '*', headers: { 'access-control-allow-origin': 'https://x', 'X-A': '1' } }).headers).toEqual({
      'access-control-allow-origin': 'https://x',
      'X-A': '1',
    });
  });
  it('throws a TypeError for a header name that is not a token', () => {
    expect(() => validateHandshake(request(), { headers: { 'X Bad': '1' } })).toThrow(TypeError);
    expect(() => validateHandshake(request(), { headers: { 'X-Bad:': '1' } })).toThrow(/not a valid header name/);
  });
  it('throws a TypeError for CR or LF in a value', () => {
    expect(() => validateHandshake(request(), { headers: { 'X-A': 'a\r\nSet-Cookie: x=1' } })).toThrow(
      'handshake headers: the value of X-A must be a string without CR, LF or other control characters',
    );
    expect(() => validateHandshake(request(), { headers: { 'X-A': 'a\nb' } })).toThrow(TypeError);
  });
  it('throws a TypeError for a field the handshake sets itself', () => {
    expect(() => validateHandshake(request(), { headers: { 'Sec-WebSocket-Accept': 'x' } })).toThrow(
      'handshake headers: Sec-WebSocket-Accept is set by the handshake itself; remove it',
    );
  });
  it('throws even for a request that would be refused, so misuse cannot hide', () => {
    expect(() => validateHandshake(request({ method: 'POST' }), { headers: { 'X\n': '1' } })).toThrow(TypeError);
  });
  it('throws for a non-token subprotocol, requireProtocol without protocols, a bad cors or maxPayload', () => {
    expect(() => validateHandshake(request(), { protocols: ['s ip'] })).toThrow(TypeError);
    expect(() => validateHandshake(request(), { requireProtocol: true })).toThrow(TypeError);
    expect(() => validateHandshake(request(), { cors: 'https://a.example' as never })).toThrow(TypeError);
    expect(() => validateHandshake(request(), { maxPayload: -1 })).toThrow(TypeError);
  });
});
