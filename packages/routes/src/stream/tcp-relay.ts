/**
 * TCP relay: each accepted connection is piped raw to the node the balancer chose (the same tunnel as
 * WebSocket raw mode: backpressure, half-close, idle timeout). A failed connect moves to the next node; the
 * client's bytes wait (the socket is accepted paused) until one is connected. On a reload the listening
 * server goes to the new route set's relay on the same address; open sessions stay with this one until they
 * end, and the new relay ends them if the gateway shuts down.
 */
import net, { type Socket } from 'node:net';
import { openUpstreamSocket, type ConnectSettings } from '../upstream/connect.js';
import { NodePicker } from '../upstream/node-picker.js';
import type { UpstreamNode } from '../upstream/node.js';
import { RawTunnel } from '../upstream/relay/raw-tunnel.js';
import { TunnelRegistry } from '../upstream/relay/tunnel-registry.js';
import { classifyFailure } from '../upstream/upstream-error.js';
import { holdPort, passOn } from './port-ledger.js';
import { RelayBase } from './relay-base.js';
import type { StreamPool, StreamSettings } from './stream-pool.js';

/** What a reload hands over: the listening server, and the relay whose sessions still run on it. */
export interface TcpHandOver {
  readonly server: net.Server;
  readonly predecessor: { close(): Promise<void> };
}

export class TcpRelay extends RelayBase<TcpHandOver> {
  private server: net.Server | undefined;
  private readonly tunnels: TunnelRegistry;
  private readonly connect: ConnectSettings;
  private readonly liveness;
  /** Relays this one took the port over from, with sessions of their own still open. */
  private readonly predecessors: { close(): Promise<void> }[] = [];
  private readonly onConnection = (client: Socket) => void this.accept(client);
  private readonly onError = (err: Error) => this.log.warn({ err }, 'tcp relay listener error');

  constructor(pool: StreamPool, settings: StreamSettings) {
    super(pool, settings, 'tcp');
    this.liveness = { idleMs: settings.idleMs, pingIntervalMs: undefined, pingTimeoutMs: 0 };
    this.tunnels = new TunnelRegistry(this.liveness);
    this.connect = { connectTimeoutMs: settings.connectTimeoutMs, tls: { verify: true, ca: undefined, servername: undefined, sni: false } };
  }

  get sessions(): number {
    return this.tunnels.size;
  }

  protected async bind(): Promise<{ host: string; port: number }> {
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.settings.port, this.settings.host, () => {
        server.removeListener('error', reject);
        resolve();
      });
    });
    if (this.portKey !== undefined) holdPort(this.portKey, this);
    this.serve(server);
    return { host: this.settings.host, port: (server.address() as net.AddressInfo).port };
  }

  adopt({ server, predecessor }: TcpHandOver): void {
    this.predecessors.push(predecessor);
    this.serve(server);
    this.log.info({ port: this.settings.port }, 'port taken over from the relay before the reload');
  }

  protected async handOver(): Promise<void> {
    const server = this.server;
    const heir = server && this.portKey !== undefined ? (passOn(this.portKey, this) as TcpRelay | undefined) : undefined;
    this.stopServing();
    if (heir !== undefined) heir.adopt({ server: server!, predecessor: this });
    // No heir: stop accepting; the sessions open now carry on (close() would end them).
    else server?.close();
  }

  protected async shutdown(): Promise<void> {
    const server = this.server;
    this.stopServing();
    this.tunnels.closeAll();
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : this.tunnels.whenEmpty();
    await Promise.all([closed, ...this.predecessors.map((p) => p.close())]);
  }

  private serve(server: net.Server): void {
    this.server = server;
    server.maxConnections = this.settings.maxSessions;
    server.on('connection', this.onConnection);
    server.on('error', this.onError);
  }

  private stopServing(): void {
    this.server?.removeListener('connection', this.onConnection);
    this.server?.removeListener('error', this.onError);
    this.server = undefined;
  }

  private async accept(client: Socket): Promise<void> {
    client.on('error', () => client.destroy());
    const picker = new NodePicker(this.pool, client.remoteAddress ?? '', () => this.log);
    for (let node = picker.next(); node !== undefined && !client.destroyed; node = picker.next()) {
      const upstream = openUpstreamSocket(node, this.connect);
      const err = await new Promise<Error | undefined>((resolve) => {
        upstream.once('connect', () => resolve(undefined));
        upstream.once('error', resolve);
      });
      if (err === undefined) {
        client.removeAllListeners('error');
        this.pipe(node, client, upstream);
        return;
      }
      const failure = classifyFailure(err, false);
      if (!picker.failed(node, err, failure, failure.connectFailure)) break;
    }
    client.destroy();
  }

  private pipe(node: UpstreamNode, client: Socket, upstream: Socket): void {
    node.active++;
    const tunnel = new RawTunnel(client, upstream, this.liveness, {
      closed: (t, cause) => {
        node.active--;
        this.tunnels.delete(t);
        if (cause !== undefined) this.log.debug({ upstream: node.address.label, cause }, 'tcp session closed');
      },
    });
    this.tunnels.add(tunnel);
    tunnel.start(Buffer.alloc(0), Buffer.alloc(0));
  }
}
