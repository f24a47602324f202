/**
 * Story S3 (docs/design.md): a collaboration server cluster (Openfire with Pade / ofmeet and its video bridges)
 * behind the gateway, in the place of this nginx configuration from its documentation:
 *
 *   upstream openfire { ip_hash; server node1:7443; server node2:7443; server node3:7443; }
 *   server {
 *     listen 443 ssl; server_name meet.example.com;
 *     proxy_ssl_verify off; proxy_http_version 1.1; proxy_read_timeout 86400;
 *     proxy_set_header Host $host; proxy_set_header X-Real-IP $remote_addr;
 *     proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
 *     location /colibri-ws/ { proxy_pass https://openfire; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade"; }
 *     location /ws/         { proxy_pass https://openfire; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade"; }
 *     location /http-bind/  { proxy_pass https://openfire; }
 *     location /pade/       { proxy_pass https://openfire; }
 *     location /            { proxy_pass https://openfire/ofmeet/; }
 *   }
 *   stream { server { listen 10000 udp; proxy_pass jvb; } }   # one per media node
 *
 * The UDP relay balances with the same `ip_hash` over nodes of the same names, so a client's media goes to
 * the node that holds its conference signalling.
 *
 * Options (`script.options`): `hosts` (server names; default any), `nodes` (`[{ name, https, udp? }]`),
 * `udp` (`{ host, port }` of the media relay; none when absent).
 */
import { defineRoutes, WsgateError, type Logger, type RouteFactory, type Routes } from '@wsgate/core';
import { locations, streamRelay, upstreams, virtualHosts, type RetireReason, type StreamRelay, type UpstreamPool } from '@wsgate/routes';

export interface CollabNode {
  /** The node's identity: the HTTP pool and the UDP relay balance clients to the same name. */
  readonly name: string;
  /** Its Openfire HTTPS port: `https://10.0.0.1:7443`. */
  readonly https: string;
  /** Its video bridge's media port: `10.0.0.1:10000`. */
  readonly udp?: string;
}

export interface CollabOptions {
  readonly hosts?: readonly string[];
  readonly nodes: readonly CollabNode[];
  readonly udp?: { readonly host?: string; readonly port: number };
  readonly logger?: Logger;
}

/** The gateway side of the cluster: routes, the pool they proxy to, and the media relay. */
export interface Collab {
  /** Its `routes:close` retires the pool and the relay: a reload keeps tunnels and media sessions. */
  readonly routes: Routes;
  readonly pool: UpstreamPool;
  readonly media: StreamRelay | undefined;
  /** As the gateway retires the routes: `'reload'` keeps what is open, `'shutdown'` ends it. */
  retire(reason: RetireReason): Promise<void>;
  close(): Promise<void>;
}

export async function createCollab(options: CollabOptions): Promise<Collab> {
  const pool = upstreams({
    servers: options.nodes.map((n) => ({ url: n.https, name: n.name })),
    balance: 'ip_hash',
    tls: { verify: false },
    headers: { host: 'client', realIp: 'X-Real-IP', forwardedFor: true },
    timeouts: { websocket: 86_400, http: 600 },
    // BOSH polls come every few seconds: keep the TLS connections to the nodes.
    keepAlive: 16,
    logger: options.logger,
  });
  const site = locations([
    { prefix: '/colibri-ws/', to: pool },
    { prefix: '/ws/', to: pool },
    { prefix: '/http-bind/', to: pool },
    { prefix: '/pade/', to: pool },
    { prefix: '/', to: pool, rewrite: '/ofmeet/' },
  ]);
  const route = options.hosts ? virtualHosts([{ names: options.hosts, routes: site }]) : site;

  let media: StreamRelay | undefined;
  const withUdp = options.nodes.filter((n) => n.udp !== undefined);
  if (options.udp && withUdp.length > 0) {
    // On a reload the previous relay still holds the port: this one takes it over, sessions and all, when
    // the gateway retires the previous routes.
    media = streamRelay({
      protocol: 'udp',
      listen: { host: options.udp.host ?? '0.0.0.0', port: options.udp.port },
      servers: withUdp.map((n) => ({ address: n.udp!, name: n.name })),
      balance: 'ip_hash',
      idleTimeout: 60,
      logger: options.logger,
    });
    await media.listen();
  }
  const retire = async (reason: RetireReason) => {
    await Promise.all([pool.retire(reason), media?.retire(reason)]);
  };
  return {
    routes: defineRoutes({ 'http:request': (req) => route.route(req), 'routes:close': retire }, 's3-collab'),
    pool,
    media,
    retire,
    async close() {
      await Promise.all([pool.close(), media?.close()]);
    },
  };
}

const s3Collab: RouteFactory = async ({ gateway, options }) => {
  const collab = await createCollab({ ...parseOptions(options), logger: gateway.logger });
  return collab.routes;
};

export default s3Collab;

function parseOptions(options: Readonly<Record<string, unknown>>): CollabOptions {
  const nodes = options.nodes;
  const bad = (why: string) => new WsgateError('WSGATE_SCRIPT_INVALID', `s3-collab: script.options.${why}`);
  if (!Array.isArray(nodes) || nodes.length === 0) throw bad('nodes: list the cluster nodes, e.g. [{ name: node1, https: "https://10.0.0.1:7443", udp: "10.0.0.1:10000" }]');
  for (const [i, n] of nodes.entries()) {
    if (typeof n?.name !== 'string' || typeof n?.https !== 'string') throw bad(`nodes[${i}]: give a name and an https URL`);
  }
  const hosts = options.hosts;
  if (hosts !== undefined && (!Array.isArray(hosts) || hosts.some((h) => typeof h !== 'string'))) throw bad('hosts: expected a list of host names');
  return { nodes: nodes as CollabNode[], hosts: hosts as string[] | undefined, udp: options.udp as CollabOptions['udp'] };
}
