import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ConnectionRegistry } from './registry.js';

/** Message and byte counts of one subprotocol: plain numbers on the per-message path, read at scrape time. */
export interface TrafficCounts {
  framesIn: number;
  bytesIn: number;
  framesOut: number;
  bytesOut: number;
}

/** What one answered request contributes: counted once, where the dispatcher finishes it. */
export interface Answered {
  readonly listener: string;
  /** The mounted routes that took the action; `-` when none did (404). */
  readonly route: string;
  readonly kind: 'reply' | 'handshake' | 'proxy';
  readonly status: number;
  readonly seconds: number;
  /** For refused handshakes: why, as the handshake said it. */
  readonly handshakeFailure?: string;
  /** For refusals through `req.refuse()`: the module that refused. */
  readonly refusedBy?: string;
}

/**
 * The gateway's Prometheus metrics (prom-client): Kamailio's websocket statistics, plus requests by route
 * and status, latency, upstream errors and refusals by module. Each is counted at one choke point: the
 * dispatcher's end of a request, the hub's open and close, the per-message counters.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  private maxConnections = 0;
  private readonly traffic = new Map<string, TrafficCounts>();
  private readonly requests: Counter<'listener' | 'route' | 'status'>;
  private readonly latency: Histogram<'kind'>;
  private readonly handshakes: Counter<'result'>;
  private readonly handshakeFailures: Counter<'reason'>;
  private readonly closes: Counter<'by' | 'code'>;
  private readonly refusals: Counter<'by' | 'status'>;
  private readonly upstreamErrors: Counter<'upstream' | 'cause'>;
  private readonly requestChildren = new Map<string, { inc(): void }>();
  private readonly latencyOf: Record<Answered['kind'], { observe(seconds: number): void }>;
  private readonly handshakeSuccess: { inc(): void };
  private readonly handshakeFailure: { inc(): void };

  constructor(connections: ConnectionRegistry) {
    const registers = [this.registry];
    const self = this;
    new Gauge({
      name: 'wsgate_websocket_connections',
      help: 'WebSockets terminated by the gateway and open now',
      registers,
      collect() {
        this.set(connections.size);
      },
    });
    new Gauge({
      name: 'wsgate_websocket_connections_max',
      help: 'Most WebSockets open at once since start',
      registers,
      collect() {
        this.set(self.maxConnections);
      },
    });
    this.handshakes = new Counter({ name: 'wsgate_handshakes_total', help: 'WebSocket handshakes by result', labelNames: ['result'], registers });
    this.handshakeFailures = new Counter({
      name: 'wsgate_handshake_failures_total',
      help: 'Failed WebSocket handshakes by reason',
      labelNames: ['reason'],
      registers,
    });
    this.closes = new Counter({ name: 'wsgate_websocket_closes_total', help: 'Closed WebSockets by side and code', labelNames: ['by', 'code'], registers });
    const frames = (dir: 'received' | 'sent', key: 'framesIn' | 'framesOut') =>
      new Counter({
        name: `wsgate_websocket_frames_${dir}_total`,
        help: `WebSocket messages ${dir} (a fragmented message counts once), by subprotocol`,
        labelNames: ['protocol'],
        registers,
        collect() {
          this.reset();
          for (const [protocol, t] of self.traffic) this.inc({ protocol }, t[key]);
        },
      });
    const bytes = (dir: 'received' | 'sent', key: 'bytesIn' | 'bytesOut') =>
      new Counter({
        name: `wsgate_websocket_bytes_${dir}_total`,
        help: `WebSocket payload bytes ${dir}, by subprotocol`,
        labelNames: ['protocol'],
        registers,
        collect() {
          this.reset();
          for (const [protocol, t] of self.traffic) this.inc({ protocol }, t[key]);
        },
      });
    frames('received', 'framesIn');
    frames('sent', 'framesOut');
    bytes('received', 'bytesIn');
    bytes('sent', 'bytesOut');
    this.requests = new Counter({
      name: 'wsgate_requests_total',
      help: 'HTTP requests by listener, the routes that answered, and status',
      labelNames: ['listener', 'route', 'status'],
      registers,
    });
    this.latency = new Histogram({
      name: 'wsgate_request_duration_seconds',
      help: 'From the request head to the answer (101 for handshakes), by kind',
      labelNames: ['kind'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.latencyOf = { reply: this.latency.labels('reply'), handshake: this.latency.labels('handshake'), proxy: this.latency.labels('proxy') };
    this.handshakeSuccess = this.handshakes.labels('success');
    this.handshakeFailure = this.handshakes.labels('failure');
    this.refusals = new Counter({ name: 'wsgate_refusals_total', help: 'Requests refused, by module and status', labelNames: ['by', 'status'], registers });
    this.upstreamErrors = new Counter({
      name: 'wsgate_upstream_errors_total',
      help: 'Upstream failures by upstream and cause',
      labelNames: ['upstream', 'cause'],
      registers,
    });
  }

  /** The counts of one subprotocol ('' for none), made on first use and kept: hold it per connection. */
  trafficOf(protocol: string): TrafficCounts {
    let t = this.traffic.get(protocol);
    if (!t) this.traffic.set(protocol, (t = { framesIn: 0, bytesIn: 0, framesOut: 0, bytesOut: 0 }));
    return t;
  }

  opened(open: number): void {
    if (open > this.maxConnections) this.maxConnections = open;
  }

  closed(by: 'local' | 'remote', code: number): void {
    this.closes.inc({ by, code: String(code) });
  }

  answered(a: Answered): void {
    this.requestsOf(a.listener, a.route, a.status).inc();
    this.latencyOf[a.kind].observe(a.seconds);
    if (a.kind === 'handshake') {
      (a.status === 101 ? this.handshakeSuccess : this.handshakeFailure).inc();
      if (a.status !== 101) this.handshakeFailures.inc({ reason: a.handshakeFailure ?? String(a.status) });
    }
    if (a.refusedBy !== undefined) this.refusals.inc({ by: a.refusedBy, status: String(a.status) });
  }

  /** Label children, looked up once per combination: prom-client hashes a label object on every call. */
  private requestsOf(listener: string, route: string, status: number): { inc(): void } {
    const key = `${listener}\0${route}\0${status}`;
    let child = this.requestChildren.get(key);
    if (!child) this.requestChildren.set(key, (child = this.requests.labels(listener, route, String(status))));
    return child;
  }

  upstreamError(upstream: string, cause: string): void {
    this.upstreamErrors.inc({ upstream, cause });
  }
}
