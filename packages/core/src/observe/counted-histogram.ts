/**
 * A Prometheus histogram with one label whose observations are plain array increments. prom-client's
 * Histogram hashes the label object and turns the bucket bound into a property key on every observation;
 * on the handshake path that cost several microseconds a request (measured with the metrics switched off).
 *
 * It offers prom-client's Registry what it reads of a metric (`name`, `help`, `type`, `aggregator`, `get()`,
 * `reset()`), so the text exposition and the cluster's aggregation treat it like prom-client's own.
 */
export class CountedHistogram<L extends string> {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<L, HistogramSeries>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelName: string,
    private readonly bounds: readonly number[],
  ) {
    if (bounds.some((b, i) => i > 0 && b <= bounds[i - 1]!)) throw new Error(`${name}: bucket bounds must increase`);
  }

  /** The series of one label value, made on first use: hold it and call `observe()` on it. */
  labels(value: L): HistogramSeries {
    let s = this.series.get(value);
    if (!s) this.series.set(value, (s = new HistogramSeries(this.bounds)));
    return s;
  }

  get(): Promise<{ name: string; help: string; type: 'histogram'; aggregator: 'sum'; values: SampleValue[] }> {
    const values: SampleValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const [value, s] of this.series) {
      let cumulative = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        cumulative += s.counts[i]!;
        values.push({ labels: { le: this.bounds[i]!, [this.labelName]: value }, value: cumulative, metricName: bucket });
      }
      values.push({ labels: { le: '+Inf', [this.labelName]: value }, value: s.count, metricName: bucket });
      values.push({ labels: { [this.labelName]: value }, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { [this.labelName]: value }, value: s.count, metricName: `${this.name}_count` });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  reset(): void {
    for (const s of this.series.values()) s.reset();
  }
}

export interface SampleValue {
  readonly labels: Record<string, string | number>;
  readonly value: number;
  readonly metricName: string;
}

export class HistogramSeries {
  /** Observations per bucket (not cumulative); one past the last bound is `+Inf`'s own share. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i] = this.counts[i]! + 1;
    this.sum += value;
    this.count++;
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
  }
}
