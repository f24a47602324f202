/**
 * The keep-alive pool of plain HTTP connections to a pool's nodes (nginx `keepalive N`): node's http.Agent,
 * with connections opened by `openUpstreamSocket` (connect timeout, TLS settings, unix sockets) and kept per
 * node. With `keepAlive: 0` it only opens connections, one per request.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import { openUpstreamSocket, readyEvent, type ConnectSettings } from '../upstream/connect.js';
import type { UpstreamNode } from '../upstream/node.js';

/** The request option that carries the node to the agent. */
export const NODE_OPTION = 'wsgateNode';

const kReady = Symbol('wsgate.ready');
type Marked = Socket & { [kReady]?: true };

/** Whether a socket the agent handed out is connected (TLS included): a reused one always is. */
export function isReady(socket: Socket): boolean {
  return (socket as Marked)[kReady] === true;
}

export class UpstreamAgent extends http.Agent {
  private retired = false;

  constructor(
    private readonly settings: ConnectSettings,
    keepAlive: number,
  ) {
    super({
      keepAlive: keepAlive > 0,
      maxFreeSockets: Math.max(1, keepAlive),
      // Idle kept connections are closed after a minute (nginx `keepalive_timeout`), before most upstreams do.
      timeout: 60_000,
      scheduling: 'lifo',
    });
  }

  override createConnection(options: Record<string, unknown>): Socket {
    const socket = openUpstreamSocket(options[NODE_OPTION] as UpstreamNode, this.settings, { halfOpen: false }) as Marked;
    socket.once(readyEvent(socket), () => (socket[kReady] = true));
    return socket;
  }

  /** Keeps no connection from now on: idle ones close, busy ones close when their request is done. */
  retire(): void {
    this.retired = true;
    for (const sockets of Object.values(this.freeSockets)) for (const socket of sockets ?? []) socket.destroy();
  }

  // Node destroys a socket instead of keeping it when this returns a falsy value (typed void in @types/node).
  override keepSocketAlive(socket: Socket): void {
    return this.retired ? (false as unknown as void) : super.keepSocketAlive(socket);
  }

  override getName(options: Record<string, unknown>): string {
    return (options[NODE_OPTION] as UpstreamNode).name;
  }
}
