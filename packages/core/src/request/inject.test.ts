import { describe, expect, it } from 'vitest';
import { WsgateError } from '../errors.js';
import { inject } from './inject.js';
import { defineRoutes } from '../script/routes.js';

/** Answers with the client address the request resolved to. */
const whoAmI = defineRoutes({ 'http:request': (req) => req.reply(200, 'OK', 'text/plain', `${req.clientIp} ${req.clientPort}`) }, 'who-am-i');

async function clientOf(request: Parameters<typeof inject>[1]): Promise<string> {
  const result = await inject(whoAmI, { headers: { Host: 'gw' }, ...request });
  if (result.kind !== 'reply') throw new Error(`expected a reply, got ${result.kind}`);
  return result.body;
}

describe('inject() with realIp', () => {
  it('believes X-Forwarded-For (the default header) from a trusted proxy, right to left', async () => {
    const body = await clientOf({
      remoteAddress: '10.0.0.2',
      remotePort: 41000,
      realIp: { trustedProxies: ['10.0.0.0/8'] },
      headers: { Host: 'gw', 'X-Forwarded-For': '198.51.100.9, 203.0.113.7, 10.0.0.5' },
    });
    expect(body).toBe('203.0.113.7 0');
  });

  it('ignores the header from a peer that is not trusted', async () => {
    const body = await clientOf({
      remoteAddress: '192.0.2.50',
      remotePort: 41000,
      realIp: { trustedProxies: ['10.0.0.0/8'] },
      headers: { Host: 'gw', 'X-Forwarded-For': '203.0.113.7' },
    });
    expect(body).toBe('192.0.2.50 41000');
  });

  it('reads another configured header with a port (X-Client-IP: ip:port)', async () => {
    const body = await clientOf({
      remoteAddress: 'fd00::1',
      realIp: { trustedProxies: ['fd00::/8'], header: 'X-Client-IP' },
      headers: { Host: 'gw', 'X-Client-IP': '203.0.113.7:5060', 'X-Forwarded-For': '198.51.100.9' },
    });
    expect(body).toBe('203.0.113.7 5060');
  });

  it('without realIp, the client is remoteAddress whatever the headers say', async () => {
    const body = await clientOf({ remoteAddress: '10.0.0.2', remotePort: 41000, headers: { Host: 'gw', 'X-Forwarded-For': '203.0.113.7' } });
    expect(body).toBe('10.0.0.2 41000');
  });

  it('refuses a trusted proxy that is not an address or CIDR', async () => {
    const error = await inject(whoAmI, { realIp: { trustedProxies: ['proxy.local'] } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WsgateError);
    expect(error).toMatchObject({ code: 'WSGATE_CONFIG_INVALID', message: expect.stringContaining('"proxy.local" is not an IP address or CIDR') });
  });
});

describe('inject() with repeated reply headers', () => {
  it('returns an array header as the route gave it', async () => {
    const routes = defineRoutes({ 'http:request': (req) => req.refuse(401, 'digest', 'no credentials', { 'WWW-Authenticate': ['Digest a', 'Digest b'] }) });
    const result = await inject(routes, { headers: { Host: 'gw' } });
    expect(result).toMatchObject({ kind: 'reply', status: 401, headers: { 'WWW-Authenticate': ['Digest a', 'Digest b'] } });
  });
});
