/** The upstream's 101 is checked before any tunnel opens. */
import { describe, expect, it } from 'vitest';
import { acceptKey } from '@wsgate/handshake';
import { switchProblem, type SwitchExpectation } from './check-switch.js';
import { isValidKey, newKey } from './websocket-key.js';

const key = newKey();
const expected: SwitchExpectation = { key, offer: { upgrade: 'websocket', protocols: ['sip', 'chat'], extensions: new Set(['permessage-deflate']) } };

function res(status: number, headers: Record<string, string>): { status: number; headers: Record<string, string> } {
  const lower: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = v;
  return { status, headers: lower };
}

const good = { Upgrade: 'websocket', Connection: 'Upgrade', 'Sec-WebSocket-Accept': acceptKey(key) };

describe('switchProblem', () => {
  it('accepts a proper 101, with an offered subprotocol and extension', () => {
    expect(switchProblem(res(101, good), expected)).toBeUndefined();
    expect(switchProblem(res(101, { ...good, 'Sec-WebSocket-Protocol': 'chat', 'Sec-WebSocket-Extensions': 'permessage-deflate; server_no_context_takeover' }), expected)).toBeUndefined();
  });

  it('refuses a wrong or missing accept, missing Upgrade or Connection, unoffered choices', () => {
    expect(switchProblem(res(101, { ...good, 'Sec-WebSocket-Accept': acceptKey('dGhlIHNhbXBsZSBub25jZQ==') }), expected)).toMatch(/wrong Sec-WebSocket-Accept/);
    expect(switchProblem(res(101, { Upgrade: 'websocket', Connection: 'Upgrade' }), expected)).toMatch(/wrong Sec-WebSocket-Accept \(none\)/);
    expect(switchProblem(res(101, { ...good, Upgrade: 'h2c' }), expected)).toMatch(/without Upgrade: websocket/);
    expect(switchProblem(res(101, { ...good, Connection: 'keep-alive' }), expected)).toMatch(/without Connection: upgrade/);
    expect(switchProblem(res(101, { ...good, 'Sec-WebSocket-Protocol': 'SIP' }), expected)).toMatch(/did not offer/);
    expect(switchProblem(res(101, { ...good, 'Sec-WebSocket-Extensions': 'x-webkit-deflate-frame' }), expected)).toMatch(/extension "x-webkit-deflate-frame"/);
    expect(switchProblem(res(101, { ...good, 'Sec-WebSocket-Protocol': 'sip, chat' }), expected)).toMatch(/did not offer/);
    expect(switchProblem(res(101, { ...good, 'Sec-WebSocket-Extensions': 'permessage-deflate;;' }), expected)).toMatch(/^101 with Invalid Sec-WebSocket-Extensions header at position 19/);
    expect(switchProblem(res(200, good), expected)).toBe('status 200');
  });

  it('makes fresh, valid keys', () => {
    const keys = new Set(Array.from({ length: 600 }, newKey));
    expect(keys.size).toBe(600);
    for (const k of keys) expect(isValidKey(k)).toBe(true);
    expect(acceptKey('dGhlIHNhbXBsZSBub25jZQ==')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
  });
});
