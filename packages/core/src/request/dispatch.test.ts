/**
 * The dispatcher on real sockets, for what only a live request shows: the route deadline
 * (`limits.routeTimeout`) and route misuse found at commit (handshake options the handshake refuses).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { rawExchange, sleep, startTestGateway, upgradeRequest, type RawResult, type TestGateway } from '@wsgate/test-kit';
import { defineRoutes } from '../script/routes.js';

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

const ROUTE_TIMEOUT_S = 0.5;
/** How late past the deadline an answer may come on a loaded machine. */
const MARGIN_MS = 1000;
const PLAIN = 'GET / HTTP/1.1\r\nHost: a\r\n\r\n';

const never = new Promise<never>(() => {});

async function timedExchange(port: number, data: string): Promise<RawResult & { ms: number }> {
  const start = performance.now();
  const result = await rawExchange(port, data, { timeoutMs: ROUTE_TIMEOUT_S * 1000 + 3000 });
  return { ...result, ms: performance.now() - start };
}

describe('route deadline (limits.routeTimeout)', () => {
  const hanging = defineRoutes(
    {
      async 'http:request'() {
        await never;
      },
    },
    'hangs',
  );

  for (const [kind, request] of [
    ['plain HTTP', PLAIN],
    ['upgrade', upgradeRequest()],
  ] as const) {
    it(`answers 20 concurrent ${kind} requests whose route never settles with 503 within the deadline, and logs the route`, async () => {
      gw = await startTestGateway(hanging, { limits: { routeTimeout: ROUTE_TIMEOUT_S } });
      const results = await Promise.all(Array.from({ length: 20 }, () => timedExchange(gw!.port, request)));
      for (const r of results) {
        expect(r.text).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\n/);
        expect(r.text).toContain(`The route did not answer within ${ROUTE_TIMEOUT_S} s\n`);
        expect(r.closed).toBe(true);
        expect(r.ms).toBeGreaterThanOrEqual(ROUTE_TIMEOUT_S * 1000 - 20);
        expect(r.ms).toBeLessThan(ROUTE_TIMEOUT_S * 1000 + MARGIN_MS);
      }
      const lines = gw.logs.filter((l) => l.msg === 'route did not finish within limits.routeTimeout; answered 503');
      expect(lines).toHaveLength(20);
      expect(lines.every((l) => l.route === 'hangs' && l.level === 50 && l.routeTimeout === ROUTE_TIMEOUT_S)).toBe(true);
      expect(await gw.gateway.metrics.registry.getSingleMetricAsString('wsgate_requests_total')).toMatch(/route="hangs",status="503"\} 20$/m);
    });
  }

  it('drops what a route does after its deadline: no second answer, no handshake, no later route set, no 500 line', async () => {
    let laterSetRan = 0;
    let settled = 0;
    const late = defineRoutes(
      {
        async 'http:request'(req) {
          await sleep(600);
          settled++;
          if (req.path === '/throw') throw new Error('late bug');
          if (req.path === '/next') return req.next();
          if (req.isWebSocketUpgrade) return req.handshake();
          return req.reply(200, 'OK', 'text/plain', 'too late');
        },
      },
      'late',
    );
    const after = defineRoutes({ 'http:request': (req) => (laterSetRan++, req.reply(200, 'OK')) }, 'after');
    gw = await startTestGateway([late, after], { limits: { routeTimeout: 0.2 } });
    const results = await Promise.all([
      rawExchange(gw.port, PLAIN),
      rawExchange(gw.port, 'GET /next HTTP/1.1\r\nHost: a\r\n\r\n'),
      rawExchange(gw.port, 'GET /throw HTTP/1.1\r\nHost: a\r\n\r\n'),
      rawExchange(gw.port, upgradeRequest()),
    ]);
    for (const r of results) {
      expect(r.text.match(/HTTP\/1\.1 \d{3}/g)).toEqual(['HTTP/1.1 503']);
      expect(r.closed).toBe(true);
    }
    await sleep(700);
    expect(settled).toBe(4);
    expect(laterSetRan).toBe(0);
    expect(gw.gateway.connections.size).toBe(0);
    expect(gw.logs.some((l) => l.msg === 'websocket opened')).toBe(false);
    expect(gw.logs.some((l) => l.msg === 'route threw; answered 500')).toBe(false);
    expect(gw.logs.filter((l) => l.msg === 'route threw after its deadline; the client had its 503' && l.route === 'late')).toHaveLength(1);
    expect(await gw.gateway.metrics.registry.getSingleMetricAsString('wsgate_requests_total')).toMatch(/route="late",status="503"\} 4$/m);
  });

  it('leaves a synchronous route alone, and lets an async one that settles in time give its own answer', async () => {
    const routes = defineRoutes(
      {
        'http:request'(req) {
          if (req.path === '/sync') return req.reply(200, 'OK', 'text/plain', 'sync');
          return sleep(100).then(() => req.reply(200, 'OK', 'text/plain', 'async'));
        },
      },
      'quick',
    );
    gw = await startTestGateway(routes, { limits: { routeTimeout: ROUTE_TIMEOUT_S } });
    expect((await fetch(`http://127.0.0.1:${gw.port}/sync`)).status).toBe(200);
    expect(await (await fetch(`http://127.0.0.1:${gw.port}/async`)).text()).toBe('async');
  });
});

describe('handshake options the handshake refuses (route misuse found at commit)', () => {
  it('answers 500 with a log line naming the route, sync or async, and goes on serving', async () => {
    const routes = defineRoutes(
      {
        async 'http:request'(req) {
          if (req.path === '/ok') return req.reply(200, 'OK', 'text/plain', 'still serving');
          if (req.path === '/async') await sleep(10);
          return req.handshake({ protocols: ['bad token'] });
        },
      },
      'bad-options',
    );
    const sync = defineRoutes({ 'http:request': (req) => (req.path === '/sync' ? req.handshake({ protocols: ['bad token'] }) : req.next()) }, 'bad-sync');
    gw = await startTestGateway([sync, routes]);
    for (const path of ['/sync', '/async', '/']) {
      const r = await rawExchange(gw.port, upgradeRequest({ path }));
      expect(r.text).toMatch(/^HTTP\/1\.1 500 Internal Server Error\r\n/);
      expect(r.closed).toBe(true);
    }
    const lines = gw.logs.filter((l) => l.msg === 'invalid handshake options from the route; answered 500');
    expect(lines.map((l) => l.route)).toEqual(['bad-sync', 'bad-options', 'bad-options']);
    expect((lines[0]!.err as { message: string }).message).toBe('handshake protocols: "bad token" is not a valid subprotocol (RFC 9110 token)');
    const ok = await fetch(`http://127.0.0.1:${gw.port}/ok`);
    expect(await ok.text()).toBe('still serving');
    expect(await gw.gateway.metrics.registry.getSingleMetricAsString('wsgate_handshake_failures_total')).toMatch(/reason="options"\} 3$/m);
  });
});
