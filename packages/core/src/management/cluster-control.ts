import type { Worker } from 'node:cluster';
import { WsgateError, type WsgateErrorCode } from '../errors.js';
import { WORKER_ID_SPAN } from '../connections/node-claim.js';
import { DEFAULT_PAGE, MAX_PAGE, type ConnectionFilter, type ConnectionPage, type ConnectionSummary, type GatewayControl, type GatewayStatus } from './control.js';
import { readProcessMemory, type ProcessMemory } from './process-memory.js';
import type { ViewFilter, ViewInfo, ViewPage, ViewPaging } from './views.js';

/** IPC between the cluster primary and its workers: a request names a control operation; the worker answers. */
interface ControlRequest {
  readonly wsgate: 'control';
  readonly id: number;
  readonly op: keyof GatewayControl;
  readonly args: unknown[];
}
interface ControlResponse {
  readonly wsgate: 'control-result';
  readonly id: number;
  readonly ok: boolean;
  readonly value?: unknown;
  readonly error?: string;
  readonly range?: boolean;
  /** A WsgateError's code (the API answers a shared directory's with 503 or 504). */
  readonly code?: string;
}

/** A worker's failure, keeping a WsgateError's code. */
function workerError(index: number, message: ControlResponse): Error {
  const text = `worker ${index}: ${message.error}`;
  return message.code ? new WsgateError(message.code as WsgateErrorCode, text) : new Error(text);
}

const TIMEOUT_MS = 10_000;

/** In a worker: answer the primary's control requests with this process's gateway. */
export function serveControl(control: GatewayControl): void {
  process.on('message', (message: ControlRequest) => {
    if (message?.wsgate !== 'control') return;
    const run = (control[message.op] as (...args: unknown[]) => Promise<unknown>).apply(control, message.args);
    run.then(
      (value) => reply({ wsgate: 'control-result', id: message.id, ok: true, value }),
      (err: unknown) =>
        reply({
          wsgate: 'control-result',
          id: message.id,
          ok: false,
          error: err instanceof Error ? err.message : String(err),
          range: err instanceof RangeError,
          ...(typeof (err as { code?: unknown })?.code === 'string' ? { code: (err as { code: string }).code } : {}),
        }),
    );
  });
}

function reply(response: ControlResponse): void {
  process.send?.(response);
}

/**
 * In the primary: the management operations over every worker. Connection ids tell the worker
 * (id ÷ 10⁹), so one-connection operations go to one worker; listings are merged.
 */
export class ClusterControl implements GatewayControl {
  private nextRequest = 0;
  private readonly startedAt = Date.now();

  constructor(
    private readonly workers: () => ReadonlyMap<number, Worker>,
    private readonly reloader: () => Promise<void>,
    /**
     * The workers share a connection directory through Redis (`store.redis`): each one sees every node's
     * connections, so one worker answers for all (asking each would list every connection once per worker).
     */
    private readonly shared = false,
  ) {}

  async listConnections(filter: ConnectionFilter): Promise<ConnectionPage> {
    if (this.shared) return (await this.any('listConnections', filter)) as ConnectionPage;
    const offset = filter.offset ?? 0;
    const limit = Math.min(filter.limit ?? DEFAULT_PAGE, MAX_PAGE);
    // Each worker's first offset+limit, merged by id, hold the page wanted.
    const pages = (await this.all('listConnections', { ...filter, offset: 0, limit: offset + limit, uncapped: true })) as ConnectionPage[];
    const merged = pages.flatMap((p) => p.connections).sort((a, b) => a.id - b.id);
    return { total: pages.reduce((n, p) => n + p.total, 0), offset, limit, connections: merged.slice(offset, offset + limit) };
  }

  async getConnection(id: number): Promise<ConnectionSummary | undefined> {
    return (await this.one(id, 'getConnection', id)) as ConnectionSummary | undefined;
  }

  async closeConnection(id: number, code: number, reason: string): Promise<boolean> {
    return ((await this.one(id, 'closeConnection', id, code, reason)) ?? false) as boolean;
  }

