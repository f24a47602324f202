/**
 * Story S3 end to end: three cluster nodes (HTTPS + WebSockets + BOSH + UDP media) behind the gateway's
 * HTTPS listener; locations, rewriting, forwarded headers, ip_hash stickiness across HTTP, WebSocket, BOSH
 * and the UDP relay, and what moves when a node goes down.
 */
import dgram from 'node:dgram';
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Gateway, loadConfigFile, loadRouteScript, resolveConfig, silentLogger } from '@wsgate/core';
import { makeCertificates } from '@wsgate/test-kit';
import { startCollabNode, type CollabNodeServer } from './collab-node.js';
import { createCollab, type Collab } from './routes.js';

const HOST = 'meet.example.com';
let nodes: CollabNodeServer[];
let collab: Collab;
let gateway: Gateway;
let port: number;

beforeAll(async () => {
  const certs = makeCertificates(['node.example.test', '127.0.0.1']);
  nodes = await Promise.all(['node1', 'node2', 'node3'].map((n) => startCollabNode(n, certs)));
  collab = await createCollab({
    hosts: [HOST],
    nodes: nodes.map((n) => ({ name: n.name, https: n.httpsUrl, udp: n.udpAddress })),
    udp: { host: '127.0.0.1', port: 0 },
  });
  const dataDir = mkdtempSync(join(tmpdir(), 'wsgate-s3-'));
  gateway = new Gateway(resolveConfig({ listeners: [{ host: '127.0.0.1', port: 0, tls: {} }], dataDir, keepalive: { mechanism: 'none' } }, dataDir), { logger: silentLogger });
  gateway.use(collab.routes);
  await gateway.listen();
  port = gateway.addresses()[0]!.port;
});

afterAll(async () => {
  await collab.close();
  await gateway.close({ grace: 0.2 });
  await Promise.all(nodes.map((n) => n.close()));
});

interface Answer {
  status: number;
  node: string | undefined;
  body: string;
}

function get(path: string, from = '127.0.0.1', options: https.RequestOptions & { body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      { host: '127.0.0.1', port, path, localAddress: from, rejectUnauthorized: false, headers: { Host: HOST }, agent: false, ...options },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, node: res.headers['x-node'] as string | undefined, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

async function websocket(path: string, from = '127.0.0.1'): Promise<{ ws: WebSocket; hello: { node: string; path: string } }> {
  const ws = new WebSocket(`wss://127.0.0.1:${port}${path}`, ['xmpp'], { localAddress: from, rejectUnauthorized: false, headers: { Host: HOST } });
  const [hello] = (await once(ws, 'message')) as [Buffer];
  return { ws, hello: JSON.parse(hello.toString()) };
}

async function udpAsk(from: string, payload: string): Promise<string> {
  const socket = dgram.createSocket('udp4');
  socket.bind(0, from);
  await once(socket, 'listening');
  socket.send(payload, collab.media!.address().port, '127.0.0.1');
  const [msg] = (await once(socket, 'message')) as [Buffer];
  socket.close();
  return msg.toString();
}

const nodeNamed = (name: string | undefined) => nodes.find((n) => n.name === name)!;

describe('locations', () => {
  it('rewrites / to /ofmeet/ and passes /pade/ as is, with Host, X-Real-IP, X-Forwarded-For and -Proto set', async () => {
    const page = await get('/conference42?lang=fr', '127.0.0.9', { headers: { Host: HOST, 'X-Forwarded-For': '203.0.113.5' } });
    expect(page.status).toBe(200);
    expect(page.body).toBe(`${page.node} /ofmeet/conference42?lang=fr`);
    const seen = nodeNamed(page.node).requests.at(-1)!;
    expect(seen.headers).toMatchObject({ host: HOST, 'x-real-ip': '127.0.0.9', 'x-forwarded-for': '203.0.113.5, 127.0.0.9', 'x-forwarded-proto': 'https' });
    expect((await get('/', '127.0.0.9')).body).toBe(`${page.node} /ofmeet/`);
    expect((await get('/pade/index.html', '127.0.0.9')).body).toBe(`${page.node} /pade/index.html`);
  });

  it('upgrades /colibri-ws/ and /ws/ to WebSockets with the xmpp subprotocol, relaying both ways', async () => {
    for (const path of ['/colibri-ws/jvb1/abc?pwd=x', '/ws/']) {
      const { ws, hello } = await websocket(path, '127.0.0.9');
      expect(ws.protocol).toBe('xmpp');
      expect(hello.path).toBe(path);
      ws.send('<presence/>');
      expect(String((await once(ws, 'message'))[0])).toBe('<presence/>');
      const seen = nodeNamed(hello.node).requests.at(-1)!;
      expect(seen.headers).toMatchObject({ host: HOST, 'x-real-ip': '127.0.0.9', connection: 'upgrade', upgrade: 'websocket' });
      ws.close();
    }
  });

  it('answers 404 for a host that is not the site, without asking a node', async () => {
    expect((await get('/', '127.0.0.9', { headers: { Host: 'other.example.com' } })).status).toBe(404);
  });
});

describe('BOSH long-polling through /http-bind/', () => {
  it('holds a poll until a message arrives, over one kept-alive client connection', async () => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 2, localAddress: '127.0.0.11' } as https.AgentOptions);
    const t0 = Date.now();
    const poll = get('/http-bind/', '127.0.0.11', { method: 'POST', agent, body: "<body sid='s1' wait='5'><poll/></body>" });
    await new Promise((r) => setTimeout(r, 300));
    const sent = await get('/http-bind/', '127.0.0.11', { method: 'POST', agent, body: "<body sid='s1'><send sid='s1'>hello room</send></body>" });
    const answer = await poll;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
    expect(answer.body).toMatch(/<message>hello room<\/message>/);
    expect(answer.node).toBe(sent.node);
    agent.destroy();
  });
});

