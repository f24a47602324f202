/**
 * The proxy: `req.proxy(pool)` targets (WebSocket and HTTP upstreams, balancing, health), path and host
 * routing, and port relays for UDP and TCP.
 */
export { upstream, upstreams, UpstreamPool, type NodeStatus, type UpstreamTarget } from './pool.js';
export type { RetireReason } from './lifecycle.js';
export type {
  BalanceOption,
  ForwardOptions,
  HeaderOptions,
  HeaderValue,
  HealthCheckOptions,
  PingOptions,
  ServerOptions,
  ServerSpec,
  TimeoutOptions,
  UpstreamsOptions,
  UpstreamTlsOptions,
} from './options.js';
export type { Balancer, SelectionContext } from './balance/balancer.js';
export type { UpstreamNode } from './node.js';
export type { MessageHook, MessageVerdict, ProxiedMessage, TunnelInfo } from './relay/message-hook.js';
export { locations, Locations, type LocationHandler, type LocationMatch, type LocationSpec } from './locations.js';
export { virtualHosts, VirtualHosts, type SiteRoute, type SiteSpec } from './virtual-hosts.js';
export { streamRelay, type StreamRelay, type StreamRelayOptions, type StreamServerOptions } from './stream-relay.js';
