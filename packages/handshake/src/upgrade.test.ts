import type { IncomingMessage } from 'node:http';
import { once } from 'node:events';
import { connect, Socket } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import {
  maskedFrame,
  rawExchange,
  readUntilClose,
  startHandshakeServer,
  until,
  upgradeRequest,
  type HandshakeServer,
  type HandshakeServerOptions,
} from '@wsgate/test-kit';
import { formatRejection } from './reject.js';
import { HandshakeAbortedError, HandshakeRefusedError, Upgrader } from './upgrade.js';

let gateway: HandshakeServer | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await gateway?.close();
  gateway = undefined;
});

async function start(opts: HandshakeServerOptions = {}): Promise<HandshakeServer> {
  gateway = await startHandshakeServer(opts);
  return gateway;
}

/** Opens a ws client and resolves once it is open, with the 101's headers. */
async function open(
  url: string,
  protocols?: string[],
  options?: ConstructorParameters<typeof WebSocket>[2],
): Promise<{ client: WebSocket; response: IncomingMessage }> {
  const client = new WebSocket(url, protocols, options);
  // ws emits 'open' in the same tick as 'upgrade': both listeners must be in place first.
  const upgraded = once(client, 'upgrade') as Promise<[IncomingMessage]>;
  await once(client, 'open');
  const [response] = await upgraded;
  return { client, response };
}

async function roundTrip(client: WebSocket, text: string): Promise<string> {
  client.send(text);
  const [data] = await once(client, 'message');
  return String(data);
}

describe('Upgrader with a real ws client', () => {
  it('upgrades, and messages flow both ways', async () => {
    const gw = await start();
    const serverSide = gw.nextSocket();
    const { client, response } = await open(gw.url);
    expect(response.statusCode).toBe(101);
    expect(await roundTrip(client, 'hello')).toBe('hello');
    expect(gw.messages).toEqual(['hello']);
    expect((await serverSide).readyState).toBe(WebSocket.OPEN);
    client.close();
  });

  it("chooses the route's preferred subprotocol, visible on both sides", async () => {
    const gw = await start({ handshake: { protocols: ['sip', 'echo'] } });
    const serverSide = gw.nextSocket();
    const { client, response } = await open(gw.url, ['echo', 'sip']);
    expect(response.headers['sec-websocket-protocol']).toBe('sip');
    expect(client.protocol).toBe('sip');
    expect((await serverSide).protocol).toBe('sip');
    client.close();
  });

  it('sends no subprotocol when the client offered none', async () => {
    const gw = await start({ handshake: { protocols: ['sip'] } });
    const serverSide = gw.nextSocket();
    const { client, response } = await open(gw.url);
    expect(response.headers['sec-websocket-protocol']).toBeUndefined();
    expect((await serverSide).protocol).toBe('');
    client.close();
  });

  it('negotiates permessage-deflate when the route enables it', async () => {
    const gw = await start({ handshake: { perMessageDeflate: { threshold: 0 } } });
    const { client, response } = await open(gw.url);
    expect(response.headers['sec-websocket-extensions']).toMatch(/^permessage-deflate/);
    expect(client.extensions).toMatch(/^permessage-deflate/);
    expect(await roundTrip(client, 'x'.repeat(1000))).toBe('x'.repeat(1000));
    client.close();
  });

  it('does not negotiate permessage-deflate when off, though the client offers it', async () => {
    const gw = await start({ handshake: { perMessageDeflate: false } });
    const { client, response } = await open(gw.url, undefined, { perMessageDeflate: true });
    expect(response.headers['sec-websocket-extensions']).toBeUndefined();
    expect(client.extensions).toBe('');
    client.close();
  });

  it('adds the route headers and CORS to the 101', async () => {
    const gw = await start({
      handshake: { cors: ['https://app.example'], headers: { 'X-Served-By': 'gw-1', 'Set-Cookie': 'sid=1; HttpOnly' } },
    });
    const { client, response } = await open(gw.url, undefined, { origin: 'https://app.example' });
    expect(response.headers['x-served-by']).toBe('gw-1');
    expect(response.headers['set-cookie']).toEqual(['sid=1; HttpOnly']);
    expect(response.headers['access-control-allow-origin']).toBe('https://app.example');
    expect(response.headers.vary).toBe('Origin');
    client.close();
  });

  it('adds no CORS header for an Origin outside the list', async () => {
    const gw = await start({ handshake: { cors: ['https://app.example'] } });
    const { client, response } = await open(gw.url, undefined, { origin: 'https://evil.example' });
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
    expect(response.headers.vary).toBeUndefined();
    client.close();
  });

  it('closes with 1009 when a message exceeds maxPayload', async () => {
    const gw = await start({ handshake: { maxPayload: 64 } });
    const { client } = await open(gw.url);
    expect(await roundTrip(client, 'x'.repeat(64))).toHaveLength(64);
    client.send('x'.repeat(65));
    const [code] = await once(client, 'close');
    expect(code).toBe(1009);
  });

  it("spares the server side ws's repeated end() calls on close (each builds a dropped error)", async () => {
    const gw = await start();
    const serverSide = gw.nextSocket();
    const { client } = await open(gw.url);
    const inner = (await serverSide) as unknown as { _socket: Writable; _receiver: Writable };
    const server = new Set<Writable>([inner._socket, inner._receiver]);
    let repeated = 0;
    for (const proto of [Socket.prototype, Writable.prototype]) {
      const end = proto.end;
      vi.spyOn(proto, 'end').mockImplementation(function (this: Writable, ...args: unknown[]) {
        if (server.has(this) && this.writableEnded) repeated++;
        return (end as (...a: unknown[]) => Writable).apply(this, args);
      });
    }
    client.close(1000);
    await once(client, 'close');
    await until(() => inner._socket.destroyed, 2000);
    await new Promise((resolve) => setImmediate(resolve));
    expect(inner._socket.writableFinished).toBe(true);
    expect(inner._receiver.writableFinished).toBe(true);
    expect(repeated).toBe(0);
  });

  it("uses the Upgrader's default maxPayload when the route sets none", async () => {
    const gw = await start({ upgrader: new Upgrader({ maxPayload: 16 }) });
    const { client } = await open(gw.url);
    client.send('x'.repeat(17));
    const [code] = await once(client, 'close');
    expect(code).toBe(1009);
  });
});

