import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { collectedHeap, rawExchange, startTestGateway, until, type TestGateway } from '@wsgate/test-kit';
import { resolveConfig } from '../config/load.js';
import { RealIpResolver, parseAddressPort, trustedProxyProblem } from './real-ip.js';
import { defineRoutes } from '../script/routes.js';

describe('parseAddressPort', () => {
  it.each([
    ['203.0.113.5', { ip: '203.0.113.5', port: undefined }],
    [' 203.0.113.5:4444 ', { ip: '203.0.113.5', port: 4444 }],
    ['2001:db8::5', { ip: '2001:db8::5', port: undefined }],
    ['[2001:db8::5]', { ip: '2001:db8::5', port: undefined }],
    ['[2001:db8::5]:5061', { ip: '2001:db8::5', port: 5061 }],
  ])('%j', (text, expected) => expect(parseAddressPort(text)).toEqual(expected));

  it.each(['', 'unknown', 'example.com', 'example.com:80', '1.2.3.4:', '1.2.3.4:0', '1.2.3.4:65536', '1.2.3.4:8o', '[1.2.3.4]:80', '[2001:db8::5', '2001:db8::5]:80', '01.2.3.4', 'fe80::1%eth0', '1.2.3.4 5.6.7.8'])(
    'refuses %j',
    (text) => expect(parseAddressPort(text)).toBeUndefined(),
  );
});

describe('trustedProxyProblem', () => {
  it('accepts addresses and CIDRs of both families', () => {
    for (const ok of ['10.0.0.1', '10.0.0.0/8', '0.0.0.0/0', '::1', 'fd00::/8', '::/0', '2001:db8::/128']) expect(trustedProxyProblem(ok)).toBeUndefined();
  });
  it('says what is wrong', () => {
    expect(trustedProxyProblem('proxy.local')).toContain('not an IP address or CIDR');
    expect(trustedProxyProblem('10.0.0.0/33')).toContain('from 0 to 32');
    expect(trustedProxyProblem('fd00::/129')).toContain('from 0 to 128');
    expect(trustedProxyProblem('10.0.0.0/x')).toContain('prefix length');
  });
});

describe('RealIpResolver', () => {
  const peer = { ip: '10.0.0.2', port: 40000 };
  const xff = new RealIpResolver({ trustedProxies: ['10.0.0.0/8', 'fd00::/8'], header: 'X-Forwarded-For' });

  it('reads X-Forwarded-For right to left up to the first untrusted hop', () => {
    expect(xff.resolve(peer, { 'x-forwarded-for': '203.0.113.9' })).toEqual({ ip: '203.0.113.9', port: 0 });
    // The client wrote "1.1.1.1" itself: it stands left of what our proxies appended and is never believed.
    expect(xff.resolve(peer, { 'x-forwarded-for': '1.1.1.1, 203.0.113.9, 10.1.1.1, fd00::3' })).toEqual({ ip: '203.0.113.9', port: 0 });
  });

  it('gives the client address as a string of its own, not a view into the header it was read from', async () => {
    // The address is kept as long as the connection (its directory entry, rate-limit keys): a view would keep
    // the header, and in the gateway's own head parser the whole request head, alive with it.
    const before = collectedHeap();
    const kept = Array.from({ length: 300 }, (_, i) => {
      const head = `x-pad: ${'x'.repeat(30_000)}\r\nx-forwarded-for: 2001:db8:0:0:0:0:0:${i.toString(16)}, 10.1.1.1\r\n`;
      const at = head.indexOf('2001:');
      return xff.resolve(peer, { 'x-forwarded-for': head.slice(at, head.indexOf('\r\n', at)) }).ip;
    });
    await new Promise((done) => setTimeout(done, 1));
    expect(collectedHeap() - before).toBeLessThan(1_000_000); // 300 heads of 30 KB would be 9 MB
    expect(kept[299]).toBe('2001:db8:0:0:0:0:0:12b');
  });

  it('takes the leftmost hop when every hop is trusted', () => {
    expect(xff.resolve(peer, { 'x-forwarded-for': '10.9.9.9, 10.1.1.1' })).toEqual({ ip: '10.9.9.9', port: 0 });
  });

  it('ignores the header from a peer that is not trusted', () => {
    const stranger = { ip: '198.51.100.1', port: 1234 };
    expect(xff.resolve(stranger, { 'x-forwarded-for': '203.0.113.9' })).toBe(stranger);
  });

  it('ignores a malformed value met on the way, and an absent header', () => {
    expect(xff.resolve(peer, { 'x-forwarded-for': '203.0.113.9, garbage, 10.1.1.1' })).toBe(peer);
    expect(xff.resolve(peer, { 'x-forwarded-for': '' })).toBe(peer);
    expect(xff.resolve(peer, {})).toBe(peer);
    // …but not one left of the client, which nobody reads.
    expect(xff.resolve(peer, { 'x-forwarded-for': 'garbage, 203.0.113.9' })).toEqual({ ip: '203.0.113.9', port: 0 });
  });

  it('trusts a v4-mapped v6 peer as its v4 address', () => {
    expect(xff.resolve({ ip: '::ffff:10.0.0.2', port: 1 }, { 'x-forwarded-for': '203.0.113.9' }).ip).toBe('203.0.113.9');
  });

  it('reads a single-address header with an optional port, v4 and v6 (ws.ip_forward_header)', () => {
    const custom = new RealIpResolver({ trustedProxies: ['10.0.0.2'], header: 'X-Client-IP' });
    expect(custom.resolve(peer, { 'x-client-ip': '203.0.113.9:5555' })).toEqual({ ip: '203.0.113.9', port: 5555 });
    expect(custom.resolve(peer, { 'x-client-ip': '[2001:db8::1]:5555' })).toEqual({ ip: '2001:db8::1', port: 5555 });
    expect(custom.resolve(peer, { 'x-client-ip': '203.0.113.9, 1.1.1.1' })).toBe(peer);
    const realIp = new RealIpResolver({ trustedProxies: ['10.0.0.2'], header: 'X-Real-IP' });
    expect(realIp.resolve(peer, { 'x-real-ip': '2001:db8::1' })).toEqual({ ip: '2001:db8::1', port: 0 });
  });

  it('refuses a bad trusted proxy entry at construction', () => {
    expect(() => new RealIpResolver({ trustedProxies: ['10.0.0.0/99'], header: 'X-Real-IP' })).toThrow(/realIp.trustedProxies/);
  });
});

