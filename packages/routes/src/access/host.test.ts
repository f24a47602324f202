import { describe, expect, it } from 'vitest';
import { inject } from '@wsgate/core';
import { guardRoutes, rawExchange, testGateways, upgradeRequest } from '@wsgate/test-kit';
import { host } from './host.js';

describe('host()', () => {
  const routes = guardRoutes(host({ aliases: ['sip.example.com', 'media.example.com:443'] }));
  const status = async (hostHeader: string | undefined) => {
    const headers: Record<string, string> = hostHeader === undefined ? {} : { host: hostHeader };
    const result = await inject(routes, { headers: { ...headers, upgrade: 'websocket', connection: 'Upgrade' }, myself: { names: ['localhost', '127.0.0.1'], ports: [80] } });
    return result.kind === 'reply' ? result.status : 101;
  };

  it.each([
    ['localhost', 101],
    ['127.0.0.1:80', 101],
    ['127.0.0.1:8080', 403], // one of our names, not one of our ports
    ['sip.example.com', 101],
    ['SIP.example.com:5061', 101], // an alias without a port accepts any
    ['media.example.com:443', 101],
    ['media.example.com:444', 403],
    ['media.example.com', 403],
    ['evil.example', 403],
    ['sip.example.com.evil.example', 403],
    ['[::1', 403],
    [undefined, 403],
  ])('Host %s → %s', async (value, expected) => expect(await status(value)).toBe(expected));

  it('refuses bad aliases at creation', () => {
    expect(() => host({ aliases: ['sip.example.com:99999'] })).toThrow(/host\(\)\.aliases\[0\]: "sip.example.com:99999" is not a host name/);
    expect(() => host({ aliases: 'x' as never })).toThrow(/host\(\)\.aliases: expected a list/);
  });

  describe('on real sockets', () => {
    const startGateway = testGateways();

    it('answers 403 with the reason to a foreign Host, and logs it', async () => {
      const gw = await startGateway(guardRoutes(host()));
      const refused = await rawExchange(gw.port, upgradeRequest({ omit: ['host'] }).replace('\r\n', '\r\nHost: evil.example\r\n'));
      expect(refused.text).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n[\s\S]*\r\n\r\nHost "evil.example" is not this gateway\n$/);
      expect(gw.logs).toContainEqual(expect.objectContaining({ msg: 'request refused', by: 'host', client: expect.stringMatching(/^127\.0\.0\.1:/) }));
      expect((await rawExchange(gw.port, upgradeRequest({ omit: ['host'] }))).text).toMatch(/^HTTP\/1\.1 403 [\s\S]*no Host header\n$/);
      expect((await rawExchange(gw.port, upgradeRequest({ host: `127.0.0.1:${gw.port}` }), { timeoutMs: 300 })).text).toMatch(/^HTTP\/1\.1 101 /);
    });
  });
});
