/**
 * TCP relay: each accepted connection is piped raw to the node the balancer chose (the same tunnel as
 * WebSocket raw mode: backpressure, half-close, idle timeout). A failed connect moves to the next node; the
 * client's bytes wait (the socket is accepted paused) until one is connected.
 */
import net, { type Socket } from 'node:net';
import { openUpstreamSocket, type ConnectSettings } from '../connect.js';
import { NodePicker } from '../node-picker.js';
import type { UpstreamNode } from '../node.js';
import { RawTunnel } from '../relay/raw-tunnel.js';
import { TunnelRegistry } from '../relay/tunnel-registry.js';
import { classifyFailure } from '../upstream-error.js';
import { RelayBase } from './relay-base.js';
import type { StreamPool, StreamSettings } from './stream-pool.js';

export class TcpRelay extends RelayBase {
  private server: net.Server | undefined;
  private readonly tunnels: TunnelRegistry;
  private readonly connect: ConnectSettings;
  private readonly liveness;

  constructor(pool: StreamPool, settings: StreamSettings) {
    super(pool, settings, 'tcp');
    this.liveness = { idleMs: settings.idleMs, pingIntervalMs: undefined, pingTimeoutMs: 0 };
    this.tunnels = new TunnelRegistry(this.liveness);
    this.connect = { connectTimeoutMs: settings.connectTimeoutMs, tls: { verify: true, ca: undefined, servername: undefined, sni: false } };
  }

  get sessions(): number {
    return this.tunnels.size;
  }

  async listen(): Promise<void> {
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true });
    server.maxConnections = this.settings.maxSessions;
    server.on('connection', (client) => void this.accept(client));
    server.on('error', (err) => this.log.warn({ err }, 'tcp relay listener error'));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.settings.port, this.settings.host, () => {
        server.removeListener('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.bound = { host: this.settings.host, port: (server.address() as net.AddressInfo).port };
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.tunnels.closeAll();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async accept(client: Socket): Promise<void> {
    client.on('error', () => client.destroy());
    const picker = new NodePicker(this.pool, client.remoteAddress ?? '', this.log);
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
