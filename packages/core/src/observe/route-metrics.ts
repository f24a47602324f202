/**
 * Metrics a route module adds to the gateway's Prometheus text (`gateway.metrics.counter()`, `.gauge()`):
 * counters that are plain numbers on the hot path, copied out at scrape, and gauges read at scrape.
 *
 * Each offers prom-client's Registry what it reads of a metric (`name`, `help`, `type`, `aggregator`,
 * `get()`, `reset()`), as CountedHistogram does, so the text exposition and the cluster's aggregation (a sum
 * over the workers) treat them like prom-client's own.
 *
 * A route factory runs again on every reload: declaring a counter again with the same shape hands back the
 * same counter (its counts go on), and declaring a gauge again gives it the newer route set's reader.
 */
import type { Metric, Registry } from 'prom-client';
import { WsgateError } from '../errors.js';
import type { SampleValue } from './counted-histogram.js';

/** One series of a counter: hold it, and `inc()` costs a number addition. */
export interface CounterSeries {
  inc(by?: number): void;
}

/** A counter a route module declared. */
export interface RouteCounter extends CounterSeries {
  /** The series of these label values (in `labelNames` order), made on first use and kept: hold it. */
  labels(...values: string[]): CounterSeries;
}

export interface CounterDefinition {
  /** A Prometheus name, conventionally `wsgate_<module>_<what>_total`. */
  readonly name: string;
  readonly help: string;
  readonly labelNames?: readonly string[];
}

/** What a gauge reads at scrape: one number, or one per label values (in `labelNames` order). */
export type GaugeReading = number | Iterable<readonly [labelValues: readonly string[], value: number]>;

export interface GaugeDefinition extends CounterDefinition {
  /** Called at each scrape; an error fails that scrape with the gauge's name in the message. */
  readonly read: () => GaugeReading | Promise<GaugeReading>;
}

/** A gauge's reader, as one route set gave it. */
export interface GaugeHandle {
  /** Stops reading through this handle (a route set's `routes:close`); a newer route set's reader stays. */
  remove(): void;
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** The route modules' metrics of one gateway, registered in its registry beside the gateway's own. */
export class RouteMetrics {
  private readonly declared = new Map<string, DeclaredCounter | DeclaredGauge>();

  constructor(private readonly registry: Registry) {}

  counter(def: CounterDefinition): RouteCounter {
    const labelNames = checked(def);
    const existing = this.declared.get(def.name);
    if (existing) return sameShape(existing, 'counter', labelNames) as DeclaredCounter;
    const counter = new DeclaredCounter(def.name, def.help, labelNames);
    this.register(counter);
    return counter;
  }

  gauge(def: GaugeDefinition): GaugeHandle {
    const labelNames = checked(def);
    if (typeof def.read !== 'function') throw new WsgateError('WSGATE_API_MISUSE', `metric ${def.name}: read must be a function returning the gauge's value`);
    let gauge = this.declared.get(def.name) as DeclaredGauge | undefined;
    if (gauge) sameShape(gauge, 'gauge', labelNames);
    else this.register((gauge = new DeclaredGauge(def.name, def.help, labelNames)));
    const reader = { read: def.read };
    gauge.reader = reader;
    const g = gauge;
    return { remove: () => void (g.reader === reader && (g.reader = undefined)) };
  }

  private register(metric: DeclaredCounter | DeclaredGauge): void {
    if (this.registry.getSingleMetric(metric.name)) {
      throw new WsgateError('WSGATE_API_MISUSE', `metric ${metric.name}: the gateway has a metric of that name already: choose another name`);
    }
    // prom-client types registerMetric for its own classes; its Registry reads only what these have.
    this.registry.registerMetric(metric as unknown as Metric);
    this.declared.set(metric.name, metric);
  }
}

function checked(def: CounterDefinition): readonly string[] {
  if (typeof def.name !== 'string' || !METRIC_NAME.test(def.name)) {
    throw new WsgateError('WSGATE_API_MISUSE', `metric name ${JSON.stringify(def.name)}: use letters, digits and _ (such as wsgate_sip_requests_total)`);
  }
  if (typeof def.help !== 'string' || def.help === '') throw new WsgateError('WSGATE_API_MISUSE', `metric ${def.name}: help must say what it counts`);
  const labelNames = def.labelNames ?? [];
  for (const l of labelNames) {
    if (!LABEL_NAME.test(l) || l.startsWith('__')) throw new WsgateError('WSGATE_API_MISUSE', `metric ${def.name}: label name ${JSON.stringify(l)}: use letters, digits and _`);
  }
  return [...labelNames];
}

function sameShape(m: DeclaredCounter | DeclaredGauge, type: 'counter' | 'gauge', labelNames: readonly string[]): DeclaredCounter | DeclaredGauge {
  if (m.type !== type || m.labelNames.join() !== labelNames.join()) {
    throw new WsgateError(
      'WSGATE_API_MISUSE',
      `metric ${m.name}: declared already as a ${m.type} with labels [${m.labelNames.join(', ')}]: declare it the same way, or choose another name`,
    );
  }
  return m;
}

function labelsOf(name: string, labelNames: readonly string[], values: readonly string[]): Record<string, string> {
  if (values.length !== labelNames.length) {
    throw new WsgateError('WSGATE_API_MISUSE', `metric ${name}: ${values.length} label values for the labels [${labelNames.join(', ')}]`);
  }
  const labels: Record<string, string> = {};
  for (let i = 0; i < labelNames.length; i++) labels[labelNames[i]!] = String(values[i]);
  return labels;
}

class Series implements CounterSeries {
  n = 0;
  constructor(readonly labels: Record<string, string>) {}
  inc(by = 1): void {
    this.n += by;
  }
}

class DeclaredCounter implements RouteCounter {
  readonly type = 'counter';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, Series>();
  private readonly unlabeled: Series | undefined;

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {
    if (labelNames.length === 0) this.series.set('', (this.unlabeled = new Series({})));
  }

  inc(by = 1): void {
    if (!this.unlabeled) throw new WsgateError('WSGATE_API_MISUSE', `metric ${this.name} has labels [${this.labelNames.join(', ')}]: count through labels(...).inc()`);
    this.unlabeled.n += by;
  }

  labels(...values: string[]): CounterSeries {
    const key = values.length === 1 ? values[0]! : values.join('\u0000');
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = new Series(labelsOf(this.name, this.labelNames, values))));
    return s;
  }

  get(): Promise<{ name: string; help: string; type: 'counter'; aggregator: 'sum'; values: SampleValue[] }> {
    const values = [...this.series.values()].map((s) => ({ labels: s.labels, value: s.n, metricName: this.name }));
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  reset(): void {
    for (const s of this.series.values()) s.n = 0;
  }
}

class DeclaredGauge {
  readonly type = 'gauge';
  readonly aggregator = 'sum';
  reader: { read: GaugeDefinition['read'] } | undefined;

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {}

  async get(): Promise<{ name: string; help: string; type: 'gauge'; aggregator: 'sum'; values: SampleValue[] }> {
    const values: SampleValue[] = [];
    if (this.reader) {
      let reading: GaugeReading;
      try {
        reading = await this.reader.read();
      } catch (err) {
        throw new Error(`metric ${this.name}: its reader failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
      if (typeof reading === 'number') values.push({ labels: labelsOf(this.name, this.labelNames, []), value: reading, metricName: this.name });
      else for (const [labelValues, value] of reading) values.push({ labels: labelsOf(this.name, this.labelNames, labelValues), value, metricName: this.name });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {}
}
