import type { LogLevel } from '../observe/logger.js';

/**
 * The gateway's configuration after validation: defaults filled in, relative paths resolved against the
 * config file's folder, deeply frozen. Durations are in seconds (fractions allowed), sizes in bytes.
 */
export interface GatewayConfig {
  readonly listeners: readonly ListenerConfig[];
  /** Extra host names and addresses that `isMyself()` accepts besides the listeners' own. */
  readonly names: readonly string[];
  /** Where the gateway keeps what it makes for itself (the self-signed certificate). Default `.wsgate`. */
  readonly dataDir: string;
  /** The route script; absent when routes are mounted from code. */
  readonly script?: ScriptConfig;
  readonly limits: LimitsConfig;
  readonly keepalive: KeepaliveConfig;
  readonly shutdown: { readonly grace: number };
  /** `file` (resolved to an absolute path) and `pretty` are absent unless given. */
  readonly log: { readonly level: LogLevel; readonly pretty?: boolean; readonly file?: string };
  /** Where the client's real address comes from behind proxies. Absent: the TCP peer (or PROXY source) is the client. */
  readonly realIp?: RealIpConfig;
  /** nginx-style access log: one line per request. Absent: none. */
  readonly accessLog?: { readonly path: string; readonly format?: string };
  /** Prometheus metrics on their own listener. Absent: not served (still counted, for embedders). */
  readonly metrics?: { readonly host: string; readonly port: number; readonly path: string };
  /** The management API (ws.dump, ws.close…), bearer-token protected. Absent: not served. */
  readonly management?: ManagementConfig;
  /**
   * Where route modules keep state shared across gateways (`gateway.store`): Redis. Absent: a `MemoryStore`
   * in this process. Read at start: a reload keeps the store in use.
   */
  readonly store?: StoreConfig;
  /**
   * This gateway among the nodes sharing `store.redis` (the shared connection directory). Absent: named after
   * the host, heartbeat 5 s. Unused without `store.redis`. Read at start.
   */
  readonly node?: NodeConfig;
  /** Worker processes sharing the listeners (node:cluster); `auto` is one per core. Default 1. */
  readonly workers: number | 'auto';
}

/** The `node` section: this gateway in the shared connection directory (connections/shared-directory.ts). */
export interface NodeConfig {
  /** Unique among the gateways sharing the Redis (letters, digits, `.`, `_`, `-`). Default the host name. */
  readonly name?: string;
  /** Seconds between directory heartbeats; a node that stops has its entries gone within 3 of them. Default 5. */
  readonly heartbeat?: number;
}

/** The `store` section. */
export interface StoreConfig {
  readonly redis: RedisStoreConfig;
}

/** `store.redis`: the Redis every gateway of a deployment shares. */
export interface RedisStoreConfig {
  /** `redis://[[user]:password@]host[:port][/db]`, or `rediss://…` for TLS. */
  readonly url: string;
  /** Put before every key, so that deployments can share one Redis (`prod:`). Default `""`. */
  readonly prefix: string;
  /** Seconds to reach Redis at start (and per reconnection attempt). Default 5. */
  readonly connectTimeout: number;
  /** Seconds a store call waits for Redis before it fails with `WSGATE_STORE_UNAVAILABLE`. Default 1. */
  readonly commandTimeout: number;
  /**
   * Redis unreachable at start: `fail` (one line naming the URL, exit 1) or `degraded` (start with a warning;
   * store calls fail until Redis is reached). Default `fail`.
   */
  readonly onUnavailable: 'fail' | 'degraded';
}

export interface ManagementConfig {
  /** Default 127.0.0.1: the API can close every connection, keep it off public addresses. */
  readonly host: string;
  readonly port: number;
  /**
   * The bearer token, given inline or read from `tokenFile` (resolved to an absolute path); with neither,
   * one is made on first start and kept in `<dataDir>/management.token` (mode 0600).
   */
  readonly token?: string;
  readonly tokenFile?: string;
}

