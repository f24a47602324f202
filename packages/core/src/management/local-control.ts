import type { Gateway } from '../gateway.js';
import { checkCloseCode, pageOf, type ConnectionFilter, type ConnectionPage, type ConnectionSummary, type GatewayControl, type GatewayStatus } from './control.js';

/**
 * The management operations on the gateway of this process, through its connection directory
 * (`gateway.connections`): with a directory shared by several gateways, they reach every node's connections.
 */
export class LocalControl implements GatewayControl {
  private readonly startedAt = Date.now();

  constructor(
    private readonly gateway: Gateway,
    private readonly reloader: () => Promise<void> = async () => {
      throw new Error('this gateway was not started from a config file: there is nothing to reload');
    },
  ) {}

  async listConnections(filter: ConnectionFilter): Promise<ConnectionPage> {
    return pageOf(this.gateway.connections, filter);
  }

  async getConnection(id: number): Promise<ConnectionSummary | undefined> {
    return (await this.gateway.connections.get(id))?.toJSON() as ConnectionSummary | undefined;
  }

  async closeConnection(id: number, code: number, reason: string): Promise<boolean> {
    checkCloseCode(code);
    if (Buffer.byteLength(reason) > 123) throw new RangeError('close reason longer than 123 bytes');
    return this.gateway.connections.close(id, code, reason);
  }

  async pingConnection(id: number): Promise<boolean> {
    return this.gateway.connections.ping(id);
  }

  async setWebSocketsEnabled(enabled: boolean): Promise<void> {
    this.gateway.setWebSocketsEnabled(enabled);
  }

  async status(): Promise<GatewayStatus> {
    return {
      pid: process.pid,
      uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
      websockets: this.gateway.webSocketsEnabled ? 'enabled' : 'disabled',
      connections: this.gateway.connections.size,
      workers: 1,
    };
  }

  reload(): Promise<void> {
    return this.reloader();
  }
}
