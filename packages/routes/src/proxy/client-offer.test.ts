/** Malformed hop-by-hop and handshake headers are the client's 400, with the position, before any upstream is asked. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchange, startProxyGateway, startUpstream, upgradeRequest, type ProxyGateway, type Upstream } from '@wsgate/test-kit';
import { upstream, type UpstreamPool } from './pool.js';

let up: Upstream;
let pool: UpstreamPool;
let gw: ProxyGateway;
beforeAll(async () => {
  up = await startUpstream({ protocols: ['sip'] });
  pool = upstream(up.url);
  gw = await startProxyGateway((req) => req.proxy(req.path === '/messages' ? pool.with({ onMessage: () => undefined }) : pool));
});
afterAll(async () => {
  await pool.close();
  await gw.close();
  await up.close();
});

describe('client headers the proxy acts on', () => {
  it.each([
    ['/', 'Sec-WebSocket-Protocol: sip,,chat', /Invalid Sec-WebSocket-Protocol header at position 4: empty element/],
    ['/', 'Sec-WebSocket-Extensions: permessage-deflate; =1', /Invalid Sec-WebSocket-Extensions header at position 20: unexpected "=", expected a parameter name/],
    ['/messages', 'Sec-WebSocket-Protocol: sip sip', /Invalid Sec-WebSocket-Protocol header at position 4: unexpected "s", expected ","/],
  ])('%s with %s: 400, and the upstream never hears of it', async (path, header, reason) => {
    const before = up.requests.length;
    const text = await exchange(gw.port, upgradeRequest({ path, extra: [header] }));
    expect(text).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(text).toMatch(reason);
    expect(up.requests.length).toBe(before);
  });

  it('a plain request whose Connection is not a token list: 400', async () => {
    const text = await exchange(gw.port, 'GET /page HTTP/1.1\r\nHost: x\r\nConnection: keep-alive; x\r\n\r\n');
    expect(text).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*Invalid Connection header at position 10/);
  });

  it('offers that parse are relayed and checked against the 101', async () => {
    const text = await exchange(gw.port, upgradeRequest({ extra: ['Sec-WebSocket-Protocol: chat , sip'] }), { timeoutMs: 500 });
    expect(text).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n[\s\S]*Sec-WebSocket-Protocol: sip\r\n/);
  });
});
