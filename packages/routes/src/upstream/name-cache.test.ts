/** Upstream host names are resolved once per TTL, not on every connect. */
import dns from 'node:dns';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startProxyGateway, startUpstream, type ProxyGateway, type Upstream } from '@wsgate/test-kit';
import { NameCache, type Resolve } from './name-cache.js';
import { upstream, type UpstreamPool } from '../proxy/pool.js';

/** The system resolver, counting its calls. */
function countingResolver(): { resolve: Resolve; calls: () => number } {
  let calls = 0;
  const resolve: Resolve = (hostname, options, callback) => {
    calls++;
    dns.lookup(hostname, options, callback);
  };
  return { resolve, calls: () => calls };
}

function lookup(cache: NameCache, options: { all?: boolean; family?: number }): Promise<unknown> {
  return new Promise((resolve, reject) => cache.lookup('localhost', options, (err, address, family) => (err ? reject(err) : resolve(options.all ? address : { address, family }))));
}

describe('NameCache', () => {
  it('answers from the cache after the first lookup, in the form net asks for', async () => {
    const r = countingResolver();
    const cache = new NameCache(r.resolve);
    const all = (await lookup(cache, { all: true })) as dns.LookupAddress[];
    expect(all.some((a) => a.address === '127.0.0.1' || a.address === '::1')).toBe(true);
    expect(await lookup(cache, { family: 4 })).toEqual({ address: '127.0.0.1', family: 4 });
    await lookup(cache, { all: true });
    expect(r.calls()).toBe(1);
  });

  it('passes a resolver failure on', async () => {
    const cache = new NameCache((_h, _o, callback) => callback(Object.assign(new Error('nope'), { code: 'ENOTFOUND' }), []));
    await expect(lookup(cache, { all: true })).rejects.toMatchObject({ code: 'ENOTFOUND' });
  });
});

describe('an upstream given by name', () => {
  let up: Upstream;
  let pool: UpstreamPool;
  let gw: ProxyGateway;
  beforeAll(async () => {
    up = await startUpstream({ name: 'by-name' });
    pool = upstream(`ws://localhost:${up.port}`);
    gw = await startProxyGateway((req) => req.proxy(pool));
  });
  afterAll(async () => {
    await pool.close();
    await gw.close();
    await up.close();
  });

  it('is reached through the node\'s cache, which then holds its addresses', async () => {
    expect(pool.nodes[0]!.names?.cached).toBeUndefined();
    for (let i = 0; i < 3; i++) {
      const ws = new WebSocket(`ws://127.0.0.1:${gw.port}/`);
      await once(ws, 'open');
      ws.send('whoami');
      expect(String((await once(ws, 'message'))[0])).toBe('by-name');
      ws.close();
    }
    expect(pool.nodes[0]!.names?.cached?.length).toBeGreaterThan(0);
    expect(upstream(`ws://127.0.0.1:${up.port}`).nodes[0]!.names).toBeUndefined();
  });
});
