/** Plain HTTP through the proxy against real upstreams: headers, streaming both ways, limits, failures. */
import { once } from 'node:events';
import http, { type IncomingMessage } from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchange, freePort, startProxyGateway, startUpstream, until, type ProxyGateway, type Upstream } from '@wsgate/test-kit';
import { upstream, upstreams, type UpstreamPool } from './pool.js';

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
}

function request(port: number, options: http.RequestOptions & { body?: string | string[] } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, agent: false, ...options }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, rawHeaders: res.rawHeaders, body }));
    });
    req.on('error', reject);
    for (const part of [options.body ?? []].flat()) req.write(part);
    req.end();
  });
}


describe('headers', () => {
  let up: Upstream;
  let pool: UpstreamPool;
  let gw: ProxyGateway;
  beforeAll(async () => {
    up = await startUpstream({
      name: 'h',
      onRequest: (_req, res) => {
        res.setHeader('Set-Cookie', ['a=1', 'b=2']);
        res.setHeader('Keep-Alive', 'timeout=5');
        res.setHeader('X-Hop', 'x');
        res.setHeader('Connection', 'X-Hop');
        res.end('ok');
      },
    });
    pool = upstream(up.url.replace('ws:', 'http:'), { headers: { set: { 'X-Gateway': 'wsgate', 'X-Path': (req) => req.path, 'X-Secret': null } } });
    gw = await startProxyGateway((req) => req.proxy(pool));
  });
  afterAll(async () => {
    await pool.close();
    await gw.close();
    await up.close();
  });

  it('sends Host, the real IP, X-Forwarded-*, custom headers and Connection: close; drops hop-by-hop ones', async () => {
    const answer = await request(gw.port, {
      path: '/a/b?c=1',
      headers: {
        Host: 'meet.example.com',
        'X-Forwarded-For': '198.51.100.7',
        'X-Real-IP': '6.6.6.6',
        'X-Secret': 'from-client',
        'Proxy-Authorization': 'Basic Zm9vOmJhcg==',
        'Keep-Alive': 'timeout=9',
        'X-Private': 'p',
        Connection: 'keep-alive, X-Private',
      },
    });
    expect(answer.status).toBe(200);
    const seen = up.requests.at(-1)!;
    expect(seen.url).toBe('/a/b?c=1');
    expect(seen.headers).toMatchObject({
      host: 'meet.example.com',
      'x-real-ip': '127.0.0.1',
      'x-forwarded-for': '198.51.100.7, 127.0.0.1',
      'x-forwarded-proto': 'http',
      'x-gateway': 'wsgate',
      'x-path': '/a/b',
      connection: 'close',
    });
    for (const gone of ['x-secret', 'proxy-authorization', 'keep-alive', 'x-private', 'upgrade']) expect(seen.headers[gone]).toBeUndefined();
  });

  it('relays response headers, repeated ones kept, hop-by-hop ones dropped', async () => {
    const answer = await request(gw.port, { path: '/' });
    expect(answer.headers['set-cookie']).toEqual(['a=1', 'b=2']);
    expect(answer.headers['x-hop']).toBeUndefined();
    expect(answer.headers['keep-alive']).not.toBe('timeout=5');
    expect(answer.body).toBe('ok');
  });
});