  async pingConnection(id: number): Promise<boolean> {
    return ((await this.one(id, 'pingConnection', id)) ?? false) as boolean;
  }

  async setWebSocketsEnabled(enabled: boolean): Promise<void> {
    await this.all('setWebSocketsEnabled', enabled);
  }

  async status(): Promise<GatewayStatus> {
    const each = (await this.all('status')) as GatewayStatus[];
    return {
      pid: process.pid,
      uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
      websockets: each.every((s) => s.websockets === 'enabled') ? 'enabled' : 'disabled',
      connections: each.reduce((n, s) => n + s.connections, 0),
      workers: each.length,
    };
  }

  reload(): Promise<void> {
    return this.reloader();
  }

  /** Every worker runs the same script: the views any of them has, once each. */
  async listViews(): Promise<ViewInfo[]> {
    const byName = new Map<string, ViewInfo>();
    for (const views of (await this.all('listViews')) as ViewInfo[][]) for (const v of views) byName.set(v.name, v);
    return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Each worker's rows, in worker order: each worker's first offset+limit hold the page wanted. */
  async readView(name: string, filter: ViewFilter, paging: ViewPaging): Promise<ViewPage | undefined> {
    const offset = paging.offset ?? 0;
    const limit = Math.min(paging.limit ?? DEFAULT_PAGE, MAX_PAGE);
    const pages = ((await this.all('readView', name, filter, { offset: 0, limit: offset + limit })) as Array<ViewPage | undefined>).filter(
      (p): p is ViewPage => p !== undefined,
    );
    if (pages.length === 0) return undefined;
    const rows = pages.flatMap((p) => p.rows);
    return { view: name, total: pages.reduce((n, p) => n + p.total, 0), offset, limit, rows: rows.slice(offset, offset + limit) };
  }

  /** The primary's, then each ready worker's; the collections run at the same time. */
  async memory(collect: boolean): Promise<ProcessMemory[]> {
    const [primary, workers] = await Promise.all([readProcessMemory(collect), this.all('memory', collect) as Promise<ProcessMemory[][]>]);
    return [primary, ...workers.flat()];
  }

  /** Ask every worker; a worker that is gone or silent fails the whole operation, saying which. */
  all(op: keyof GatewayControl, ...args: unknown[]): Promise<unknown[]> {
    return Promise.all([...this.workers().entries()].map(([index, w]) => this.ask(index, w, op, args)));
  }

  /** The lowest-numbered ready worker (a shared directory: any worker reaches every connection). */
  private any(op: keyof GatewayControl, ...args: unknown[]): Promise<unknown> {
    const [first] = [...this.workers().entries()].sort(([a], [b]) => a - b);
    if (!first) return Promise.reject(new Error(`no worker is ready to answer ${op}`));
    return this.ask(first[0], first[1], op, args);
  }

  private one(id: number, op: keyof GatewayControl, ...args: unknown[]): Promise<unknown> {
    if (this.shared) return this.any(op, ...args);
    const index = Math.floor(id / WORKER_ID_SPAN);
    const worker = this.workers().get(index);
    return worker ? this.ask(index, worker, op, args) : Promise.resolve(undefined);
  }

  private ask(index: number, worker: Worker, op: keyof GatewayControl, args: unknown[]): Promise<unknown> {
    const id = ++this.nextRequest;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => done(new Error(`worker ${index} did not answer ${op} within ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS);
      const onMessage = (message: ControlResponse) => {
        if (message?.wsgate !== 'control-result' || message.id !== id) return;
        if (message.ok) done(undefined, message.value);
        else done(message.range ? new RangeError(message.error) : workerError(index, message));
      };
      const onExit = () => done(new Error(`worker ${index} exited during ${op}`));
      const done = (err: Error | undefined, value?: unknown) => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('exit', onExit);
        if (err) reject(err);
        else resolve(value);
      };
      worker.on('message', onMessage);
      worker.once('exit', onExit);
      worker.send({ wsgate: 'control', id, op, args } satisfies ControlRequest);
    });
  }
}
