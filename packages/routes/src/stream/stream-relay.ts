/**
 * nginx's `stream` module for media and other non-HTTP traffic (`listen 10000 udp; proxy_pass jvb1:10000;`):
 * a standalone relay of UDP datagrams or TCP connections from one port to a pool of nodes, with per-client
 * sessions, an idle timeout and the same balancing as HTTP pools (`ip_hash` keeps a client on its node, and
 * nodes named like the HTTP pool's send a client's media where its signalling goes).
 */
import type { Logger } from '@wsgate/core';
import type { SelectionContext } from '../upstream/balance/balancer.js';
import { balancerFor } from '../upstream/balance/by-name.js';
import { UpstreamNode, type NodeSettings } from '../upstream/node.js';
import type { RetireReason } from '../upstream/lifecycle.js';
import { integer, invalidOption, knownKeys, seconds } from '../kit/option-checks.js';
import { resolveNode } from '../upstream/settings.js';
import type { BalanceOption, ServerOptions } from '../upstream/options.js';
import { TcpRelay } from './tcp-relay.js';
import { UdpRelay } from './udp-relay.js';
import type { StreamPool } from './stream-pool.js';

/** A node of a stream relay: nginx's `server` parameters, with `host:port` (`[v6]:port`) for an address. */
export type StreamServerOptions = Omit<ServerOptions, 'url'> & { address: string };

export interface StreamRelayOptions {
  protocol: 'udp' | 'tcp';
  /** Where to listen; host default `127.0.0.1`. Port 0 picks a free one (see `address()`). */
  listen: { host?: string; port: number };
  servers: readonly (string | StreamServerOptions)[];
  /** Default `round_robin`. */
  balance?: BalanceOption;
  /** Seconds without traffic either way before a session ends (nginx `proxy_timeout`). Default 600. */
  idleTimeout?: number;
  /** TCP: seconds to connect to a node (nginx `proxy_connect_timeout`). Default 10. */
  connectTimeout?: number;
  /** Sessions at once; new clients beyond are dropped. Default 10000. */
  maxSessions?: number;
  /** Defaults for every server (nginx `max_fails`, `fail_timeout`). */
  maxFails?: number;
  failTimeout?: number;
  logger?: Logger;
}

/** A UDP or TCP port relay; `listen()` binds it, `retire()` or `close()` lets it go. */
export interface StreamRelay {
  /**
   * Binds the port. When a relay of this process already holds it — the one of the route set a reload is
   * replacing — this one resolves at once and takes the port over when that one is retired for the reload.
   */
  listen(): Promise<void>;
  /** Where it listens, once listening. */
  address(): { host: string; port: number };
  readonly sessions: number;
  readonly nodes: readonly UpstreamNode[];
  /**
   * For the `routes:close` route of the route set that made the relay: `'reload'` hands the port over (UDP
   * sessions with it; TCP sessions carry on here) to the relay the new route set made for the same address,
   * or stops listening when there is none; `'shutdown'` is `close()`.
   */
  retire(reason: RetireReason): Promise<void>;
  /** Ends every session and unbinds. */
  close(): Promise<void>;
}

const KEYS = ['protocol', 'listen', 'servers', 'balance', 'idleTimeout', 'connectTimeout', 'maxSessions', 'maxFails', 'failTimeout', 'logger'];
const SERVER = ['address', 'weight', 'name', 'maxFails', 'failTimeout', 'backup', 'down'];

/**
 * @example
 * const media = streamRelay({ protocol: 'udp', listen: { host: '0.0.0.0', port: 10000 },
 *   servers: ['10.0.0.1:10000', '10.0.0.2:10000'], balance: 'ip_hash', idleTimeout: 60 });
 * await media.listen();
 * @throws {WsgateError} `WSGATE_CONFIG_INVALID` naming the bad option and the fix.
 */
export function streamRelay(options: StreamRelayOptions): StreamRelay {
  const fn = 'streamRelay()';
  const o = knownKeys(fn, options, KEYS) as unknown as StreamRelayOptions;
  const protocol = o.protocol as unknown;
  if (protocol !== 'udp' && protocol !== 'tcp') throw invalidOption(`${fn}.protocol`, `expected "udp" or "tcp", got ${JSON.stringify(protocol)}`);
  const listen = knownKeys(`${fn}.listen`, o.listen, ['host', 'port']);
  const port = integer(`${fn}.listen.port`, listen.port, -1, 0, 65535);
  if (port < 0) throw invalidOption(`${fn}.listen.port`, 'give the port to listen on (0 for any free one)');
  if (listen.host !== undefined && typeof listen.host !== 'string') throw invalidOption(`${fn}.listen.host`, 'expected an IP address');
  if (!Array.isArray(o.servers) || o.servers.length === 0) throw invalidOption(`${fn}.servers`, 'give at least one server, e.g. ["10.0.0.1:10000"]');
  const maxFails = integer(`${fn}.maxFails`, o.maxFails, 1, 0, 1000);
  const failTimeout = seconds(`${fn}.failTimeout`, o.failTimeout, 10);
  const nodes = o.servers.map((spec, i) => new UpstreamNode(streamNode(`${fn}.servers[${i}]`, spec, maxFails, failTimeout), i));
  const balancer = balancerFor(`${fn}.balance`, o.balance);
  const primaries = nodes.filter((n) => !n.backup);
  const backups = nodes.filter((n) => n.backup);
  if (primaries.length === 0) throw invalidOption(`${fn}.servers`, 'every server is a backup: at least one must be a primary');
  const pool: StreamPool = {
    nodes,
    balancer,
    pick: (ctx: SelectionContext) => balancer.select(primaries, ctx) ?? (backups.length > 0 ? balancer.select(backups, ctx) : undefined),
    nodeCount: nodes.length,
    tries: nodes.length,
  };
  const settings = {
    host: (listen.host as string | undefined) ?? '127.0.0.1',
    port,
    idleMs: seconds(`${fn}.idleTimeout`, o.idleTimeout, 600) * 1000,
    connectTimeoutMs: seconds(`${fn}.connectTimeout`, o.connectTimeout, 10) * 1000,
    maxSessions: integer(`${fn}.maxSessions`, o.maxSessions, 10_000, 1),
    logger: o.logger,
  };
  return protocol === 'udp' ? new UdpRelay(pool, settings) : new TcpRelay(pool, settings);
}

function streamNode(where: string, spec: unknown, maxFails: number, failTimeout: number): NodeSettings {
  const s = typeof spec === 'string' ? { address: spec } : knownKeys(where, spec, SERVER);
  const field = typeof spec === 'string' ? where : `${where}.address`;
  if (typeof s.address !== 'string') throw invalidOption(field, 'expected "host:port"');
  let url: URL;
  try {
    url = new URL(`tcp://${s.address}`);
  } catch {
    throw invalidOption(field, `${JSON.stringify(s.address)} is not host:port`);
  }
  if (url.port === '' || url.pathname !== '' || url.username) throw invalidOption(field, `${JSON.stringify(s.address)}: write it as host:port, e.g. 10.0.0.1:10000`);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const address = { label: s.address, tls: false, host, port: Number(url.port), hostHeader: url.host };
  return resolveNode(where, s, address, `${host}:${url.port}`, { maxFails, failTimeout });
}