describe('bodies', () => {
  let up: Upstream;
  let pool: UpstreamPool;
  let gw: ProxyGateway;
  const arrived: string[] = [];
  beforeAll(async () => {
    up = await startUpstream({
      onRequest: (req, res) => {
        if (req.url === '/slow-answer') {
          // A long-poll: the first part at once, the rest later.
          res.write('first;');
          setTimeout(() => res.end('second'), 300);
          return;
        }
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        req.on('data', (c: Buffer) => {
          arrived.push(c.toString());
          res.write(`echo:${c.toString()};`);
        });
        req.on('end', () => res.end('done'));
      },
    });
    pool = upstream(up.url.replace('ws:', 'http:'), { maxBodySize: 1000, keepAlive: 8 });
    gw = await startProxyGateway((req) => req.proxy(pool));
  });
  afterAll(async () => {
    await pool.close();
    await gw.close();
    await up.close();
  });

  it('streams a chunked request body upstream and the answer back while both are still being sent', async () => {
    const req = http.request({ host: '127.0.0.1', port: gw.port, method: 'POST', path: '/http-bind/', agent: false, headers: { 'Transfer-Encoding': 'chunked' } });
    req.write('one');
    const [res] = (await once(req, 'response')) as [IncomingMessage];
    res.setEncoding('utf8');
    let got = '';
    res.on('data', (c: string) => (got += c));
    await until(() => got.includes('echo:one;'), 3000, 'the first part relayed before the body ended');
    expect(arrived).toContain('one');
    req.end('two');
    await once(res, 'end');
    expect(got).toBe('echo:one;echo:two;done');
  });

  it('relays a long-poll answer as it comes', async () => {
    const t0 = Date.now();
    const answer = await request(gw.port, { path: '/slow-answer' });
    expect(answer.body).toBe('first;second');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
  });

  it('answers 413 to a declared body over the limit without asking the upstream', async () => {
    const before = up.requests.length;
    const answer = await request(gw.port, { method: 'POST', path: '/', headers: { 'Content-Length': '5000' }, body: 'x'.repeat(5000) }).catch(() => undefined);
    if (answer) expect(answer.status).toBe(413);
    const text = await exchange(gw.port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n');
    expect(text).toMatch(/^HTTP\/1\.1 413 Payload Too Large\r\n/);
    expect(up.requests.length).toBe(before);
  });

  it('answers 413 once a chunked body passes the limit', async () => {
    const chunk = (s: string) => `${s.length.toString(16)}\r\n${s}\r\n`;
    const text = await exchange(gw.port, `POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunk('a'.repeat(600))}${chunk('b'.repeat(600))}0\r\n\r\n`);
    expect(text).toMatch(/^HTTP\/1\.1 413 Payload Too Large\r\n/);
  });

  it('keeps upstream connections alive with keepAlive, sending Connection: keep-alive', async () => {
    const sockets = new Set<net.Socket>();
    const onConnection = (s: net.Socket) => sockets.add(s);
    up.server.on('connection', onConnection);
    for (let i = 0; i < 4; i++) expect((await request(gw.port, { path: '/k' })).body).toBe('done');
    up.server.removeListener('connection', onConnection);
    expect(up.requests.at(-1)!.headers.connection).toBe('keep-alive');
    expect(sockets.size).toBe(1);
  });

  it('does not reuse a kept connection the upstream has closed', async () => {
    expect((await request(gw.port, { path: '/k' })).body).toBe('done');
    up.server.closeIdleConnections();
    const t0 = Date.now();
    expect((await request(gw.port, { path: '/k' })).body).toBe('done');
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});

describe('failures', () => {
  it('502 when the upstream refuses, with the reason, logged with the upstream and the cause', async () => {
    const port = await freePort();
    const pool = upstream(`http://127.0.0.1:${port}`);
    const gw = await startProxyGateway((req) => req.proxy(pool));
    const answer = await request(gw.port, { path: '/' });
    expect(answer.status).toBe(502);
    expect(answer.body).toBe('upstream refused the connection\n');
    expect(gw.logs.find((l) => l.msg === 'upstream failed')).toMatchObject({ upstream: `http://127.0.0.1:${port}`, status: 502, err: { code: 'ECONNREFUSED' } });
    await pool.close();
    await gw.close();
  });

  it('502 when the host name does not resolve', async () => {
    const pool = upstream('http://no-such-host.invalid:80');
    const gw = await startProxyGateway((req) => req.proxy(pool));
    const answer = await request(gw.port, { path: '/' });
    expect(answer.status).toBe(502);
    expect(answer.body).toMatch(/^upstream host name did not resolve \(E/);
    await pool.close();
    await gw.close();
  });

  it('504 when the upstream takes longer than timeouts.http to answer', async () => {
    const silent = await startUpstream({ onRequest: () => {} });
    const pool = upstream(silent.url.replace('ws:', 'http:'), { timeouts: { http: 0.3 } });
    const gw = await startProxyGateway((req) => req.proxy(pool));
    const answer = await request(gw.port, { path: '/' });
    expect(answer.status).toBe(504);
    expect(answer.body).toBe('upstream timed out\n');
    await pool.close();
    await gw.close();
    await silent.close();
  });

  it('aborts the upstream request when the client goes away', async () => {
    let aborted = false;
    const up = await startUpstream({ onRequest: (req) => req.socket.on('close', () => (aborted = true)) });
    const pool = upstream(up.url.replace('ws:', 'http:'));
    const gw = await startProxyGateway((req) => req.proxy(pool));
    const socket = net.connect(gw.port, '127.0.0.1');
    socket.write('GET /wait HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => up.requests.length === 1);
    socket.destroy();
    await until(() => aborted);
    await until(() => pool.status()[0]!.active === 0);
    await pool.close();
    await gw.close();
    await up.close();
  });

  it('moves to the next node on a failed connect; a node over max_fails is skipped for fail_timeout', async () => {
    const good = await startUpstream({ name: 'good' });
    const port = await freePort();
    const pool = upstreams({ servers: [`http://127.0.0.1:${port}`, good.url.replace('ws:', 'http:')], maxFails: 1, failTimeout: 30 });
    const gw = await startProxyGateway((req) => req.proxy(pool));
    for (let i = 0; i < 6; i++) expect((await request(gw.port, { path: '/' })).headers['x-node']).toBe('good');
    expect(gw.logs.filter((l) => l.msg === 'upstream failed')).toHaveLength(1);
    expect(pool.status()[0]!.available).toBe(false);
    await pool.close();
    await gw.close();
    await good.close();
  });
});
