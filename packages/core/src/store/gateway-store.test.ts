/**
 * `gateway.store`, the store the config chose, as route scripts and operators meet it: shared by two
 * gateways on one real redis-server, counted in the metrics, through an outage and back; and the `wsgate`
 * command refusing to start, in one line naming the URL, when Redis is out of reach.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, killRedises, makeCertificates, RedisServer, startTestGateway, until, type TestGateway } from '@wsgate/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../config/load.js';
import { Gateway } from '../gateway.js';
import { defineRoutes } from '../script/routes.js';
import { MemoryStore } from './memory-store.js';
import { RedisStore } from './redis-store.js';

let redis: RedisServer;
beforeAll(async () => {
  redis = await RedisServer.start();
});
afterAll(async () => {
  await redis?.close();
  killRedises();
});

/** A gateway whose one route counts requests in `gateway.store` and answers the count. */
async function countingGateway(config: Record<string, unknown>): Promise<TestGateway> {
  const holder: { gateway?: Gateway } = {};
  const routes = defineRoutes({
    async 'http:request'(req) {
      const n = await holder.gateway!.store.increment('hits');
      return req.reply(200, 'OK', 'text/plain', String(n));
    },
  });
  const started = await startTestGateway(routes, config);
  holder.gateway = started.gateway;
  return started;
}

const hit = async (port: number) => {
  const res = await fetch(`http://127.0.0.1:${port}/`);
  return { status: res.status, body: await res.text() };
};

const metric = async (g: TestGateway, name: string) => {
  const text = await g.gateway.metrics.registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
};

describe('gateway.store', () => {
  it('is a MemoryStore of this process when the config has no store section', () => {
    const gateway = new Gateway(resolveConfig({ listeners: [{ port: 0 }] }, '/'));
    expect(gateway.store).toBeInstanceOf(MemoryStore);
  });

  it('is the configured Redis: shared by two gateways, counted in the metrics, failing typed while Redis is gone, back without a restart', async () => {
    const own = await RedisServer.start();
    const config = { store: { redis: { url: own.url, prefix: 'shared:', commandTimeout: 0.5 } } };
    // Two gateways on one Redis: two nodes, each named.
    const a = await countingGateway({ ...config, node: { name: 'gw-a' } });
    const b = await countingGateway({ ...config, node: { name: 'gw-b' } });
    try {
      expect(a.gateway.store).toBeInstanceOf(RedisStore);
      expect(await hit(a.port)).toEqual({ status: 200, body: '1' });
      expect(await hit(b.port)).toEqual({ status: 200, body: '2' });
      expect(await hit(a.port)).toEqual({ status: 200, body: '3' });
      expect(await metric(a, 'wsgate_store_up')).toBe(1);
      expect(await metric(a, 'wsgate_store_unavailable_total')).toBe(0);

      await own.stop();
      const started = Date.now();
      expect((await hit(a.port)).status).toBe(500); // the route's store call threw: a 500, as any route error
      expect(Date.now() - started).toBeLessThan(1000);
      expect(a.logs.filter((l) => l.msg === 'Redis store unavailable: store calls fail until it is back')).toHaveLength(1);
      // the route's 500 is logged with the typed error, so an operator sees the store, not a bug in the script
      expect(a.logs.filter((l) => l.msg === 'route threw; answered 500').map((l) => (l.err as { code?: string }).code)).toEqual(['WSGATE_STORE_UNAVAILABLE']);
      expect(await metric(a, 'wsgate_store_up')).toBe(0);
      expect(await metric(a, 'wsgate_store_unavailable_total')).toBe(1);
      expect(await metric(a, 'wsgate_store_outages_total')).toBe(1);

      await own.resume();
      await until(async () => (await hit(a.port)).status === 200, 5000, 'gateway a to reach Redis again');
      await until(async () => (await hit(b.port)).status === 200, 5000, 'gateway b to reach Redis again');
      expect(await metric(a, 'wsgate_store_up')).toBe(1);
      expect(a.logs.filter((l) => l.msg === 'Redis store available again')).toHaveLength(1);
    } finally {
      await Promise.all([a.close(), b.close()]);
      await own.close();
    }
    await expect(a.gateway.store.get('hits')).rejects.toThrow(/the store is closed/);
  });

  it('listen() fails, naming the URL, when Redis is out of reach; degraded, it starts and serves', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    const refused = new Gateway(resolveConfig({ listeners: [{ port: 0 }], store: { redis: { url } } }, '/'));
    await expect(refused.listen()).rejects.toMatchObject({ code: 'WSGATE_STORE_UNAVAILABLE', message: expect.stringContaining(`cannot reach Redis at ${url}`) });
    expect(refused.addresses()).toEqual([]);

    const degraded = await countingGateway({ store: { redis: { url, onUnavailable: 'degraded', connectTimeout: 0.5 } } });
    try {
      expect(degraded.logs.filter((l) => String(l.msg).includes('starting degraded'))).toHaveLength(1);
      expect((await hit(degraded.port)).status).toBe(500);
      const late = await RedisServer.start({ port });
      try {
        await until(async () => (await hit(degraded.port)).status === 200, 5000, 'the degraded gateway to reach Redis');
      } finally {
        await late.close();
      }
    } finally {
      await degraded.close();
    }
  });
});