describe('Upgrader with raw sockets', () => {
  it('delivers a frame sent in the same write as the handshake', async () => {
    const gw = await start();
    const socket = connect(gw.port, '127.0.0.1');
    await once(socket, 'connect');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.write(Buffer.concat([Buffer.from(upgradeRequest({ path: '/ws' })), maskedFrame(0x1, 'early bird')]));
    await until(() => gw.messages.length === 1, 2000);
    expect(gw.messages).toEqual(['early bird']);
    await until(() => Buffer.concat(chunks).includes('early bird'), 2000);
    const text = Buffer.concat(chunks).toString('latin1');
    expect(text.startsWith('HTTP/1.1 101 Switching Protocols\r\n')).toBe(true);
    expect(text).toContain('Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n');
    socket.destroy();
  });

  it('survives a frame over maxPayload sent with the handshake: 1009, no uncaught error', async () => {
    const gw = await start({ handshake: { maxPayload: 8 } });
    const socket = connect(gw.port, '127.0.0.1');
    await once(socket, 'connect');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.write(Buffer.concat([Buffer.from(upgradeRequest({ path: '/ws' })), maskedFrame(0x1, 'far too long for eight bytes')]));
    // A close frame, FIN set, 2-byte payload: the status code 1009 (0x03f1).
    await until(() => Buffer.concat(chunks).includes(Buffer.from([0x88, 0x02, 0x03, 0xf1])), 2000);
    expect(gw.messages).toEqual([]);
    socket.destroy();
  });

  it('accepts an Upgrade list that contains websocket, though ws alone would not', async () => {
    const gw = await start();
    const socket = connect(gw.port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write(upgradeRequest({ path: '/ws' }).replace('Upgrade: websocket', 'Upgrade: websocket, h2c/1'));
    const [chunk] = (await once(socket, 'data')) as [Buffer];
    expect(chunk.toString('latin1')).toMatch(/^HTTP\/1\.1 101 /);
    socket.destroy();
  });

  it('routes a refusal by ws itself through writeRejection, and rejects with the rejection', async () => {
    const gw = await start({ handshake: { perMessageDeflate: true } });
    const failure = gw.nextFailure();
    // Well-formed, so validateHandshake accepts it; 7 is not a valid window size, so ws refuses it.
    const result = await rawExchange(
      gw.port,
      upgradeRequest({ path: '/ws', extra: ['Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=7'] }),
    );
    const err = await failure;
    expect(err).toBeInstanceOf(HandshakeRefusedError);
    const rejection = (err as HandshakeRefusedError).rejection;
    expect(rejection).toMatchObject({ status: 400, reason: 'Invalid or unacceptable Sec-WebSocket-Extensions header' });
    expect(result.data.toString()).toBe(formatRejection(rejection));
    expect(result.ended).toBe(true);
  });

  it('neither throws nor leaks when the client is gone before the upgrade', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const gw = await start({ before: () => released });
    const socket = connect(gw.port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write(upgradeRequest({ path: '/ws' }));
    await until(async () => (await gw.connections()) === 1, 2000);
    socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 50));
    // The server is not reading this socket, so it may not know yet: either outcome is fine, provided the
    // socket is released.
    release();
    await until(() => gw.failures.length + gw.sockets.length === 1, 2000);
    if (gw.failures.length === 1) expect(gw.failures[0]).toBeInstanceOf(HandshakeAbortedError);
    else await until(() => gw.sockets[0]!.readyState === WebSocket.CLOSED, 2000);
    await until(async () => (await gw.connections()) === 0, 2000);
  });

  it('rejects with HandshakeAbortedError and destroys a socket already destroyed', async () => {
    const gw = await start({ before: (_req, socket) => void socket.destroy() });
    const failure = gw.nextFailure();
    const socket = connect(gw.port, '127.0.0.1');
    await once(socket, 'connect');
    const closed = readUntilClose(socket, upgradeRequest({ path: '/ws' }));
    expect(await failure).toBeInstanceOf(HandshakeAbortedError);
    expect((await closed).data.length).toBe(0);
    await until(async () => (await gw.connections()) === 0, 2000);
  });

  it('rejects when the client half-closed before the upgrade, destroying the socket', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const gw = await start({ before: () => released });
    const failure = gw.nextFailure();
    const socket = connect(gw.port, '127.0.0.1');
    await once(socket, 'connect');
    const closed = readUntilClose(socket);
    socket.end(upgradeRequest({ path: '/ws' }));
    await new Promise((resolve) => setTimeout(resolve, 50));
    release();
    expect(await failure).toBeInstanceOf(HandshakeAbortedError);
    expect((await closed).data.length).toBe(0);
    await until(async () => (await gw.connections()) === 0, 2000);
  });
});

