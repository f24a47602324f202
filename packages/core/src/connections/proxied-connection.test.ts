import type { Socket } from 'node:net';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { acceptKey } from '@wsgate/handshake';
import { startTestGateway, until, type TestGateway } from '@wsgate/test-kit';
import type { ProxyTarget } from '../request/actions.js';
import type { CloseInfo, ConnectionEntry } from './connection-entry.js';
import { defineRoutes } from '../script/routes.js';

/** A stand-in for a proxy target: answers the upgrade itself and echoes raw bytes, tracked like a real tunnel. */
const echoTunnel: ProxyTarget = {
  async forward(req, message, carrier) {
    const socket = carrier.socket as Socket;
    const entry = req.track({
      protocol: 'echo',
      close: () => socket.end(),
      terminate: () => socket.destroy(),
    });
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Protocol: echo\r\n` +
        `Sec-WebSocket-Accept: ${acceptKey(String(message.headers['sec-websocket-key']))}\r\n\r\n`,
    );
    socket.on('data', (chunk: Buffer) => {
      entry.record('in', chunk.length);
      // Unmask the client's frame into a server frame (small frames only): enough to echo one message.
      const len = chunk[1]! & 0x7f;
      const mask = chunk.subarray(2, 6);
      const payload = Buffer.from(chunk.subarray(6, 6 + len).map((b, i) => b ^ mask[i % 4]!));
      socket.write(Buffer.concat([Buffer.from([chunk[0]!, len]), payload]));
      entry.record('out', len + 2);
    });
    socket.once('close', () => entry.ended({ code: 1006, reason: '', by: 'remote' }));
    return { status: 101 };
  },
};

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

describe('proxied connections in the registry', () => {
  it('are listed with the request facts, counted, closed by id, and their end told to subscribers', async () => {
    gw = await startTestGateway(defineRoutes({ 'http:request': (req) => (req.set('user', 'carol'), req.proxy(echoTunnel)) }));
    const events: string[] = [];
    const ends: CloseInfo[] = [];
    gw.gateway.connections.subscribe({
      opened: (c: ConnectionEntry) => void events.push(`opened ${c.kind} ${c.get('user')}`),
      closed: (_c, info) => void ends.push(info),
    });
    const ws = new WebSocket(`${gw.url}/room`, 'echo');
    await once(ws, 'open');
    ws.send('hi');
    expect(String((await once(ws, 'message'))[0])).toBe('hi');
    expect(events).toEqual(['opened proxied carol']);
    const [entry] = gw.gateway.connections.list();
    expect(entry?.toJSON()).toMatchObject({ kind: 'proxied', protocol: 'echo', path: '/room', state: 'open', messagesIn: 1, messagesOut: 1 });
    const closed = once(ws, 'close');
    expect(gw.gateway.connections.close(entry!.id, 4001, 'revoked')).toBe(true);
    await closed;
    await until(() => ends.length === 1, 2000, 'end reported');
    expect(gw.gateway.connections.size).toBe(0);
    expect(gw.logs.some((l) => l.msg === 'websocket closed' && l.kind === 'proxied')).toBe(true);
  });
});