export interface ListenerConfig {
  /** A name for logs and for route scripts (`req.listener.name`). Default `"<host>:<port>"`. */
  readonly name: string;
  /** Default `127.0.0.1`. */
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** HTTPS when present: certificate files, or a self-signed certificate kept in `dataDir` when none given. */
  readonly tls?: TlsConfig;
  /** Every connection starts with a PROXY protocol (v1 or v2) preface naming the client; required when set. */
  readonly proxyProtocol?: boolean;
}

/** The `realIp` section: which proxies are believed, and which header they write the client's address in. */
export interface RealIpConfig {
  /** Addresses and CIDRs (v4 and v6) of the proxies whose header is believed. */
  readonly trustedProxies: readonly string[];
  /**
   * The header a trusted proxy puts the client's address in. `X-Forwarded-For` is read as a list, right to
   * left, up to the first hop that is not a trusted proxy; any other (`X-Real-IP`, `X-Client-IP`…) holds one
   * `ip`, `ip:port` or `[v6]:port`. Default `X-Forwarded-For`.
   */
  readonly header: string;
}

export interface TlsConfig {
  /** PEM certificate (chain) file. Give both `cert` and `key`, or neither for a self-signed certificate. */
  readonly cert?: string;
  readonly key?: string;
  /**
   * Per-host certificates, chosen by the name the client asks for in its TLS handshake (SNI). Keys are host
   * names or `*.domain` (matching one label, as in certificates), in lower case. A client asking for another
   * name, or none, gets `cert` and `key` (or the self-signed certificate).
   */
  readonly sni?: Readonly<Record<string, CertificateFiles>>;
}

/** A PEM certificate (chain) file and its private key file, as absolute paths. */
export interface CertificateFiles {
  readonly cert: string;
  readonly key: string;
}

export interface ScriptConfig {
  /** A TypeScript or JavaScript module whose default export is `defineRoutes(...)` or a factory of it. */
  readonly path: string;
  /** Free-form options handed to the script's factory. */
  readonly options: Readonly<Record<string, unknown>>;
}

export interface LimitsConfig {
  /** Largest request head (request line + headers) in bytes; larger gets 431. Default 16384. */
  readonly maxHeaderSize: number;
  /** Seconds a client has to send a whole request head; then 408 and close. Default 10. */
  readonly headerTimeout: number;
  /**
   * Seconds a client has to finish the TLS handshake on a TLS listener, counted from the accept; then the
   * connection is dropped (no HTTP answer: its TLS never started). The header timeout starts after it. Default 10.
   */
  readonly tlsHandshakeTimeout: number;
  /** Seconds an idle HTTP keep-alive connection is kept. Default 5. */
  readonly keepAliveTimeout: number;
  /** Open TCP connections per listener; more are refused. Default 10000. */
  readonly maxConnections: number;
  /** Largest WebSocket message in bytes; larger closes with 1009. Default 1 MiB. */
  readonly maxPayload: number;
  /** What the gateway may owe one terminated WebSocket: bytes queued for the client and not yet written. */
  readonly sendQueue: SendQueueConfig;
  /**
   * Seconds an async `http:request` route has to settle; then the client gets 503 and what the route does
   * later is dropped. Default 5.
   */
  readonly routeTimeout: number;
}

/**
 * The `limits.sendQueue` section (Kamailio's `tcp_conn_wq_max` and `tcp_send_timeout`). Over `pause` the
 * gateway stops reading from the client until the queue drains; past `close`, or over `pause` for `timeout`
 * seconds, it closes the connection (1008).
 */
export interface SendQueueConfig {
  /** Bytes queued above which the client is no longer read from. Default 1 MiB. */
  readonly pause: number;
  /** Bytes queued above which the connection is closed at once; more than `pause`. Default 16 MiB. */
  readonly close: number;
  /** Seconds a connection may stay over `pause` before it is closed. Default 30. */
  readonly timeout: number;
}

export interface KeepaliveConfig {
  /** Kamailio's keepalive_mechanism: `ping` (and close a silent peer), `pong` (unsolicited), or `none`. */
  readonly mechanism: 'ping' | 'pong' | 'none';
  /** Seconds between keepalives. Default 30. */
  readonly interval: number;
  /** Seconds to wait for the pong before closing the peer (`ping` only). Default 10. */
  readonly timeout: number;
}
