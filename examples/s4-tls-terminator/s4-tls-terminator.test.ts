/**
 * Story S4 end to end, beside a real nginx configured as the story's server block: the same client traffic
 * through both (wss and https on the client side, plain ws upstream) must give the same observable results —
 * status codes, the headers the upstream sees and the client gets back, messages and close codes.
 */
import { once } from 'node:events';
import https from 'node:https';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Gateway, loadConfigFile, loadRouteScript, resolveConfig, silentLogger } from '@wsgate/core';
import { freePort, makeCertificates, Nginx, startUpstream, type Upstream } from '@wsgate/test-kit';
import { createTerminator, type Terminator } from './routes.js';

type Side = 'wsgate' | 'nginx';
let up: Upstream;
let terminator: Terminator;
let gateway: Gateway;
let nginx: Nginx;
const ports = {} as Record<Side, number>;
const closeCodes: number[] = [];
let certDir: string;


beforeAll(async () => {
  const certs = makeCertificates(['localhost', '127.0.0.1']);
  certDir = certs.dir;
  up = await startUpstream({
    name: 'backend',
    protocols: ['sip'],
    refuse: (req) => (req.url === '/private' ? 'HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: 10\r\nX-Reason: private\r\n\r\nno access\n' : undefined),
    onRequest: (req, res) => {
      res.setHeader('X-Node', 'backend');
      res.setHeader('Set-Cookie', ['a=1', 'b=2']);
      res.end(`backend ${req.method} ${req.url}`);
    },
    onConnection: (ws) => {
      ws.on('message', (data: Buffer, isBinary: boolean) => ws.send(data, { binary: isBinary }));
      ws.on('close', (code: number) => closeCodes.push(code));
    },
  });
  const upstreamUrl = `ws://127.0.0.1:${up.port}`;
  terminator = createTerminator({ upstream: upstreamUrl });
  gateway = new Gateway(
    resolveConfig({ listeners: [{ host: '127.0.0.1', port: 0, tls: { cert: join(certs.dir, 'leaf.pem'), key: join(certs.dir, 'leaf.key') } }], keepalive: { mechanism: 'none' } }, certs.dir),
    { logger: silentLogger },
  );
  gateway.use(terminator.routes);
  await gateway.listen();
  ports.wsgate = gateway.addresses()[0]!.port;

  ports.nginx = await freePort();
  nginx = await Nginx.start({
    waitPorts: [ports.nginx],
    http: `
  map $http_upgrade $connection_upgrade { default upgrade; '' close; }
  server {
    listen 127.0.0.1:${ports.nginx} ssl;
    ssl_certificate ${join(certs.dir, 'leaf.pem')};
    ssl_certificate_key ${join(certs.dir, 'leaf.key')};
    location / {
      proxy_pass http://127.0.0.1:${up.port};
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection $connection_upgrade;
      proxy_set_header Host $http_host;
      proxy_set_header X-Real-IP $remote_addr;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_read_timeout 86400;
    }
  }`,
  });
});

afterAll(async () => {
  await terminator?.pool.close();
  await gateway?.close({ grace: 0.2 });
  await nginx?.stop();
  await up?.close();
});

const both = (f: (side: Side) => Promise<unknown>) => Promise.all([f('wsgate'), f('nginx')]);

/** The request head the upstream received last, minus what legitimately differs per proxy. */
function lastSeen(): Record<string, unknown> {
  const { 'sec-websocket-key': _key, ...headers } = up.requests.at(-1)!.headers;
  return { method: up.requests.at(-1)!.method, url: up.requests.at(-1)!.url, headers };
}

interface Answer {
  status: number;
  headers: Record<string, unknown>;
  body: string;
}

function get(side: Side, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    https
      .get({ host: '127.0.0.1', port: ports[side], path, headers: { Host: 'gw.example.test', ...headers }, rejectUnauthorized: false, agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c));
        res.on('end', () => {
          const { date: _d, server: _s, connection: _c, 'keep-alive': _k, ...rest } = res.headers;
          resolve({ status: res.statusCode!, headers: rest, body });
        });
      })
      .on('error', reject);
  });
}

function upgrade(side: Side, path: string, protocols?: string[]): Promise<{ ws?: WebSocket; status: number; headers: Record<string, unknown>; body?: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`wss://127.0.0.1:${ports[side]}${path}`, protocols, { rejectUnauthorized: false, headers: { Host: 'gw.example.test' } });
    ws.once('upgrade', (res) => {
      // The accept value answers each connection's random key (ws checked it, or 'open' would not come).
      const { date: _d, server: _s, 'sec-websocket-accept': _a, ...headers } = res.headers;
      ws.once('open', () => resolve({ ws, status: 101, headers }));
    });
    ws.once('unexpected-response', (req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => {
        const { date: _d, server: _s, connection: _c, ...headers } = res.headers;
        resolve({ status: res.statusCode!, headers, body });
        req.destroy();
      });
    });
    ws.once('error', reject);
  });
}

