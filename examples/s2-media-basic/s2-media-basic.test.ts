/**
 * S2, basic-auth variant, end to end: the example's own wsgate.yaml and route script, over wss with the
 * self-signed certificate, with real clients.
 */
import { mkdtempSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createLogger, Gateway, loadRouteScript, resolveConfig, type LogFields } from '@wsgate/core';
import { readConfigFile } from '../../packages/core/src/config/load.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const logs: LogFields[] = [];
let gateway: Gateway;
let url: string;

beforeAll(async () => {
  // The example's config as written, but on a free port and with its own certificate folder.
  const file = (await readConfigFile(join(here, 'wsgate.yaml'))) as { listeners: Record<string, unknown>[] };
  file.listeners = file.listeners.map((l) => ({ ...l, port: 0 }));
  const config = resolveConfig({ ...file, dataDir: mkdtempSync(join(tmpdir(), 'wsgate-s2-basic-')) }, here);
  gateway = new Gateway(config, { logger: createLogger({ level: 'debug', write: (l) => void logs.push(JSON.parse(l)) }) });
  gateway.use(await loadRouteScript(config.script!, gateway));
  await gateway.listen();
  url = `wss://127.0.0.1:${gateway.addresses()[0]!.port}`;
});
afterAll(() => gateway.close({ grace: 0.2 }));

const credentials = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

function open(headers: Record<string, string>): Promise<{ ws?: WebSocket; status?: number; headers?: Record<string, unknown>; body?: string }> {
  const ws = new WebSocket(url, { headers, rejectUnauthorized: false });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    ws.once('error', reject);
  });
}

function get(headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(url.replace('wss:', 'https:'), { headers, rejectUnauthorized: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      })
      .on('error', reject);
  });
}

describe('S2 with basic authentication', () => {
  it('upgrades a user from the htpasswd file, and sees the client address the balancer gave', async () => {
    const { ws } = await open({ Authorization: credentials('media', 'media-secret'), 'X-Client-IP': '203.0.113.7:4444' });
    const answer = new Promise<string>((r) => ws!.once('message', (m) => r(String(m))));
    ws!.send('ping');
    expect(JSON.parse(await answer)).toEqual({ user: 'media', client: '203.0.113.7:4444', echo: 'ping' });
    expect(gateway.connections.list()[0]).toMatchObject({ remoteAddress: '203.0.113.7', remotePort: 4444 });
    ws!.close();
  });

  it('answers 401 with the Basic challenge without credentials or with a wrong password, logged with the real IP', async () => {
    const none = await open({ 'X-Client-IP': '198.51.100.20:5000' });
    expect(none.status).toBe(401);
    expect(none.headers!['www-authenticate']).toBe('Basic realm="media", charset="UTF-8"');
    const wrong = await open({ Authorization: credentials('media', 'guess'), 'X-Client-IP': '198.51.100.21:5001' });
    expect(wrong.status).toBe(401);
    expect(logs).toContainEqual(expect.objectContaining({ msg: 'request refused', by: 'basic', client: '198.51.100.21:5001', reason: 'invalid user name or password' }));
  });

  it('answers 403 unless Connection contains upgrade and Upgrade contains websocket, before asking for credentials', async () => {
    const plain = await get({ Authorization: credentials('media', 'media-secret') });
    expect(plain).toEqual({ status: 403, body: 'Connection must contain "upgrade"\n' });
    const noUpgrade = await get({ Connection: 'keep-alive, Upgrade', Upgrade: 'h2c' });
    expect(noUpgrade).toEqual({ status: 403, body: 'Upgrade must contain "websocket"\n' });
    expect(logs.filter((l) => l.by === 'upgrade')).toHaveLength(2);
  });
});
