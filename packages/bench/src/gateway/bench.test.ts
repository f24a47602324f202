/**
 * The terminate-mode benchmark runs the product: wsgate started by its CLI with a config file, beside the bare
 * `ws` server (the node floor beside them on handshakes), and one tiny round of each of its workloads runs on
 * both, every handshake admitted and every message delivered (needs a build: the gateway is
 * packages/core/dist/cli.js with the compiled sample route; Kamailio answers the SIP OPTIONS figure, as in the
 * benchmark).
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { killWsgates } from '@wsgate/test-kit';
import { runGatewayBench } from './bench.js';
import { toMarkdown } from './report.js';
import { SampleGateway } from './sample-gateway.js';
import { killAllServers } from './servers.js';

const tiny = { warmupMs: 100, rampMs: 20, sliceMs: 150, slices: 1 };

afterAll(() => {
  killAllServers();
  killWsgates();
});

/** The command line of `pid`, from /proc. */
function commandLine(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
}

describe('the terminate-mode benchmark (needs a build)', () => {
  it('measures wsgate as users start it: the CLI with a config file, its memory read through the management API', async () => {
    const sample = await SampleGateway.start({ name: 'wsgate' });
    try {
      const [pid] = sample.pids;
      const argv = commandLine(pid!);
      expect(argv.some((a) => a.endsWith('packages/core/dist/cli.js'))).toBe(true);
      expect(argv).toContain('--config');
      expect(argv).not.toContain('--expose-gc');
      expect(sample.gateway.workerCount).toBe(1);
      expect(await sample.gateway.status()).toMatchObject({ pid, workers: 1 });
      const [reading] = await sample.gateway.memory(true);
      expect(reading).toMatchObject({ pid, collected: true });
      const mem = await sample.mem();
      expect(mem.rss).toBeGreaterThan(mem.youngRss);
      expect(mem.heapUsed).toBeGreaterThan(0);
      expect(sample.gateway.warnings()).toEqual([]);
    } finally {
      await sample.stop();
    }
  }, 40_000);

  it('runs one tiny round of each workload on wsgate and bare ws: every handshake admitted, every message delivered', async () => {
    const lines: string[] = [];
    const result = await runGatewayBench({
      sides: ['gateway', 'bare'],
      slicing: tiny,
      connections: 4,
      idleConnections: 100,
      memoryRounds: 1,
      warmupConnections: 20,
      log: (line) => lines.push(line),
    });
    expect(result.handshakeErrors, lines.join('\n')).toBe(0);
    expect(result.undelivered, lines.join('\n')).toBe(0);
    for (const figure of result.figures) {
      // A hundred idle connections fit in pages the servers had already: memory is read, not yet telling.
      const idle = figure.key.startsWith('idleConnection');
      for (const value of [figure.gateway, figure.bare]) {
        if (idle) expect(Number.isFinite(value), figure.key).toBe(true);
        else expect(value, figure.key).toBeGreaterThan(0);
      }
    }
    // The node floor answers the handshake figure's slices beside them (handshake-floor.ts), and only that figure's.
    const handshakes = result.figures.find((f) => f.key === 'handshakesPerSecond');
    expect(handshakes?.floor).toBeGreaterThan(0);
    expect(result.figures.filter((f) => f.floor !== undefined)).toHaveLength(1);
    expect(result.sip.gateway).toBeGreaterThan(0);
    expect(result.sip.kamailio).toBeGreaterThan(0);
    const table = toMarkdown({ date: '', node: '', settings: {}, figures: result.figures, sip: result.sip });
    expect(table).toContain('handshakes/s (4 clients)');
    expect(table).toContain('≥ 0.90');
    expect(table).toContain('| node floor | floor / ws |');
    expect(table).toMatch(/\| handshakes\/s \(4 clients\) \|( [\d,.]+ \|){3} ≥ 0\.90 [✓✗] \| [\d,]+ \| [\d.]+ \|/);
  }, 120_000);
});
