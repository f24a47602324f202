/**
 * What an open tunnel keeps alive, raw or in message mode: its two sockets (or WebSockets) and its own small
 * state, not the request that opened it (context, message, headers). Kept, they lived as long as every tunnel
 * and were promoted out of the young generation with each tunnel open at a scavenge. Real sockets; a full
 * collection through V8's `gc`.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startProxyGateway, startUpstream, until, type ProxyGateway, type Upstream } from '@wsgate/test-kit';
import { upstream, type UpstreamPool } from './pool.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let up: Upstream;
let pool: UpstreamPool;
let gw: ProxyGateway;
/** The last request the route saw, and its message, held weakly. */
let request: WeakRef<object> | undefined;
let message: WeakRef<object> | undefined;

beforeAll(async () => {
  up = await startUpstream({ name: 'a', protocols: ['sip'] });
  pool = upstream(up.url);
  gw = await startProxyGateway((req) => {
    request = new WeakRef(req);
    message = new WeakRef(req.raw);
    // `/messages`: message mode, every message through the hook (here passed on as it is)
    return req.proxy(req.path === '/messages' ? pool.with({ onMessage: () => undefined }) : pool);
  });
});
afterAll(async () => {
  await pool.close();
  await gw.close();
  await up.close();
});

function open(path: string): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${gw.port}${path}`, ['sip']);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** Full collections until `ref` is cleared, for at most a second. */
async function collected(ref: WeakRef<object> | undefined): Promise<boolean> {
  for (let i = 0; i < 20; i++) {
    gc();
    if (ref?.deref() === undefined) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

describe('an open tunnel', () => {
  it.each(['/raw', '/messages'])('%s: lets its request go once the 101 is relayed, and still relays, is listed and closes', async (path) => {
    const ws = await open(path);
    await until(() => gw.gateway.connections.size === 1, 2000, 'tunnel listed');
    expect(request?.deref()).toBeDefined();
    expect(await collected(message), 'the request message of an open tunnel was kept').toBe(true);
    expect(await collected(request), 'the request context of an open tunnel was kept').toBe(true);
    // The tunnel itself is whole: bytes go through, the directory lists it, and it ends cleanly.
    const echoed = new Promise<string>((resolve) => ws.once('message', (data) => resolve(String(data))));
    ws.send('still here');
    expect(await echoed).toContain('still here');
    expect(gw.gateway.connections.list()[0]?.kind).toBe('proxied');
    ws.close(1000, 'done');
    await until(() => gw.gateway.connections.size === 0, 2000, 'tunnel gone from the directory');
  });
});
