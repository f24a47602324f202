/**
 * A header value a script computes for the upstream and that cannot be sent (CR, LF or NUL): the client gets the
 * gateway's 502, and no connection to the upstream is opened for a head that will never be written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchange, sleep, startProxyGateway, startUpstream, upgradeRequest, type ProxyGateway, type Upstream } from '@wsgate/test-kit';
import { upstream, type UpstreamPool } from './pool.js';

let up: Upstream;
let pool: UpstreamPool;
let gw: ProxyGateway;
let connections = 0;
beforeAll(async () => {
  up = await startUpstream();
  up.server.on('connection', () => connections++);
  pool = upstream(up.url, { headers: { set: { 'X-Injected': (req) => `${req.path}\r\nX-Admin: yes` } } });
  gw = await startProxyGateway((req) => req.proxy(pool));
});
afterAll(async () => {
  await pool.close();
  await gw.close();
  await up.close();
});

describe('a computed header value with CR or LF, raw mode', () => {
  it('is the 502 of a target that threw, and the upstream is never connected to', async () => {
    const text = await exchange(gw.port, upgradeRequest({}), { timeoutMs: 2000 });
    expect(text).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n/);
    // A connection opened anyway would have been accepted by now.
    await sleep(200);
    expect(connections).toBe(0);
    expect(up.requests.length).toBe(0);
  });
});
