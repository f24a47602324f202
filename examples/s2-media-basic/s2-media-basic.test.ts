/**
 * S2, basic-auth variant, end to end: the example's own wsgate.yaml and route script on a wss listener,
 * relaying to a stand-in media server over TLS (self-signed), with the REST hook service beside, and real
 * clients — some from 127.0.0.2, which the config does not trust as a balancer.
 */
import { mkdtempSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createLogger, Gateway, loadRouteScript, resolveConfig, type LogFields, readConfigFile } from '@wsgate/core';
import { startHookService, startMediaServer, type HookService, type MediaServer } from './media-peers.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const logs: LogFields[] = [];
let media: MediaServer;
let hook: HookService;
let gateway: Gateway;
let port: number;

beforeAll(async () => {
  [media, hook] = await Promise.all([startMediaServer(), startHookService()]);
  // The example's config as written, but on a free port, with its own certificate folder, the peers' addresses
  // and a body limit small enough to test.
  const file = (await readConfigFile(join(here, 'wsgate.yaml'))) as { listeners: Record<string, unknown>[]; script: { options: Record<string, unknown> } };
  file.listeners = file.listeners.map((l) => ({ ...l, port: 0 }));
  file.script.options = { ...file.script.options, upstream: media.url, hook: hook.url, maxBodySize: 1024 };
  const config = resolveConfig({ ...file, dataDir: mkdtempSync(join(tmpdir(), 'wsgate-s2-basic-')) }, here);
  gateway = new Gateway(config, { logger: createLogger({ level: 'debug', write: (l) => void logs.push(JSON.parse(l)) }) });
  gateway.use(await loadRouteScript(config.script!, gateway));
  await gateway.listen();
  port = gateway.addresses()[0]!.port;
});
afterAll(async () => {
  await gateway?.close({ grace: 0.2 });
  await Promise.all([media?.close(), hook?.close()]);
});

const credentials = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const MEDIA = credentials('media', 'media-secret');

interface Opened {
  ws?: WebSocket;
  /** The client's own port, as the gateway saw it. */
  localPort?: number;
  status?: number;
  headers?: Record<string, unknown>;
  body?: string;
}

function open(headers: Record<string, string>, from = '127.0.0.1', path = '/ws'): Promise<Opened> {
  const ws = new WebSocket(`wss://127.0.0.1:${port}${path}`, ['janus-protocol'], { headers, localAddress: from, rejectUnauthorized: false });
  return new Promise((resolve, reject) => {
    ws.once('upgrade', (res) => ws.once('open', () => resolve({ ws, localPort: res.socket.localPort! })));
    ws.once('unexpected-response', (req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => (req.destroy(), resolve({ status: res.statusCode!, headers: res.headers, body })));
    });
    ws.once('error', reject);
  });
}

async function exchange(ws: WebSocket, text: string): Promise<string> {
  const answer = new Promise<string>((r) => ws.once('message', (m) => r(String(m))));
  ws.send(text);
  return answer;
}

function request(method: string, path: string, headers: Record<string, string>, body = ''): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .request({ host: '127.0.0.1', port, method, path, headers: { ...headers, 'Content-Length': String(Buffer.byteLength(body)) }, rejectUnauthorized: false, agent: false }, (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode!, body: text }));
      })
      .on('error', reject)
      .end(body);
  });
}

