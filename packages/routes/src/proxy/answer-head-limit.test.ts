/**
 * The upstream's answer head is bounded (16 KiB, `MAX_HEAD`) however it arrives — in one read or in many — in
 * raw mode, message mode and plain HTTP: a longer one is refused with 502, logged and counted as a bad answer.
 */
import { once } from 'node:events';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptKey } from '@wsgate/handshake';
import { exchange, sleep, startProxyGateway, upgradeRequest, type ProxyGateway } from '@wsgate/test-kit';
import { upstream, type UpstreamPool } from './pool.js';
import { MAX_HEAD } from './response-head.js';

const REASON = `upstream sent an invalid answer: response head longer than ${MAX_HEAD} bytes`;

/** An answer head of exactly `size` bytes (blank line included), padded with one `X-Pad` header. */
function paddedHead(status: string, headers: string[], size: number): string {
  const start = `HTTP/1.1 ${status}\r\n${headers.map((h) => `${h}\r\n`).join('')}X-Pad: `;
  const head = `${start}${'a'.repeat(size - start.length - 4)}\r\n\r\n`;
  expect(head.length).toBe(size);
  return head;
}

/** Answers each request with `answer(key)` (the request's Sec-WebSocket-Key), cut in `pieces` writes 5 ms apart. */
let answer: (key: string) => string;
let pieces = 1;
let server: net.Server;
let url: string;
beforeAll(async () => {
  server = net.createServer((socket) => {
    let head = '';
    socket.on('data', async (c: Buffer) => {
      head += c.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      const text = answer(/sec-websocket-key: (\S+)/i.exec(head)?.[1] ?? '');
      head = '';
      const step = Math.ceil(text.length / pieces);
      for (let i = 0; i < text.length && !socket.destroyed; i += step) {
        socket.write(text.slice(i, i + step));
        if (pieces > 1) await sleep(5);
      }
    });
    socket.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `ws://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
});
afterAll(() => void server.close());

const switching = (size: number) => (key: string) =>
  paddedHead('101 Switching Protocols', ['Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${acceptKey(key)}`], size);

describe('the answer head limit', () => {
  let pool: UpstreamPool;
  let gw: ProxyGateway;
  beforeAll(async () => {
    pool = upstream(url);
    const messages = pool.with({ onMessage: () => undefined });
    gw = await startProxyGateway((req) => req.proxy(req.path === '/messages' ? messages : pool));
  });
  afterAll(async () => {
    await pool.close();
    await gw.close();
  });

  /** The client's answer, and whether the refusal was logged and counted as a bad upstream answer. */
  async function through(request: string, timeoutMs = 2000): Promise<string> {
    const before = gw.logs.filter((l) => l.msg === 'upstream failed' && l.reason === REASON).length;
    const text = await exchange(gw.port, request, { timeoutMs });
    if (text.startsWith('HTTP/1.1 502')) expect(gw.logs.filter((l) => l.msg === 'upstream failed' && l.reason === REASON).length).toBe(before + 1);
    return text;
  }

  it.each([
    ['in one read', 1],
    ['in many reads', 40],
  ])('raw mode: a 20 KB 101 %s is refused with 502', async (_, n) => {
    answer = switching(20_000);
    pieces = n;
    const text = await through(upgradeRequest());
    expect(text).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n/);
    expect(text).toContain(`${REASON}\n`);
  });

  it('raw mode: a 101 of exactly the limit opens the tunnel; one byte more does not', async () => {
    pieces = 1;
    answer = switching(MAX_HEAD);
    // The tunnel stays open: what came within 300 ms is enough.
    expect(await through(upgradeRequest(), 300)).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    answer = switching(MAX_HEAD + 1);
    expect(await through(upgradeRequest())).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n/);
  });

  it('raw mode: a 20 KB refusal is refused too, not relayed', async () => {
    answer = () => paddedHead('403 Forbidden', ['Content-Length: 0'], 20_000);
    pieces = 1;
    expect(await through(upgradeRequest())).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n[\s\S]*response head longer than/);
  });

  it.each([
    ['in one read', 1],
    ['in many reads', 40],
  ])('message mode: a 20 KB 101 %s is refused with 502', async (_, n) => {
    answer = switching(20_000);
    pieces = n;
    const text = await through(upgradeRequest({ path: '/messages' }));
    expect(text).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n/);
    expect(text).toContain(`${REASON}\n`);
  });

  it('plain HTTP: a 20 KB answer head is refused with 502', async () => {
    answer = () => paddedHead('200 OK', ['Content-Length: 2'], 20_000) + 'ok';
    pieces = 1;
    const text = await through('GET /page HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(text).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n/);
    expect(text).toContain(`${REASON}\n`);
  });

  it('counts each refusal as a bad upstream answer', async () => {
    const metrics = await gw.gateway.metrics.registry.metrics();
    expect(metrics).toContain(`wsgate_upstream_errors_total{upstream="${url}",cause="${REASON}"} 7`);
  });
});
