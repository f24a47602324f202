import { Counter, Gauge, Registry, type Metric } from 'prom-client';
import { CountedHistogram, type HistogramSeries } from './counted-histogram.js';
import { RouteMetrics, type CounterDefinition, type GaugeDefinition, type GaugeHandle, type RouteCounter } from './route-metrics.js';
import type { ConnectionDirectory } from '../connections/directory.js';

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
  // Counted on every request or close: plain numbers here, copied into prom-client when scraped.
  private readonly requestCounts = new Map<string, Map<string, Map<number, { n: number }>>>();
  private readonly closeCounts = { local: new Map<number, number>(), remote: new Map<number, number>() };
  private readonly sendQueueCloses = { close: 0, timeout: 0 };
  private readonly handshakeCounts = { success: 0, failure: 0 };
  private readonly latencyOf: Record<Answered['kind'], HistogramSeries>;
  private readonly handshakeFailures: Counter<'reason'>;
  private readonly refusals: Counter<'by' | 'status'>;
  private readonly upstreamErrors: Counter<'upstream' | 'cause'>;
  private readonly routeMetrics = new RouteMetrics(this.registry);

  constructor(connections: Pick<ConnectionDirectory, 'size'>) {
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
    new Counter({
      name: 'wsgate_handshakes_total',
      help: 'WebSocket handshakes by result',
      labelNames: ['result'],
      registers,
      collect() {
        this.reset();
        this.inc({ result: 'success' }, self.handshakeCounts.success);
        this.inc({ result: 'failure' }, self.handshakeCounts.failure);
      },
    });
    this.handshakeFailures = new Counter({
      name: 'wsgate_handshake_failures_total',
      help: 'Failed WebSocket handshakes by reason',
      labelNames: ['reason'],
      registers,
    });
    new Counter({
      name: 'wsgate_websocket_closes_total',
      help: 'Closed WebSockets by side and code',
      labelNames: ['by', 'code'],
      registers,
      collect() {
        this.reset();
        for (const by of ['local', 'remote'] as const) {
          for (const [code, n] of self.closeCounts[by]) this.inc({ by, code: String(code) }, n);
        }
      },
    });
    new Counter({
      name: 'wsgate_websocket_send_queue_closes_total',
      help: 'WebSockets closed (1008) for what they were owed: past limits.sendQueue.close, or over its pause mark for its timeout',
      labelNames: ['limit'],
      registers,
      collect() {
        this.reset();
        this.inc({ limit: 'close' }, self.sendQueueCloses.close);
        this.inc({ limit: 'timeout' }, self.sendQueueCloses.timeout);
      },
    });
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
    new Counter({
      name: 'wsgate_requests_total',
      help: 'HTTP requests by listener, the routes that answered, and status',
      labelNames: ['listener', 'route', 'status'],
      registers,
      collect() {
        this.reset();
        for (const [listener, byRoute] of self.requestCounts) {
          for (const [route, byStatus] of byRoute) {
            for (const [status, count] of byStatus) this.inc({ listener, route, status: String(status) }, count.n);
          }
        }
      },
    });
    const latency = new CountedHistogram<Answered['kind']>(
      'wsgate_request_duration_seconds',
      'From the request head to the answer (101 for handshakes), by kind',
      'kind',
      [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    );
    // prom-client types registerMetric for its own classes; its Registry reads only what CountedHistogram has.
    this.registry.registerMetric(latency as unknown as Metric);
    this.latencyOf = { reply: latency.labels('reply'), handshake: latency.labels('handshake'), proxy: latency.labels('proxy') };
    this.refusals = new Counter({ name: 'wsgate_refusals_total', help: 'Requests refused, by module and status', labelNames: ['by', 'status'], registers });
    this.upstreamErrors = new Counter({
      name: 'wsgate_upstream_errors_total',
      help: 'Upstream failures by upstream and cause',
      labelNames: ['upstream', 'cause'],
      registers,
    });
  }

  /**
   * A counter of a route module's own (route-metrics.ts), served with the gateway's metrics and summed over
   * cluster workers. Declared again with the same name and labels (a reload), it is the same counter.
   * @throws WsgateError `WSGATE_API_MISUSE` for a bad name, or a name taken by another metric or shape
   */
  counter(def: CounterDefinition): RouteCounter {
    return this.routeMetrics.counter(def);
  }

  /**
   * A gauge of a route module's own, read at scrape through `def.read`. Declared again (a reload), the newer
   * reader replaces the older; `remove()` on the handle stops its own reader only.
   * @throws WsgateError `WSGATE_API_MISUSE` as `counter()`
   */
  gauge(def: GaugeDefinition): GaugeHandle {
    return this.routeMetrics.gauge(def);
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
    const counts = this.closeCounts[by];
    counts.set(code, (counts.get(code) ?? 0) + 1);
  }

  /** A connection closed for its send queue (also counted by closed(), as 1008). */
  sendQueueClosed(limit: 'close' | 'timeout'): void {
    this.sendQueueCloses[limit]++;
  }

  answered(a: Answered): void {
    this.requestsOf(a.listener, a.route, a.status).n++;
    this.latencyOf[a.kind].observe(a.seconds);
    if (a.kind === 'handshake') {
      if (a.status === 101) {
        this.handshakeCounts.success++;
      } else {
        this.handshakeCounts.failure++;
        this.handshakeFailures.inc({ reason: a.handshakeFailure ?? String(a.status) });
      }
    }
    if (a.refusedBy !== undefined) this.refusals.inc({ by: a.refusedBy, status: String(a.status) });
  }

  /** The count of one combination; nested maps, because their keys are the same few strings every time. */
  private requestsOf(listener: string, route: string, status: number): { n: number } {
    let byRoute = this.requestCounts.get(listener);
    if (!byRoute) this.requestCounts.set(listener, (byRoute = new Map()));
    let byStatus = byRoute.get(route);
    if (!byStatus) byRoute.set(route, (byStatus = new Map()));
    let count = byStatus.get(status);
    if (!count) byStatus.set(status, (count = { n: 0 }));
    return count;
  }

  upstreamError(upstream: string, cause: string): void {
    this.upstreamErrors.inc({ upstream, cause });
  }
}