describe('wsgate command with store.redis', () => {
  /** Each run starts node and the command (a few seconds on a busy 2-core machine); some tests run several. */
  const CLI_MS = 60_000;
  const cli = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

  /** Runs `wsgate ARGS… -c <a config with this store section>`; the exit code and what it wrote. */
  async function wsgate(args: string[], store: string, env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stdout: string; stderr: string }> {
    const dir = await mkdtemp(path.join(tmpdir(), 'wsgate-store-'));
    try {
      const config = path.join(dir, 'wsgate.yaml');
      await writeFile(config, `listeners:\n  - port: 0\nstore:\n  redis:\n${store}`);
      const child = spawn(process.execPath, [cli, ...args, '-c', config], { stdio: ['ignore', 'pipe', 'pipe'], env });
      const out = { stdout: '', stderr: '' };
      child.stdout!.setEncoding('utf8').on('data', (c: string) => (out.stdout += c));
      child.stderr!.setEncoding('utf8').on('data', (c: string) => (out.stderr += c));
      const [code] = (await once(child, 'close')) as [number];
      return { code, ...out };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  it('Redis out of reach at start: one line on stderr naming the URL (not the password) and exit code 1', { timeout: CLI_MS }, async () => {
    const port = await freePort();
    const { code, stderr } = await wsgate([], `    url: redis://:hunter2@127.0.0.1:${port}/1\n`);
    expect(code).toBe(1);
    expect(stderr).toMatch(new RegExp(`^wsgate: cannot reach Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port}/1 \\([^\\n]*ECONNREFUSED[^\\n]*\\): start Redis, or fix store\\.redis\\.url[^\\n]*\\n$`));
    expect(stderr).not.toContain('hunter2');
  });

  it('wsgate check reaches the Redis, says when it is out of reach (or that the start would be degraded), and reports a bad URL', { timeout: CLI_MS }, async () => {
    const reachable = await wsgate(['check'], `    url: ${redis.url}\n`);
    expect(reachable.stdout).toContain(`wsgate: store: Redis at redis://127.0.0.1:${redis.port} reachable\n`);

    const port = await freePort();
    const down = await wsgate(['check'], `    url: redis://127.0.0.1:${port}\n`);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(new RegExp(`^wsgate: cannot reach Redis at redis://127\\.0\\.0\\.1:${port} \\(.*ECONNREFUSED.*\\): start Redis`, 'm'));

    const degraded = await wsgate(['check'], `    url: redis://127.0.0.1:${port}\n    onUnavailable: degraded\n`);
    expect(degraded.stdout).toMatch(/wsgate: store: cannot reach Redis at .*; the gateway would start degraded/);
    expect(degraded.stderr).not.toContain('Redis');

    const bad = await wsgate(['check'], `    url: 127.0.0.1:6379\n`);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^wsgate: invalid config .*wsgate\.yaml: store\.redis\.url: must be a Redis URL .*: put redis:\/\/ \(or rediss:\/\/ for TLS\) before the host\n$/);
  });

  it('TLS through a rediss:// URL: the server certificate is checked against the trusted CAs (NODE_EXTRA_CA_CERTS for a private CA)', { timeout: CLI_MS }, async () => {
    const certificates = makeCertificates(['127.0.0.1']);
    const tlsRedis = await RedisServer.start({ tls: certificates, password: 'tls-pw' });
    try {
      expect(tlsRedis.url).toMatch(/^rediss:/);
      const trusted = await wsgate(['check'], `    url: ${tlsRedis.url}\n`, { ...process.env, NODE_EXTRA_CA_CERTS: certificates.caFile });
      expect(trusted.stdout).toContain(`wsgate: store: Redis at rediss://:***@127.0.0.1:${tlsRedis.port} reachable\n`);
      const untrusted = await wsgate(['check'], `    url: ${tlsRedis.url}\n`);
      expect(untrusted.code).toBe(1);
      expect(untrusted.stderr).toMatch(/wsgate: cannot reach Redis at rediss:\/\/:\*\*\*@127\.0\.0\.1:\d+ \(.*certificate.*\)/);
      const plain = await wsgate(['check'], `    url: redis://:tls-pw@127.0.0.1:${tlsRedis.port}\n    connectTimeout: 1\n`);
      expect(plain.code).toBe(1); // the TLS port does not speak plain Redis
      expect(plain.stderr).toMatch(/wsgate: cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ \(/);
    } finally {
      await tlsRedis.close();
    }
  });
});
