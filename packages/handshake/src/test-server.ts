/** Test helpers: a node:http server wired like the gateway's upgrade path, and raw socket clients. */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { HandshakeOptions } from './types.js';
import { Upgrader } from './upgrade.js';
import { validateHandshake } from './validate.js';
import { writeRejection } from './reject.js';

export interface TestGateway {
  readonly server: Server;
  readonly port: number;
  readonly url: string;
  readonly upgrader: Upgrader;
  /** Server-side WebSockets, in order of upgrade. */
  readonly sockets: WebSocket[];
  /** Messages received by the server, as text. */
  readonly messages: string[];
  /** Errors the upgrade promise rejected with. */
  readonly failures: Error[];
  /** Resolves with the next server-side WebSocket. */
  nextSocket(): Promise<WebSocket>;
  /** Resolves with the next upgrade failure. */
  nextFailure(): Promise<Error>;
  connections(): Promise<number>;
  close(): Promise<void>;
}

export interface GatewayOptions {
  handshake?: HandshakeOptions;
  /** Runs before the handshake is decided; lets a test delay it like an async route would. */
  before?: (req: IncomingMessage, socket: Duplex) => Promise<void> | void;
  upgrader?: Upgrader;
}

/** The gateway's upgrade path in miniature: decide, then write the rejection or commit. */
export async function startGateway(opts: GatewayOptions = {}): Promise<TestGateway> {
  const options = opts.handshake ?? {};
  const upgrader = opts.upgrader ?? new Upgrader();
  const sockets: WebSocket[] = [];
  const messages: string[] = [];
  const failures: Error[] = [];
  const socketWaiters: Array<(ws: WebSocket) => void> = [];
  const failureWaiters: Array<(err: Error) => void> = [];
  const server = createServer((_req, res) => res.writeHead(404).end());
  // Synchronous unless a test delays the decision: the upgrade then runs inside the parser's I/O callback, the
  // case where data sent with the request could outrun the promise's reactions.
  const commit = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const decision = validateHandshake(req, options);
    if (!decision.ok) return writeRejection(socket, decision);
    upgrader.upgrade(req, socket, head, decision, options).then(
      (ws) => {
        ws.on('message', (data) => messages.push(String(data)));
        ws.on('message', (data) => ws.send(data));
        sockets.push(ws);
        socketWaiters.shift()?.(ws);
      },
      (err: Error) => {
        failures.push(err);
        failureWaiters.shift()?.(err);
      },
    );
  };
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => {});
    const before = opts.before;
    if (before === undefined) return commit(req, socket, head);
    void Promise.resolve(before(req, socket)).then(() => commit(req, socket, head));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    server,
    port,
    url: `ws://127.0.0.1:${port}/`,
    upgrader,
    sockets,
    messages,
    failures,
    nextSocket: () => new Promise((resolve) => socketWaiters.push(resolve)),
    nextFailure: () => new Promise((resolve) => failureWaiters.push(resolve)),
    connections: () =>
      new Promise((resolve, reject) => server.getConnections((err, n) => (err ? reject(err) : resolve(n)))),
    async close() {
      for (const ws of sockets) ws.terminate();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await upgrader.close();
    },
  };
}

/** What a raw client read until the server closed the connection. */
export interface RawResult {
  readonly data: Buffer;
  /** The server half-closed ('end') before the socket closed. */
  readonly ended: boolean;
}

/** Sends `request` on a raw TCP socket and reads everything until the server closes it. */
export async function rawExchange(port: number, request: string | Buffer): Promise<RawResult> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  return readUntilClose(socket, request);
}

export function readUntilClose(socket: Socket, request?: string | Buffer): Promise<RawResult> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let ended = false;
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('end', () => (ended = true));
    socket.on('error', reject);
    socket.on('close', () => resolve({ data: Buffer.concat(chunks), ended }));
    if (request !== undefined) socket.write(request);
  });
}

/** Polls `check` until it holds (or gives up after `ms`). */
export async function eventually(check: () => Promise<boolean> | boolean, ms = 2000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A handshake request as raw text; `extra` lines are appended verbatim. */
export function handshakeRequest(extra: string[] = [], key = 'dGhlIHNhbXBsZSBub25jZQ=='): string {
  return [
    'GET /ws HTTP/1.1',
    'Host: 127.0.0.1',
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${key}`,
    'Sec-WebSocket-Version: 13',
    ...extra,
    '',
    '',
  ].join('\r\n');
}

/** A client frame (RFC 6455 §5.2): FIN set, masked as clients must; payloads under 126 bytes. */
export function maskedFrame(text: string, opcode = 0x1): Buffer {
  const payload = Buffer.from(text);
  if (payload.length >= 126) throw new Error('short frames only');
  const mask = Buffer.from([0x37, 0xfa, 0x21, 0x3d]);
  const frame = Buffer.alloc(2 + 4 + payload.length);
  frame[0] = 0x80 | opcode;
  frame[1] = 0x80 | payload.length;
  mask.copy(frame, 2);
  for (let i = 0; i < payload.length; i++) frame[6 + i] = payload[i]! ^ mask[i % 4]!;
  return frame;
}
