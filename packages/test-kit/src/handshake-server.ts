/** Test support: a bare node:http server wired like the gateway's upgrade path, for @wsgate/handshake's tests. */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import { Upgrader, validateHandshake, writeRejection, type HandshakeOptions } from '@wsgate/handshake';

export interface HandshakeServer {
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

export interface HandshakeServerOptions {
  handshake?: HandshakeOptions;
  /** Runs before the handshake is decided; lets a test delay it like an async route would. */
  before?: (req: IncomingMessage, socket: Duplex) => Promise<void> | void;
  upgrader?: Upgrader;
}

/** The gateway's upgrade path in miniature, on 127.0.0.1:0: decide, then write the rejection or commit; echoes messages. */
export async function startHandshakeServer(opts: HandshakeServerOptions = {}): Promise<HandshakeServer> {
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
