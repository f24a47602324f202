/**
 * The handshake floor is a peer in the benchmark's table, so it must be a correct server: a `ws` client opens
 * and closes on it, the bench's own raw request earns the RFC's accept value, and bad requests and frames get
 * their precise refusals (needs a build: the floor runs as the benchmark starts it, a compiled server child).
 */
import { once } from 'node:events';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { CLIENT_ACCEPT, maskedFrame, rawExchange, readUntilClose, sleep, upgradeRequest } from '@wsgate/test-kit';
import { checkUpgrade } from './floor-upgrade-check.js';
import { CLOSE_FRAME, upgradeRequest as benchUpgradeRequest } from './frames.js';
import { ServerProcess } from './servers.js';

/** Where the 101 head ends in `data`, and what follows it. */
function after101(data: Buffer): Buffer {
  const end = data.indexOf('\r\n\r\n');
  expect(end).toBeGreaterThan(0);
  return data.subarray(end + 4);
}

describe('the handshake floor check (pure)', () => {
  it('answers the RFC 6455 sample key with its accept value', () => {
    const answer = checkUpgrade(upgradeRequest({ key: 'dGhlIHNhbXBsZSBub25jZQ==' }).slice(0, -4));
    expect(answer.ok).toBe(true);
    expect(answer.response).toContain(`\r\nSec-WebSocket-Accept: ${CLIENT_ACCEPT}\r\n`);
  });

  it('chooses echo only when offered, by its exact name', () => {
    const head = (extra: string[]) => upgradeRequest({ extra }).slice(0, -4);
    expect(checkUpgrade(head(['Sec-WebSocket-Protocol: sip, echo'])).response).toContain('\r\nSec-WebSocket-Protocol: echo\r\n');
    expect(checkUpgrade(head(['Sec-WebSocket-Protocol: sip', 'Sec-WebSocket-Protocol: echo'])).response).toContain('Protocol: echo');
    expect(checkUpgrade(head(['Sec-WebSocket-Protocol: ECHO'])).response).not.toContain('Sec-WebSocket-Protocol');
    expect(checkUpgrade(head([])).response).not.toContain('Sec-WebSocket-Protocol');
  });

  it.each([
    ['a key of 15 bytes', 400, upgradeRequest({ key: 'dGhlIHNhbXBsZSBub25j' })],
    ['a key that is not base64', 400, upgradeRequest({ key: 'dGhlIHNhbXBsZSBub25j!!==' })],
    ['no key', 400, upgradeRequest({ omit: ['sec-websocket-key'] })],
    ['two keys', 400, upgradeRequest({ extra: ['Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA=='] })],
    ['no Host', 400, upgradeRequest({ omit: ['host'] })],
    ['no Upgrade: websocket', 400, upgradeRequest({ omit: ['upgrade'] })],
    ['no Connection: upgrade', 400, upgradeRequest({ omit: ['connection'], extra: ['Connection: keep-alive'] })],
    ['version 8', 426, upgradeRequest({ omit: ['sec-websocket-version'], extra: ['Sec-WebSocket-Version: 8'] })],
    ['POST', 405, upgradeRequest().replace('GET', 'POST')],
    ['HTTP/1.0', 400, upgradeRequest().replace('HTTP/1.1', 'HTTP/1.0')],
    ['a folded header line', 400, upgradeRequest({ extra: ['X-A: 1', ' folded'] })],
    ['a space before the colon', 400, upgradeRequest({ extra: ['X-A : 1'] })],
    ['a control character in a value', 400, upgradeRequest({ extra: ['X-A: 1\x01'] })],
  ])('refuses %s with %i', (_what, status, request) => {
    const answer = checkUpgrade(request.slice(0, -4));
    expect(answer).toMatchObject({ ok: false, status });
    expect(answer.response.startsWith(`HTTP/1.1 ${status} `)).toBe(true);
    if (status === 426) expect(answer.response).toContain('\r\nSec-WebSocket-Version: 13\r\n');
  });
});