describe('Upgrader lifecycle', () => {
  it('builds one ws server per distinct { perMessageDeflate, maxPayload }', async () => {
    const spy = vi.spyOn(WebSocketServer.prototype, 'handleUpgrade');
    const upgrader = new Upgrader();
    const variants = [
      { perMessageDeflate: { threshold: 0 } },
      { perMessageDeflate: { threshold: 0 } },
      { perMessageDeflate: { threshold: 0 }, maxPayload: 10 },
      { perMessageDeflate: true },
      { perMessageDeflate: {} },
      {},
      { perMessageDeflate: false },
    ];
    let i = 0;
    const gw = await start({ upgrader, before: () => void 0 });
    gw.server.removeAllListeners('upgrade');
    gw.server.on('upgrade', (req, socket, head) => {
      const options = variants[i++]!;
      void upgrader.upgrade(req, socket, head, {
        ok: true, key: '', accept: '', protocol: undefined, offeredProtocols: [], headers: {},
      }, options);
    });
    for (let n = 0; n < variants.length; n++) (await open(gw.url)).client.close();
    const servers = spy.mock.contexts;
    expect(servers).toHaveLength(7);
    expect(servers[1]).toBe(servers[0]);
    expect(servers[2]).not.toBe(servers[0]);
    expect(servers[4]).toBe(servers[3]);
    expect(servers[3]).not.toBe(servers[0]);
    expect(servers[6]).toBe(servers[5]);
    expect(new Set(servers).size).toBe(4);
    await upgrader.close();
  });

  it('refuses with 503 once closed', async () => {
    const upgrader = new Upgrader();
    const gw = await start({ upgrader });
    await upgrader.close();
    const failure = gw.nextFailure();
    const result = await rawExchange(gw.port, upgradeRequest({ path: '/ws' }));
    const err = await failure;
    expect(err).toBeInstanceOf(HandshakeRefusedError);
    expect((err as HandshakeRefusedError).rejection.status).toBe(503);
    expect(result.data.toString()).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
  });

  it('refuses a bad default maxPayload at construction', () => {
    expect(() => new Upgrader({ maxPayload: 1.5 })).toThrow(TypeError);
  });
});
