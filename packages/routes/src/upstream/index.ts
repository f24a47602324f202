/** Upstreams: their options, nodes and balancing, and the relays and hooks of tunnels to them. */
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
