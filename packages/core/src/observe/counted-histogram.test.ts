import { AggregatorRegistry, Histogram, Registry, type Metric } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CountedHistogram } from './counted-histogram.js';

const BOUNDS = [0.001, 0.01, 0.1, 1];
const OBSERVED: [string, number][] = [
  ['a', 0.0005],
  ['a', 0.001], // on a bound: counted in that bucket (le)
  ['a', 0.05],
  ['a', 7], // past every bound: +Inf only
  ['b', 0.2],
];

function both(): { ours: Registry; theirs: Registry; counted: CountedHistogram<string> } {
  const ours = new Registry();
  const counted = new CountedHistogram<string>('t_seconds', 'help text', 'kind', BOUNDS);
  ours.registerMetric(counted as unknown as Metric);
  const theirs = new Registry();
  const reference = new Histogram({ name: 't_seconds', help: 'help text', labelNames: ['kind'], buckets: BOUNDS, registers: [theirs] });
  for (const [kind, v] of OBSERVED) {
    counted.labels(kind).observe(v);
    reference.observe({ kind }, v);
  }
  return { ours, theirs, counted };
}

describe('CountedHistogram', () => {
  it("exposes exactly what prom-client's Histogram exposes for the same observations", async () => {
    const { ours, theirs } = both();
    const text = await ours.metrics();
    expect(text).toBe(await theirs.metrics());
    expect(text).toMatch(/^t_seconds_bucket\{le="0.001",kind="a"\} 2$/m);
    expect(text).toMatch(/^t_seconds_bucket\{le="\+Inf",kind="a"\} 4$/m);
    expect(text).toMatch(/^t_seconds_sum\{kind="a"\} 7.0515$/m);
  });

  it('sums across cluster workers like a prom-client histogram', async () => {
    const first = both();
    const second = both();
    const merged = AggregatorRegistry.aggregate([await first.ours.getMetricsAsJSON(), await second.ours.getMetricsAsJSON()]);
    const reference = AggregatorRegistry.aggregate([await first.theirs.getMetricsAsJSON(), await second.theirs.getMetricsAsJSON()]);
    expect(await merged.metrics()).toBe(await reference.metrics());
    expect(await merged.metrics()).toMatch(/^t_seconds_count\{kind="b"\} 2$/m);
  });

  it('resets to zero and refuses bounds that do not increase', async () => {
    const { ours, counted } = both();
    counted.reset();
    expect(await ours.metrics()).toMatch(/^t_seconds_count\{kind="a"\} 0$/m);
    expect(() => new CountedHistogram('x', 'x', 'k', [1, 1])).toThrow(/must increase/);
  });
});
