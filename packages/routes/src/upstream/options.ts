/**
 * The options of `upstreams()` and `upstream()`: what an nginx `upstream {}` block and the `proxy_*`
 * directives of a `location` say. Durations are in seconds, sizes in bytes, as in the gateway's config.
 */
import type { RequestFacts } from '@wsgate/core';
import type { Balancer } from './balance/balancer.js';
import type { BalancePolicyName } from './balance/policies.js';
import type { MessageHook } from './relay/message-hook.js';

/** One upstream server: its URL alone, or with nginx's `server` parameters. */
export type ServerSpec = string | ServerOptions;

export interface ServerOptions {
  /** `ws://`, `wss://`, `http://`, `https://` host and port, or `unix:/path/to.sock`. */
  url: string;
  /** Relative share of the requests (nginx `weight`). Default 1. */
  weight?: number;
  /**
   * The node's identity for `ip_hash`: pools whose servers share names send a client to the same node
   * (the HTTP pool and the UDP relay of one media node). Default: the URL's host and port.
   */
  name?: string;
  /** Failures within `failTimeout` that take the node out for `failTimeout` (nginx `max_fails`). */
  maxFails?: number;
  /** Seconds (nginx `fail_timeout`). */
  failTimeout?: number;
  /** Used only when every other node is unavailable (nginx `backup`). */
  backup?: boolean;
  /** Never chosen (nginx `down`): keeps its place, so `ip_hash` clients of other nodes stay put. */
  down?: boolean;
}

/** A balancing policy by name (the keys of `balancingPolicies`, upstream/balance/policies.ts), or your own `select(pool, ctx)`. */
export type BalanceOption = BalancePolicyName | Balancer;

export interface UpstreamTlsOptions {
  /** Verify the upstream's certificate (nginx `proxy_ssl_verify`). Default true. */
  verify?: boolean;
  /** PEM file (path) of the CAs to trust instead of the system's (nginx `proxy_ssl_trusted_certificate`). */
  caFile?: string;
  /** The name sent in SNI and checked in the certificate (nginx `proxy_ssl_name`). Default: the URL's host. */
  servername?: string;
  /** Send SNI at all (nginx `proxy_ssl_server_name`). Default true (host names only, never IP addresses). */
  sni?: boolean;
}

/** A header value: fixed, computed per request, or `null` to remove the client's header. */
export type HeaderValue = string | null | ((req: RequestFacts<any>) => string | undefined);

export interface HeaderOptions {
  /**
   * `Host` sent upstream: `client` passes the client's (nginx `$http_host`), `upstream` names the upstream
   * (nginx's default `$proxy_host`), any other string is sent as is. Default `client`.
   */
  host?: 'client' | 'upstream' | (string & {});
  /** The header carrying the client's real IP (`req.clientIp`), or false. Default `X-Real-IP`. */
  realIp?: string | false;
  /** `ip` (default), or `ip:port` for headers such as `X-Client-IP: 203.0.113.7:51234`. */
  realIpFormat?: 'ip' | 'ip:port';
  /** Append the client's IP to `X-Forwarded-For` (nginx `$proxy_add_x_forwarded_for`). Default true. */
  forwardedFor?: boolean;
  /** Set `X-Forwarded-Proto` to `http` or `https` (nginx `$scheme`). Default true. */
  forwardedProto?: boolean;
  /** Extra headers (nginx `proxy_set_header`); a name set here replaces the client's header of that name. */
  set?: Readonly<Record<string, HeaderValue>>;
}

export interface TimeoutOptions {
  /** Seconds to establish the connection, TLS included (nginx `proxy_connect_timeout`); then 504. Default 10. */
  connect?: number;
  /** Seconds a WebSocket tunnel may stay silent both ways before it is closed (nginx `proxy_read_timeout 86400`). Default 86400. */
  websocket?: number;
  /** Seconds an HTTP exchange may stay silent (no byte either way) before it is dropped, 504 if nothing was relayed. Default 600. */
  http?: number;
}

export interface PingOptions {
  /** Seconds of silence from a side of a tunnel before the gateway pings it. */
  interval: number;
  /** Seconds to wait for any byte back before the tunnel is closed. Default `interval`. */
  timeout?: number;
}

export interface HealthCheckOptions {
  /** Path requested with GET on each node (over http or https, as the node's scheme). Default `/`. */
  path?: string;
  /** Seconds between checks. Default 5. */
  interval?: number;
  /** Seconds a check may take. Default 2. */
  timeout?: number;
  /** Consecutive passes that bring a node back (nginx plus `passes`). Default 2. */
  rise?: number;
  /** Consecutive failures that take a node out (nginx plus `fails`). Default 3. */
  fall?: number;
  /** Statuses that pass. Default 200–399. */
  expect?: (status: number) => boolean;
  /** `Host` header of the check. Default the node's host and port. */
  host?: string;
}

export interface UpstreamsOptions {
  /** One or more servers; at least one. */
  servers: readonly ServerSpec[];
  /** Default `round_robin`. */
  balance?: BalanceOption;
  tls?: UpstreamTlsOptions;
  headers?: HeaderOptions;
  timeouts?: TimeoutOptions;
  /** Largest request body relayed (nginx `client_max_body_size`); larger gets 413. 0: no limit. Default 1 MiB. */
  maxBodySize?: number;
  /**
   * Idle connections kept open per node for plain HTTP (nginx `keepalive N` with `Connection ""`): requests
   * then go upstream with `Connection: keep-alive` and reuse them. Default 0: `Connection: close`, as nginx's
   * `map $http_upgrade $connection_upgrade` sends for requests that are not upgrades.
   */
  keepAlive?: number;
  /** Defaults for every server's `maxFails` (1) and `failTimeout` (10 s); 0 `maxFails` disables passive health. */
  maxFails?: number;
  failTimeout?: number;
  /** Nodes tried for one request when connecting fails (nginx `proxy_next_upstream_tries`). Default: all. */
  tries?: number;
  /** Active health checks (HTTP GET): off unless given. */
  healthCheck?: HealthCheckOptions;
  /** Pings from the gateway into idle WebSocket tunnels, both ways. Off unless given. */
  ping?: PingOptions;
  /** Largest WebSocket message in message mode (`onMessage`); larger closes with 1009. Default 1 MiB. */
  maxMessageSize?: number;
  /**
   * Upgrades other than WebSocket tunnelled to the nodes, by protocol name (`['h2c']`): raw bytes the gateway
   * does not parse. Any other gets 501. Default none: WebSocket only.
   */
  upgrades?: readonly string[];
  /** Where failures are logged when there is no request to log them on (health checks). */
  logger?: import('@wsgate/core').Logger;
}

/** Per-request variations of a pool: `req.proxy(pool.with({ url: '/ofmeet/' + rest }))`. */
export interface ForwardOptions {
  /** The request target sent upstream instead of the client's (path and query). */
  url?: string;
  /** Headers added to the pool's `headers.set` for this request. */
  setHeaders?: Readonly<Record<string, HeaderValue>>;
  /**
   * See every WebSocket message of the tunnel, both ways: frames are then parsed on both sides (`ws`),
   * and the hook may pass, drop or rewrite each message. Without it, bytes are relayed unparsed.
   */
  onMessage?: MessageHook;
}
