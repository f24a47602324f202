/** A proxied WebSocket's access-log line: written when the tunnel closes (as nginx), with its traffic and duration. */
import { once } from 'node:events';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startProxyGateway, startUpstream, until, type ProxyGateway, type Upstream } from '@wsgate/test-kit';
import { upstream, type UpstreamPool } from './pool.js';

const log = join(mkdtempSync(join(tmpdir(), 'wsgate-tunnel-log-')), 'access.log');
let up: Upstream;
let raw: UpstreamPool;
let gw: ProxyGateway;

beforeAll(async () => {
  up = await startUpstream({ name: 'a', protocols: ['sip'] });
  raw = upstream(up.url);
  const parsed = raw.with({ onMessage: () => undefined });
  gw = await startProxyGateway((req) => req.proxy(req.path.startsWith('/messages') ? parsed : raw), {
    accessLog: { path: log, format: '$request_uri $status $body_bytes_sent $bytes_received $request_time' },
  });
});
afterAll(async () => {
  await raw.close();
  await gw.close();
  await up.close();
});

const lines = () => readFileSync(log, 'utf8').split('\n').filter(Boolean);

describe('the access-log line of a proxied WebSocket', () => {
  it.each([
    ['message', '/messages/a'],
    ['raw', '/raw/b'],
  ])('in %s mode, is written at its close with the bytes each way and its duration', async (_mode, path) => {
    const before = lines().length;
    const ws = new WebSocket(`ws://127.0.0.1:${gw.port}${path}`, ['sip']);
    await once(ws, 'open');
    ws.send('hello');
    await once(ws, 'message');
    await new Promise((r) => setTimeout(r, 300));
    expect(lines()).toHaveLength(before);
    ws.close();
    await until(() => lines().length === before + 1, 3000, 'the line at close');
    const [uri, status, sent, received, seconds] = lines().at(-1)!.split(' ');
    expect([uri, status]).toEqual([path, '101']);
    if (path.startsWith('/messages')) expect([sent, received]).toEqual(['5', '5']);
    expect(Number(sent)).toBeGreaterThanOrEqual(5);
    expect(Number(received)).toBeGreaterThanOrEqual(5);
    expect(Number(seconds)).toBeGreaterThanOrEqual(0.3);
    expect(Number(seconds)).toBeLessThan(3);
  });
});
