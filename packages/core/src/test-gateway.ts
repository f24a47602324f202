/** Test support (not built): a gateway on ephemeral loopback ports, and raw-socket helpers. */
import net from 'node:net';
import { once } from 'node:events';
import { resolveConfig } from './config/load.js';
import { Gateway } from './gateway.js';
import { createLogger, type LogFields, type Logger } from './logger.js';
import type { Routes } from './routes.js';

export interface TestGateway {
  gateway: Gateway;
  port: number;
  url: string;
  logs: LogFields[];
  close(): Promise<void>;
}

/** Starts a gateway on 127.0.0.1:0 with `routes` and config overrides; logs are captured, not printed. */
export async function startTestGateway(routes: Routes<any> | Routes<any>[], config: Record<string, unknown> = {}): Promise<TestGateway> {
  const logs: LogFields[] = [];
  const logger: Logger = createLogger({ level: 'debug', write: (line) => void logs.push(JSON.parse(line)) });
  const resolved = resolveConfig({ listeners: [{ host: '127.0.0.1', port: 0 }], ...config }, process.cwd());
  const gateway = new Gateway(resolved, { logger });
  for (const r of Array.isArray(routes) ? routes : [routes]) gateway.use(r);
  await gateway.listen();
  const port = gateway.addresses()[0]!.port;
  return { gateway, port, url: `ws://127.0.0.1:${port}`, logs, close: () => gateway.close({ grace: 0.2 }) };
}

/** Sends raw bytes and collects everything the server sends until it closes (or `timeoutMs`). */
export async function rawExchange(port: number, data: string | Buffer | (string | Buffer)[], timeoutMs = 3000): Promise<{ text: string; closed: boolean }> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  for (const part of Array.isArray(data) ? data : [data]) socket.write(part);
  const closed = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  socket.destroy();
  return { text: Buffer.concat(chunks).toString('latin1'), closed };
}

export const UPGRADE_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/** A well-formed upgrade request; `extra` lines are appended, `omit` drops headers by lower-case name. */
export function upgradeRequest(port: number, extra: string[] = [], omit: string[] = [], path = '/'): string {
  const lines = [
    `Host: 127.0.0.1:${port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${UPGRADE_KEY}`,
    'Sec-WebSocket-Version: 13',
  ].filter((l) => !omit.includes(l.slice(0, l.indexOf(':')).toLowerCase()));
  return `GET ${path} HTTP/1.1\r\n${[...lines, ...extra].join('\r\n')}\r\n\r\n`;
}

/** A masked client frame (RFC 6455 §5.2), payload under 64 KiB. */
export function maskedFrame(opcode: number, payload: Buffer | string, fin = true): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const mask = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
  const len = body.length;
  const header = len < 126 ? Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | len]) : Buffer.from([(fin ? 0x80 : 0) | opcode, 0x80 | 126, len >> 8, len & 0xff]);
  const masked = Buffer.alloc(len);
  for (let i = 0; i < len; i++) masked[i] = body[i]! ^ mask[i % 4]!;
  return Buffer.concat([header, mask, masked]);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A loopback port that was free a moment ago (for configs that must name their ports up front). */
export async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

/** Waits until `check()` is true, polling, or fails after `timeoutMs`. */
export async function until(check: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
