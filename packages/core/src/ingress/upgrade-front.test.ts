/**
 * The upgrade fast path: what its parser takes (and leaves to node), that a request it takes looks exactly
 * as node's parser would have made it, and, on real sockets, which connections it keeps and which it hands on.
 */
import { once } from 'node:events';
import http, { type IncomingMessage } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { rawExchange, until } from '@wsgate/test-kit';
import { parseUpgradeHead, upgradeFront } from './upgrade-front.js';

const UPGRADE = 'GET /chat?room=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n';
const head = (text: string) => Buffer.from(text, 'latin1');

describe('parseUpgradeHead', () => {
  it('takes a complete upgrade head, with the bytes after it', () => {
    const parsed = parseUpgradeHead(Buffer.concat([head(`${UPGRADE}X-Pad:  spaced \t\r\n\r\n`), Buffer.from([0x81, 0x80])]), 8192);
    expect(parsed?.url).toBe('/chat?room=1');
    expect(parsed?.rawHeaders.slice(0, 4)).toEqual(['Host', '127.0.0.1', 'Upgrade', 'websocket']);
    expect(parsed?.rawHeaders.slice(-2)).toEqual(['X-Pad', 'spaced']);
    expect([...parsed!.rest]).toEqual([0x81, 0x80]);
  });

  it.each([
    ['an incomplete head', `${UPGRADE}`],
    ['a plain request', 'GET / HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['Upgrade without Connection: upgrade', 'GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: keep-alive\r\n\r\n'],
    ['Connection: upgrade without Upgrade', 'GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\n\r\n'],
    ['another method', UPGRADE.replace('GET', 'POST') + '\r\n'],
    ['HTTP/1.0', UPGRADE.replace('HTTP/1.1', 'HTTP/1.0') + '\r\n'],
    ['a body (Content-Length)', `${UPGRADE}Content-Length: 5\r\n\r\n`],
    ['a body (Transfer-Encoding)', `${UPGRADE}Transfer-Encoding: chunked\r\n\r\n`],
    ['a header name that is not a token', `${UPGRADE}Bad Name: x\r\n\r\n`],
    ['a control character in a value', `${UPGRADE}X-A: a\x01b\r\n\r\n`],
    ['a folded line (obs-fold)', `${UPGRADE}X-A: a\r\n  b\r\n\r\n`],
    ['a bare LF inside the head', `${UPGRADE}X-A: a\nX-B: b\r\n\r\n`],
    ['a line without a colon', `${UPGRADE}nonsense\r\n\r\n`],
    ['a space in the target', 'GET /a b HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n'],
  ])('leaves %s to node', (_, text) => expect(parseUpgradeHead(head(text), 8192)).toBeUndefined());

  it('leaves a head larger than maxHeaderSize to node (which answers 431)', () => {
    const text = `${UPGRADE}X-Big: ${'a'.repeat(200)}\r\n\r\n`;
    expect(parseUpgradeHead(head(text), text.length)).toBeDefined();
    expect(parseUpgradeHead(head(text), text.length - 1)).toBeUndefined();
  });
});

/** A node HTTP server on an ephemeral port, and a front in front of a second, unbound one. */
const servers: net.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

async function listen(server: net.Server): Promise<number> {
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/** What a request head becomes on node's own upgrade path, and on the front's. */
async function bothWays(text: string): Promise<[IncomingMessage, IncomingMessage]> {
  const byNode = new Promise<IncomingMessage>((resolve) => {
    const server = http.createServer();
    server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
      resolve(req);
      socket.destroy();
    });
    void listen(server).then((port) => rawExchange(port, head(text), { timeoutMs: 500 }));
  });
  const byFront = new Promise<IncomingMessage>((resolve) => {
    const front = upgradeFront({
      http: http.createServer(),
      maxHeaderSize: 16384,
      headerTimeoutMs: 1000,
      checkEveryMs: 250,
      noDelay: true,
      onUpgrade: (req, socket) => {
        resolve(req);
        socket.destroy();
      },
    });
    void listen(front.server).then((port) => rawExchange(port, head(text), { timeoutMs: 500 }));
  });
  return Promise.all([byNode, byFront]);
}

