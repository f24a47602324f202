/** Test support: raw-socket clients and the bytes they send (upgrade requests, masked frames). */
import { once } from 'node:events';
import net from 'node:net';

/** The RFC 6455 sample key (§1.3), and the Sec-WebSocket-Accept it earns. */
export const CLIENT_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';
export const CLIENT_ACCEPT = 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=';

/** A loopback port nothing listens on now: for upstreams that are down, and for configs that name their ports up front. */
export async function freePort(): Promise<number> {
  const probe = net.createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/**
 * Resolves once `host:port` accepts a TCP connection (a peer started in the background is up); throws after
 * `timeoutMs`, naming `what` (`nginx`, `kamailio`…) and the address.
 */
export async function waitForPort(port: number, timeoutMs: number, what: string, host = '127.0.0.1'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ port, host, timeout: 500 });
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
      socket.once('timeout', () => (socket.destroy(), resolve(false)));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${what} did not listen on ${host}:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface UpgradeRequestOptions {
  /** The Host header's value; default `127.0.0.1`. */
  host?: string;
  /** The request target; default `/`. */
  path?: string;
  /** Header lines appended verbatim after the standard ones. */
  extra?: string[];
  /** Standard headers left out, by lower-case name (`host`, `sec-websocket-key`...). */
  omit?: string[];
  /** Sec-WebSocket-Key; default the RFC's sample key, {@link CLIENT_KEY}. */
  key?: string;
}

/**
 * A well-formed WebSocket upgrade request as raw text: Host, Upgrade, Connection, Sec-WebSocket-Key,
 * Sec-WebSocket-Version (less `omit`), then the `extra` lines.
 */
export function upgradeRequest(options: UpgradeRequestOptions = {}): string {
  const { host = '127.0.0.1', path = '/', extra = [], omit = [], key = CLIENT_KEY } = options;
  const lines = [`Host: ${host}`, 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${key}`, 'Sec-WebSocket-Version: 13'].filter(
    (line) => !omit.includes(line.slice(0, line.indexOf(':')).toLowerCase()),
  );
  return `GET ${path} HTTP/1.1\r\n${[...lines, ...extra].join('\r\n')}\r\n\r\n`;
}

/** What a raw client read before the server closed the connection (or it gave up waiting). */
export interface RawResult {
  readonly data: Buffer;
  /** `data` as latin1 text. */
  readonly text: string;
  /** The connection closed; false when the timeout came first. */
  readonly closed: boolean;
  /** The server half-closed ('end') before the socket closed. */
  readonly ended: boolean;
}

export interface ReadOptions {
  /** Gives up after this long, with `closed: false`; default 3000 ms (`Infinity`: wait for the close). */
  timeoutMs?: number;
  /** Resolves on a socket error (a reset) as on a close, instead of rejecting with it. */
  ignoreErrors?: boolean;
}

export interface ExchangeOptions extends ReadOptions {
  /** The client's local address (127.0.0.2 ...), for tests that tell clients apart by address. */
  localAddress?: string;
}

type Bytes = string | Buffer;

/**
 * Connects to 127.0.0.1:`port`, writes `data` (each part in turn, once connected), and reads everything
 * the server sends until it closes the connection or `timeoutMs` passes; the socket is then destroyed.
 */
export async function rawExchange(port: number, data: Bytes | Bytes[], options: ExchangeOptions = {}): Promise<RawResult> {
  const { localAddress, ...read } = options;
  const socket = net.connect({ port, host: '127.0.0.1', localAddress });
  await once(socket, 'connect');
  return readUntilClose(socket, Array.isArray(data) ? data : [data], read);
}

/** {@link rawExchange}, the text only; a socket error (the proxy tests provoke resets) is not a failure. */
export const exchange = (port: number, data: Bytes, options: ExchangeOptions = {}): Promise<string> =>
  rawExchange(port, data, { ignoreErrors: true, ...options }).then((result) => result.text);

/** Writes `data` on a connected `socket` and reads until the server closes it (or `timeoutMs`); then destroys it. */
export function readUntilClose(socket: net.Socket, data: Bytes | Bytes[] = [], options: ReadOptions = {}): Promise<RawResult> {
  const { timeoutMs = 3000, ignoreErrors = false } = options;
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let ended = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (closed: boolean, error?: Error) => {
      clearTimeout(timer);
      socket.destroy();
      if (error && !ignoreErrors) return reject(error);
      const all = Buffer.concat(chunks);
      resolve({ data: all, text: all.toString('latin1'), closed, ended });
    };
    if (Number.isFinite(timeoutMs)) timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => (ended = true));
    socket.on('error', (error) => finish(true, error));
    socket.on('close', () => finish(true));
    for (const part of Array.isArray(data) ? data : [data]) socket.write(part);
  });
}

/** A masked client frame (RFC 6455 §5.2), masked as clients must; payloads under 64 KiB. */
export function maskedFrame(opcode: number, payload: Buffer | string, fin = true): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const len = body.length;
  if (len > 0xffff) throw new RangeError('maskedFrame: payloads under 64 KiB only');
  const first = (fin ? 0x80 : 0) | opcode;
  const header = len < 126 ? Buffer.from([first, 0x80 | len]) : Buffer.from([first, 0x80 | 126, len >> 8, len & 0xff]);
  const mask = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
  const masked = Buffer.alloc(len);
  for (let i = 0; i < len; i++) masked[i] = body[i]! ^ mask[i % 4]!;
  return Buffer.concat([header, mask, masked]);
}