describe('wsgate and nginx side by side', () => {
  it('relay a WebSocket alike: 101, subprotocol, headers both ways, messages, close code', async () => {
    const results = await both(async (side) => {
      const { ws, status, headers } = await upgrade(side, '/sip?user=alice', ['sip', 'chat']);
      const seen = lastSeen();
      ws!.send('REGISTER');
      const [text] = await once(ws!, 'message');
      ws!.send(Buffer.from([0, 1, 2]));
      const [bin, isBinary] = await once(ws!, 'message');
      const closed = closeCodes.length;
      ws!.close(4001, 'done');
      await once(ws!, 'close');
      while (closeCodes.length === closed) await new Promise((r) => setTimeout(r, 5));
      return { status, headers, protocol: ws!.protocol, seen, echoed: [String(text), [...(bin as Buffer)], isBinary], upstreamClose: closeCodes.at(-1) };
    });
    const [wsgate, nginxResult] = results as [Record<string, unknown>, Record<string, unknown>];
    expect(wsgate).toEqual(nginxResult);
    expect(wsgate).toMatchObject({
      status: 101,
      protocol: 'sip',
      headers: { 'x-node': 'backend', 'sec-websocket-protocol': 'sip' },
      seen: { url: '/sip?user=alice', headers: { connection: 'upgrade', upgrade: 'websocket', host: 'gw.example.test', 'x-real-ip': '127.0.0.1', 'x-forwarded-for': '127.0.0.1', 'x-forwarded-proto': 'https' } },
      upstreamClose: 4001,
    });
  });

  it('relay plain HTTPS alike, with Connection: close upstream', async () => {
    const [wsgate, nginxResult] = (await both(async (side) => {
      const answer = await get(side, '/index.html?x=1', { 'X-Forwarded-For': '203.0.113.9' });
      return { answer, seen: lastSeen() };
    })) as [Record<string, unknown>, Record<string, unknown>];
    expect(wsgate).toEqual(nginxResult);
    expect(wsgate).toMatchObject({
      answer: { status: 200, body: 'backend GET /index.html?x=1', headers: { 'set-cookie': ['a=1', 'b=2'], 'x-node': 'backend' } },
      seen: { headers: { connection: 'close', 'x-forwarded-for': '203.0.113.9, 127.0.0.1' } },
    });
    expect((wsgate.seen as { headers: Record<string, unknown> }).headers.upgrade).toBeUndefined();
  });

  it("relay the upstream's refusal of an upgrade alike", async () => {
    const [wsgate, nginxResult] = await both((side) => upgrade(side, '/private'));
    expect(wsgate).toEqual(nginxResult);
    expect(wsgate).toMatchObject({ status: 403, body: 'no access\n', headers: { 'x-reason': 'private' } });
  });

  it('both answer 502 when the upstream is down, to upgrades and plain requests', async () => {
    const down = await freePort();
    const t = createTerminator({ upstream: `ws://127.0.0.1:${down}` });
    const g = new Gateway(resolveConfig({ listeners: [{ host: '127.0.0.1', port: 0, tls: { cert: join(certDir, 'leaf.pem'), key: join(certDir, 'leaf.key') } }] }, certDir), { logger: silentLogger });
    g.use(t.routes);
    await g.listen();
    const nginxPort = await freePort();
    const n = await Nginx.start({
      waitPorts: [nginxPort],
      http: `server { listen 127.0.0.1:${nginxPort} ssl; ssl_certificate ${join(certDir, 'leaf.pem')}; ssl_certificate_key ${join(certDir, 'leaf.key')};
        location / { proxy_pass http://127.0.0.1:${down}; proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade"; } }`,
    });
    const saved = { ...ports };
    try {
      ports.wsgate = g.addresses()[0]!.port;
      ports.nginx = nginxPort;
      const [a, b] = (await both(async (side) => [(await upgrade(side, '/')).status, (await get(side, '/')).status])) as [number[], number[]];
      expect(a).toEqual(b);
      expect(a).toEqual([502, 502]);
    } finally {
      Object.assign(ports, saved);
      await n.stop();
      await t.pool.close();
      await g.close({ grace: 0.2 });
    }
  });
});

describe('wsgate.yaml', () => {
  it('loads, and its script proxies to the configured upstream', async () => {
    const file = fileURLToPath(new URL('./wsgate.yaml', import.meta.url));
    const config = await loadConfigFile(file, { listeners: [{ host: '127.0.0.1', port: 0 }] });
    const g = new Gateway(config, { logger: silentLogger });
    g.use(await loadRouteScript({ path: config.script!.path, options: { upstream: `ws://127.0.0.1:${up.port}` } }, g));
    await g.listen();
    const ws = new WebSocket(`ws://127.0.0.1:${g.addresses()[0]!.port}/`, ['sip']);
    await once(ws, 'open');
    ws.send('hi');
    expect(String((await once(ws, 'message'))[0])).toBe('hi');
    ws.close();
    await once(ws, 'close');
    await g.close({ grace: 0.2 });
  });
});