describe('the handshake floor as the benchmark runs it (needs a build)', () => {
  let floor: ServerProcess;
  beforeAll(async () => {
    floor = await ServerProcess.start({ name: 'node floor (handshake)', entry: './handshake-floor.js' });
  }, 30_000);
  afterAll(async () => {
    await floor?.stop();
  });

  it('lets a ws client open with the echo subprotocol and close cleanly', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${floor.port}/`, ['sip', 'echo']);
    await once(ws, 'open');
    expect(ws.protocol).toBe('echo');
    ws.close(1000, 'bye');
    const [code] = (await once(ws, 'close')) as [number, Buffer];
    expect(code).toBe(1000);
  });

  it("answers the benchmark's request with 101 and the RFC's accept, then its close frame with a close and a FIN", async () => {
    const result = await rawExchange(floor.port, [benchUpgradeRequest(floor.port, '/', 'echo'), CLOSE_FRAME]);
    expect(result.text).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    expect(result.text).toContain(`\r\nSec-WebSocket-Accept: ${CLIENT_ACCEPT}\r\n`);
    expect(result.text).toContain('\r\nSec-WebSocket-Protocol: echo\r\n');
    expect([...after101(result.data)]).toEqual([0x88, 2, 0x03, 0xe8]);
    expect(result.ended).toBe(true);
  });

  it('refuses a bad key with 400 and closes', async () => {
    const result = await rawExchange(floor.port, upgradeRequest({ key: 'not-a-key' }));
    expect(result.text).toMatch(/^HTTP\/1\.1 400 Missing or invalid Sec-WebSocket-Key\r\n/);
    expect(result.closed).toBe(true);
  });

  it('refuses version 8 with 426 and the version it speaks', async () => {
    const result = await rawExchange(floor.port, upgradeRequest({ omit: ['sec-websocket-version'], extra: ['Sec-WebSocket-Version: 8'] }));
    expect(result.text).toMatch(/^HTTP\/1\.1 426 Upgrade Required\r\n/);
    expect(result.text).toContain('\r\nSec-WebSocket-Version: 13\r\n');
  });

  it('reads a head that comes in pieces', async () => {
    const request = upgradeRequest();
    const socket = net.connect({ port: floor.port, host: '127.0.0.1' });
    await once(socket, 'connect');
    socket.write(request.slice(0, 30));
    await sleep(30);
    socket.write(request.slice(30, -2));
    await sleep(30);
    const result = await readUntilClose(socket, [request.slice(-2), maskedFrame(0x8, Buffer.from([0x03, 0xe8]))]);
    expect(result.text).toContain(`\r\nSec-WebSocket-Accept: ${CLIENT_ACCEPT}\r\n`);
  });

  it('refuses a head over 8 KiB with 431', async () => {
    const result = await rawExchange(floor.port, upgradeRequest({ extra: [`X-Big: ${'a'.repeat(9000)}`] }), { ignoreErrors: true });
    expect(result.text).toMatch(/^HTTP\/1\.1 431 /);
  });

  it('answers a ping with its pong, a data frame with close 1003, an unmasked frame with close 1002', async () => {
    const ping = await rawExchange(floor.port, [upgradeRequest(), maskedFrame(0x9, 'hi'), maskedFrame(0x8, Buffer.from([0x03, 0xe8]))]);
    expect([...after101(ping.data)]).toEqual([0x8a, 2, 0x68, 0x69, 0x88, 2, 0x03, 0xe8]);
    const text = await rawExchange(floor.port, [upgradeRequest(), maskedFrame(0x1, 'hello')]);
    expect([...after101(text.data)]).toEqual([0x88, 2, 0x03, 0xeb]);
    const unmasked = await rawExchange(floor.port, [upgradeRequest(), Buffer.from([0x88, 0x02, 0x03, 0xe8])]);
    expect([...after101(unmasked.data)]).toEqual([0x88, 2, 0x03, 0xea]);
    const badCode = await rawExchange(floor.port, [upgradeRequest(), maskedFrame(0x8, Buffer.from([0x03, 0xed]))]);
    expect([...after101(badCode.data)]).toEqual([0x88, 2, 0x03, 0xea]);
  });
});
