import { SharedDirectory } from '../connections/shared-directory.js';
import type { Gateway } from '../gateway.js';
import {
  checkCloseCode,
  DEFAULT_PAGE,
  pageOf,
  type ConnectionFilter,
  type ConnectionPage,
  type ConnectionSummary,
  type GatewayControl,
  type GatewayStatus,
} from './control.js';
import { readProcessMemory, type ProcessMemory } from './process-memory.js';
import { checkViewFilter, type ViewFilter, type ViewInfo, type ViewPage, type ViewPaging } from './views.js';

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
    const directory = this.gateway.connections;
    const entry = await directory.get(id);
    if (!entry) return undefined;
    return (directory instanceof SharedDirectory ? directory.summary(entry) : entry.toJSON()) as ConnectionSummary;
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

  async listViews(): Promise<ViewInfo[]> {
    return this.gateway.views.describe();
  }

  async readView(name: string, filter: ViewFilter, paging: ViewPaging): Promise<ViewPage | undefined> {
    const view = this.gateway.views.get(name);
    if (!view) return undefined;
    checkViewFilter(view, filter);
    const rows = await view.list(filter);
    // The API caps limit at MAX_PAGE; a cluster primary asks a worker for up to offset + limit.
    const offset = paging.offset ?? 0;
    const limit = paging.limit ?? DEFAULT_PAGE;
    return { view: name, total: rows.length, offset, limit, rows: rows.slice(offset, offset + limit) };
  }

  async memory(collect: boolean): Promise<ProcessMemory[]> {
    return [await readProcessMemory(collect)];
  }
}
