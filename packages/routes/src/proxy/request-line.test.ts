/**
 * The request line and Host an upstream receives through a plain `req.proxy()`: origin-form, the normalised
 * path, and the host the gateway routed on, whether the client sent origin-form or absolute-form (RFC 9112
 * §3.2.2), for plain HTTP, raw upgrades and message-mode upgrades.
 */
import { once } from 'node:events';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLIENT_ACCEPT, exchange, startProxyGateway, startUpstream, upgradeRequest, type ProxyGateway, type Upstream } from '@wsgate/test-kit';
import { virtualHosts } from '../routing/virtual-hosts.js';
import { upstream, type UpstreamPool } from './pool.js';

let up: Upstream;
let pool: UpstreamPool;
let gw: ProxyGateway;
let messages: ProxyGateway;

beforeAll(async () => {
  up = await startUpstream({ name: 'app' });
  pool = upstream(up.url);
  gw = await startProxyGateway((req) => req.proxy(pool));
  messages = await startProxyGateway((req) => req.proxy(pool.with({ onMessage: () => undefined })));
});
afterAll(async () => {
  await pool.close();
  await Promise.all([gw.close(), messages.close()]);
  await up.close();
});

/** Sends `head` and reads the answer's head (a 101 leaves the tunnel open: no waiting for a close). */
async function answerHead(port: number, head: string): Promise<string> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  await once(socket, 'connect');
  socket.write(head);
  let text = '';
  socket.setEncoding('latin1');
  for await (const chunk of socket) {
    text += chunk as string;
    if (text.includes('\r\n\r\n')) break;
  }
  socket.destroy();
  return text;
}

/** Sends `head`; the client's status line, and the request line and Host the upstream received (if any). */
async function send(port: number, head: string): Promise<{ status: string; upstream: string | undefined }> {
  const before = up.requests.length;
  const text = await answerHead(port, head);
  const got = up.requests[before];
  return { status: text.slice(0, text.indexOf('\r\n')), upstream: got && `${got.method} ${got.url} Host: ${got.headers.host}` };
}

const plain = (target: string, host = '127.0.0.1') => `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;

describe('absolute-form leaves the gateway in origin-form, with the host it routed on', () => {
  it('plain HTTP', async () => {
    expect(await send(gw.port, plain('http://admin.internal/secret'))).toEqual({ status: 'HTTP/1.1 200 OK', upstream: 'GET /secret Host: admin.internal' });
    expect(await send(gw.port, plain('http://admin.internal:8080'))).toEqual({ status: 'HTTP/1.1 200 OK', upstream: 'GET / Host: admin.internal:8080' });
    expect(await send(gw.port, plain('http://Admin.Internal//a/./b/../c?x=1'))).toEqual({ status: 'HTTP/1.1 200 OK', upstream: 'GET /a/c?x=1 Host: Admin.Internal' });
  });

  it('a WebSocket upgrade, raw mode', async () => {
    const answer = await send(gw.port, upgradeRequest({ path: 'http://admin.internal/ws?room=1', host: '127.0.0.1' }));
    expect(answer).toEqual({ status: 'HTTP/1.1 101 Switching Protocols', upstream: 'GET /ws?room=1 Host: admin.internal' });
  });

  it('a WebSocket upgrade, message mode', async () => {
    const head = upgradeRequest({ path: 'ws://admin.internal//ws/../chat', host: '127.0.0.1' });
    const text = await answerHead(messages.port, head);
    expect(text).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    expect(text).toContain(`Sec-WebSocket-Accept: ${CLIENT_ACCEPT}`);
    const got = up.requests.at(-1)!;
    expect(`${got.method} ${got.url} Host: ${got.headers.host}`).toBe('GET /chat Host: admin.internal');
  });

  it('the normalised path in origin-form too', async () => {
    expect(await send(gw.port, plain('//a/%2e%2E/b/%7Ex%2fy'))).toEqual({ status: 'HTTP/1.1 200 OK', upstream: 'GET /b/~x%2Fy Host: 127.0.0.1' });
    expect(await send(gw.port, upgradeRequest({ path: '/a/./b//c?x' }))).toEqual({ status: 'HTTP/1.1 101 Switching Protocols', upstream: 'GET /a/b/c?x Host: 127.0.0.1' });
  });

  it('answers 400 with the reason to a target it cannot read, upgrade or not; the upstream hears nothing', async () => {
    const bad = await exchange(gw.port, plain('http://user@admin.internal/x'));
    expect(bad).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n[^]*userinfo/);
    const badUpgrade = await send(gw.port, upgradeRequest({ path: '/ws/../../x' }));
    expect(badUpgrade).toEqual({ status: 'HTTP/1.1 400 Bad Request', upstream: undefined });
  });
});

describe('routing and the upstream agree on the host', () => {
  let internal: ProxyGateway;
  beforeAll(async () => {
    const sites = virtualHosts([
      { names: ['admin.internal'], routes: (req) => req.refuse(403, 'site', 'internal site') },
      { names: [], routes: (req) => req.proxy(pool), default: true },
    ]);
    internal = await startProxyGateway((req) => sites.route(req));
  });
  afterAll(() => internal.close());

  it('virtualHosts chooses by the absolute-form host, which is the Host the upstream would see', async () => {
    expect(await send(internal.port, plain('http://admin.internal/secret'))).toEqual({ status: 'HTTP/1.1 403 Forbidden', upstream: undefined });
    expect(await send(internal.port, upgradeRequest({ path: 'http://ADMIN.internal./ws', host: '127.0.0.1' }))).toEqual({ status: 'HTTP/1.1 403 Forbidden', upstream: undefined });
    expect(await send(internal.port, plain('http://public.example/x', 'admin.internal'))).toEqual({ status: 'HTTP/1.1 200 OK', upstream: 'GET /x Host: public.example' });
  });
});