describe('the realIp config section', () => {
  it('defaults the header, and reports every bad entry with its path', () => {
    expect(resolveConfig({ listeners: [{ port: 1 }], realIp: { trustedProxies: ['127.0.0.1'] } }, '/').realIp).toEqual({
      trustedProxies: ['127.0.0.1'],
      header: 'X-Forwarded-For',
    });
    expect(() => resolveConfig({ listeners: [{ port: 1 }], realIp: { trustedProxies: ['10.0.0.1', 'lb.local', '10.0.0.0/40'], header: 'X Bad' } }, '/')).toThrow(
      /realIp.header: must be a header name.*realIp.trustedProxies\[1\]: "lb.local" is not an IP address.*realIp.trustedProxies\[2\]: "10.0.0.0\/40": the prefix length/,
    );
    expect(() => resolveConfig({ listeners: [{ port: 1 }], realIp: {} }, '/')).toThrow(/realIp.trustedProxies: is required/);
  });
});

describe('the real client IP on real sockets', () => {
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });

  const routes = defineRoutes({
    'http:request'(req) {
      if (req.path === '/refuse') return req.refuse(403, 'test', 'refused for the test');
      if (req.isWebSocketUpgrade) return req.handshake();
      return req.reply(200, 'OK', 'text/plain', `${req.clientIp} ${req.clientPort}`);
    },
  });

  const get = (headers: string, path = '/') => `GET ${path} HTTP/1.1\r\nHost: a\r\nConnection: close\r\n${headers}\r\n`;

  it('believes the header from a trusted peer: replies, the refusal log and the registry see the client', async () => {
    gw = await startTestGateway(routes, { realIp: { trustedProxies: ['127.0.0.0/8'], header: 'X-Client-IP' } });
    expect((await rawExchange(gw.port, get('X-Client-IP: 203.0.113.7:4444\r\n'))).text).toMatch(/\r\n\r\n203\.0\.113\.7 4444$/);
    await rawExchange(gw.port, get('X-Client-IP: 203.0.113.7:4444\r\n', '/refuse'));
    expect(gw.logs).toContainEqual(expect.objectContaining({ msg: 'request refused', client: '203.0.113.7:4444', reason: 'refused for the test' }));
    const ws = new WebSocket(gw.url, { headers: { 'X-Client-IP': '[2001:db8::77]:6000' } });
    await new Promise((r) => ws.once('open', r));
    await until(() => gw!.gateway.connections.size === 1);
    expect(gw.gateway.connections.list()[0]).toMatchObject({ remoteAddress: '2001:db8::77', remotePort: 6000 });
    ws.close();
  });

  it('ignores the header from a peer that is not trusted, and a malformed value', async () => {
    gw = await startTestGateway(routes, { realIp: { trustedProxies: ['10.0.0.0/8'] } });
    expect((await rawExchange(gw.port, get('X-Forwarded-For: 203.0.113.7\r\n'))).text).toMatch(/\r\n\r\n127\.0\.0\.1 \d+$/);
    await gw.close();
    gw = await startTestGateway(routes, { realIp: { trustedProxies: ['127.0.0.1'] } });
    expect((await rawExchange(gw.port, get('X-Forwarded-For: 203.0.113.7, bogus\r\n'))).text).toMatch(/\r\n\r\n127\.0\.0\.1 \d+$/);
    expect((await rawExchange(gw.port, get('X-Forwarded-For: 1.1.1.1\r\nX-Forwarded-For: 203.0.113.7\r\n'))).text).toMatch(/\r\n\r\n203\.0\.113\.7 0$/);
  });

  it('applies the header after a PROXY preface, trusting the PROXY source rather than the TCP peer', async () => {
    gw = await startTestGateway(routes, {
      listeners: [{ host: '127.0.0.1', port: 0, proxyProtocol: true }],
      realIp: { trustedProxies: ['192.0.2.10'], header: 'X-Real-IP' },
    });
    const send = (source: string) => rawExchange(gw!.port, `PROXY TCP4 ${source} 127.0.0.1 1000 80\r\n${get('X-Real-IP: 203.0.113.99\r\n')}`);
    expect((await send('192.0.2.10')).text).toMatch(/\r\n\r\n203\.0\.113\.99 0$/);
    expect((await send('192.0.2.11')).text).toMatch(/\r\n\r\n192\.0\.2\.11 1000$/);
  });

  it('is the TCP peer with no realIp section', async () => {
    gw = await startTestGateway(routes);
    const socket = net.connect(gw.port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    socket.write(get('X-Forwarded-For: 203.0.113.7\r\n'));
    const localPort = socket.localPort;
    const chunks: Buffer[] = [];
    for await (const c of socket) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toMatch(new RegExp(`\\r\\n\\r\\n127\\.0\\.0\\.1 ${localPort}$`));
  });
});