describe('ip_hash', () => {
  const clients = Array.from({ length: 10 }, (_, i) => `127.0.0.${60 + i}`);

  it('keeps each client on one node for pages, WebSockets, BOSH and UDP media, and spreads clients over nodes', async () => {
    const home = new Map<string, string>();
    for (const ip of clients) {
      const page = await get('/room', ip);
      const { ws, hello } = await websocket('/colibri-ws/jvb/x', ip);
      ws.close();
      const bosh = await get('/http-bind/', ip, { method: 'POST', body: `<body sid='${ip}'><send sid='${ip}'>x</send></body>` });
      const media = await udpAsk(ip, 'rtp');
      for (let i = 0; i < 3; i++) expect((await get('/pade/', ip)).node).toBe(page.node);
      expect([hello.node, bosh.node, media.split(':')[0]]).toEqual([page.node, page.node, page.node]);
      home.set(ip, page.node!);
    }
    expect(new Set(home.values()).size).toBeGreaterThanOrEqual(2);
  });

  it('moves only the clients of a node that goes down', async () => {
    const before = new Map<string, string>();
    for (const ip of clients) before.set(ip, (await get('/room', ip)).node!);
    const victim = nodes.find((n) => [...before.values()].includes(n.name))!;
    await victim.close();
    for (const ip of clients) {
      const now = (await get('/room', ip)).node!;
      if (before.get(ip) === victim.name) expect(now).not.toBe(victim.name);
      else expect(now).toBe(before.get(ip));
    }
    expect(collab.pool.status().find((s) => s.name === victim.name)!.available).toBe(false);
  });
});

describe('wsgate.yaml', () => {
  it('is a valid config whose script routes to the configured nodes', async () => {
    const file = fileURLToPath(new URL('./wsgate.yaml', import.meta.url));
    const config = await loadConfigFile(file, { listeners: [{ host: '127.0.0.1', port: 0 }] });
    const live = nodes.filter((n) => collab.pool.status().find((s) => s.name === n.name)!.available);
    const g = new Gateway(config, { logger: silentLogger });
    const script = { path: config.script!.path, options: { ...config.script!.options, nodes: live.map((n) => ({ name: n.name, https: n.httpsUrl })), udp: undefined } };
    g.use(await loadRouteScript(script, g));
    await g.listen();
    // The listener override is plain HTTP: the routing is what is checked here.
    const answer = await new Promise<string>((resolve, reject) =>
      http
        .get({ host: '127.0.0.1', port: g.addresses()[0]!.port, path: '/x', headers: { Host: 'localhost' } }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c));
          res.on('end', () => resolve(body));
        })
        .on('error', reject),
    );
    expect(answer).toMatch(/^node\d \/ofmeet\/x$/);
    await g.close({ grace: 0.2 });
  });
});