describe('parseUpgradeHead against node (seeded mutations)', () => {
  it('never takes a head that node would refuse or parse as something else, and parses what it takes as node does', async () => {
    // A seeded generator: the same cases every run.
    let seed = 0x2f6b3a1;
    const random = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;
    const pieces = ['\r\n', '\n', '\r', ' ', '\t', ':', '\x00', '\x7f', '\xe9', 'Upgrade', 'upgrade', ',', 'Content-Length: 0\r\n', 'X', '"', '(', '/'];
    const base = `GET /p HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;
    const seen = new Map<string, IncomingMessage>();
    const server = http.createServer((_req, res) => res.end('plain'));
    server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
      seen.set(String(req.headers['x-case']), req);
      socket.destroy();
    });
    const port = await listen(server);
    const cases = Array.from({ length: 300 }, (_, n) => {
      // Mutate after the request line, so that the case id (sent first as a header) survives.
      let text = base;
      for (let m = 0; m <= random(3); m++) {
        const at = 17 + random(text.length - 21);
        text = text.slice(0, at) + pieces[random(pieces.length)] + text.slice(at + random(3));
      }
      const id = `c${n}`;
      return { id, text, bytes: head(`${text.slice(0, 17)}X-Case: ${id}\r\n${text.slice(17)}`) };
    });
    // Node keeps some connections open (keep-alive, incomplete heads): all cases at once, each given 500 ms.
    await Promise.all(cases.map((c) => rawExchange(port, c.bytes, { timeoutMs: 500 })));
    const ours = new Map(cases.map((c) => [c.id, parseUpgradeHead(c.bytes, 16384)]));
    // Every head we take, node must take too; on a loaded machine its upgrade event may come after the 500 ms.
    await until(() => cases.every((c) => ours.get(c.id) === undefined || seen.has(c.id)), 10_000, 'node to see the heads we take').catch(() => undefined);
    let taken = 0;
    for (const c of cases) {
      const parsed = ours.get(c.id);
      if (parsed === undefined) continue;
      taken++;
      const byNode = seen.get(c.id);
      expect(byNode, `node did not take ${JSON.stringify(c.text)} as an upgrade`).toBeDefined();
      expect(parsed.rawHeaders).toEqual(byNode!.rawHeaders);
      expect(parsed.url).toBe(byNode!.url);
    }
    // The mutations must leave enough cases whole for the comparison to mean something.
    expect(taken).toBeGreaterThan(30);
  });
});

describe('upgradeFront', () => {
  it('hands on a request exactly as node parses it: headers joined, dropped and kept by node\'s rules', async () => {
    const text =
      'GET /p?q=1 HTTP/1.1\r\nHost: first.example\r\nhost: second.example\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Cookie: a=1\r\ncookie: b=2\r\nX-Multi: 1\r\nx-multi:  2 \r\nSet-Cookie: s=1\r\nUser-Agent: ua\r\nX-Latin: caf\xe9\r\n' +
      'Sec-WebSocket-Protocol: sip\r\nSec-WebSocket-Protocol: echo\r\n\r\n';
    const [node, front] = await bothWays(text);
    expect(front.headers).toEqual(node.headers);
    expect(front.rawHeaders).toEqual(node.rawHeaders);
    for (const k of ['method', 'url', 'httpVersion', 'httpVersionMajor', 'httpVersionMinor', 'complete'] as const) expect(front[k]).toEqual(node[k]);
    expect(front.headers.host).toBe('first.example');
    expect(front.headers['x-latin']).toBe('caf\xe9');
    // Ended like node's: a reader gets 'end' and no body.
    for (const message of [node, front]) {
      const body: Buffer[] = [];
      message.on('data', (c: Buffer) => body.push(c));
      await once(message, 'end');
      expect(body).toEqual([]);
    }
  });

  it('takes a whole upgrade head itself and hands anything else, bytes and all, to the HTTP server', async () => {
    const plain = http.createServer((req, res) => res.end(`plain ${req.method} ${req.url}`));
    const upgraded: string[] = [];
    plain.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
      upgraded.push(`node ${req.url}`);
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    });
    const front = upgradeFront({
      http: plain,
      maxHeaderSize: 16384,
      headerTimeoutMs: 1000,
      checkEveryMs: 250,
      noDelay: true,
      onUpgrade: (req, socket, rest) => {
        upgraded.push(`front ${req.url} rest=${rest.length}`);
        socket.end('HTTP/1.1 101 Switching Protocols\r\n\r\n');
      },
    });
    const port = await listen(front.server);
    plain.emit('listening');

    expect((await rawExchange(port, `${UPGRADE}\r\nxy`)).text).toMatch(/^HTTP\/1\.1 101 /);
    // Split across two reads: node's parser takes it up from the first byte.
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write(UPGRADE.replace('/chat?room=1', '/split'));
    await new Promise((r) => setTimeout(r, 50));
    const answer = once(socket, 'data');
    socket.write('\r\n');
    const split = { text: String((await answer)[0]) };
    socket.destroy();
    expect(split.text).toMatch(/^HTTP\/1\.1 400 /);
    const keepAlive = await rawExchange(port, 'GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(keepAlive.text).toContain('plain GET /a');
    expect(keepAlive.text).toContain('plain GET /b');
    expect(upgraded[0]).toBe('front /chat?room=1 rest=2');
    expect(upgraded).toContain('node /split');
    plain.close();
  });

  it('answers 408 to a connection that sends nothing within the head timeout, and drops the waiting ones on close', async () => {
    const front = upgradeFront({ http: http.createServer(), maxHeaderSize: 16384, headerTimeoutMs: 200, checkEveryMs: 50, noDelay: true, onUpgrade: () => {} });
    const port = await listen(front.server);
    const started = Date.now();
    const silent = await rawExchange(port, [], { timeoutMs: 3000 });
    const body = 'Request head not received within 0.2 s\n';
    expect(silent.text).toBe(`HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    expect(silent.closed).toBe(true);
    expect(Date.now() - started).toBeLessThan(1500);

    const waiting = net.connect(port, '127.0.0.1');
    await once(waiting, 'connect');
    await new Promise((r) => setTimeout(r, 20));
    front.dropPending();
    await once(waiting, 'close');
  });
});