describe('S2 with basic authentication, relayed to the media server', () => {
  it('relays a user from the htpasswd file over TLS, telling the media server the real client as X-Client-IP: ip:port', async () => {
    // From 127.0.0.2, which is not a trusted balancer: its own X-Client-IP is a forgery, replaced.
    const { ws, localPort } = await open({ Authorization: MEDIA, 'X-Client-IP': '6.6.6.6:1' }, '127.0.0.2');
    expect(ws!.protocol).toBe('janus-protocol');
    expect(await exchange(ws!, 'hello')).toBe(`hello from the media server, client 127.0.0.2:${localPort}`);
    const seen = media.requests.at(-1)!;
    expect(seen).toMatchObject({ url: '/ws', headers: { 'x-client-ip': `127.0.0.2:${localPort}`, 'x-remote-user': 'media', upgrade: 'websocket' } });
    expect(seen.headers.authorization).toBeUndefined();
    ws!.close();
  });

  it('passes on the client address a trusted balancer gave, to the hook and to the media server', async () => {
    const { ws } = await open({ Authorization: MEDIA, 'X-Client-IP': '203.0.113.7:4444', 'User-Agent': 'media-client/1.0' });
    expect(await exchange(ws!, 'hi')).toBe('hi from the media server, client 203.0.113.7:4444');
    expect(hook.sessions.at(-1)).toMatchObject({
      session: '203.0.113.7:4444',
      client: { ip: '203.0.113.7', port: 4444 },
      path: '/ws',
      userAgent: 'media-client/1.0',
      protocols: ['janus-protocol'],
      forwarded: { 'X-Client-IP': '203.0.113.7:4444' },
    });
    ws!.close();
  });

  it('lets the REST hook refuse a connection, which never reaches the media server', async () => {
    hook.decide = (s) => (s.client.ip === '198.51.100.66' ? 403 : 200);
    try {
      const before = media.requests.length;
      const refused = await open({ Authorization: MEDIA, 'X-Client-IP': '198.51.100.66:5000' });
      expect(refused).toMatchObject({ status: 403, body: 'refused by the auth hook (HTTP 403)\n' });
      expect(media.requests.length).toBe(before);
      expect(logs).toContainEqual(expect.objectContaining({ msg: 'request refused', by: 'auth-hook', client: '198.51.100.66:5000' }));
    } finally {
      hook.decide = () => 200;
    }
  });

  it('answers 401 with the Basic challenge without credentials or with a wrong password, before calling the hook', async () => {
    const calls = hook.sessions.length;
    const none = await open({ 'X-Client-IP': '198.51.100.20:5000' });
    expect(none.status).toBe(401);
    expect(none.headers!['www-authenticate']).toBe('Basic realm="media", charset="UTF-8"');
    const wrong = await open({ Authorization: credentials('media', 'guess'), 'X-Client-IP': '198.51.100.21:5001' });
    expect(wrong.status).toBe(401);
    expect(logs).toContainEqual(expect.objectContaining({ msg: 'request refused', by: 'basic', client: '198.51.100.21:5001', reason: 'invalid user name or password' }));
    expect(hook.sessions.length).toBe(calls);
  });

  it('answers 403 at /ws unless Connection contains upgrade and Upgrade contains websocket, before asking for credentials', async () => {
    expect(await request('GET', '/ws', { Authorization: MEDIA })).toEqual({ status: 403, body: 'Connection must contain "upgrade"\n' });
    expect(await request('GET', '/ws', { Connection: 'keep-alive, Upgrade', Upgrade: 'h2c' })).toEqual({ status: 403, body: 'Upgrade must contain "websocket"\n' });
    expect(logs.filter((l) => l.by === 'upgrade')).toHaveLength(2);
  });
});

describe("the media server's REST API", () => {
  it('relays authenticated calls with their bodies, and answers 413 to a body over the limit without relaying it', async () => {
    expect(await request('POST', '/rest-api/stream/startRecording', { Authorization: MEDIA }, 'x'.repeat(1000))).toEqual({ status: 200, body: '{"received":1000}' });
    expect(media.requests.at(-1)).toMatchObject({ method: 'POST', url: '/rest-api/stream/startRecording', headers: { 'x-client-ip': expect.stringMatching(/^127\.0\.0\.1:\d+$/) } });
    const before = media.requests.length;
    expect((await request('POST', '/rest-api/stream/startRecording', { Authorization: MEDIA }, 'x'.repeat(1025))).status).toBe(413);
    expect(media.requests.length).toBe(before);
    expect((await request('POST', '/rest-api/stream/startRecording', {}, '{}')).status).toBe(401);
  });

  it('serves nothing else: 404', async () => {
    expect((await request('GET', '/index.html', { Authorization: MEDIA })).status).toBe(404);
  });
});

describe('the route script', () => {
  it('refuses to start without the media server', async () => {
    await expect(loadRouteScript({ path: join(here, 'routes.ts'), options: {} }, gateway)).rejects.toThrow(/script\.options\.upstream: expected a URL/);
  });
});
