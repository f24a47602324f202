/**
 * Upgrades other than WebSocket (`h2c`, `TLS/1.2`…) are refused with 501 unless the pool names them in
 * `upgrades`: a raw tunnel of a protocol the gateway does not know carries whatever it carries past its routes.
 */
import { once } from 'node:events';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchange, startProxyGateway, startUpstream, until, upgradeRequest, type ProxyGateway, type Upstream } from '@wsgate/test-kit';
import { upstream, type UpstreamPool } from './pool.js';

const H2C = 'GET /h2 HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n';

/** Switches to whatever it is asked for, then echoes; counts the requests it got. */
let requests = 0;
let fake: net.Server;
let fakeUrl: string;
beforeAll(async () => {
  fake = net.createServer((socket) => {
    let head = '';
    let switched = false;
    socket.on('data', (c: Buffer) => {
      if (switched) return void socket.write(c);
      head += c.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      requests++;
      switched = true;
      const upgrade = /^upgrade: (.*)$/im.exec(head)![1]!.trim();
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${upgrade}\r\n\r\n`);
    });
    socket.on('error', () => {});
  });
  fake.listen(0, '127.0.0.1');
  await once(fake, 'listening');
  fakeUrl = `ws://127.0.0.1:${(fake.address() as net.AddressInfo).port}`;
});
afterAll(() => void fake.close());

describe('upgrades other than WebSocket', () => {
  let strict: UpstreamPool;
  let open: UpstreamPool;
  let gw: ProxyGateway;
  beforeAll(async () => {
    strict = upstream(fakeUrl);
    open = upstream(fakeUrl, { upgrades: ['H2C'] });
    gw = await startProxyGateway((req) => req.proxy(req.path.startsWith('/open') ? open : req.path.startsWith('/messages') ? strict.with({ onMessage: () => undefined }) : strict));
  });
  afterAll(async () => {
    await strict.close();
    await open.close();
    await gw.close();
  });

  it.each([['/h2'], ['/messages']])('%s: Upgrade: h2c gets 501 naming the upgrade and the opt-in; the upstream never hears of it', async (path) => {
    const before = requests;
    const text = await exchange(gw.port, H2C.replace('/h2', path));
    expect(text).toMatch(/^HTTP\/1\.1 501 Not Implemented\r\n/);
    expect(text).toContain('Connection: close\r\n');
    expect(text).toMatch(/Upgrade to "h2c" is not proxied here \(only websocket\); the upstream pool may allow it: upgrades: \["h2c"\]\n$/);
    expect(requests).toBe(before);
    expect(gw.logs.some((l) => l.msg === 'upgrade refused' && l.upgrade === 'h2c')).toBe(true);
  });

  it('a pool that names it tunnels it as before: the 101 relayed, then bytes both ways', async () => {
    const socket = net.connect(gw.port, '127.0.0.1');
    let got = '';
    socket.on('data', (c: Buffer) => (got += c.toString('latin1')));
    socket.write(H2C.replace('/h2', '/open'));
    await until(() => got.includes('\r\n\r\n'));
    expect(got).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n[\s\S]*Upgrade: h2c\r\n/);
    socket.write('PRI * HTTP/2.0');
    await until(() => got.endsWith('PRI * HTTP/2.0'));
    socket.destroy();
  });

  it('a WebSocket upgrade must be a GET: 400 otherwise', async () => {
    const before = requests;
    const text = await exchange(gw.port, upgradeRequest().replace(/^GET/, 'POST').replace('\r\n\r\n', '\r\nContent-Length: 0\r\n\r\n'));
    expect(text).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*A WebSocket upgrade is a GET request \(RFC 6455 /);
    expect(requests).toBe(before);
  });
});

describe('an Upgrade that lists websocket among others', () => {
  let up: Upstream;
  let pool: UpstreamPool;
  let gw: ProxyGateway;
  beforeAll(async () => {
    up = await startUpstream();
    pool = upstream(up.url);
    gw = await startProxyGateway((req) => req.proxy(pool));
  });
  afterAll(async () => {
    await pool.close();
    await gw.close();
    await up.close();
  });

  it('is proxied as the WebSocket upgrade it is: the upstream is asked for websocket only', async () => {
    const text = await exchange(gw.port, upgradeRequest().replace('Upgrade: websocket', 'Upgrade: h2c/1, websocket'), { timeoutMs: 300 });
    expect(text).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n[\s\S]*Upgrade: websocket\r\n/);
    expect(up.requests.at(-1)!.headers.upgrade).toBe('websocket');
  });
});
